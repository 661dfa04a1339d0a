"""What to do today: the due list that a cron job prints each morning.

Four kinds of item, most urgent first:
- ``follow_up``: open follow-ups due by the end of today (or of ``days`` ahead);
- ``cadence``: cadence steps due in the same window;
- ``new_lead``: open leads never contacted (``first_contacted_at`` empty, and not worked before
  they came to leadcli: ``contact_unknown``) whose speed-to-lead
  SLA has passed, however long ago they came in: an old lead nobody called is still work,
  not backlog. A follow-up due in the window is the lead's item instead (it is listed
  anyway); a follow-up further ahead does not hide that nobody has called yet. Only leads
  in ``prospect`` or ``lead`` qualify: one further along has been worked, whatever no
  activity says (an import from a CRM brings the stage, not the calls). With a
  ``new_lead_limit`` only the most urgent few are listed, so an import of thousands of old
  leads never floods the morning mail; ``due_list`` counts them all.
- ``stale``: open leads that were contacted but have had no activity for
  ``followup.stale_days`` days and have no open follow-up.
Do-not-contact and closed leads never appear.

Urgency follows Taskwarrior: a weighted sum whose coefficients are in the config
(``urgency.*``): the item kind's weight, plus days overdue (capped at 30, negative for items
ahead), the score and how far along the funnel the lead is. It is computed in SQL, and every
part of the query is a range scan on a partial index, so ``due`` stays fast at a million leads.
New leads overdue by more than the 30-day cap all have the same overdue part, so their
urgency orders by stage and score alone: they are ranked stage by stage in score order, which
an index on (stage, score, created_at) gives without sorting them all. How many items there
are is counted up to ``COUNT_CAP``; past it, ``due_items`` says "more than".
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from leadcli.config import Config
from leadcli.leads.records import LeadQuery, filter_sql
from leadcli.pipeline.stages import CLOSED_STAGES_SQL, OPEN_STAGES
from leadcli.storage.store import Store
from leadcli.text import dates

KINDS = ("follow_up", "cadence", "new_lead", "stale")

#: Items are counted up to this many, so a backlog of a million costs no more than this.
COUNT_CAP = 10_000

#: Days overdue beyond which the urgency's overdue part stops growing.
OVERDUE_CAP_DAYS = 30

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
    capped_before: str  # ... and created before this are overdue by more than the cap
    stale_cutoff: str  # last activity before this is stale


def window(config: Config, days: int = 0) -> Window:
    now = dates.now()
    # The end of the Nth local day is the start of the next one, by that day's own rules
    # (not today's offset: a daylight-saving change may fall in between).
    today = dates.to_local(now).date()
    day_after = dates.local_start_of_day(today + timedelta(days=days + 1))
    stale = timedelta(days=config["followup.stale_days"])
    sla_cutoff = now - timedelta(minutes=config["followup.speed_to_lead_minutes"])
    return Window(
        now=dates.to_store(now),
        horizon=dates.to_store(day_after - timedelta(seconds=1)),
        sla_cutoff=dates.to_store(sla_cutoff),
        # a second's margin: julianday() rounding never puts a row on the wrong side
        capped_before=dates.to_store(sla_cutoff - timedelta(days=OVERDUE_CAP_DAYS, seconds=1)),
        stale_cutoff=dates.to_store(now - stale),
    )


_URGENCY = (
    ":w_{kind} + :c_overdue * max(-30.0, min(30.0, :now_jd - ({due_jd})))"
    " + :c_score * coalesce(leads.score, 0) / 100.0 + :c_stage * ({stage})"
)
_OPEN = f"leads.do_not_contact = 0 AND leads.stage NOT IN {CLOSED_STAGES_SQL}"


@dataclass(frozen=True)
class _Part:
    """One kind of item as narrow rows (kind, lead, reference, time, urgency): ranking a
    hundred thousand candidates stays cheap, and lead details are joined for the shown rows."""

    kind: str
    source: str
    where: str
    base_at: str
    due_jd: str
    ref: str
    #: How the part is ranked before its LIMIT; an index order where one gives the urgency's.
    order: str = "urgency DESC, base_at, lead_id"

    def tail(self, lead_filter: str) -> str:
        return f"FROM {self.source} WHERE {self.where} AND {_OPEN} AND {lead_filter}"

    def select(self, lead_filter: str) -> str:
        urgency = _URGENCY.format(kind=self.kind, due_jd=self.due_jd, stage=_STAGE_PROGRESS)
        return (
            f"SELECT '{self.kind}' AS kind, leads.id AS lead_id, {self.ref} AS ref_id, "
            f"{self.base_at} AS base_at, {urgency} AS urgency {self.tail(lead_filter)}"
        )


#: Stages in which a lead may still be waiting for its first contact. A lead past them (an
#: mql, sql or opportunity, say from an imported CRM's status) has been worked by someone.
UNCONTACTED_STAGES = ("prospect", "lead")

_NEW = (
    "leads.first_contacted_at IS NULL AND leads.contact_unknown = 0 "
    "AND leads.created_at <= :sla_cutoff "
    f"AND leads.stage IN {UNCONTACTED_STAGES!r} "
    "AND (leads.next_follow_up_at IS NULL OR leads.next_follow_up_at > :horizon)"
)


def _new_lead(where: str, order: str | None = None) -> _Part:
    part = _Part(
        "new_lead",
        "leads",
        f"{_NEW} AND {where}",
        "leads.created_at",
        "julianday(leads.created_at) + :sla_days",
        "NULL",
    )
    return part if order is None else replace(part, order=order)


def _new_lead_parts(score_weight: float) -> list[_Part]:
    """New leads: those created in the last OVERDUE_CAP_DAYS ranked by urgency; older ones
    (equal overdue part) stage by stage, in the order of the score's weight, so that with an
    index on (stage, score, created_at) each is a short index scan."""
    parts = [_new_lead("leads.created_at >= :capped_before")]
    by_score = (
        "leads.created_at, leads.id"
        if score_weight == 0
        else f"leads.score {'DESC' if score_weight > 0 else 'ASC'}, leads.created_at, leads.id"
    )
    for stage in UNCONTACTED_STAGES:
        old = f"leads.created_at < :capped_before AND leads.stage = '{stage}'"
        # coalesce(score, 0) in the urgency: unscored leads rank with score 0, by age
        parts.append(_new_lead(f"{old} AND leads.score IS NOT NULL", by_score))
        parts.append(_new_lead(f"{old} AND leads.score IS NULL", "leads.created_at, leads.id"))
    return parts


# The `leads` partial indexes repeat _OPEN and the parts' conditions, so SQLite uses them.
_PARTS = {
    "follow_up": _Part(
        "follow_up",
        "followups f INDEXED BY followups_open_due JOIN leads ON leads.id = f.lead_id",
        "f.done_at IS NULL AND f.due_at <= :horizon",
        "f.due_at",
        "julianday(f.due_at)",
        "f.id",
    ),
    "cadence": _Part(
        "cadence",
        "enrolments e JOIN leads ON leads.id = e.lead_id",
        "e.ended_at IS NULL AND e.next_due_at <= :horizon",
        "e.next_due_at",
        "julianday(e.next_due_at)",
        "e.id",
    ),
    "stale": _Part(
        "stale",
        "leads INDEXED BY leads_quiet",
        # Contacted once: a lead nobody has contacted is a new lead, not a quiet one.
        "leads.next_follow_up_at IS NULL AND leads.last_activity_at < :stale_cutoff "
        "AND leads.first_contacted_at IS NOT NULL",
        "leads.last_activity_at",
        "julianday(leads.last_activity_at) + :stale_days",
        "NULL",
    ),
}

# What each item says, looked up for the shown rows only.
_DETAIL = (
    "CASE ranked.kind "
    "WHEN 'follow_up' THEN (SELECT note FROM followups WHERE id = ranked.ref_id) "
    "WHEN 'cadence' THEN (SELECT e.cadence || ' step ' || (e.next_step + 1) || ': ' || "
    "coalesce('mail ' || json_extract(e.steps, '$[' || e.next_step || '].template'), "
    "json_extract(e.steps, '$[' || e.next_step || '].kind') || "
    "coalesce(' (' || json_extract(e.steps, '$[' || e.next_step || '].note') || ')', '')) "
    "FROM enrolments e WHERE e.id = ranked.ref_id) "
    "WHEN 'new_lead' THEN 'not contacted yet' "
    "ELSE 'no activity since ' || substr(ranked.base_at, 1, 10) END"
)

# The cadence step's number (1 for the first), for its calendar event's UID.
_STEP = (
    "CASE ranked.kind WHEN 'cadence' THEN "
    "(SELECT e.next_step + 1 FROM enrolments e WHERE e.id = ranked.ref_id) END"
)


def build_sql(
    config: Config,
    query: LeadQuery,
    days: int = 0,
    limit: int | None = None,
    kinds: Collection[str] = KINDS,
    new_lead_limit: int | None = None,
) -> tuple[str, str, dict[str, Any]]:
    """The ranking query, the counting query, and their parameters, for items of ``kinds``;
    with ``new_lead_limit``, at most that many new leads (the most urgent) are ranked."""
    lead_filter, filter_params = filter_sql(query)
    # filter_sql speaks in positional parameters; due's query is named: rename them.
    for index in range(len(filter_params)):
        lead_filter = lead_filter.replace("?", f":f{index}", 1)
    span = window(config, days)
    sla_minutes = config["followup.speed_to_lead_minutes"]
    params: dict[str, Any] = {
        "now_jd": julian_day(span.now),
        "horizon": span.horizon,
        "sla_cutoff": span.sla_cutoff,
        "capped_before": span.capped_before,
        "stale_cutoff": span.stale_cutoff,
        "sla_days": sla_minutes / 1440,
        "stale_days": config["followup.stale_days"],
        **{f"c_{k}": config[f"urgency.{k}"] for k in ("overdue", "score", "stage")},
        **{f"w_{k}": config[f"urgency.{k}"] for k in KINDS},
        **{f"f{i}": value for i, value in enumerate(filter_params)},
    }
    limit_sql = ""
    if limit is not None:
        limit_sql = " LIMIT :limit"
        params["limit"] = limit
    parts = [
        _PARTS["follow_up"],
        _PARTS["cadence"],
        *_new_lead_parts(config["urgency.score"]),
        _PARTS["stale"],
    ]
    parts = [part for part in parts if part.kind in kinds]
    # The global top N is among each part's top N: ranking part by part keeps every sort
    # small, whatever the number of candidates.
    new_limit = limit_sql
    if new_lead_limit is not None:
        params["new_limit"] = new_lead_limit if limit is None else min(limit, new_lead_limit)
        new_limit = " LIMIT :new_limit"

    def ranked(group: list[_Part], cap: str) -> list[str]:
        return [
            f"SELECT * FROM ({part.select(lead_filter)} ORDER BY {part.order}{cap})"
            for part in group
        ]

    selects = ranked([p for p in parts if p.kind != "new_lead"], limit_sql)
    new_parts = [p for p in parts if p.kind == "new_lead"]
    if new_parts and new_lead_limit is not None:
        # The new leads' own top N, so that an import of thousands never floods the list.
        selects.append(
            f"SELECT * FROM (SELECT * FROM ({' UNION ALL '.join(ranked(new_parts, new_limit))}) "
            f"ORDER BY urgency DESC, base_at, lead_id{new_limit})"
        )
    else:
        selects += ranked(new_parts, limit_sql)
    union = " UNION ALL ".join(selects)
    # Counting apart (not count(*) OVER ()) keeps the ranking a top-N sort: a window over
    # every candidate costs more than the rest of the query. Each kind is counted up to
    # COUNT_CAP + 1, so a huge backlog costs no more than that.
    counted = [part for part in (*_PARTS.values(), _new_lead("1")) if part.kind in kinds]
    params["count_cap"] = COUNT_CAP + 1
    counts = {
        part.kind: f"(SELECT count(*) FROM (SELECT 1 {part.tail(lead_filter)} LIMIT :count_cap))"
        for part in counted
    }
    # The total, then the new leads apart (what `due` says wait beyond its new-lead limit).
    count = f"SELECT {' + '.join(counts.values())} AS total, {counts.get('new_lead', '0')} AS new"
    sql = (
        f"WITH ranked AS (SELECT * FROM ({union}) "
        f"ORDER BY urgency DESC, base_at, lead_id{limit_sql}) "
        f"SELECT ranked.*, {_DETAIL} AS detail, {_STEP} AS step, {_LEAD_COLUMNS} "
        "FROM ranked JOIN leads ON leads.id = ranked.lead_id "
        "ORDER BY ranked.urgency DESC, ranked.base_at, ranked.lead_id"
    )
    return sql, count, params


def julian_day(stored: str) -> float:
    """The Julian day number SQLite's julianday() gives for a stored time."""
    return dates.from_store(stored).timestamp() / 86400.0 + 2440587.5


