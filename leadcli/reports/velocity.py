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

from leadcli.pipeline.stages import OPEN_STAGES
from leadcli.reports.counts import counts
from leadcli.reports.filters import Base
from leadcli.reports.stats import days, indexed_quantiles, quantiles, ratio
from leadcli.text.dates import span_sql

#: A customer's lead time in seconds, and the customers that have one, over ``leads``: as the
#: ``leads_lead_time`` indexes hold them (storage.migrations.m014_reports).
LEAD_TIME = span_sql("created_at", "closed_at")
WON = "stage = 'customer' AND closed_at IS NOT NULL"


def lead_times(conn: sqlite3.Connection, base: Base, *, by_source: bool = False) -> dict[Any, Any]:
    """Lead time (created to customer, seconds): count, mean, median and p90, in one group
    (``1``) or per shown source name (where the mean, which no report shows, may be None).
    Over every lead as it is now, read from the indexes that keep lead times in order;
    otherwise sorted over ``base``."""
    if base.filter.whole and (not by_source or base.sources.one_to_one()):
        if not by_source:
            return indexed_quantiles(conn, "leads_lead_time", LEAD_TIME, WON)
        raw = indexed_quantiles(
            conn, "leads_lead_time_by_source", LEAD_TIME, WON, "source", mean=False
        )
        return {base.sources.shown(source): q for source, q in raw.items()}
    group = base.sources.expr("b.source") if by_source else "1"
    return quantiles(
        conn,
        base.sql(
            f"SELECT {group} AS g, {span_sql('b.created_at', 'b.closed_at')} "
            "AS x FROM base AS b WHERE b.stage = 'customer' AND b.closed_at IS NOT NULL"
        ),
        base.params,
    )


def velocity(conn: sqlite3.Connection, base: Base) -> dict[str, Any]:
    flt = base.filter
    lead_time = lead_times(conn, base).get(1)
    if flt.whole:  # every stay there is: counted as they are written, in order in their index
        totals = conn.execute(
            "SELECT stage, stays, 1.0 * seconds / stays FROM stage_stay_totals "
            "WHERE stays > 0 AND stage <> ''"
        ).fetchall()
        stays = indexed_quantiles(
            conn,
            "stage_stays_by_stage",
            "seconds",
            "1",
            "stage",
            table="stage_stays",
            heads=totals,
        )
    else:  # the stays of the leads in base, finished before the as-of day
        bound = " WHERE s.left_at < :as_of" if flt.as_of else ""
        stays = quantiles(
            conn,
            base.sql(
                "SELECT s.stage AS g, s.seconds AS x FROM base AS b "
                f"JOIN stage_stays AS s ON s.lead_id = b.id{bound}"
            ),
            base.params,
        )
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
    by_stage = counts(conn, base).by_stage()
    won, lost = by_stage["customer"].leads, by_stage["lost"].leads
    open_ = sum(by_stage[s].leads for s in OPEN_STAGES)
    customers = by_stage["customer"]
    avg_won = customers.value / customers.valued if customers.valued else 0
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
    for month, n in base.grouped(conn, "month, sum(leads)", "month"):
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
