"""Follow-ups: the next thing to do for a lead, and when.

``leads.next_follow_up_at`` always equals the earliest open follow-up's time (kept in the same
transaction as every change here), so ``list --sort follow-up`` and tables need no join.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from leadcli.errors import InvalidValue, NotFound
from leadcli.leads import history
from leadcli.leads.records import LeadQuery, clean_text, filter_sql, lead_row
from leadcli.storage.store import Store
from leadcli.text import dates


def refresh_next(conn: sqlite3.Connection, lead_ids: Sequence[int]) -> None:
    conn.executemany(
        "UPDATE leads SET next_follow_up_at = (SELECT min(due_at) FROM followups "
        "WHERE lead_id = leads.id AND done_at IS NULL) WHERE id = ?",
        [(i,) for i in lead_ids],
    )


def schedule(conn: sqlite3.Connection, lead_id: int, due_at: str, note: str | None) -> int:
    """Add a follow-up inside the caller's write transaction (``qualify`` uses this too)."""
    lead_row(conn, lead_id)
    note = clean_text(note) if note else None  # typed text: the one input rule
    cursor = conn.execute(
        "INSERT INTO followups (lead_id, due_at, note, created_at) VALUES (?, ?, ?, ?)",
        (lead_id, due_at, note, dates.now_text()),
    )
    refresh_next(conn, [lead_id])
    history.record(conn, lead_id, "follow-up", {"follow_up": [None, due_at]}, reason=note)
    return int(cursor.lastrowid or 0)


def keep_one(
    conn: sqlite3.Connection, lead_id: int, marker: str, due_at: str | None, note: str
) -> None:
    """Keep at most one open follow-up whose note starts with ``marker`` (inside the caller's
    write): move it to ``due_at`` (or schedule it), or with ``due_at`` None mark it done."""
    rows = conn.execute(
        "SELECT id, due_at FROM followups WHERE lead_id = ? AND done_at IS NULL "
        "AND substr(note, 1, ?) = ? ORDER BY due_at, id",
        (lead_id, len(marker), marker),
    ).fetchall()
    keep = rows[0] if rows and due_at is not None else None
    extra = [r["id"] for r in rows if keep is None or r["id"] != keep["id"]]
    if extra:
        conn.executemany(
            "UPDATE followups SET done_at = ? WHERE id = ?",
            [(dates.now_text(), i) for i in extra],
        )
        history.record(
            conn, lead_id, "follow-up", {"follow_up_done": [None, len(extra)]}, reason=marker
        )
    if due_at is None:
        refresh_next(conn, [lead_id])
    elif keep is None:
        schedule(conn, lead_id, due_at, note)
    elif keep["due_at"] != due_at:
        conn.execute(
            "UPDATE followups SET due_at = ?, note = ? WHERE id = ?", (due_at, note, keep["id"])
        )
        refresh_next(conn, [lead_id])
        history.record(
            conn, lead_id, "follow-up", {"follow_up": [keep["due_at"], due_at]}, reason=note
        )


def add(
    store: Store, lead_id: int, when: datetime, note: str | None = None, *, past: bool = False
) -> dict[str, Any]:
    """Schedule a follow-up. A time already past is refused unless ``past``: "yesterday"
    or "3 days ago" typed as a follow-up is a slip, and it would show as overdue at once."""
    if not past and dates.to_utc(when) < dates.now():
        raise InvalidValue(
            "when", "is in the past; give a later time, or pass --past to schedule it anyway"
        )
    with store.write() as conn:
        followup_id = schedule(conn, lead_id, dates.to_store(when), note)
    return {"id": followup_id, "lead_id": lead_id, "due_at": dates.to_store(when), "note": note}


_FOLLOWUP_COLUMNS = "id, lead_id, due_at, note"


def done(
    store: Store,
    lead_ids: Sequence[int] = (),
    *,
    followup_ids: Sequence[int] = (),
    all_open: bool = False,
) -> list[dict[str, Any]]:
    """Mark follow-ups done, all of them or none; returns those closed (id, lead_id, due_at,
    note, done_at).

    For each lead, its earliest open follow-up (the one ``due`` shows; with ``all_open``,
    every open one); and each follow-up named by id. An unknown lead or follow-up id, or a
    follow-up already done, is an error and nothing changes.
    """
    now = dates.now_text()
    with store.write() as conn:
        rows: dict[int, sqlite3.Row] = {}
        for lead_id in dict.fromkeys(lead_ids):
            lead_row(conn, lead_id)
            found = conn.execute(
                f"SELECT {_FOLLOWUP_COLUMNS} FROM followups WHERE lead_id = ? "
                "AND done_at IS NULL ORDER BY due_at, id" + ("" if all_open else " LIMIT 1"),
                (lead_id,),
            ).fetchall()
            rows.update((r["id"], r) for r in found)
        for followup_id in dict.fromkeys(followup_ids):
            row = _open_followup(conn, followup_id)
            rows[row["id"]] = row
        conn.executemany("UPDATE followups SET done_at = ? WHERE id = ?", [(now, i) for i in rows])
        per_lead: dict[int, int] = {}
        for row in rows.values():
            per_lead[row["lead_id"]] = per_lead.get(row["lead_id"], 0) + 1
        for lead_id, closed in per_lead.items():
            history.record(conn, lead_id, "follow-up", {"follow_up_done": [None, closed]})
        refresh_next(conn, list(per_lead))
    return [{**dict(r), "done_at": now} for r in rows.values()]


