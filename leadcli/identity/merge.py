"""Merging leads into one, and undoing a merge.

One lead survives. Its empty fields are filled from the others; where both have a value the
survivor's stays and the other is listed as a conflict (``prefer="other"`` flips that); tags
are united; custom fields joined; the most advanced stage is kept (with its close date and
lost reason); do-not-contact is kept if any lead had it. Every row of every table that
refers to a lead (activities, follow-ups, BANT answers, enrolments, tags, and tables later
steps add) moves to the survivor; where the survivor already has such a row (a BANT
criterion, a tag) the survivor's stays. History is append-only, so a merged lead's history
stays under its id and is read with the survivor's (``merged_leads``).

Before anything changes, the journal saves every row the merge touches, as it was; ``undo``
puts those rows back, so the leads are exactly as they were, as long as the survivor has not
changed since (an undo would silently drop that later change, so it refuses).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from leadcli.engagement.cadences import end_enrolments_if_unreachable
from leadcli.errors import InvalidValue, LeadcliError, NotFound
from leadcli.identity import policy
from leadcli.identity.evidence import DEFAULT_LISTS, Lists, is_placeholder
from leadcli.leads import history, validation
from leadcli.leads.records import delete_leads, missing_lead
from leadcli.pipeline.stages import rank
from leadcli.storage.store import BeforeWrite, Store
from leadcli.storage.updates import set_columns
from leadcli.text import dates

#: Lead columns the merge sets by its own rules (stage and what goes with it, times, the
#: opt-out, custom fields); every other column, including those later schema steps add, is
#: filled from another lead only when the survivor has no value, and a different value is a
#: conflict (which ``prefer="other"`` settles the other way).
OWN_RULE_COLUMNS: frozenset[str] = frozenset(
    {
        "id",
        "stage",
        "closed_at",
        "lost_reason",
        "created_at",
        "updated_at",
        "first_contacted_at",
        "contact_unknown",
        "last_activity_at",
        "next_follow_up_at",
        "do_not_contact",
        "custom",
    }
)
#: Values leadcli computes (a rescore recomputes them): filled, never reported as conflicts.
COMPUTED_COLUMNS: frozenset[str] = frozenset({"score", "rating", "win_probability"})


class MergeError(LeadcliError):
    """A merge or an undo that cannot be done as asked."""


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def _referencing(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Every table with a foreign key to ``leads``, and its columns that hold a lead id:
    what moves with a lead (including tables later schema steps add)."""
    rows = conn.execute(
        'SELECT m.name, f."from" FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f '
        "WHERE m.type = 'table' AND f.\"table\" = 'leads' ORDER BY m.name, f.\"from\""
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _any_of(columns: Sequence[str], ids: Sequence[int]) -> tuple[str, tuple[int, ...]]:
    """SQL true where any of ``columns`` holds one of ``ids``, with its parameters."""
    marks = ", ".join("?" for _ in ids)
    return (
        " OR ".join(f'"{c}" IN ({marks})' for c in columns),
        tuple(i for _ in columns for i in ids),
    )


def _rows(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], ids: Sequence[int]
) -> list[dict]:
    where, params = _any_of(columns, ids)
    return [dict(r) for r in conn.execute(f'SELECT * FROM "{table}" WHERE {where}', params)]