def _due_at(row: dict[str, Any], config: Config) -> str:
    """When the item fell due: the follow-up's or step's time, or the SLA/staleness limit."""
    if row["kind"] == "new_lead":
        extra = timedelta(minutes=config["followup.speed_to_lead_minutes"])
    elif row["kind"] == "stale":
        extra = timedelta(days=config["followup.stale_days"])
    else:
        return row["base_at"]
    return dates.to_store(dates.from_store(row["base_at"]) + extra)


@dataclass(frozen=True)
class DueList:
    """Due items, most urgent first, with how many there are in all and how many of those
    are new leads (each exact up to COUNT_CAP; COUNT_CAP + 1 means "more")."""

    items: list[dict[str, Any]]
    total: int
    new_leads: int


def due_items(
    store: Store,
    config: Config,
    query: LeadQuery | None = None,
    *,
    days: int = 0,
    limit: int | None = None,
    kinds: Collection[str] = KINDS,
    new_lead_limit: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The due items of ``kinds``, most urgent first (at most ``limit``, and at most
    ``new_lead_limit`` new leads), and how many there are in all (new leads held back
    included): exact up to COUNT_CAP; a larger number (COUNT_CAP + 1 or more) means "more
    than COUNT_CAP"."""
    due = due_list(
        store, config, query, days=days, limit=limit, kinds=kinds, new_lead_limit=new_lead_limit
    )
    return due.items, due.total


def due_list(
    store: Store,
    config: Config,
    query: LeadQuery | None = None,
    *,
    days: int = 0,
    limit: int | None = None,
    kinds: Collection[str] = KINDS,
    new_lead_limit: int | None = None,
) -> DueList:
    """``due_items`` with the count of new leads apart, from the same counting query."""
    sql, count, params = build_sql(config, query or LeadQuery(), days, limit, kinds, new_lead_limit)
    with store.read() as conn:  # one snapshot for the rows and their count
        rows = [dict(r) for r in conn.execute(sql, params)]
        total = len(rows)
        new = sum(1 for row in rows if row["kind"] == "new_lead")
        if (limit is not None and total == limit) or (
            new_lead_limit is not None and new >= new_lead_limit
        ):
            counted = conn.execute(count, params).fetchone()
            total = max(total, min(counted[0], COUNT_CAP + 1))
            new = max(new, min(counted[1], COUNT_CAP + 1))
    for row in rows:
        row["due_at"] = _due_at(row, config)
        del row["base_at"]
        row["urgency"] = round(row["urgency"], 2)
    return DueList(rows, total, new)
