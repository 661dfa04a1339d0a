"""The open pipeline: per open stage, count, value, weighted value and average age.

The weight of a stage is its historical win rate in this database: of the closed leads that
reached the stage, the share that became customers. While fewer than
``pipeline.min_closed`` closed leads reached a stage, its configured probability
(``pipeline.probability.<stage>``) is used instead, and the row says which.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.pipeline.stages import CLOSED_STAGES_SQL, OPEN_STAGES, STAGES
from leadcli.reports.filters import Base, reached_sql
from leadcli.reports.stats import ratio

#: Ranks of the open stages in the funnel (prospect 0 ... opportunity 4, customer 5).
CUSTOMER_RANK = STAGES.index("customer")


def win_rates(
    conn: sqlite3.Connection, base: Base, config: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Per open stage: ``win_rate`` (the weight used), ``win_rate_source`` ("history" or
    "config") and the ``closed`` leads behind a historical rate."""
    # Conditional sums, not GROUP BY: one pass over the lead index, no sort.
    cols = ", ".join(
        f"sum(r = {rank} AND won), sum(r = {rank} AND NOT won)" for rank in range(CUSTOMER_RANK + 1)
    )
    found = base.one(
        conn,
        f"SELECT {cols} FROM (SELECT {reached_sql(base.filter)} AS r, "
        f"b.stage = 'customer' AS won FROM base AS b WHERE b.stage IN {CLOSED_STAGES_SQL} "
        "LIMIT -1)",
    )
    closed = [0] * (CUSTOMER_RANK + 1)
    won = [0] * (CUSTOMER_RANK + 1)
    for r in range(CUSTOMER_RANK + 1):
        w, lost = found[2 * r] or 0, found[2 * r + 1] or 0
        for rank in range(r + 1):
            closed[rank] += w + lost
            won[rank] += w
    minimum = config.get("pipeline.min_closed", 20)
    out = {}
    for rank, stage in enumerate(OPEN_STAGES):
        if closed[rank] >= max(minimum, 1):
            out[stage] = {
                "win_rate": ratio(won[rank], closed[rank]),
                "win_rate_source": "history",
                "closed": closed[rank],
            }
        else:
            out[stage] = {
                "win_rate": config.get(f"pipeline.probability.{stage}", 0.0),
                "win_rate_source": "config",
                "closed": closed[rank],
            }
    return out


def pipeline(conn: sqlite3.Connection, base: Base, config: dict[str, Any]) -> dict[str, Any]:
    """Rows per open stage (all five, zeros included) and the totals."""
    rates = win_rates(conn, base, config)
    cols = ", ".join(
        f"sum(b.stage = '{s}'), total(CASE WHEN b.stage = '{s}' THEN b.value END), "
        f"avg(CASE WHEN b.stage = '{s}' THEN julianday(:moment) - julianday(b.created_at) END)"
        for s in OPEN_STAGES
    )
    one = base.one(conn, f"SELECT {cols} FROM base AS b")
    found = {
        stage: (one[3 * i] or 0, one[3 * i + 1], one[3 * i + 2])
        for i, stage in enumerate(OPEN_STAGES)
    }
    rows = []
    for stage in OPEN_STAGES:
        n, total, age = found.get(stage, (0, 0.0, None))
        rate = rates[stage]
        rows.append(
            {
                "stage": stage,
                "leads": n,
                "value": round(total, 2),
                "win_rate": rate["win_rate"],
                "win_rate_source": rate["win_rate_source"],
                "weighted_value": round(total * (rate["win_rate"] or 0), 2),
                "average_age_days": None if age is None else round(age, 4),
            }
        )
    leads = sum(r["leads"] for r in rows)
    totals = {
        "leads": leads,
        "value": round(sum(r["value"] for r in rows), 2),
        "weighted_value": round(sum(r["weighted_value"] for r in rows), 2),
        "average_age_days": (
            round(sum((found[s][2] or 0) * found[s][0] for s in found) / leads, 4)
            if leads
            else None
        ),
    }
    return {"report": "pipeline", "rows": rows, "totals": totals}
