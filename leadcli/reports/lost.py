"""Why leads were lost: each reason with its count and share of the lost leads."""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.reports.filters import Base
from leadcli.reports.stats import ratio


def lost(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    # Reasons typed by people differ in case and spacing: one row per reason, shown in
    # its most common spelling.
    found = base.all(
        conn,
        "SELECT lower(trim(b.lost_reason)) AS k, b.lost_reason, count(*) AS n FROM base AS b "
        "WHERE b.stage = 'lost' GROUP BY 1, 2 ORDER BY n DESC, 2",
    )
    merged: dict[Any, dict[str, Any]] = {}
    for key, reason, n in found:
        key = key or None
        if key not in merged:
            merged[key] = {"reason": (reason or "").strip() or None, "leads": 0}
        merged[key]["leads"] += n
    total = sum(r["leads"] for r in merged.values())
    rows = sorted(
        merged.values(), key=lambda r: (-r["leads"], r["reason"] is None, r["reason"] or "")
    )
    for r in rows:
        r["share"] = ratio(r["leads"], total)
    return {"report": "lost", "rows": rows, "totals": {"lost": total}}
