"""The append-only history of every change to a lead.

Rows are only ever inserted (the database refuses updates and deletes, see migration 1).
``changes`` is a JSON object ``{"field": [old, new]}`` so any past state can be rebuilt by
replaying a lead's rows in order.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from leadcli import dates

#: Event names, as stored.
CREATED = "created"
EDITED = "edited"
#: A stage change: ``changes == {"stage": [old, new]}``, ``reason`` says why (manual,
#: qualify rule, import, merge). Funnel and lead-time reports read these rows.
STAGE = "stage"


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


def for_lead(conn: sqlite3.Connection, lead_id: int) -> list[dict[str, Any]]:
    """A lead's events, oldest first."""
    rows = conn.execute(
        "SELECT at, event, changes, reason FROM history WHERE lead_id = ? ORDER BY id",
        (lead_id,),
    ).fetchall()
    return [
        {
            "at": row["at"],
            "event": row["event"],
            "changes": json.loads(row["changes"]) if row["changes"] else {},
            "reason": row["reason"],
        }
        for row in rows
    ]
