"""The append-only history of every change to a lead.

Rows are only ever inserted (the database refuses updates and deletes, see migration 1).
``changes`` is a JSON object ``{"field": [old, new]}`` so any past state can be rebuilt by
replaying a lead's rows in order.

One event is not a row: the creation of a lead by an import. A million-row import would write
a million rows saying only what its batch (``import_batches``, whose id range holds the lead)
and the lead's ``created_at`` already say, and the stage it was created in is where its first
stage change started from. ``for_lead`` shows that event like any other.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import PurePath
from typing import Any

from leadcli.text import dates

#: Event names, as stored.
CREATED = "created"
EDITED = "edited"
#: A stage change: ``changes == {"stage": [old, new]}``, ``reason`` says why (manual,
#: qualify rule, import, merge). Funnel and lead-time reports read these rows.
STAGE = "stage"
#: A change of rating (hot / warm / cold) by a rescore: ``{"rating": [old, new], "score":
#: [old, new]}``, ``reason`` names the scorer. A change of points alone is not an event, nor
#: a lead's first rating: before its first event it had the rating that event changes from.
RATING = "rating"


def record(
    conn: sqlite3.Connection,
    lead_id: int,
    event: str,
    changes: dict[str, list[Any]] | None = None,
    *,
    reason: str | None = None,
    at: str | None = None,
) -> None:
    """Append one event; call inside the write transaction that made the change."""
    conn.execute(
        "INSERT INTO history (lead_id, at, event, changes, reason) VALUES (?, ?, ?, ?, ?)",
        (
            lead_id,
            at or dates.now_text(),
            event,
            json.dumps(changes, ensure_ascii=False) if changes else None,
            reason,
        ),
    )


def import_reason(batch_id: int, file_name: str) -> str:
    """Why a lead changed in an import: ``import #3 (leads.csv)``."""
    return f"import #{batch_id} ({PurePath(file_name).name})"


def created_in(stage_changes: list[dict[str, Any]], current: str) -> str:
    """The stage a lead was created in, given its stage changes oldest first (by time, then
    id): where the first one started, or the stage it is in if it never changed."""
    return stage_changes[0]["stage"][0] if stage_changes else current


def for_lead(conn: sqlite3.Connection, lead_id: int) -> list[dict[str, Any]]:
    """A lead's events, oldest first (with its creation by an import, see the module)."""
    rows = conn.execute(
        "SELECT at, event, changes, reason FROM history WHERE lead_id = ? ORDER BY id",
        (lead_id,),
    ).fetchall()
    events = [
        {
            "at": row["at"],
            "event": row["event"],
            "changes": json.loads(row["changes"]) if row["changes"] else {},
            "reason": row["reason"],
        }
        for row in rows
    ]
    if not any(e["event"] == CREATED for e in events):
        imported = conn.execute(
            "SELECT leads.created_at, leads.stage, b.id, b.file_name FROM leads "
            "JOIN import_batches AS b ON leads.id BETWEEN b.first_lead_id AND b.last_lead_id "
            "WHERE leads.id = ?",
            (lead_id,),
        ).fetchone()
        if imported:
            created_at, stage, batch_id, file_name = imported
            # Stage changes by time (the sort keeps id order among equal times).
            moves = sorted((e for e in events if e["event"] == STAGE), key=lambda e: e["at"])
            created = {
                "at": created_at,
                "event": CREATED,
                "changes": {"stage": [None, created_in([m["changes"] for m in moves], stage)]},
                "reason": import_reason(batch_id, file_name),
            }
            events.insert(0, created)
    return events
