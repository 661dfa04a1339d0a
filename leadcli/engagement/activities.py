"""Activities: every touch with a lead (calls, emails, meetings ...), in or out.

Logging keeps the lead's contact times right (the first outbound touch sets
``first_contacted_at``, every touch moves ``last_activity_at``) and drives cadences: an
outbound touch of the current step's kind completes it, an inbound one ends the enrolment.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from leadcli.engagement import cadences
from leadcli.engagement.cadences import ACTIVITY_KINDS
from leadcli.errors import InvalidValue
from leadcli.leads import history
from leadcli.leads.records import lead_row
from leadcli.storage.store import Store
from leadcli.text import dates

KINDS = ACTIVITY_KINDS


def log(
    store: Store,
    lead_id: int,
    kind: str,
    note: str | None = None,
    *,
    inbound: bool = False,
    at: datetime | None = None,
    outcome: str | None = None,
) -> dict[str, Any]:
    if kind not in KINDS:
        raise InvalidValue("kind", f"use one of {', '.join(KINDS)}")
    now = dates.now()
    when = dates.to_utc(at) if at else now
    if when > now:
        raise InvalidValue("at", "is in the future; schedule it with `leadcli followup`")
    at_text, now_text = dates.to_store(when), dates.to_store(now)
    with store.write() as conn:
        lead = lead_row(conn, lead_id, "first_contacted_at, last_activity_at, created_at")
        if at_text < lead["created_at"]:
            # A touch before the lead existed is a typo ("1900-01-01"), and it would date the
            # first contact before the lead itself.
            raise InvalidValue("at", "is before the lead was created; check the date")
        cursor = conn.execute(
            "INSERT INTO activities (lead_id, kind, inbound, at, note, outcome, logged_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (lead_id, kind, int(inbound), at_text, note, outcome, now_text),
        )
        changes: dict[str, list[Any]] = {"activity": [None, f"{'in' if inbound else 'out'} {kind}"]}
        sets: dict[str, str] = {}
        if kind != "note":  # a note is not a touch with the lead
            if not lead["last_activity_at"] or at_text > lead["last_activity_at"]:
                sets["last_activity_at"] = at_text
            first = lead["first_contacted_at"]
            if not inbound and (not first or at_text < first):
                sets["first_contacted_at"] = at_text
        for name, value in sets.items():
            changes[name] = [lead[name], value]
        if sets:
            assignments = ", ".join(f"{k} = ?" for k in sets)
            conn.execute(
                f"UPDATE leads SET {assignments}, updated_at = ? WHERE id = ?",
                (*sets.values(), now_text, lead_id),
            )
        completed: list[str] = []
        ended = 0
        if inbound and kind != "note":
            ended = cadences.end_enrolments(conn, lead_id, "replied", at_text)
        elif not inbound:
            completed = cadences.complete_step(conn, lead_id, kind, at_text)
        history.record(conn, lead_id, "activity", changes, reason=note, at=at_text)
    return {
        "id": cursor.lastrowid,
        "lead_id": lead_id,
        "kind": kind,
        "inbound": inbound,
        "at": at_text,
        "completed_steps": completed,
        "ended_enrolments": ended,
    }


def for_lead(conn: sqlite3.Connection, lead_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT at, kind, inbound, note, outcome FROM activities WHERE lead_id = ? ORDER BY at, id",
        (lead_id,),
    ).fetchall()
    return [{**dict(r), "inbound": bool(r["inbound"])} for r in rows]
