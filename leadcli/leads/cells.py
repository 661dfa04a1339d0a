"""The lead cells: leads counted per source, stage, reach, rating and month created, with
their total value, how many have one, and their creation times summed; and the finished
stays in each stage with their seconds (migration m015).

Triggers keep ``lead_cells`` as leads are inserted, changed and deleted, one row at a time.
A load drops the insert trigger (a million upserts would cost it seconds) and adds its rows
in grouped passes instead, a few thousand rows at a time as they go in, and its stays'
totals in one; deleting leads takes them out in one grouped pass; a bulk rescore takes the
leads whose rating changes out of their cells and puts them back after, with the update
trigger dropped. Each writes what the triggers would have: the
tests compare both tables with a count over the leads and stays after every kind of writer.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.text import dates

INSERT_TRIGGER = "lead_cells_insert"
UPDATE_TRIGGER = "lead_cells_update"
DELETE_TRIGGER = "lead_cells_delete"
STAYS_INSERT_TRIGGER = "stage_stays_total_insert"

#: A lead as a cell of its own: the columns of ``lead_cells`` before they are added up (one
#: lead, its value, whether it has one, its creation in epoch seconds). Cells are summed
#: with ``count(*)`` or ``sum(leads)``, ``total(value)``, ``sum(valued)``, ``sum(created)``;
#: reports over a filtered set of leads sum them per lead the same way (``reports.filters``).
LEAD_AS_CELL = (
    "source, stage, reach, rating, substr(created_at, 1, 7) AS month, 1 AS leads, value, "
    f"value IS NOT NULL AS valued, {dates.epoch_sql('created_at')} AS created"
)

#: The cells of the leads matching ``{where}``, grouped as the table keys them.
_GROUPED = (
    "SELECT json_array(source, stage, reach, rating, month) AS key, source, stage, reach, "
    "rating, month, count(*) AS leads, total(value) AS value, sum(valued) AS valued, "
    "coalesce(sum(created), 0) AS created "
    f"FROM (SELECT {LEAD_AS_CELL} FROM leads WHERE {{where}}) "
    "GROUP BY source, stage, reach, rating, month"
)

_COLUMNS = "key, source, stage, reach, rating, month, leads, value, valued, created"


def add_sql(where: str, *, sign: int = 1) -> str:
    """The statement counting the leads matching ``where`` into their cells (``sign=-1``:
    taking them out), for a caller that runs it itself (the import's inserting thread)."""
    assert sign in (1, -1)
    minus = "" if sign == 1 else "-"
    return (
        f"INSERT INTO lead_cells ({_COLUMNS}) SELECT key, source, stage, reach, rating, month, "
        f"{minus}leads, {minus}value, {minus}valued, {minus}created "
        f"FROM ({_GROUPED.format(where=where)}) WHERE true "
        "ON CONFLICT (key) DO UPDATE SET leads = leads + excluded.leads, "
        "value = value + excluded.value, valued = valued + excluded.valued, "
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
