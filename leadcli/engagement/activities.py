"""Activities: every touch with a lead (calls, emails, meetings ...), in or out.

Logging keeps the lead's contact times right (the first outbound touch sets
``first_contacted_at``, every touch moves ``last_activity_at``) and drives cadences: an
outbound touch of the current step's kind completes it, an inbound one ends the enrolment.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from leadcli.engagement import cadences
from leadcli.engagement.cadences import ACTIVITY_KINDS
from leadcli.errors import InvalidValue
from leadcli.leads import history
from leadcli.leads.records import clean_text, missing_lead
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
    """Log one touch with one lead; see ``log_many``."""
    [result] = log_many(store, [lead_id], kind, note, inbound=inbound, at=at, outcome=outcome)
    return result


def log_many(
    store: Store,
    lead_ids: Sequence[int],
    kind: str,
    note: str | None = None,
    *,
    inbound: bool = False,
    at: datetime | None = None,
    outcome: str | None = None,
) -> list[dict[str, Any]]:
    """Log the same touch with each lead, all or none (an unknown id changes nothing).

    Set-based, since `leadcli list -q | leadcli log - email ...` may name every lead: the
    activities, contact times and history rows are each written in one statement; only the
    leads with an active cadence enrolment are visited one by one.
    """
    if kind not in KINDS:
        raise InvalidValue("kind", f"use one of {', '.join(KINDS)}")
    # Typed or captured text: the one input rule (control and invisible characters dropped).
    note = clean_text(note) if note else None
    outcome = clean_text(outcome) if outcome else None
    now = dates.now()
    when = dates.to_utc(at) if at else now
    if when > now:
        raise InvalidValue("at", "is in the future; schedule it with `leadcli followup`")
    at_text, now_text = dates.to_store(when), dates.to_store(now)
    ids = list(dict.fromkeys(lead_ids))
    touch = kind != "note"  # a note is not a touch with the lead
    with store.write() as conn:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS logged_leads (id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM logged_leads")
        conn.executemany("INSERT INTO logged_leads (id) VALUES (?)", ((i,) for i in ids))
        missing = conn.execute(
            "SELECT id FROM logged_leads WHERE id NOT IN (SELECT id FROM leads) LIMIT 1"
        ).fetchone()
        if missing is not None:
            raise missing_lead(conn, missing[0], "; nothing was logged")
        before = {
            r["id"]: r
            for r in conn.execute(
                "SELECT id, first_contacted_at, last_activity_at, created_at FROM leads "
                "WHERE id IN (SELECT id FROM logged_leads)"
            )
        }
        if any(at_text < r["created_at"] for r in before.values()):
            # A touch before the lead existed is a typo ("1900-01-01"), and it would date the
            # first contact before the lead itself.
            raise InvalidValue("at", "is before the lead was created; check the date")
        first_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM activities").fetchone()[0]
        conn.executemany(
            "INSERT INTO activities (lead_id, kind, inbound, at, note, outcome, logged_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((i, kind, int(inbound), at_text, note, outcome, now_text) for i in ids),
        )
        events = []
        updates = []
        for lead_id in ids:
            lead = before[lead_id]
            changes: dict[str, list[Any]] = {
                "activity": [None, f"{'in' if inbound else 'out'} {kind}"]
            }
            if touch:
                if not lead["last_activity_at"] or at_text > lead["last_activity_at"]:
                    changes["last_activity_at"] = [lead["last_activity_at"], at_text]
                first = lead["first_contacted_at"]
                if not inbound and (not first or at_text < first):
                    changes["first_contacted_at"] = [first, at_text]
            if len(changes) > 1:
                last = changes.get("last_activity_at", [None, lead["last_activity_at"]])[1]
                first = changes.get("first_contacted_at", [None, lead["first_contacted_at"]])[1]
                updates.append((last, first, now_text, lead_id))
            events.append((lead_id, "activity", changes, note, at_text))
        conn.executemany(
            "UPDATE leads SET last_activity_at = ?, first_contacted_at = ?, updated_at = ? "
            "WHERE id = ?",
            updates,
        )
        completed: dict[int, list[str]] = {}
        ended: dict[int, int] = {}
        enrolled = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT lead_id FROM enrolments WHERE ended_at IS NULL "
                "AND lead_id IN (SELECT id FROM logged_leads)"
            )
        ]
        for lead_id in enrolled:
            if inbound and touch:
                ended[lead_id] = cadences.end_enrolments(conn, lead_id, "replied", at_text)
            elif not inbound:
                completed[lead_id] = cadences.complete_step(conn, lead_id, kind, at_text)
        history.record_many(conn, events)
        conn.execute("DELETE FROM logged_leads")
    return [
        {
            "id": first_id + n,
            "lead_id": lead_id,
            "kind": kind,
            "inbound": inbound,
            "at": at_text,
            "completed_steps": completed.get(lead_id, []),
            "ended_enrolments": ended.get(lead_id, 0),
        }
        for n, lead_id in enumerate(ids)
    ]


def for_lead(conn: sqlite3.Connection, lead_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT at, kind, inbound, note, outcome FROM activities WHERE lead_id = ? ORDER BY at, id",
        (lead_id,),
    ).fetchall()
    return [{**dict(r), "inbound": bool(r["inbound"])} for r in rows]
