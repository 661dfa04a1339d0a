"""How fast leads move: lead time, time in each stage, win rate, sales velocity, and leads
per month with month-over-month growth.

- Lead time: created to customer (``closed_at``) of the customers, median and p90.
- Time in stage: each finished stay in a stage, from entering it (creation, or the change
  that led there) to the change that left it; stays still under way are not counted.
- Win rate: customers over closed leads (customers and lost).
- Sales velocity, value per day: open leads x average won value x win rate / average lead
  time in days (the textbook formula, with every open lead as an opportunity).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.pipeline.stages import CLOSED_STAGES_SQL, OPEN_STAGES
from leadcli.reports.filters import Base
from leadcli.reports.stats import days, quantiles, ratio, seconds_between


def lead_times(conn: sqlite3.Connection, base: Base, group: str = "1") -> dict[Any, Any]:
    """Lead time (created to customer, seconds): count, mean, median and p90 per ``group``
    (an SQL expression over ``b``; by default one group, ``1``)."""
    return quantiles(
        conn,
        base.sql(
            f"SELECT {group} AS g, max(0, {seconds_between('b.created_at', 'b.closed_at')}) "
            "AS x FROM base AS b WHERE b.stage = 'customer' AND b.closed_at IS NOT NULL"
        ),
        base.params,
    )


def velocity(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    flt = base.filter
    lead_time = lead_times(conn, base).get(1)
    bound = " AND h.at < :as_of" if flt.as_of else ""
    stays_sql = base.sql(
        "SELECT stage AS g, max(0, " + seconds_between("entered", "left_at") + ") AS x FROM ("
        "SELECT json_extract(h.changes, '$.stage[0]') AS stage, h.at AS left_at, "
        "coalesce(lag(h.at) OVER (PARTITION BY h.lead_id ORDER BY h.at, h.id), b.created_at) "
        "AS entered FROM base AS b JOIN history AS h INDEXED BY history_stage_lead "
        f"ON h.lead_id = b.id AND h.event = 'stage'{bound})"
    )
    stays = quantiles(conn, stays_sql, base.params)
    time_in_stage = []
    for stage in OPEN_STAGES:
        q = stays.get(stage)
        time_in_stage.append(
            {
                "stage": stage,
                "stays": q["count"] if q else 0,
                "median_days": days(q["median"]) if q else None,
                "p90_days": days(q["p90"]) if q else None,
                "mean_days": days(q["mean"]) if q else None,
            }
        )
    head = base.one(
        conn,
        "SELECT sum(b.stage = 'customer'), sum(b.stage = 'lost'), "
        f"sum(b.stage NOT IN {CLOSED_STAGES_SQL}), "
        "avg(CASE WHEN b.stage = 'customer' THEN b.value END) FROM base AS b",
    )
    won, lost, open_, avg_won = (head[i] or 0 for i in range(4))
    avg_cycle = lead_time["mean"] if lead_time else 0
    win_rate = ratio(won, won + lost)
    cycle_days = avg_cycle / 86400 if avg_cycle else None
    sales_velocity = (
        round(open_ * avg_won * win_rate / cycle_days, 2)
        if cycle_days and win_rate is not None
        else None
    )
    months = []
    previous = None
    for month, n in base.all(
        conn,
        "SELECT substr(b.created_at, 1, 7) AS month, count(*) FROM base AS b "
        "GROUP BY month ORDER BY month",
    ):
        months.append(
            {
                "month": month,
                "leads": n,
                "growth": ratio(n - previous, previous) if previous else None,
            }
        )
        previous = n
    summary = {
        "customers": won,
        "lost": lost,
        "open": open_,
        "win_rate": win_rate,
        "median_lead_time_days": days(lead_time["median"]) if lead_time else None,
        "p90_lead_time_days": days(lead_time["p90"]) if lead_time else None,
        "mean_lead_time_days": round(cycle_days, 4) if cycle_days else None,
        "average_won_value": round(avg_won, 2) if won else None,
        "sales_velocity_per_day": sales_velocity,
    }
    return {
        "report": "velocity",
        "summary": summary,
        "time_in_stage": time_in_stage,
        "months": months,
        "rows": time_in_stage,
    }
