"""Ratings (hot / warm / cold, set by scoring): how many leads each holds and how many of
them became customers. With no rated leads the report says so rather than show zeros."""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.reports.filters import Base
from leadcli.reports.stats import ratio

RATINGS = ("hot", "warm", "cold")


def ratings(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    found = {}
    for rating in (*RATINGS, None):
        match = "b.rating IS NULL" if rating is None else f"b.rating = '{rating}'"
        found[rating] = (
            f"sum({match}), sum({match} AND b.stage = 'customer'), "
            f"sum({match} AND b.stage = 'lost')"
        )
    one = base.one(conn, f"SELECT {', '.join(found.values())} FROM base AS b")
    found = {r: tuple(one[3 * i + j] or 0 for j in range(3)) for i, r in enumerate(found)}
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
