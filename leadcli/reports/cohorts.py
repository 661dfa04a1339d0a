"""Cohorts: leads by the month they were created, and the share of each month's leads that
reached each stage (reached as in the funnel: the stage or further along), and were lost."""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.reports.filters import Base, reached_sql
from leadcli.reports.funnel import STEPS
from leadcli.reports.stats import ratio


def cohorts(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    reached = reached_sql(base.filter)
    sums = ", ".join(f"sum(r >= {i})" for i in range(1, len(STEPS)))
    rows = []
    for month, leads, lost, *counts in base.all(
        conn,
        f"SELECT month, count(*), sum(is_lost), {sums} FROM ("
        f"SELECT substr(b.created_at, 1, 7) AS month, {reached} AS r, "
        "b.stage = 'lost' AS is_lost FROM base AS b LIMIT -1) GROUP BY month ORDER BY month",
    ):
        row: dict[str, Any] = {"month": month, "leads": leads}
        for stage, n in zip(STEPS[1:], counts, strict=True):
            row[stage] = n
            row[f"{stage}_share"] = ratio(n, leads)
        row["lost"] = lost
        row["lost_share"] = ratio(lost, leads)
        rows.append(row)
    return {"report": "cohorts", "rows": rows}
