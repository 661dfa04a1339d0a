"""Speed to lead: time from a lead's creation to its first outbound touch
(``first_contacted_at``, set by ``leadcli log``), overall and by source.

Buckets: within an hour (at most 3,600 s), 1 to 24 hours, over 24 hours, never (no
outbound touch yet, or none by the as-of day), and unknown: a lead that was contacted
before it came to leadcli, at a time its file did not give (``leads.contact_unknown``, an
imported "Working - Contacted" row, say). An unknown time is not a zero: those leads are
outside the medians, which are over the leads whose response time is known. A touch logged
as before the lead was created counts as immediate.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.reports.filters import Base
from leadcli.reports.stats import hours, indexed_quantiles, quantiles, ratio
from leadcli.text.dates import span_sql

#: Seconds from a lead's creation to its first outbound touch, and the leads touched, over
#: ``leads``: as the ``leads_response_time`` indexes hold them
#: (storage.migrations.m014_reports).
RESPONSE_TIME = span_sql("created_at", "first_contacted_at")
#: The leads with a response time: touched, at a known time (the indexes' condition).
CONTACTED = "first_contacted_at IS NOT NULL AND contact_unknown = 0"

BUCKETS = ("within_1h", "within_24h", "over_24h", "never", "unknown")


def response(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    delay = span_sql("b.created_at", "b.first_contacted_at")
    bucket = (
        f"CASE WHEN b.contact_unknown THEN 4 WHEN b.first_contacted_at IS NULL THEN 3 "
        f"WHEN {delay} <= 3600 THEN 0 WHEN {delay} <= 86400 THEN 1 ELSE 2 END"
    )
    if base.filter.whole:
        raw = _buckets_from_index(conn, base)
    else:
        sums = ", ".join(f"sum(bucket = {i}) AS b{i}" for i in range(len(BUCKETS)))
        raw = [
            dict(r)
            for r in base.all(
                conn,
                f"SELECT source, {sums} FROM (SELECT b.source, {bucket} AS bucket "
                "FROM base AS b LIMIT -1) GROUP BY source",
            )
        ]
    counts = {
        r["source"]: [r[f"b{i}"] for i in range(len(BUCKETS))] for r in base.sources.merge(raw)
    }
    values = (
        f"SELECT {{g}} AS g, {delay} AS x FROM base AS b "
        "WHERE b.first_contacted_at IS NOT NULL AND NOT b.contact_unknown"
    )
    if base.filter.whole:  # every lead as it is now: read from the indexes kept in order
        overall_q = indexed_quantiles(
            conn, "leads_response_time", RESPONSE_TIME, CONTACTED, mean=False
        )
    else:
        overall_q = quantiles(conn, base.sql(values.format(g="1")), base.params)
    if base.filter.whole and base.sources.one_to_one():
        by_raw = indexed_quantiles(
            conn, "leads_response_time_by_source", RESPONSE_TIME, CONTACTED, "source", mean=False
        )
        by_source = {base.sources.shown(raw): q for raw, q in by_raw.items()}
    else:
        by_source = quantiles(
            conn, base.sql(values.format(g=base.sources.expr("b.source"))), base.params
        )
    total = [sum(c[i] for c in counts.values()) for i in range(len(BUCKETS))]

    def row(name: str | None, c: list[int], q: dict[str, Any] | None) -> dict[str, Any]:
        leads = sum(c)
        out: dict[str, Any] = {"source": name, "leads": leads, "contacted": leads - c[3]}
        #: the share of the leads whose response time is known (the medians' leads)
        out["timed"] = leads - c[3] - c[4]
        out["median_hours"] = hours(q["median"]) if q else None
        out["p90_hours"] = hours(q["p90"]) if q else None
        for i, name_ in enumerate(BUCKETS):
            out[name_] = c[i]
            out[f"{name_}_share"] = ratio(c[i], leads)
        return out

    rows = [row(s, c, by_source.get(s)) for s, c in counts.items()]
    rows.sort(key=lambda r: (-r["leads"], r["source"] is None, str(r["source"]).casefold()))
    return {"report": "response", "overall": row(None, total, overall_q.get(1)), "rows": rows}


def _buckets_from_index(conn: sqlite3.Connection, base: Base) -> list[dict[str, Any]]:
    """Per raw source spelling, the leads in each bucket, over every lead as it is now: the
    leads per source from the lead cells, the timed ones in each bucket from ranges of the
    response-time index, the unknown ones from theirs (counted, not computed)."""
    per_source = base.grouped(conn, "source, sum(leads)", "source")
    index = "leads_response_time_by_source"
    within = (
        f"SELECT count(*) FROM leads INDEXED BY {index} "
        f"WHERE {CONTACTED} AND source IS ? AND {RESPONSE_TIME} <= ?"
    )
    contacted = f"SELECT count(*) FROM leads INDEXED BY {index} WHERE {CONTACTED} AND source IS ?"
    unknown = dict(
        conn.execute(
            "SELECT source, count(*) FROM leads INDEXED BY leads_contact_unknown "
            "WHERE contact_unknown = 1 GROUP BY source"
        ).fetchall()
    )
    rows = []
    for source, leads in per_source:
        hour, day = (conn.execute(within, (source, s)).fetchone()[0] for s in (3600, 86400))
        touched = conn.execute(contacted, (source,)).fetchone()[0]
        untimed = unknown.get(source, 0)
        rows.append(
            {
                "source": source,
                "b0": hour,
                "b1": day - hour,
                "b2": touched - day,
                "b3": leads - touched - untimed,
                "b4": untimed,
            }
        )
    return rows
