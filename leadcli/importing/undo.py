"""Undoing an import batch: the leads it created go, and what it merged into older leads is
taken back, from the old values history holds.

A lead stays when someone changed it since the import (it is listed as kept), or when
another live batch also brought it (its rows were found to be that lead): undoing the first
of two files that both hold Ana must not delete Ana. The batch is marked undone, so the same
file can be imported again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from leadcli.errors import LeadcliError, NotFound
from leadcli.leads import history
from leadcli.leads.records import LIST_FIELDS, delete_leads
from leadcli.storage.store import BeforeWrite, Store
from leadcli.storage.updates import set_columns
from leadcli.text import dates

#: Changes an undo never takes back: an opt-out holds whoever brought it.
_KEPT_ON_UNDO = frozenset({"do_not_contact"})


@dataclass
class UndoResult:
    batch: int
    removed: list[int]
    kept: list[int]
    #: Older leads whose merged values were taken back.
    restored: list[int] = field(default_factory=list)


def undo_batch(
    store: Store, batch_id: int, *, before_write: BeforeWrite | None = None
) -> UndoResult:
    """Remove the leads a batch created, except those changed since or brought by another
    live batch (kept and listed), and take back what it merged into older leads where the
    value is still the one it wrote. History stays (it is append-only), with an ``erased``
    entry for each removed lead and an ``unmerged`` entry for each restored one.
    ``before_write`` runs once the batch is known to be undoable (``Store.checks_passed``)."""
    now = dates.now_text()
    with store.write() as conn:
        batch = conn.execute(
            "SELECT file_name, last_history_id, undone_at, first_lead_id, last_lead_id "
            "FROM import_batches WHERE id = ?",
            (batch_id,),
        ).fetchone()
        if batch is None:
            raise NotFound(f"no import batch {batch_id}", hint="`leadcli imports` lists them")
        if batch["undone_at"]:
            raise LeadcliError(f"import batch {batch_id} was already undone")
        store.checks_passed(before_write)
        reason = f"import #{batch_id} undone"
        restored = _take_back_merges(
            conn, history.import_reason(batch_id, batch["file_name"]), now, reason
        )
        # A batch's leads are its id range; batches from before schema 5 listed them one by one.
        member = (
            "({id} BETWEEN :first AND :last "
            "OR {id} IN (SELECT lead_id FROM batch_leads WHERE batch_id = :batch))"
        )
        params = {
            "first": batch["first_lead_id"],
            "last": batch["last_lead_id"],
            "batch": batch_id,
            "since": batch["last_history_id"],
            "now": now,
            "reason": reason,
        }
        conn.execute("DROP TABLE IF EXISTS temp.undo_kept")
        conn.execute(
            "CREATE TEMP TABLE undo_kept AS SELECT DISTINCT lead_id AS id FROM history "
            f"WHERE id > :since AND {member.format(id='lead_id')} "
            # brought by another batch still in force: its rows were this lead
            "UNION SELECT m.lead_id FROM batch_matches AS m "
            "JOIN import_batches AS b ON b.id = m.batch_id "
            "WHERE m.batch_id <> :batch AND b.undone_at IS NULL",
            params,
        )
        created = member.format(id="leads.id")
        kept = [
            i
            for (i,) in conn.execute(
                f"SELECT id FROM leads WHERE {created} AND id IN (SELECT id FROM temp.undo_kept) "
                "ORDER BY id",
                params,
            )
        ]
        removed_where = f"{created} AND id NOT IN (SELECT id FROM temp.undo_kept)"
        removed = [
            i
            for (i,) in conn.execute(
                f"SELECT id FROM leads WHERE {removed_where} ORDER BY id", params
            )
        ]
        conn.execute(
            "INSERT INTO history (lead_id, at, event, changes, reason) "
            f"SELECT id, :now, '{history.ERASED}', NULL, :reason FROM leads WHERE {removed_where} "
            "ORDER BY id",
            params,
        )
        delete_leads(conn, removed_where, params)
        conn.execute(
            "DELETE FROM possible_duplicates WHERE batch_id = ? OR lead_id NOT IN "
            "(SELECT id FROM leads) OR other_id NOT IN (SELECT id FROM leads)",
            (batch_id,),
        )
        conn.execute("UPDATE import_batches SET undone_at = ? WHERE id = ?", (now, batch_id))
        conn.execute("DROP TABLE temp.undo_kept")
    return UndoResult(batch_id, removed, kept, restored)


def _stored(name: str, value: Any) -> Any:
    if name == "custom" or name in LIST_FIELDS:
        return json.dumps(value, ensure_ascii=False) if value else None
    return value


def _take_back_merges(conn: Any, import_reason: str, now: str, reason: str) -> list[int]:
    """Put back the old values of each field the batch's merges changed, newest merge first,
    where the lead still holds the value the merge wrote (a later edit wins); remove the tags
    it added. Return the leads changed."""
    restored: list[int] = []
    merges = conn.execute(
        f"SELECT id, lead_id, changes FROM history WHERE event = '{history.MERGED}' AND reason = ? "
        "ORDER BY id DESC",
        (import_reason,),
    ).fetchall()
    for _, lead_id, changes_text in merges:
        lead = conn.execute("SELECT * FROM leads WHERE id = ?", (lead_id,)).fetchone()
        if lead is None:
            continue
        changes = json.loads(changes_text or "{}")
        back: dict[str, list[Any]] = {}
        for name, (old, new) in changes.items():
            if name in _KEPT_ON_UNDO or name == "tags":
                continue
            current = lead[name]
            if current == _stored(name, new) or (
                name == "custom" and json.loads(current or "{}") == new
            ):
                back[name] = [new, old]
        tags = changes.get("tags", [None, []])[1] or []
        if tags:
            conn.executemany(
                "DELETE FROM lead_tags WHERE lead_id = ? AND tag = ?", [(lead_id, t) for t in tags]
            )
            back["tags"] = [tags, None]
        if not back:
            continue
        sets = {k: _stored(k, v[1]) for k, v in back.items() if k != "tags"}
        if sets:
            set_columns(conn, "leads", lead_id, sets, updated_at=now)
        history.record(conn, lead_id, history.UNMERGED, back, reason=reason, at=now)
        restored.append(lead_id)
    return sorted(set(restored))
