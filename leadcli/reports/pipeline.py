"""The open pipeline: per open stage, count, value, weighted value and average age.

The weight of a stage is its historical win rate in this database: of the closed leads that
reached the stage, the share that became customers. While fewer than
``pipeline.min_closed`` closed leads reached a stage, its configured probability
(``pipeline.probability.<stage>``) is used instead, and the row says which.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.pipeline.stages import OPEN_STAGES
from leadcli.reports.counts import Counts, counts
from leadcli.reports.filters import Base
from leadcli.reports.stats import ratio


def win_rates(found: Counts, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per open stage: ``win_rate`` (the weight used), ``win_rate_source`` ("history" or
    "config") and the ``closed`` leads behind a historical rate."""
    customers = found.by_stage()["customer"].leads  # every customer reached every stage
    lost = found.lost_reached()
    minimum = config.get("pipeline.min_closed", 20)
    out = {}
    for rank, stage in enumerate(OPEN_STAGES):
        closed = customers + sum(lost[rank:])
        if closed >= max(minimum, 1):
            out[stage] = {
                "win_rate": ratio(customers, closed),
                "win_rate_source": "history",
                "closed": closed,
            }
        else:
            out[stage] = {
                "win_rate": config.get(f"pipeline.probability.{stage}", 0.0),
                "win_rate_source": "config",
                "closed": closed,
            }
    return out


def pipeline(conn: sqlite3.Connection, base: Base, config: dict[str, Any]) -> dict[str, Any]:
    """Rows per open stage (all five, zeros included) and the totals."""
    found = counts(conn, base, ages=True)
    by_stage = found.by_stage()
    rates = win_rates(found, config)
    rows = []
    for stage in OPEN_STAGES:
        cell = by_stage[stage]
        rate = rates[stage]
        rows.append(
            {
                "stage": stage,
                "leads": cell.leads,
                "value": round(cell.value, 2),
                "win_rate": rate["win_rate"],
                "win_rate_source": rate["win_rate_source"],
                "weighted_value": round(cell.value * (rate["win_rate"] or 0), 2),
                "average_age_days": (round(cell.age_days / cell.leads, 4) if cell.leads else None),
            }
        )
    leads = sum(r["leads"] for r in rows)
    totals = {
        "leads": leads,
        "value": round(sum(r["value"] for r in rows), 2),
        "weighted_value": round(sum(r["weighted_value"] for r in rows), 2),
        "average_age_days": (
            round(sum(by_stage[s].age_days for s in OPEN_STAGES) / leads, 4) if leads else None
        ),
    }
    return {"report": "pipeline", "rows": rows, "totals": totals}