def _open_followup(conn: sqlite3.Connection, followup_id: int) -> sqlite3.Row:
    row = conn.execute(
        f"SELECT {_FOLLOWUP_COLUMNS}, done_at FROM followups WHERE id = ?", (followup_id,)
    ).fetchone()
    if row is None:
        raise NotFound(
            f"no follow-up with id {followup_id}; nothing was changed",
            hint="`leadcli followup list` shows the open follow-ups' ids",
        )
    if row["done_at"] is not None:
        raise InvalidValue("follow-up", f"{followup_id} is already done; nothing was changed")
    return row


def snooze(
    store: Store,
    lead_ids: Sequence[int],
    when: datetime,
    *,
    followup_ids: Sequence[int] = (),
) -> list[dict[str, Any]]:
    """Move each lead's earliest open follow-up, and each follow-up named by id, to ``when``
    (not in the past), all or none; returns the moved follow-ups."""
    if dates.to_utc(when) < dates.now():
        raise InvalidValue("when", "is in the past; snooze to a later time")
    new = dates.to_store(when)
    with store.write() as conn:
        rows: dict[int, sqlite3.Row] = {}
        for lead_id in dict.fromkeys(lead_ids):
            lead_row(conn, lead_id)
            row = conn.execute(
                f"SELECT {_FOLLOWUP_COLUMNS} FROM followups WHERE lead_id = ? "
                "AND done_at IS NULL ORDER BY due_at, id LIMIT 1",
                (lead_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"lead {lead_id} has no open follow-up to snooze")
            rows[row["id"]] = row
        for followup_id in dict.fromkeys(followup_ids):
            row = _open_followup(conn, followup_id)
            rows[row["id"]] = row
        conn.executemany("UPDATE followups SET due_at = ? WHERE id = ?", [(new, i) for i in rows])
        refresh_next(conn, list({r["lead_id"] for r in rows.values()}))
        for row in rows.values():
            history.record(
                conn,
                row["lead_id"],
                "follow-up",
                {"follow_up": [row["due_at"], new]},
                reason="snoozed",
            )
    return [
        {"id": r["id"], "lead_id": r["lead_id"], "due_at": new, "note": r["note"]}
        for r in rows.values()
    ]


#: Why a lead's open follow-ups are held back from ``followup list`` and its calendar, as SQL
#: (NULL: not held). The person opted out, or the deal is lost: a follow-up left over from
#: before must not prompt a call. A customer's follow-ups stay (looking after customers is
#: the work); ``due``, a list of the open pipeline, leaves out every closed lead.
HELD_SQL = (
    "CASE WHEN leads.do_not_contact THEN 'do not contact' WHEN leads.stage = 'lost' THEN 'lost' END"
)


def open_followups(
    store: Store,
    lead_id: int | None = None,
    *,
    query: LeadQuery | None = None,
    until: str | None = None,
    include_held: bool = False,
) -> list[dict[str, Any]]:
    """Open follow-ups, soonest first, with who they are for: of one lead, of the leads a
    ``LeadQuery`` matches (the filters ``list`` and ``due`` use), and due by ``until``.

    Follow-ups of leads who opted out or are lost are left out (see ``HELD_SQL``) unless
    ``include_held``; each item's ``held`` says why it would be (None when it is not)."""
    sql = (
        "SELECT f.id, f.lead_id, f.due_at, f.note, leads.first_name, leads.last_name, "
        f"leads.company, leads.email, leads.phone, {HELD_SQL} AS held FROM followups f "
        "JOIN leads ON leads.id = f.lead_id WHERE f.done_at IS NULL"
    )
    if not include_held:
        sql += f" AND ({HELD_SQL}) IS NULL"
    params: tuple[Any, ...] = ()
    if lead_id is not None:
        lead_row(store.conn, lead_id)  # an unknown id is NotFound, not an empty list
        sql += " AND f.lead_id = ?"
        params += (lead_id,)
    if until is not None:
        sql += " AND f.due_at <= ?"
        params += (until,)
    if query is not None:
        where, where_params = filter_sql(query)
        sql += f" AND {where}"
        params += where_params
    return [dict(r) for r in store.conn.execute(sql + " ORDER BY f.due_at, f.id", params)]
