"""Ratings (hot / warm / cold, set by scoring): how many leads each holds and how many of
them became customers. With no rated leads the report says so rather than show zeros."""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.reports.filters import Base
from leadcli.reports.stats import ratio

RATINGS = ("hot", "warm", "cold")


def ratings(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    found = {rating: [0, 0, 0] for rating in (*RATINGS, None)}  # leads, customers, lost
    sums = ", ".join(f"sum(CASE WHEN rating = '{r}' THEN leads ELSE 0 END)" for r in RATINGS)
    for stage, n, *rated in base.grouped(conn, f"stage, sum(leads), {sums}", "stage"):
        column = {"customer": 1, "lost": 2}.get(stage)
        unrated = n - sum(rated)
        for rating, count in (*zip(RATINGS, rated, strict=True), (None, unrated)):
            found[rating][0] += count
            if column:
                found[rating][column] += count
    rated_leads = sum(found[r][0] for r in RATINGS)
    rows = []
    for rating in (*RATINGS, None):
        n, won, lost = found[rating]
        rows.append(
            {
                "rating": rating,
                "leads": n,
                "customers": won,
                "lost": lost,
                "conversion": ratio(won, n),
                "win_rate": ratio(won, won + lost),
            }
        )
    return {"report": "ratings", "rated": rated_leads, "rows": rows}
