"""Why leads were lost: each reason with its count and share of the lost leads."""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.reports.filters import Base
from leadcli.reports.stats import ratio


def lost(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    # Reasons typed by people differ in case and spacing: one row per reason, shown in
    # its most common spelling (ties: the first in sort order). SQLite counts each raw
    # spelling (over every lead as it is, in the order of the lost leads' own index);
    # the few spellings are joined here.
    if base.filter.whole:
        found = conn.execute(
            "SELECT lost_reason, count(*) FROM leads INDEXED BY leads_lost_reason "
            "WHERE stage = 'lost' GROUP BY lost_reason"
        ).fetchall()
    else:
        found = base.all(
            conn,
            "SELECT b.lost_reason, count(*) FROM base AS b WHERE b.stage = 'lost' "
            "GROUP BY b.lost_reason",
        )
    merged: dict[str | None, dict[str, Any]] = {}
    for reason, n in sorted(found, key=lambda r: (-r[1], r[0] or "")):
        key = (reason or "").strip().lower() or None
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
