"""Speed to lead: time from a lead's creation to its first outbound touch
(``first_contacted_at``, set by ``leadcli log``), overall and by source.

Buckets: within an hour (at most 3,600 s), 1 to 24 hours, over 24 hours, and never (no
outbound touch yet, or none by the as-of day). A touch logged as before the lead was
created counts as immediate.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.reports.filters import Base
from leadcli.reports.stats import hours, quantiles, ratio, seconds_between

BUCKETS = ("within_1h", "within_24h", "over_24h", "never")


def response(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    delay = f"max(0, {seconds_between('b.created_at', 'b.first_contacted_at')})"
    bucket = (
        f"CASE WHEN b.first_contacted_at IS NULL THEN 3 WHEN {delay} <= 3600 THEN 0 "
        f"WHEN {delay} <= 86400 THEN 1 ELSE 2 END"
    )
    sums = ", ".join(f"sum(bucket = {i}) AS b{i}" for i in range(4))
    raw = base.all(
        conn,
        f"SELECT source, {sums} FROM (SELECT b.source, {bucket} AS bucket FROM base AS b LIMIT -1) "
        "GROUP BY source",
    )
    counts = {
        r["source"]: [r[f"b{i}"] for i in range(4)]
        for r in base.sources.merge([dict(r) for r in raw])
    }
    values = (
        f"SELECT {{g}} AS g, {delay} AS x FROM base AS b WHERE b.first_contacted_at IS NOT NULL"
    )
    by_source = quantiles(
        conn, base.sql(values.format(g=base.sources.expr("b.source"))), base.params
    )
    overall_q = quantiles(conn, base.sql(values.format(g="1")), base.params).get(1)
    total = [sum(c[i] for c in counts.values()) for i in range(4)]

    def row(name: str | None, c: list[int], q: dict[str, Any] | None) -> dict[str, Any]:
        leads = sum(c)
        out: dict[str, Any] = {"source": name, "leads": leads, "contacted": leads - c[3]}
        out["median_hours"] = hours(q["median"]) if q else None
        out["p90_hours"] = hours(q["p90"]) if q else None
        for i, name_ in enumerate(BUCKETS):
            out[name_] = c[i]
            out[f"{name_}_share"] = ratio(c[i], leads)
        return out

    rows = [row(s, c, by_source.get(s)) for s, c in counts.items()]
    rows.sort(key=lambda r: (-r["leads"], r["source"] is None, str(r["source"]).casefold()))
    return {"report": "response", "overall": row(None, total, overall_q), "rows": rows}
