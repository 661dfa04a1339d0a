"""An import's duplicates: which new rows are a person already there, on evidence, and the
merge of those into their leads.

The rows are in ``leads`` already (ids above ``floor``). Candidates are found set-based, one
statement per key, each new row against the oldest lead sharing the key; the evidence rule
(``identity.evidence``) decides, in SQL where it is plain (a personal e-mail, an id from the
same system, a shared phone against two different personal e-mails) and by ``judge`` for the
rest (a shared phone or role address, where names decide). Rows that share a key without
being the same person stay new leads; which of them might be is ``identity.possible``'s
rule, once the merges are done. The merge itself is ``identity.policy``'s rule.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.engagement.cadences import end_enrolments_if_unreachable
from leadcli.identity import evidence, policy
from leadcli.identity.evidence import Lists
from leadcli.leads import history
from leadcli.leads.records import delete_leads
from leadcli.pipeline.stages import CLOSED_STAGES
from leadcli.pipeline.transitions import change_stage, last_change_at
from leadcli.storage.updates import set_columns

#: The identity columns ``judge`` reads.
_IDENTITY = ("first_name", "last_name", "email", "phone", "external_id", "external_system")


def find(
    conn: sqlite3.Connection,
    floor: int,
    fields: list[str],
    *,
    bulk: bool,
    lists: Lists,
) -> int:
    """Fill ``temp.import_dups (id, first)`` with each new lead that is, on evidence, an older
    lead (in the database or earlier in the file); return how many are duplicates."""
    conn.execute("DROP TABLE IF EXISTS temp.import_dups")
    conn.execute("CREATE TEMP TABLE import_dups (id INTEGER PRIMARY KEY, first INTEGER NOT NULL)")
    conn.execute("DROP TABLE IF EXISTS temp.import_pairs")
    # verdict: 1 same (decided in SQL), 0 possible, NULL to be judged
    conn.execute(
        "CREATE TEMP TABLE import_pairs (id INTEGER NOT NULL, other INTEGER NOT NULL, "
        "reason TEXT NOT NULL, verdict INTEGER)"
    )
    role_n = evidence.role_address_sql("n.email", lists)
    role_o = evidence.role_address_sql("o.email", lists)
    same_system = "n.external_system IS o.external_system"
    two_emails = (
        f"(n.email IS NOT NULL AND o.email IS NOT NULL AND n.email <> o.email "
        f"AND NOT {role_n} AND NOT {role_o})"
    )
    keys = [
        # (the key, the columns grouped on, the verdict in SQL: 1 same, 0 possible, NULL judge)
        ("email", ("email",), f"CASE WHEN {role_n} THEN NULL ELSE 1 END"),
        ("external_id", ("external_id", "external_system"), "1"),
        ("external_id", ("external_id",), f"CASE WHEN {same_system} THEN 1 ELSE 0 END"),
        ("phone", ("phone",), f"CASE WHEN {two_emails} THEN 0 ELSE NULL END"),
    ]
    for key, columns, verdict in keys:
        if key not in fields:
            continue
        _candidates(conn, floor, key, columns, verdict, bulk=bulk)
        if key in ("phone", "email") and len(columns) == 1 and "last_name" in fields:
            # Against the oldest lead with the same key *and name* too: the oldest sharing a
            # switchboard is often someone else (the key alone is judged as well, for the
            # oldest whose name is spelt another way).
            named = (*columns, "lower(trim(last_name))", "lower(trim(first_name))")
            # An e-mail by name only where names decide: role addresses.
            roles = lists if key == "email" else None
            _candidates(conn, floor, key, named, verdict, bulk=bulk, role_only=roles)
    _judge(conn, lists)
    conn.execute(
        "INSERT INTO temp.import_dups (id, first) SELECT id, min(other) FROM temp.import_pairs "
        "WHERE verdict = 1 GROUP BY id"
    )
    conn.execute("DROP TABLE temp.import_pairs")
    return conn.execute("SELECT count(*) FROM temp.import_dups").fetchone()[0]


def _candidates(
    conn: sqlite3.Connection,
    floor: int,
    key: str,
    columns: tuple[str, ...],
    verdict: str,
    *,
    bulk: bool,
    role_only: Lists | None = None,
) -> None:
    """Pair each new lead with the oldest lead that has the same ``columns`` (its key not
    NULL), with the verdict SQL can give; with ``role_only``, only leads whose e-mail is a
    role address of those lists."""

    def where(alias: str) -> str:
        column = f"{alias}.email" if alias else "email"
        return evidence.role_address_sql(column, role_only) if role_only else "1"

    if bulk:
        # Most of the table is new: one pass over the key's index, grouping equal values,
        # beats an index seek per new lead.
        group = ", ".join(columns)
        names = [f"k{i}" for i in range(len(columns))]
        select = ", ".join(f"{c} AS {k}" for c, k in zip(columns, names, strict=True))
        # `=` on the key (never NULL in g), so SQLite seeks the key's partial index; `IS` on
        # the rest (a NULL system or name is a value there). `IS` on the key too would make
        # the planner scan every newer lead for each group.
        on = " AND ".join(
            f"{_qualified(c, 'n')} {'=' if i == 0 else 'IS'} g.{k}"
            for i, (c, k) in enumerate(zip(columns, names, strict=True))
        )
        # Grouping on names too sorts every row: only rows whose key is shared can be in
        # such a group, and the key's index lists the shared keys in one pass (most keys are
        # not). "+": the rows are still read in one scan, not looked up key by key (when
        # nearly every key is shared, a million lookups cost more than the sort they spare).
        shared = (
            f"AND +{key} IN (SELECT {key} FROM leads WHERE {key} IS NOT NULL "
            f"GROUP BY {key} HAVING count(*) > 1) "
            if len(columns) > 1
            else ""
        )
        source = (
            f"(SELECT {select}, min(id) AS first FROM leads "
            f"WHERE {key} IS NOT NULL AND {where('')} {shared}"
            f"GROUP BY {group} HAVING count(*) > 1) AS g "
            f"JOIN leads AS n ON {on} AND n.id > g.first AND n.id > :floor "
            f"JOIN leads AS o ON o.id = g.first"
        )
    else:
        # A few new leads in a big table: one index seek per new lead.
        extra = " AND ".join(f"{_qualified(c, 'o')} IS {_qualified(c, 'n')}" for c in columns[1:])
        extra = f" AND {extra}" if extra else ""
        source = (
            f"(SELECT n.id AS nid, (SELECT min(o.id) FROM leads AS o "
            f"WHERE o.{key} = n.{key} AND o.id < n.id{extra}) AS first "
            f"FROM leads AS n WHERE n.id > :floor AND n.{key} IS NOT NULL "
            f"AND {where('n')}) AS c "
            f"JOIN leads AS n ON n.id = c.nid JOIN leads AS o ON o.id = c.first"
        )
    conn.execute(
        f"INSERT INTO temp.import_pairs (id, other, reason, verdict) "
        f"SELECT n.id, o.id, '{key}', {verdict} FROM {source}",
        {"floor": floor},
    )


def _qualified(expression: str, alias: str) -> str:
    """``email`` → ``n.email``; ``lower(trim(last_name))`` → ``lower(trim(n.last_name))``."""
    if expression.isidentifier():
        return f"{alias}.{expression}"
    return expression.replace("(last_name", f"({alias}.last_name").replace(
        "(first_name", f"({alias}.first_name"
    )


def _judge(conn: sqlite3.Connection, lists: Lists) -> None:
    """Give the pairs SQL could not decide to ``evidence.judge`` (one per new row and key:
    those sharing a phone or a role address, usually few)."""
    cols = ", ".join(f"n.{c}, o.{c}" for c in _IDENTITY)
    pending = conn.execute(
        f"SELECT p.rowid, {cols} FROM temp.import_pairs AS p "
        "JOIN leads AS n ON n.id = p.id JOIN leads AS o ON o.id = p.other "
        "WHERE p.verdict IS NULL"
    ).fetchall()
    verdicts = []
    for row in pending:
        a = {c: row[1 + 2 * i] for i, c in enumerate(_IDENTITY)}
        b = {c: row[2 + 2 * i] for i, c in enumerate(_IDENTITY)}
        verdicts.append((1 if evidence.judge(a, b, lists).same else 0, row[0]))
    conn.executemany("UPDATE temp.import_pairs SET verdict = ? WHERE rowid = ?", verdicts)


def merge(
    conn: sqlite3.Connection,
    fields: list[str],
    on_duplicate: str,
    *,
    floor: int,
    batch: int,
    now: str,
    reason: str,
    lists: Lists,
) -> tuple[int, int]:
    """Apply ``--on-duplicate`` to each duplicate row, in file order, then delete the rows
    they were loaded as; return (updated, unchanged).

    A nightly re-import is mostly rows that change nothing. The merge rule only fills, adds,
    advances or closes (``update`` aside), so a row that brings its lead nothing brings it
    nothing whatever else is merged into that lead first: those are found in one statement
    written from the same rule (``policy.brings_nothing_sql``) and only the others are
    merged one by one (under ``update`` every row is, since a later row may undo an earlier
    one). Each older lead a row was found to be is recorded for the batch
    (``batch_matches``), so undoing the batch that made it never deletes it.
    """
    conn.execute("DROP TABLE IF EXISTS temp.import_same")
    conn.execute("CREATE TEMP TABLE import_same (id INTEGER PRIMARY KEY)")
    if on_duplicate != "update":
        nothing = policy.brings_nothing_sql(on_duplicate, fields, lists=lists)
        conn.execute(
            "INSERT INTO temp.import_same (id) SELECT d.id FROM temp.import_dups AS d "
            "JOIN leads AS n ON n.id = d.id JOIN leads AS o ON o.id = d.first "
            f"WHERE d.first NOT IN (SELECT id FROM temp.import_dups) AND {nothing}"
        )
    unchanged = conn.execute("SELECT count(*) FROM temp.import_same").fetchone()[0]
    updated = 0
    target_of: dict[int, int] = {}
    for dup_id, first, first_of_first in conn.execute(
        "SELECT d.id, d.first, f.first FROM temp.import_dups AS d "
        "LEFT JOIN temp.import_dups AS f ON f.id = d.first "
        "WHERE d.id NOT IN (SELECT id FROM temp.import_same) ORDER BY d.id"
    ).fetchall():
        # An earlier row of this file stands for the lead it was merged into (a row that
        # brought nothing stands for the lead it would have been merged into).
        target = target_of.get(first) or first_of_first or first
        target_of[dup_id] = target
        if merge_one(conn, target, dup_id, on_duplicate, now=now, reason=reason, lists=lists):
            updated += 1
        else:
            unchanged += 1
    conn.execute(
        "INSERT OR IGNORE INTO batch_matches (batch_id, lead_id) SELECT ?, first "
        "FROM temp.import_dups WHERE first <= ?",
        (batch, floor),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO batch_matches (batch_id, lead_id) VALUES (?, ?)",
        [(batch, t) for t in set(target_of.values()) if t <= floor],
    )
    conn.execute("DROP TABLE temp.import_same")
    delete_leads(conn, "id IN (SELECT id FROM temp.import_dups)")
    return updated, unchanged


def merge_one(
    conn: sqlite3.Connection,
    lead_id: int,
    row_id: int,
    on_duplicate: str,
    *,
    now: str,
    reason: str,
    lists: Lists,
) -> bool:
    """Merge the row loaded as lead ``row_id`` into lead ``lead_id`` by ``policy.plan_merge``;
    record the change in history (with the old values, which `import undo` puts back);
    return whether anything changed."""
    lead = conn.execute("SELECT * FROM leads WHERE id = ?", (lead_id,)).fetchone()
    row = conn.execute("SELECT * FROM leads WHERE id = ?", (row_id,)).fetchone()

    def tags_of(i: int) -> list[str]:
        return [t for (t,) in conn.execute("SELECT tag FROM lead_tags WHERE lead_id = ?", (i,))]

    plan = policy.plan_merge(
        dict(lead),
        dict(row),
        on_duplicate,
        lead_tags=tags_of(lead_id),
        record_tags=tags_of(row_id),
        lists=lists,
    )
    if not plan:
        return False
    changes: dict[str, Any] = dict(plan.changes)
    sets = plan.assignments()
    if sets:
        set_columns(conn, "leads", lead_id, sets, updated_at=now)
    if plan.tags:
        conn.executemany(
            "INSERT OR IGNORE INTO lead_tags (lead_id, tag) VALUES (?, ?)",
            [(lead_id, t) for t in plan.tags],
        )
        changes["tags"] = [None, plan.tags]
    if changes:
        history.record(conn, lead_id, history.MERGED, changes, reason=reason, at=now)
    if changes.get("do_not_contact"):
        end_enrolments_if_unreachable(conn, lead_id, now, stage=lead["stage"], do_not_contact=True)
    if plan.stage:
        stage = plan.stage
        # When the file says it happened, unless that is before the lead's own last move.
        said = row["closed_at"] if stage in CLOSED_STAGES else row["created_at"]
        at = max(said, last_change_at(conn, lead_id, lead["created_at"]))
        change_stage(conn, dict(lead), stage, reason=reason, at=at)
    return True