def _insert(conn: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    conn.executemany(
        f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
        [tuple(r[c] for c in columns) for r in rows],
    )


def _plan(
    leads: dict[int, dict[str, Any]],
    keep: int,
    others: Sequence[int],
    prefer: str,
    lists: Lists,
) -> tuple[dict[str, Any], dict[str, list[Any]], list[dict[str, Any]]]:
    """The survivor's new column values, ``{field: [old, new]}``, and the conflicts.

    The fields follow ``policy.plan_merge``, the one merge rule (``merge``: fill what the
    survivor lacks, a second e-mail or phone joins ``other_emails`` / ``other_phones``,
    placeholders never win, do-not-contact sticks; ``prefer="other"`` is its ``update``).
    What only a merge of two leads has is decided here: the most advanced stage by
    ``stages.rank`` (an open or won lead is not closed by an old lost duplicate), the
    earliest creation and first contact, the latest activity, and the columns the rule does
    not name (those later schema steps add) filled like its ``fill`` fields.
    """
    survivor = dict(leads[keep])
    conflicts: list[dict[str, Any]] = []
    policy_name = "update" if prefer == "other" else "merge"
    ruled = set(policy.RULES) | set(policy.OTHERS.values()) | {"external_system"}
    fill = [c for c in survivor if c not in OWN_RULE_COLUMNS and c not in ruled]
    for other in others:
        row = leads[other]
        for name in (*policy.RULES, *fill):
            mine, theirs = survivor.get(name), row.get(name)
            if name == "do_not_contact" or name in COMPUTED_COLUMNS:
                continue
            empty = (None, "")
            if (
                mine in empty
                or theirs in empty
                or mine == theirs
                or is_placeholder(name, mine, lists)
                or is_placeholder(name, theirs, lists)
            ):
                continue
            conflict = {"field": name, "kept": mine, "other": theirs, "from": other}
            if name in policy.OTHERS and policy.OTHERS[name] in survivor:
                conflict["kept_in"] = policy.OTHERS[name]  # a second address is never lost
            conflicts.append(conflict)
        mine_custom = json.loads(survivor["custom"]) if survivor.get("custom") else {}
        theirs_custom = json.loads(row["custom"]) if row.get("custom") else {}
        conflicts.extend(
            {"field": key, "kept": mine_custom[key], "other": value, "from": other}
            for key, value in theirs_custom.items()
            if key in mine_custom and mine_custom[key] != value
        )
        plan = policy.plan_merge(survivor, row, policy_name, lists=lists)
        for name, value in plan.assignments().items():
            if name in survivor:  # other_emails / other_phones exist from schema step 7
                survivor[name] = value
        for name in fill:
            mine, theirs = survivor.get(name), row.get(name)
            if theirs in (None, ""):
                continue
            if mine in (None, "") or (prefer == "other" and name not in COMPUTED_COLUMNS):
                survivor[name] = theirs
        if rank(row["stage"]) > rank(survivor["stage"]):
            survivor["stage"] = row["stage"]
            survivor["closed_at"] = row["closed_at"]
            survivor["lost_reason"] = row["lost_reason"]
        for name, pick in (
            ("created_at", min),
            ("first_contacted_at", min),
            ("last_activity_at", max),
        ):
            values = [v for v in (survivor.get(name), row.get(name)) if v]
            survivor[name] = pick(values) if values else None
        # contacted at a time nobody recorded, before either came to leadcli: still so
        survivor["contact_unknown"] = int(
            bool(survivor.get("contact_unknown") or row.get("contact_unknown"))
        )
    before = leads[keep]
    changes = {
        name: [before.get(name), value]
        for name, value in survivor.items()
        if name not in ("id", "updated_at") and before.get(name) != value
    }
    return survivor, changes, conflicts


def merge_leads(
    store: Store,
    keep: int,
    others: Sequence[int],
    *,
    prefer: str = "keep",
    dry_run: bool = False,
    lists: Lists = DEFAULT_LISTS,
    before_write: BeforeWrite | None = None,
) -> dict[str, Any]:
    """Merge ``others`` into ``keep``; return what was (or, dry, would be) done.
    ``before_write`` runs once every lead is found (``Store.checks_passed``); never on a dry
    run, which writes nothing."""
    others = list(dict.fromkeys(others))
    if not others:
        raise InvalidValue("merge", "needs at least one other lead")
    if keep in others:
        raise InvalidValue("merge", f"lead {keep} cannot be merged into itself")
    if prefer not in ("keep", "other"):
        raise InvalidValue("prefer", "is keep or other")
    result: dict[str, Any] = {}
    try:
        with store.write() as conn:
            ready = None if dry_run else partial(store.checks_passed, before_write)
            result = _merge(conn, keep, others, prefer, lists, ready)
            result["dry_run"] = dry_run
            if dry_run:
                raise _DryRun
    except _DryRun:
        result["merge"] = None
    return result


def _merge(
    conn: sqlite3.Connection,
    keep: int,
    others: list[int],
    prefer: str,
    lists: Lists,
    ready: Callable[[], None] | None = None,
) -> dict[str, Any]:
    ids = [keep, *others]
    leads = {row["id"]: row for row in _rows(conn, "leads", ["id"], ids)}
    for lead_id in ids:
        if lead_id not in leads:
            raise missing_lead(conn, lead_id)
    if ready is not None:
        ready()
    tables = _referencing(conn)
    journal = {
        "leads": [leads[i] for i in ids],
        "tables": {t: _rows(conn, t, cols, ids) for t, cols in tables.items()},
    }
    survivor, changes, conflicts = _plan(leads, keep, others, prefer, lists)
    # The values the merge writes keep the field rules every writer keeps: a value stored
    # before the rules held (an imported negative amount) is not carried onto the survivor.
    for name, (_, value) in changes.items():
        if (reason := validation.problem(name, value)) is not None:
            raise InvalidValue(
                name,
                f"{reason}; the merge would write it onto lead {keep}",
                hint="correct it first with `leadcli edit`",
            )
    now = dates.now_text()
    marks = ", ".join("?" for _ in others)
    moved: dict[str, int] = {}
    for table, cols in tables.items():
        for column in cols:
            cursor = conn.execute(
                f'UPDATE OR IGNORE "{table}" SET "{column}" = ? WHERE "{column}" IN ({marks})',
                (keep, *others),
            )
            moved[table] = moved.get(table, 0) + cursor.rowcount
        # What could not move (the survivor has its own tag, BANT answer ...) goes, as does
        # a row that now ties the survivor to itself (a pair of possible duplicates); the
        # journal keeps both for an undo.
        where, params = _any_of(cols, others)
        conn.execute(f'DELETE FROM "{table}" WHERE {where}', params)
        if len(cols) > 1:
            same = " AND ".join(f'"{c}" = ?' for c in cols)
            conn.execute(f'DELETE FROM "{table}" WHERE {same}', tuple(keep for _ in cols))
    next_due = conn.execute(
        "SELECT min(due_at) FROM followups WHERE lead_id = ? AND done_at IS NULL", (keep,)
    ).fetchone()[0]
    if next_due != survivor.get("next_follow_up_at"):
        changes["next_follow_up_at"] = [leads[keep].get("next_follow_up_at"), next_due]
        survivor["next_follow_up_at"] = next_due
    columns = {k: survivor[k] for k in changes}
    stage_change = changes.pop("stage", None)
    if columns:
        set_columns(conn, "leads", keep, columns, updated_at=now)
    delete_leads(conn, f"id IN ({marks})", tuple(others))
    cursor = conn.execute(
        "INSERT INTO merges (at, keep_id, merged_ids, journal, last_history_id) "
        "VALUES (?, ?, ?, ?, 0)",
        (now, keep, json.dumps(others), json.dumps(journal, ensure_ascii=False)),
    )
    merge_id = int(cursor.lastrowid or 0)
    conn.executemany(
        "INSERT OR REPLACE INTO merged_leads (lead_id, into_id, merge_id) VALUES (?, ?, ?)",
        [(o, keep, merge_id) for o in others],
    )
    reason = f"merge #{merge_id} of lead{'s' if len(others) > 1 else ''} " + ", ".join(
        str(o) for o in others
    )
    tags = [r[0] for r in conn.execute("SELECT tag FROM lead_tags WHERE lead_id = ?", (keep,))]
    old_tags = [r["tag"] for r in journal["tables"].get("lead_tags", []) if r["lead_id"] == keep]
    if sorted(tags, key=str.lower) != sorted(old_tags, key=str.lower):
        changes["tags"] = [sorted(old_tags, key=str.lower), sorted(tags, key=str.lower)]
    if "custom" in changes:
        changes["custom"] = [json.loads(v) if v else {} for v in changes["custom"]]
    for column in policy.OTHERS.values():
        if column in changes:
            changes[column] = [policy.others_of(v) for v in changes[column]]
    if "do_not_contact" in changes:
        changes["do_not_contact"] = [bool(v) for v in changes["do_not_contact"]]
    event_changes = {**changes, "merged_ids": [None, others]}
    history.record(conn, keep, history.MERGED, event_changes, reason=reason, at=now)
    if stage_change:
        history.record(conn, keep, history.STAGE, {"stage": stage_change}, reason=reason, at=now)
    # m019's trigger ends the survivor's cadences when the merge changes its stage or opt-out;
    # enrolments moved over from a merged lead onto a survivor that was already unreachable
    # are this call's.
    end_enrolments_if_unreachable(
        conn,
        keep,
        now,
        stage=survivor.get("stage") or leads[keep]["stage"],
        do_not_contact=bool(survivor.get("do_not_contact")),
    )
    last = conn.execute("SELECT max(id) FROM history").fetchone()[0] or 0
    conn.execute("UPDATE merges SET last_history_id = ? WHERE id = ?", (last, merge_id))
    if stage_change:
        changes["stage"] = stage_change
    return {
        "merge": merge_id,
        "kept": keep,
        "merged": others,
        "changes": changes,
        "conflicts": conflicts,
        "moved": {t: n for t, n in moved.items() if n},
    }


def undo_merge(
    store: Store, merge_id: int, *, before_write: BeforeWrite | None = None
) -> dict[str, Any]:
    """Put the leads of a merge back exactly as they were before it. ``before_write`` runs
    once the undo is known to be possible (``Store.checks_passed``)."""
    with store.write() as conn:
        row = conn.execute("SELECT * FROM merges WHERE id = ?", (merge_id,)).fetchone()
        if row is None:
            raise NotFound(f"no merge with id {merge_id}", hint="the id is printed by `merge`")
        if row["undone_at"]:
            raise MergeError(f"merge {merge_id} is already undone")
        keep = row["keep_id"]
        others = json.loads(row["merged_ids"])
        if conn.execute("SELECT 1 FROM leads WHERE id = ?", (keep,)).fetchone() is None:
            raise MergeError(f"lead {keep}, which merge {merge_id} kept, no longer exists")
        later = conn.execute(
            "WITH RECURSIVE ids(id) AS (SELECT ? UNION "
            "SELECT m.lead_id FROM merged_leads AS m JOIN ids ON m.into_id = ids.id "
            "WHERE m.merge_id <> ?) "
            "SELECT count(*) FROM history WHERE lead_id IN ids AND id > ?",
            (keep, merge_id, row["last_history_id"]),
        ).fetchone()[0]
        if later:
            raise MergeError(
                f"lead {keep} has changed since merge {merge_id}; undoing would lose that",
                hint="undo the later changes (or merges) first",
            )
        store.checks_passed(before_write)
        journal = json.loads(row["journal"])
        ids = [keep, *others]
        tables = _referencing(conn)
        for table, cols in tables.items():
            where, params = _any_of(cols, ids)
            conn.execute(f'DELETE FROM "{table}" WHERE {where}', params)
        leads = {r["id"]: r for r in journal["leads"]}
        kept_row = leads[keep]
        existing = {r[1] for r in conn.execute("PRAGMA table_info(leads)")}
        set_columns(
            conn, "leads", keep, {c: v for c, v in kept_row.items() if c != "id" and c in existing}
        )
        _insert(conn, "leads", [leads[o] for o in others])
        for table, rows in journal["tables"].items():
            if table in tables:
                _insert(conn, table, rows)
        conn.execute("DELETE FROM merged_leads WHERE merge_id = ?", (merge_id,))
        now = dates.now_text()
        conn.execute("UPDATE merges SET undone_at = ? WHERE id = ?", (now, merge_id))
        reason = f"merge #{merge_id} undone"
        history.record_many(
            conn, [(i, history.UNMERGED, {"merge": [merge_id, None]}, reason, now) for i in ids]
        )
    return {"merge": merge_id, "restored": ids}
