"""The lead cells: leads counted per source, stage, reach, rating and month created, with
their total value, how many have one, and their creation times summed; and the finished
stays in each stage with their seconds (migration m015).

Triggers keep ``lead_cells`` as leads are inserted, changed and deleted, one row at a time.
A load drops the insert trigger (a million upserts would cost it seconds) and adds its rows
in grouped passes instead, a few thousand rows at a time as they go in, and its stays'
totals in one; deleting leads takes them out in one grouped pass; a bulk rescore takes the
leads whose rating changes out of their cells and puts them back after, with the update
trigger dropped. Each writes what the triggers would have: the
tests compare both tables with a count over the leads and stays after every kind of writer,
and ``leadcli doctor`` does the same (``compare``), and ``doctor --repair`` rebuilds them
(``rebuild``).

Values are kept in whole cents (migration m017): a total kept by adding and subtracting
REAL values drifts from a fresh sum in its last bits, and a count that drifts cannot be
checked. Each lead's value counts as ``cents_sql`` of it: the value times 100, rounded half
to even (Python's ``round``), so a sub-cent digit (``12.345``) is rounded once, per lead,
the same way by every writer; ``leads.value`` itself keeps what was typed. Integer cents add
up exactly in any order while a cell's total stays under 2**53 cents (90 trillion), which
``total()`` (used so that an absurd value never raises SQLite's integer overflow) keeps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leadcli.text import dates

INSERT_TRIGGER = "lead_cells_insert"
UPDATE_TRIGGER = "lead_cells_update"
DELETE_TRIGGER = "lead_cells_delete"
STAYS_INSERT_TRIGGER = "stage_stays_total_insert"


def cents_sql(amount: str) -> str:
    """SQL for the amount ``amount`` (a REAL expression) in whole cents: times 100, rounded
    half to even, exactly as Python's ``round(amount * 100)`` (NULL stays NULL).

    Built from a truncation and its exact remainder rather than SQLite's ``round()``, whose
    ``x + 0.5`` misrounds just below a half; amounts beyond 2**63 cents come out REAL (an
    overflow in SQLite's integer arithmetic turns into a REAL, never an error)."""
    x = f"({amount} * 100)"
    whole = f"CAST({x} AS INTEGER)"
    rest = f"({x} - {whole})"
    return f"({whole} + ({rest} > 0.5) - ({rest} < -0.5) + (abs({rest}) = 0.5) * ({whole} % 2))"


#: A lead as a cell of its own: the columns of ``lead_cells`` before they are added up (one
#: lead, its value in cents, whether it has one, its creation in epoch seconds). Cells are
#: summed with ``count(*)`` or ``sum(leads)``, ``total(cents)``, ``sum(valued)``,
#: ``sum(created)``; reports over a filtered set of leads sum them per lead the same way
#: (``reports.filters``), with one difference: their cents are the value times 100 unrounded
#: (a sum made afresh does not drift, and the rounding per lead would cost a filtered report
#: over a million leads 1.8x its time), and the reader rounds the sum to whole cents; with
#: whole-cent values both give the same total.
LEAD_AS_CELL = (
    "source, stage, reach, rating, substr(created_at, 1, 7) AS month, 1 AS leads, "
    "value * 100 AS cents, value IS NOT NULL AS valued, "
    f"{dates.epoch_sql('created_at')} AS created"
)
#: A lead as a cell as ``lead_cells`` counts it: its value in whole cents, rounded.
_LEAD_AS_KEPT_CELL = (
    "source, stage, reach, rating, substr(created_at, 1, 7) AS month, 1 AS leads, "
    f"{cents_sql('value')} AS cents, value IS NOT NULL AS valued, "
    f"{dates.epoch_sql('created_at')} AS created"
)

#: The cells of the leads matching ``{where}``, grouped as the table keys them.
_GROUPED = (
    "SELECT json_array(source, stage, reach, rating, month) AS key, source, stage, reach, "
    "rating, month, count(*) AS leads, CAST(total(cents) AS INTEGER) AS cents, "
    "sum(valued) AS valued, "
    "coalesce(sum(created), 0) AS created "
    f"FROM (SELECT {_LEAD_AS_KEPT_CELL} FROM leads WHERE {{where}}) "
    "GROUP BY source, stage, reach, rating, month"
)

_COLUMNS = "key, source, stage, reach, rating, month, leads, cents, valued, created"


def add_sql(where: str, *, sign: int = 1) -> str:
    """The statement counting the leads matching ``where`` into their cells (``sign=-1``:
    taking them out), for a caller that runs it itself (the import's inserting thread)."""
    assert sign in (1, -1)
    minus = "" if sign == 1 else "-"
    return (
        f"INSERT INTO lead_cells ({_COLUMNS}) SELECT key, source, stage, reach, rating, month, "
        f"{minus}leads, {minus}cents, {minus}valued, {minus}created "
        f"FROM ({_GROUPED.format(where=where)}) WHERE true "
        "ON CONFLICT (key) DO UPDATE SET leads = leads + excluded.leads, "
        "cents = cents + excluded.cents, valued = valued + excluded.valued, "
        "created = created + excluded.created"
    )


def add(conn: sqlite3.Connection, where: str = "1", params: Any = (), *, sign: int = 1) -> None:
    """Count the leads matching ``where`` into their cells (they must not be counted yet:
    rows inserted while the insert trigger was dropped); ``sign=-1`` takes them out."""
    conn.execute(add_sql(where, sign=sign), params)
    if sign == -1:
        conn.execute("DELETE FROM lead_cells WHERE leads = 0")


def add_stays(conn: sqlite3.Connection, where: str, params: Any = ()) -> None:
    """Count the stays matching ``where`` into ``stage_stay_totals`` (written while its
    insert trigger was dropped)."""
    conn.execute(
        "INSERT INTO stage_stay_totals (stage, stays, seconds) SELECT * FROM ("
        f"SELECT ifnull(stage, ''), count(*), sum(seconds) FROM stage_stays WHERE {where} "
        "GROUP BY 1) WHERE true ON CONFLICT (stage) DO UPDATE SET "
        "stays = stays + excluded.stays, seconds = seconds + excluded.seconds",
        params,
    )


#: Every cell counted afresh from the leads, in the columns of ``lead_cells``.
FRESH_CELLS = _GROUPED.format(where="1")
#: The stays' totals counted afresh, in the columns of ``stage_stay_totals``.
FRESH_STAY_TOTALS = (
    "SELECT ifnull(stage, '') AS stage, count(*) AS stays, sum(seconds) AS seconds "
    "FROM stage_stays GROUP BY 1"
)
#: The kept rows the fresh counts must equal: a stage's totals stay behind at zero when its
#: last stay goes (the delete trigger does not remove them), which is no difference.
_KEPT = {
    "lead_cells": f"SELECT {_COLUMNS} FROM lead_cells",
    "stage_stay_totals": (
        "SELECT stage, stays, seconds FROM stage_stay_totals WHERE stays <> 0 OR seconds <> 0"
    ),
}
_KEYS = {"lead_cells": "key", "stage_stay_totals": "stage"}


@dataclass(frozen=True)
class Drift:
    """How a kept table differs from a fresh count, in rows (cells, or stages)."""

    table: str
    #: Rows the fresh count has too, with other figures.
    wrong: int
    #: Rows the fresh count has and the table lacks.
    missing: int
    #: Rows the table has and the fresh count does not.
    extra: int

    @property
    def rows(self) -> int:
        return self.wrong + self.missing + self.extra


def compare(
    conn: sqlite3.Connection,
    cells_from: str = FRESH_CELLS,
    stays_from: str = FRESH_STAY_TOTALS,
) -> list[Drift]:
    """Each kept table against a fresh count (``cells_from``, ``stays_from``: queries or
    tables holding one), in one set-based query: the rows of each side that the other side
    lacks (EXCEPT both ways), matched up by key. Reads every lead and stay once."""
    parts: list[str] = []
    figures: list[str] = []
    for table, fresh in (("lead_cells", cells_from), ("stage_stay_totals", stays_from)):
        key = _KEYS[table]
        parts += [
            f"{table}_fresh AS MATERIALIZED (SELECT * FROM ({fresh}))",
            f"{table}_kept AS MATERIALIZED ({_KEPT[table]})",
            f"{table}_over AS MATERIALIZED (SELECT {key} FROM "
            f"(SELECT * FROM {table}_kept EXCEPT SELECT * FROM {table}_fresh))",
            f"{table}_under AS MATERIALIZED (SELECT {key} FROM "
            f"(SELECT * FROM {table}_fresh EXCEPT SELECT * FROM {table}_kept))",
        ]
        over, under = f"{table}_over", f"{table}_under"
        figures += [
            f"(SELECT count(*) FROM {over} WHERE {key} IN (SELECT {key} FROM {under}))",
            f"(SELECT count(*) FROM {under} WHERE {key} NOT IN (SELECT {key} FROM {over}))",
            f"(SELECT count(*) FROM {over} WHERE {key} NOT IN (SELECT {key} FROM {under}))",
        ]
    row = conn.execute(f"WITH {', '.join(parts)} SELECT {', '.join(figures)}").fetchone()
    return [Drift("lead_cells", *row[:3]), Drift("stage_stay_totals", *row[3:])]


def rebuild(
    conn: sqlite3.Connection, before: Callable[[list[Drift]], None] | None = None
) -> list[Drift]:
    """Make both kept tables equal a fresh count (inside a write transaction); returns what
    differed. Nothing is written when nothing differed; else ``before`` is called first
    (the caller's backup, taken once the repair is known to be needed). The leads and stays
    are read once: the fresh counts (a few hundred rows) wait in temporary tables."""
    conn.execute("DROP TABLE IF EXISTS temp.fresh_cells")
    conn.execute("DROP TABLE IF EXISTS temp.fresh_stay_totals")
    conn.execute(f"CREATE TEMP TABLE fresh_cells AS {FRESH_CELLS}")
    conn.execute(f"CREATE TEMP TABLE fresh_stay_totals AS {FRESH_STAY_TOTALS}")
    try:
        drifts = compare(
            conn, "SELECT * FROM temp.fresh_cells", "SELECT * FROM temp.fresh_stay_totals"
        )
        if before is not None and any(d.rows for d in drifts):
            before(drifts)
        if drifts[0].rows:
            conn.execute("DELETE FROM lead_cells")
            conn.execute(
                f"INSERT INTO lead_cells ({_COLUMNS}) SELECT {_COLUMNS} FROM temp.fresh_cells"
            )
        if drifts[1].rows:
            conn.execute("DELETE FROM stage_stay_totals")
            conn.execute(
                "INSERT INTO stage_stay_totals (stage, stays, seconds) "
                "SELECT stage, stays, seconds FROM temp.fresh_stay_totals"
            )
    finally:
        conn.execute("DROP TABLE temp.fresh_cells")
        conn.execute("DROP TABLE temp.fresh_stay_totals")
    return drifts
