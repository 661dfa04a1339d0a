"""What a report covers: the leads it counts, and the moment it describes.

Every report reads one relation, ``base``, built here as SQL: one row per lead with the
columns reports aggregate (source already joined into its canonical spelling). Today it is
the lead table read through the ``leads_report`` index; ``--as-of`` rebuilds each lead's stage
and close date on that day from the history of stage changes (an imported lead was created at
its ``created_at`` in the stage its first change started from, see ``leads.history``).
Nothing here loads leads into Python: the SQL is handed to each report's aggregate query.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from leadcli.leads.cells import LEAD_AS_CELL
from leadcli.pipeline.stages import CLOSED_STAGES_SQL, STAGES, reach_sql
from leadcli.storage.literals import sql_text
from leadcli.text import dates


@dataclass(frozen=True)
class ReportFilter:
    """Times are stored-format UTC texts; ``until`` and ``as_of`` are exclusive bounds."""

    since: str | None = None
    until: str | None = None
    as_of: str | None = None
    sources: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    #: ``sources.aliases`` from the configuration: alias -> source.
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def whole(self) -> bool:
        """Every lead as it is now (no filter, no as-of day): figures may then be read from
        the indexes kept for them instead of computed over ``base``."""
        return not (
            self.since or self.until or self.as_of or self.sources or self.owners or self.tags
        )

    @property
    def moment(self) -> str:
        """The time the report describes: the as-of bound, else now."""
        return self.as_of or dates.now_text()

    def describe(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "as_of": self.as_of,
            "sources": list(self.sources),
            "owners": list(self.owners),
            "tags": list(self.tags),
        }


def source_key(text: str | None) -> str:
    """Sources that differ only in case, spacing or punctuation are one ("Web", "web ")."""
    if text is None:
        return ""
    return re.sub(r"[\W_]+", "", text.casefold())


class Sources:
    """Raw spellings of sources and the one each is shown as: the most common spelling of
    its key (ties: the first in sort order), with configured aliases joined in."""

    def __init__(self, conn: sqlite3.Connection, aliases: dict[str, str]) -> None:
        alias_keys = {source_key(a): source_key(t) for a, t in aliases.items()}
        self.alias_keys = alias_keys
        self.key_of: dict[str | None, str] = {None: ""}
        targets = {source_key(t): t.strip() for t in aliases.values()}
        # Every raw spelling with its leads, from the lead cells (whatever the report
        # covers, a spelling is shown as the one most common among all leads).
        leads_of = dict(
            conn.execute(
                "SELECT source, sum(leads) FROM lead_cells WHERE source IS NOT NULL GROUP BY source"
            ).fetchall()
        )
        candidates: dict[str, list[str]] = {}
        for raw in leads_of:
            own = source_key(raw)
            key = self.key(raw)
            self.key_of[raw] = key
            names = candidates.setdefault(key, [])
            # an alias's own spelling never names the source it joins
            names.append(raw if own == key else targets[key])
        counts = {
            key: Counter({name: leads_of.get(name, 0) for name in names})
            for key, names in candidates.items()
        }
        self.name_of: dict[str, str | None] = {
            key: sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0])))[0][0]
            for key, c in counts.items()
        }
        for key, name in list(self.name_of.items()):
            if name is not None:
                self.name_of[key] = name.strip()
        self.name_of[""] = None

    def key(self, raw: str | None) -> str:
        """The one key a raw spelling counts under: its own, or the source it is an alias of."""
        own = source_key(raw)
        return self.alias_keys.get(own, own)

    def name(self, key: str) -> str | None:
        """The shown name of a source key (an alias target with no leads: the alias text)."""
        return self.name_of.get(key, key)

    def expr(self, column: str = "l.source") -> str:
        """SQL giving the shown name for ``column``: a CASE over the (few) raw spellings."""
        whens = [
            f"WHEN {sql_text(raw)} THEN {sql_text(self.name(key))}"
            for raw, key in self.key_of.items()
            if raw is not None and self.name(key) is not None and raw != self.name(key)
        ]
        if not whens:
            return f"nullif(trim({column}), '')"
        return f"nullif(CASE {column} {' '.join(whens)} ELSE {column} END, '')"

    def one_to_one(self) -> bool:
        """Each shown name stands for one raw spelling: figures grouped by the raw column are
        then the figures by shown name."""
        shown = [self.shown(raw) for raw in self.key_of]
        return len(shown) == len(set(shown))

    def shown(self, raw: str | None) -> str | None:
        """The shown name for a raw spelling (None: no source)."""
        if raw is None or not raw.strip():
            return None
        return self.name(self.key_of.get(raw) or self.key(raw))

    def merge(self, rows: list[dict[str, Any]], field: str = "source") -> list[dict[str, Any]]:
        """Rows grouped by raw spelling, summed into one row per shown name (numbers add)."""
        out: dict[str | None, dict[str, Any]] = {}
        for row in rows:
            name = self.shown(row[field])
            if name not in out:
                out[name] = {**row, field: name}
            else:
                target = out[name]
                for k, v in row.items():
                    if k != field and isinstance(v, int | float):
                        target[k] = (target[k] or 0) + v
        return list(out.values())

    def raws_for(self, wanted: tuple[str, ...]) -> list[str | None]:
        """Every raw spelling counted as one of the ``wanted`` sources."""
        keys = {self.key(w) for w in wanted}
        return [raw for raw, key in self.key_of.items() if key in keys and raw is not None]


def _last_move(asof_param: str) -> str:
    return (
        "(SELECT h.id FROM history AS h INDEXED BY history_stage_lead "
        f"WHERE h.lead_id = l.id AND h.event = 'stage' AND h.at < {asof_param} "
        "ORDER BY h.at DESC, h.id DESC LIMIT 1)"
    )


def _first_move() -> str:
    return (
        "(SELECT h.id FROM history AS h INDEXED BY history_stage_lead "
        "WHERE h.lead_id = l.id AND h.event = 'stage' ORDER BY h.at, h.id LIMIT 1)"
    )


#: The lead index reports read: every column ``base`` has, by source and stage.
REPORT_INDEX = "leads_report"


@dataclass
class Base:
    """The ``base`` relation as a CTE, its parameters, and the source names it uses."""

    cte: str
    params: dict[str, Any]
    sources: Sources
    filter: ReportFilter
    #: ``counts.Counts`` once a report of the run has read them.
    counts: Any = None

    def sql(self, query: str) -> str:
        """``query`` (which reads ``base``) preceded by the CTE."""
        return f"WITH base AS ({self.cte}) {query}"

    def all(self, conn: sqlite3.Connection, query: str) -> list[sqlite3.Row]:
        return conn.execute(self.sql(query), self.params).fetchall()

    def grouped(self, conn: sqlite3.Connection, columns: str, group: str) -> list[sqlite3.Row]:
        """``columns``, sums of lead cells (``sum(leads)``, ``total(cents)``, ``sum(valued)``,
        ``sum(created)``; see ``leads.cells``), per ``group`` of their keys (``source``,
        ``stage``, ``reach``, ``rating``, ``month``), in its order. Over every lead as it
        is, the cells kept as leads change are summed; otherwise each lead of ``base`` is a
        cell of its own, so one query text serves both."""
        query = f"SELECT {columns} FROM {{cells}} GROUP BY {group} ORDER BY {group}"
        if self.filter.whole:
            return conn.execute(query.format(cells="lead_cells")).fetchall()
        return self.all(conn, query.format(cells=f"(SELECT {LEAD_AS_CELL} FROM base)"))


def build_base(conn: sqlite3.Connection, flt: ReportFilter) -> Base:
    """The leads ``flt`` selects, one row each, with the columns reports read."""
    sources = Sources(conn, flt.aliases)
    # ``moment``: the time the report describes (ages are counted to it).
    params: dict[str, Any] = {"moment": flt.moment}
    where: list[str] = []
    if flt.since:
        where.append("l.created_at >= :since")
        params["since"] = flt.since
    if flt.until:
        where.append("l.created_at < :until")
        params["until"] = flt.until
    if flt.as_of:
        where.append("l.created_at < :as_of")
        params["as_of"] = flt.as_of
    if flt.sources:
        raws = sources.raws_for(flt.sources)
        marks = ", ".join(f":src{i}" for i in range(len(raws))) or "NULL"
        params.update({f"src{i}": r for i, r in enumerate(raws)})
        where.append(f"l.source IN ({marks})")
    if flt.owners:
        marks = ", ".join(f":own{i}" for i in range(len(flt.owners)))
        params.update({f"own{i}": o.strip().lower() for i, o in enumerate(flt.owners)})
        where.append(f"lower(trim(l.owner)) IN ({marks})")
    for i, tag in enumerate(flt.tags):
        params[f"tag{i}"] = tag.strip()
        where.append(
            f"EXISTS (SELECT 1 FROM lead_tags AS t WHERE t.lead_id = l.id AND t.tag = :tag{i})"
        )
    condition = " AND ".join(where) or "1"
    # The raw spelling: grouping by it follows the lead index's order (no sort of a million
    # rows); reports join spellings into shown names on the few grouped rows (``Sources.merge``).
    source = "l.source"
    if not flt.as_of:
        cte = (
            f"SELECT l.id, {source} AS source, l.owner, l.stage, l.reach, l.value, "
            "l.created_at, l.closed_at, l.first_contacted_at, l.lost_reason, l.rating, "
            "l.contact_unknown "
            f"FROM leads AS l INDEXED BY {REPORT_INDEX} WHERE {condition}"
        )
        return Base(cte, params, sources, flt)
    # The stage on the day: where the last change before it led, else where the first
    # change started from (the stage the lead was created in), else the stage it is in.
    # How far a lead lost on the day had got by then: from its moves before the day.
    reach = (
        f"(SELECT max({reach_sql('h.changes')}) FROM history AS h INDEXED BY history_stage_lead "
        "WHERE h.lead_id = x.id AND h.event = 'stage' AND h.at < :as_of)"
    )
    cte = (
        "SELECT x.id, x.source, x.owner, x.stage, "
        f"CASE WHEN x.stage = 'lost' THEN {reach} END AS reach, x.value, x.created_at, "
        f"CASE WHEN x.stage IN {CLOSED_STAGES_SQL} THEN coalesce(x.moved_at, x.closed_now) END "
        "AS closed_at, x.first_contacted_at, "
        "CASE WHEN x.stage = 'lost' THEN x.lost_reason END AS lost_reason, x.rating, "
        "x.contact_unknown FROM ("
        "SELECT l.id, l.source, l.owner, l.value, l.created_at, l.closed_at AS closed_now, "
        "l.lost_reason, l.rating, l.contact_unknown, "
        "CASE WHEN l.first_contacted_at < :as_of THEN l.first_contacted_at END "
        "AS first_contacted_at, "
        "coalesce(json_extract(m.changes, '$.stage[1]'), "
        "json_extract(f.changes, '$.stage[0]'), l.stage) AS stage, m.at AS moved_at "
        f"FROM (SELECT l.*, {source} AS source, {_last_move(':as_of')} AS move_id, "
        f"{_first_move()} AS first_id FROM leads AS l WHERE {condition}) AS l "
        "LEFT JOIN history AS m ON m.id = l.move_id "
        "LEFT JOIN history AS f ON f.id = l.first_id AND l.move_id IS NULL) AS x"
    )
    # Rebuilt once per run, not once per query: a report asks several questions of it, and
    # each lead's day is a few lookups in its history. A temporary table is the
    # connection's own (a read-only database allows it) and goes with it.
    conn.execute("DROP TABLE IF EXISTS temp.report_base")
    conn.execute(f"CREATE TEMP TABLE report_base AS {cte}", params)
    return Base("SELECT * FROM temp.report_base", params, sources, flt)


def reached(stage: str, reach: int | None) -> int:
    """The furthest open stage or customer a lead has reached, as a rank (0 = prospect ...
    5 = customer), from its stage and ``reach`` (as ``base`` has them).

    An open lead or a customer reached the stage it is in; a lost lead, the furthest stage
    any change of its led to or from (``reach``: one lost from ``sql`` reached ``sql``). (A
    lead reopened and moved back counts from where it stands now.) Reports count leads per
    stage and reach in SQL, and rank those few groups here."""
    return max(reach or 0, 0) if stage == "lost" else STAGES.index(stage)
