"""Ratings (hot / warm / cold, set by scoring): how many leads each holds and how many of
them became customers. With no rated leads the report says so rather than show zeros."""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.reports.filters import Base
from leadcli.reports.stats import ratio

RATINGS = ("hot", "warm", "cold")


def ratings(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    found = {
        rating: (n, won, lost)
        for rating, n, won, lost in base.all(
            conn,
            "SELECT b.rating, count(*), sum(b.stage = 'customer'), sum(b.stage = 'lost') "
            "FROM base AS b GROUP BY b.rating",
        )
    }
    rated = sum(found.get(r, (0,))[0] for r in RATINGS)
    rows = []
    for rating in (*RATINGS, None):
        n, won, lost = found.get(rating, (0, 0, 0))
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
    return {"report": "ratings", "rated": rated, "rows": rows}
