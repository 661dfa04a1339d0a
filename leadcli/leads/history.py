"""The append-only history of every change to a lead.

Rows are only ever inserted (the database refuses updates and deletes, see migration 1),
with one documented exception: ``forget`` (``privacy.erasure``) removes an erased person's
rows and leaves one ``ERASED`` event per lead id, holding no personal data.
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
from collections.abc import Iterable
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
#: Another lead or an import row merged into this one (``changes``: what it brought), and
#: that merge taken back (by ``merge undo`` or ``import undo``).
MERGED = "merged"
UNMERGED = "unmerged"
#: The lead was removed by ``import undo`` (history is append-only: its rows stay), or
#: erased by ``forget`` (then its other rows are gone: the erasure exception).
ERASED = "erased"


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


def record_many(
    conn: sqlite3.Connection,
    events: Iterable[tuple[int, str, dict[str, list[Any]] | None, str | None, str]],
) -> None:
    """Append many events, ``(lead_id, event, changes, reason, at)`` each, in one statement
    (the bulk form of ``record``, for commands acting on many leads)."""
    conn.executemany(
        "INSERT INTO history (lead_id, at, event, changes, reason) VALUES (?, ?, ?, ?, ?)",
        (
            (
                lead_id,
                at,
                event,
                json.dumps(changes, ensure_ascii=False) if changes else None,
                reason,
            )
            for lead_id, event, changes, reason, at in events
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
    """A lead's events in time order, oldest first (with its creation by an import, see the
    module). Time, not insertion order: a back-dated stage change or activity logged later
    belongs where it happened; events at the same time keep the order they were written."""
    # A lead merged into this one (``merged_leads``, see identity.merge) keeps its own
    # history rows (they are append-only); they are this lead's history too.
    rows = conn.execute(
        "WITH RECURSIVE ids(id) AS (SELECT ? UNION "
        "SELECT m.lead_id FROM merged_leads AS m JOIN ids ON m.into_id = ids.id) "
        "SELECT at, event, changes, reason FROM history WHERE lead_id IN ids ORDER BY at, id",
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
            events.sort(key=lambda e: e["at"])  # stable: the creation first at equal times
    return events


def field_changes(changes: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """An event's changes as ``(field, old, new)`` for people: custom fields (stored as one
    ``custom`` dict before and after) become one line per field that changed, so an edit
    reads ``industry: Retail → Biotech``, not two dictionaries."""
    out: list[tuple[str, Any, Any]] = []
    for name, pair in changes.items():
        old, new = pair if isinstance(pair, (list, tuple)) and len(pair) == 2 else (None, pair)
        if name == "custom" and isinstance(old or {}, dict) and isinstance(new or {}, dict):
            before, after = old or {}, new or {}
            for key in sorted(before.keys() | after.keys(), key=str.lower):
                if before.get(key) != after.get(key):
                    out.append((key, before.get(key), after.get(key)))
        else:
            out.append((name, old, new))
    return out
