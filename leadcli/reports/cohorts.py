"""Cohorts: leads by the month they were created, and the share of each month's leads that
reached each stage (reached as in the funnel: the stage or further along), and were lost."""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.reports.filters import Base, reached
from leadcli.reports.funnel import STEPS
from leadcli.reports.stats import ratio


def cohorts(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    # Leads per month, stage and reach; each group's rank is worked out once, here.
    months: dict[str, list[int]] = {}  # month -> leads that reached each step, then lost
    found = base.grouped(conn, "month, stage, reach, sum(leads)", "month, stage, reach")
    for month, stage, reach, n in found:
        row = months.setdefault(month, [0] * (len(STEPS) + 1))
        for rank in range(reached(stage, reach) + 1):
            row[rank] += n
        if stage == "lost":
            row[-1] += n
    rows = []
    for month in sorted(months, key=lambda m: (m is None, m or "")):
        leads, *counts, lost = months[month]
        row: dict[str, Any] = {"month": month, "leads": leads}
        for stage, n in zip(STEPS[1:], counts, strict=True):
            row[stage] = n
            row[f"{stage}_share"] = ratio(n, leads)
        row["lost"] = lost
        row["lost_share"] = ratio(lost, leads)
        rows.append(row)
    return {"report": "cohorts", "rows": rows}
