"""Where a person's data can be, table by table and column by column, and what erasure does
with each (``PLAN``): the one place that decides it. ``tests/privacy/test_erasure_plan.py``
fails when the migrated schema has a table or column this does not name, so a new one is
decided here, not forgotten; ``privacy.erasure`` deletes by this list.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

# What becomes of a column's values once the person is erased (``PLAN``).
GONE = "goes with the person's rows"
KEY = "an id, a time, a count or a fixed word: no personal data"
AGGREGATE = "a count or sum over every lead in a cell, kept by triggers as their leads go"
SCRUBBED = "the person's e-mails quoted in other rows replaced by [erased]"
NAMED = "rewritten to [erased] (keeping the extension) where it names the person"

#: The person's rows in a table holding a ``lead_id``: deleted by ``erase`` (children first).
BY_LEAD_ID = "rows whose lead_id is one of the person's: deleted"


@dataclass(frozen=True)
class Handling:
    """What ``erase`` does with one table: which rows are the person's (``rows``) and, for
    each column, why nothing of theirs stays in it."""

    rows: str
    columns: dict[str, str]
    #: Exists only sometimes (``ANALYZE`` makes SQLite's statistics tables).
    optional: bool = False


def _all(rule: str, *columns: str) -> dict[str, str]:
    """``rule`` for each column named (several may share one space-separated string)."""
    return dict.fromkeys((name for text in columns for name in text.split()), rule)


#: Every table and every column of the schema, and what erasure does with them: the one
#: place that says where a person's data or a key derived from it can be. A test
#: (tests/privacy/test_erasure_plan.py) fails when the schema has a table or column this
#: does not name, so a new one is decided here, not forgotten. The tables ``BY_LEAD_ID``
#: are deleted from in ``erase`` by this list; the others say which code handles them.
PLAN: dict[str, Handling] = {
    "leads": Handling(
        "the person's leads (by id, e-mail or phone) and every lead merged into them: deleted",
        _all(
            GONE,
            (
                "id first_name last_name email phone company title website city country "
                "source owner value notes external_id do_not_contact custom stage score "
                "rating created_at updated_at first_contacted_at last_activity_at "
                "next_follow_up_at closed_at lost_reason other_emails other_phones "
                "external_system win_probability street postal_code region reach contact_unknown"
            ),
        ),
    ),
    "lead_tags": Handling(BY_LEAD_ID, _all(GONE, "lead_id", "tag")),
    "bant_answers": Handling(
        BY_LEAD_ID,
        _all(GONE, "lead_id", "criterion", "answer", "detail", "met", "answered_at", "evidence"),
    ),
    "activities": Handling(
        BY_LEAD_ID,
        _all(GONE, "id", "lead_id", "kind", "inbound", "at", "note", "outcome", "logged_at"),
    ),
    "followups": Handling(
        BY_LEAD_ID, _all(GONE, "id", "lead_id", "due_at", "note", "created_at", "done_at")
    ),
    "enrolments": Handling(
        BY_LEAD_ID,
        _all(
            GONE,
            "id",
            "lead_id",
            "cadence",
            "steps",
            "started_at",
            "next_step",
            "next_due_at",
            "ended_at",
            "end_reason",
        ),
    ),
    "stage_stays": Handling(
        BY_LEAD_ID, _all(GONE, "history_id", "lead_id", "stage", "left_at", "seconds")
    ),
    # A Message-ID (``<yolanda.yarb-123@example.net>``) or a hash of the message's bytes: a
    # key derived from the person's mail. A row with no lead was left by an older erasure
    # (the foreign key sets NULL; a merge moves rows, an import undo never deletes a
    # captured lead): every such row is an erased person's and goes too.
    "captured_messages": Handling(
        BY_LEAD_ID + "; every row left with no lead by an older erasure too",
        _all(GONE, "key", "lead_id", "outcome", "captured_at"),
    ),
    # What `mail` sent: a Message-ID leadcli made (random, at the sender's domain) and the
    # template's name; the row ties them to the person, so it goes with them (a reply
    # captured later then finds no lead, as a stranger's would).
    "sent_messages": Handling(
        BY_LEAD_ID, _all(GONE, "message_id", "lead_id", "template", "day", "outcome", "at")
    ),
    "batch_leads": Handling(BY_LEAD_ID, _all(GONE, "batch_id", "lead_id")),
    "batch_matches": Handling(BY_LEAD_ID, _all(GONE, "batch_id", "lead_id")),
    "possible_duplicates": Handling(
        "pairs with the person on either side: deleted",
        _all(GONE, "lead_id", "other_id", "reason", "batch_id", "found_at"),
    ),
    "merged_leads": Handling(
        "entries for the person's leads, on either side: deleted",
        _all(GONE, "lead_id", "into_id", "merge_id"),
    ),
    "merges": Handling(
        "the person's merges keep their row (the id is quoted by `merge undo`), journal "
        "emptied; other merges' journals scrubbed",
        {
            **_all(KEY, "id", "at", "keep_id", "merged_ids", "last_history_id", "undone_at"),
            "journal": GONE + " (their merges: emptied); " + SCRUBBED + " (other merges)",
        },
    ),
    "history": Handling(
        "the person's rows deleted, one `erased` event per lead id left; other leads' rows "
        "scrubbed",
        {
            **_all(KEY, "id", "lead_id", "at", "event"),
            "changes": SCRUBBED,
            "reason": SCRUBBED + "; an import's file name that names them: " + NAMED,
        },
    ),
    "import_batches": Handling(
        "every batch: the file name where it names the person; their batches: the hash",
        {
            **_all(
                KEY,
                "id",
                "imported_at",
                "rows",
                "imported",
                "updated",
                "duplicates",
                "rejected",
                "last_history_id",
                "undone_at",
                "first_lead_id",
                "last_lead_id",
                "suppressed",
            ),
            "file_name": NAMED,
            "rejects_file": NAMED + " (the file is renamed, and rewritten without their rows)",
            # A hash of a file holding the person's row: derived from their data.
            "sha256": "blanked in the batches that brought or matched the person",
            "mapping": "the file's column headings and the fields they went to: no values",
            "options": "the import's flags (--source, --stage, --tag ...): no values of a row",
        },
    ),
    "lead_cells": Handling(
        "none: counts by source, stage, reach, rating and month",
        _all(
            AGGREGATE,
            "key",
            "source",
            "stage",
            "reach",
            "rating",
            "month",
            "leads",
            "cents",
            "valued",
            "created",
        ),
    ),
    "stage_stay_totals": Handling(
        "none: totals per stage", _all(AGGREGATE, "stage", "stays", "seconds")
    ),
    # The search index (external content: it keeps words, not rows). Entries are deleted
    # with the leads, then the index is optimised into one segment: none keeps their words.
    "leads_fts": Handling(
        "entries deleted with the leads",
        _all(
            GONE,
            "first_name",
            "last_name",
            "company",
            "email",
            "notes",
            "other_emails",
            "other_phones",
        ),
    ),
    "leads_fts_data": Handling("merged into one segment ('optimize')", _all(GONE, "id", "block")),
    "leads_fts_idx": Handling(
        "merged into one segment ('optimize')", _all(GONE, "segid", "term", "pgno")
    ),
    "leads_fts_config": Handling("none: the index's settings", _all(KEY, "k", "v")),
    "scoring_models": Handling(
        "none: points per category shared by many closed leads (rare ones pooled as "
        "'other'; names, e-mails, phones and notes are never features)",
        _all(
            AGGREGATE,
            "id",
            "trained_at",
            "form",
            "closed_leads",
            "customers",
            "lost",
            "evaluation",
            "model",
        ),
    ),
    "spend": Handling(
        "none: amounts by source and month",
        _all(KEY, "id", "source", "month", "amount", "recorded_at"),
    ),
    "privacy_key": Handling("none: the suppression list's secret", _all(KEY, "id", "key")),
    "suppression": Handling(
        "the person's keyed hashes added: what keeps them out, holding no address",
        _all(KEY, "digest", "kind", "added_at"),
    ),
    "sqlite_sequence": Handling("none: the highest id given", _all(KEY, "name", "seq")),
    "sqlite_stat1": Handling(
        "none: row counts per index", _all(KEY, "tbl", "idx", "stat"), optional=True
    ),
    # Sampled index keys (an e-mail in leads_email's samples): emptied by an erasure.
    "sqlite_stat4": Handling(
        "every row: deleted (the planner does without until the next ANALYZE)",
        _all(GONE, "tbl", "idx", "neq", "nlt", "ndlt", "sample"),
        optional=True,
    ),
}


def unplanned(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The tables and columns of the database that ``PLAN`` does not name (a table with
    every column listed): what erasure would leave without anyone having decided so."""
    found: dict[str, list[str]] = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        planned = PLAN[table].columns if table in PLAN else {}
        missing = [c for c in columns if c not in planned]
        if missing:
            found[table] = missing
    return found


def by_lead_id() -> list[str]:
    """The tables ``PLAN`` deletes the person's rows from by ``lead_id``, in its order."""
    return [name for name, rule in PLAN.items() if rule.rows.startswith(BY_LEAD_ID)]
