"""The funnel: how many leads reached each stage, and how many went on.

A lead reached a stage when it was ever in it or further along (a lead advanced straight
from ``lead`` to ``sql`` reached ``mql`` too; one lost from ``sql`` reached ``sql``). The
conversion from a stage is the share of the leads that reached it that reached the next one;
drop-off is the rest. ``by="value"`` weighs each lead by its value instead of counting it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.pipeline.stages import OPEN_STAGES
from leadcli.reports.counts import counts
from leadcli.reports.filters import Base
from leadcli.reports.stats import ratio

#: The funnel's steps: the open stages and ``customer``.
STEPS = (*OPEN_STAGES, "customer")


def funnel(conn: sqlite3.Connection, base: Base, *, by: str = "count") -> dict[str, Any]:
    found = counts(conn, base)
    per_rank = found.reached(by_value=by == "value")
    lost_cell = found.by_stage()["lost"]
    lost = lost_cell.value if by == "value" else lost_cell.leads
    reached = [sum(per_rank[i:]) for i in range(len(STEPS))]
    rows = []
    for i, stage in enumerate(STEPS):
        nxt = reached[i + 1] if i + 1 < len(STEPS) else None
        conversion = ratio(nxt, reached[i]) if nxt is not None else None
        rows.append(
            {
                "stage": stage,
                "reached": _num(reached[i], by),
                "next_stage_conversion": conversion,
                "cumulative_conversion": ratio(reached[i], reached[0]),
                "drop_off": None if conversion is None else round(1 - conversion, 4),
            }
        )
    return {
        "report": "funnel",
        "by": by,
        "rows": rows,
        "totals": {"leads": _num(reached[0], by), "lost": _num(lost, by)},
    }


def _num(value: float, by: str) -> float | int:
    return int(value) if by == "count" else round(value, 2)
