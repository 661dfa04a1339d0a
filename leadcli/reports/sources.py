"""Return by source: leads, qualified, customers, conversion, won value, lead time, and,
where spend is recorded, cost per lead, cost per customer and ROI.

Sources are grouped by their shown name (see ``filters.Sources``: case, spacing and
punctuation do not split a source; ``sources.aliases`` joins others).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.pipeline.stages import STAGES
from leadcli.reports.counts import counts as count_cells
from leadcli.reports.filters import Base
from leadcli.reports.spend import spend_by_key
from leadcli.reports.stats import days, ratio
from leadcli.reports.velocity import lead_times

MQL = STAGES.index("mql")


def sources(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    flt = base.filter
    counts = base.sources.merge(_per_raw_source(conn, base))
    by_source = lead_times(conn, base, by_source=True)
    ends = [t for t in (flt.until, flt.as_of) if t]
    spent = spend_by_key(conn, base.sources.key, flt.since, min(ends) if ends else None)
    rows = []
    shown_keys = set()
    for r in counts:
        key = base.sources.key(r["source"])
        shown_keys.add(key)
        amount = spent[key][0] if key in spent else None
        rows.append(_row(r["source"], r, by_source.get(r["source"]), amount))
    if not flt.sources:  # spend on a source with no leads yet is still spend
        for key, (amount, spelling) in spent.items():
            if key not in shown_keys:
                rows.append(_row(base.sources.name_of.get(key) or spelling, None, None, amount))
    rows.sort(key=lambda x: (-x["leads"], x["source"] is None, str(x["source"]).casefold()))
    total = {k: sum(r[k] for r in rows) for k in ("leads", "qualified", "customers", "lost")}
    total_won = round(sum(r["won_value"] for r in rows), 2)
    total_spend = round(sum(r["spend"] or 0 for r in rows), 2) if spent else None
    totals = {
        **total,
        "conversion": ratio(total["customers"], total["leads"]),
        "won_value": total_won,
        "spend": total_spend,
        "roi": ratio(total_won - total_spend, total_spend) if total_spend else None,
    }
    return {"report": "sources", "rows": rows, "totals": totals}


def _per_raw_source(conn: sqlite3.Connection, base: Base) -> list[dict[str, Any]]:
    """Per raw source spelling: leads, qualified (reached MQL or further), customers, lost
    and won value, from the run's counts."""
    found = count_cells(conn, base)
    out: dict[str | None, dict[str, Any]] = {}

    def row(source: str | None) -> dict[str, Any]:
        if source not in out:
            out[source] = {
                "source": source,
                "leads": 0,
                "qualified": 0,
                "customers": 0,
                "lost": 0,
                "won_cents": 0,
            }
        return out[source]

    for (source, stage, rank), cell in found.cells.items():
        r = row(source)
        r["leads"] += cell.leads
        if stage == "customer":
            r["customers"] += cell.leads
            r["won_cents"] += cell.cents
        if stage == "lost":
            r["lost"] += cell.leads
        if rank >= MQL:
            r["qualified"] += cell.leads
    return list(out.values())


def _row(
    name: str | None, r: Any, lead_time: dict[str, Any] | None, spend: float | None
) -> dict[str, Any]:
    leads = r["leads"] if r else 0
    customers = r["customers"] if r else 0
    won = r["won_cents"] / 100 if r else 0.0
    return {
        "source": name,
        "leads": leads,
        "qualified": r["qualified"] if r else 0,
        "customers": customers,
        "lost": r["lost"] if r else 0,
        "conversion": ratio(customers, leads),
        "won_value": won,
        "median_lead_time_days": days(lead_time["median"]) if lead_time else None,
        "spend": None if spend is None else round(spend, 2),
        "cost_per_lead": None if spend is None or not leads else round(spend / leads, 2),
        "cost_per_customer": (
            None if spend is None or not customers else round(spend / customers, 2)
        ),
        "roi": ratio(won - spend, spend) if spend else None,
    }
