"""What to do today: the due list that a cron job prints each morning.

Four kinds of item, most urgent first:
- ``follow_up``: open follow-ups due by the end of today (or of ``days`` ahead);
- ``cadence``: cadence steps due in the same window;
- ``new_lead``: leads never contacted whose speed-to-lead SLA has passed (only leads created
  within the last ``followup.stale_days`` days: older never-contacted leads are a backlog for
  ``list``, not today's work; this also keeps a freshly imported million rows out of the list);
- ``stale``: open leads that were contacted but have had no activity for
  ``followup.stale_days`` days and have nothing scheduled.
Do-not-contact and closed leads never appear. A lead with an open follow-up is not also listed
as new or stale: the follow-up is its item.

Urgency follows Taskwarrior: a weighted sum whose coefficients are in the config
(``urgency.*``): the item kind's weight, plus days overdue (capped at 30, negative for items
ahead), the score and how far along the funnel the lead is. It is computed in SQL, and every
part of the query is a range scan on a partial index, so ``due`` stays fast at a million leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from leadcli import dates
from leadcli.config import Config
from leadcli.leads import LeadQuery, filter_sql
from leadcli.stages import OPEN_STAGES
from leadcli.store import Store

KINDS = ("follow_up", "cadence", "new_lead", "stale")

_STAGE_PROGRESS = (
    "CASE leads.stage "
    + " ".join(f"WHEN '{s}' THEN {i / (len(OPEN_STAGES) - 1)}" for i, s in enumerate(OPEN_STAGES))
    + " ELSE 0 END"
)

_LEAD_COLUMNS = (
    "leads.first_name, leads.last_name, leads.company, leads.email, leads.phone, "
    "leads.stage, leads.score, leads.owner"
)


@dataclass(frozen=True)
class Window:
    """The instants that bound a due list, as stored text."""

    now: str
    horizon: str  # items due up to here are listed: end of today (local) + days
    sla_cutoff: str  # uncontacted leads created before this are past the SLA
    new_since: str  # ... and created after this are still "new"
    stale_cutoff: str  # last activity before this is stale


def window(config: Config, days: int = 0) -> Window:
    now = dates.now()
    local_midnight = now.astimezone().replace(hour=0, minute=0, second=0) + timedelta(days=1)
    stale = timedelta(days=config["followup.stale_days"])
    return Window(
        now=dates.to_store(now),
        horizon=dates.to_store(local_midnight + timedelta(days=days) - timedelta(seconds=1)),
        sla_cutoff=dates.to_store(
            now - timedelta(minutes=config["followup.speed_to_lead_minutes"])
        ),
        new_since=dates.to_store(now - stale),
        stale_cutoff=dates.to_store(now - stale),
    )


def _part(kind: str, source: str, where: str, due_at: str, detail: str, ref: str) -> str:
    urgency = (
        f":w_{kind} + :c_overdue * max(-30.0, min(30.0, julianday(:now) - julianday({due_at})))"
        f" + :c_score * coalesce(leads.score, 0) / 100.0 + :c_stage * ({_STAGE_PROGRESS})"
    )
    return (
        f"SELECT '{kind}' AS kind, leads.id AS lead_id, {ref} AS ref_id, {due_at} AS due_at, "
        f"{detail} AS detail, {urgency} AS urgency, {_LEAD_COLUMNS} FROM {source} "
        f"WHERE {where} AND leads.do_not_contact = 0 "
        f"AND leads.stage NOT IN ('customer', 'lost') AND {{lead_filter}}"
    )


_PARTS = {
    "follow_up": _part(
        "follow_up",
        "followups f JOIN leads ON leads.id = f.lead_id",
        "f.done_at IS NULL AND f.due_at <= :horizon",
        "f.due_at",
        "f.note",
        "f.id",
    ),
    "cadence": _part(
        "cadence",
        "enrolments e JOIN leads ON leads.id = e.lead_id",
        "e.ended_at IS NULL AND e.next_due_at <= :horizon",
        "e.next_due_at",
        "e.cadence || ' step ' || (e.next_step + 1) || ': ' || "
        "json_extract(e.steps, '$[' || e.next_step || '].kind') || "
        "coalesce(' (' || json_extract(e.steps, '$[' || e.next_step || '].note') || ')', '')",
        "e.id",
    ),
    "new_lead": _part(
        "new_lead",
        "leads INDEXED BY leads_uncontacted",
        "leads.first_contacted_at IS NULL AND leads.created_at > :new_since "
        "AND leads.created_at <= :sla_cutoff AND leads.next_follow_up_at IS NULL",
        "strftime('%Y-%m-%dT%H:%M:%SZ', leads.created_at, :sla)",
        "'not contacted yet'",
        "NULL",
    ),
    "stale": _part(
        "stale",
        "leads INDEXED BY leads_last_activity",
        "leads.last_activity_at < :stale_cutoff AND leads.next_follow_up_at IS NULL",
        "strftime('%Y-%m-%dT%H:%M:%SZ', leads.last_activity_at, :stale)",
        "'no activity since ' || substr(leads.last_activity_at, 1, 10)",
        "NULL",
    ),
}


def build_sql(
    config: Config, query: LeadQuery, days: int = 0, limit: int | None = None
) -> tuple[str, dict[str, Any]]:
    lead_filter, filter_params = filter_sql(query)
    # filter_sql speaks in positional parameters; due's query is named: rename them.
    for index in range(len(filter_params)):
        lead_filter = lead_filter.replace("?", f":f{index}", 1)
    span = window(config, days)
    params: dict[str, Any] = {
        "now": span.now,
        "horizon": span.horizon,
        "sla_cutoff": span.sla_cutoff,
        "new_since": span.new_since,
        "stale_cutoff": span.stale_cutoff,
        "sla": f"+{config['followup.speed_to_lead_minutes']} minutes",
        "stale": f"+{config['followup.stale_days']} days",
        **{f"c_{k}": config[f"urgency.{k}"] for k in ("overdue", "score", "stage")},
        **{f"w_{k}": config[f"urgency.{k}"] for k in KINDS},
        **{f"f{i}": value for i, value in enumerate(filter_params)},
    }
    union = " UNION ALL ".join(part.format(lead_filter=lead_filter) for part in _PARTS.values())
    sql = (
        f"SELECT *, count(*) OVER () AS total FROM ({union}) ORDER BY urgency DESC, due_at, lead_id"
    )
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return sql, params


def due_items(
    store: Store,
    config: Config,
    query: LeadQuery | None = None,
    *,
    days: int = 0,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The due items, most urgent first (at most ``limit``), and how many there are in all."""
    sql, params = build_sql(config, query or LeadQuery(), days, limit)
    rows = [dict(r) for r in store.conn.execute(sql, params)]
    total = rows[0]["total"] if rows else 0
    for row in rows:
        del row["total"]
        row["urgency"] = round(row["urgency"], 2)
    return rows, total
