"""Forward migrations of the database schema, one function per step.

The schema version is ``PRAGMA user_version``: reading it is one cheap call, so opening an
up-to-date database imports nothing more (sqlite-utils costs ~0.2 s to import and commands are
started thousands of times by scripts). Each step runs in its own ``BEGIN IMMEDIATE``
transaction together with the version bump, and re-checks the version once it holds the lock,
so twenty processes opening a new database at once migrate it exactly once.

Never edit a released step: add a new one. A database written by any older leadcli must open
in a newer one with nothing lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from leadcli.errors import DatabaseError

if TYPE_CHECKING:
    from sqlite_utils import Database

    from leadcli.storage.store import Store

#: Columns the full-text index covers today (``list --search``): live code reads this. A
#: released step never does (changing it would rewrite history): each step that built the
#: index spells out its own columns, as ``_FTS_COLUMNS_AT_M001`` ... ``_AT_M007`` below.
FTS_COLUMNS = (
    "first_name",
    "last_name",
    "company",
    "email",
    "notes",
    "other_emails",
    "other_phones",
)

#: The search index's columns as m001 created it and m005 and m007 rebuilt it (frozen
#: literals; a test checks that today's ``FTS_COLUMNS`` are m007's).
_FTS_COLUMNS_AT_M001 = ("first_name", "last_name", "company", "email", "notes")
_FTS_COLUMNS_AT_M005 = ("first_name", "last_name", "company", "email", "notes")
_FTS_COLUMNS_AT_M007 = (
    "first_name",
    "last_name",
    "company",
    "email",
    "notes",
    "other_emails",
    "other_phones",
)


def m001_initial(db: Database) -> None:
    """Leads, their tags, the append-only history and the search index."""
    db.execute(
        """
        CREATE TABLE leads (
            -- AUTOINCREMENT: an erased lead's id is never given to another lead, so
            -- history rows and ids quoted in scripts keep meaning one person.
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            first_name TEXT,
            last_name TEXT,
            email TEXT,
            phone TEXT,
            company TEXT,
            title TEXT,
            website TEXT,
            city TEXT,
            country TEXT,
            source TEXT,
            owner TEXT,
            value REAL,
            notes TEXT,
            external_id TEXT,
            do_not_contact INTEGER NOT NULL DEFAULT 0 CHECK (do_not_contact IN (0, 1)),
            custom TEXT,  -- JSON object of columns an import did not recognise
            stage TEXT NOT NULL DEFAULT 'prospect' CHECK (stage IN
                ('prospect', 'lead', 'mql', 'sql', 'opportunity', 'customer', 'lost')),
            score INTEGER CHECK (score BETWEEN 0 AND 100),
            rating TEXT CHECK (rating IN ('hot', 'warm', 'cold')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            first_contacted_at TEXT,
            last_activity_at TEXT,
            next_follow_up_at TEXT,
            closed_at TEXT,
            lost_reason TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE lead_tags (
            lead_id INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
            tag TEXT NOT NULL COLLATE NOCASE,
            PRIMARY KEY (lead_id, tag)
        ) WITHOUT ROWID
        """
    )
    # No foreign key to leads: an erased lead's history outlives it (the erase itself
    # is an event). Append-only is enforced by the database, not by convention.
    db.execute(
        """
        CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            lead_id INTEGER NOT NULL,
            at TEXT NOT NULL,
            event TEXT NOT NULL,
            changes TEXT,  -- JSON: {"field": [old, new], ...}
            reason TEXT
        )
        """
    )
    db.execute(
        "CREATE TRIGGER history_no_update BEFORE UPDATE ON history "
        "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER history_no_delete BEFORE DELETE ON history "
        "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END"
    )
    leads = db.table("leads")
    leads.create_index(["email"], index_name="leads_email")
    leads.create_index(["phone"], index_name="leads_phone")
    leads.create_index(["external_id"], index_name="leads_external_id")
    leads.create_index(["stage"], index_name="leads_stage")
    db.table("lead_tags").create_index(["tag"], index_name="lead_tags_tag")
    db.table("history").create_index(["lead_id", "id"], index_name="history_lead")
    leads.enable_fts(_FTS_COLUMNS_AT_M001, tokenize="unicode61 remove_diacritics 2")
    # Our own triggers rather than sqlite-utils' create_triggers=True: its update trigger
    # fires on every column, so a rescore of a million leads would rewrite the text index.
    cols = ", ".join(_FTS_COLUMNS_AT_M001)
    old = ", ".join(f"old.{c}" for c in _FTS_COLUMNS_AT_M001)
    new = ", ".join(f"new.{c}" for c in _FTS_COLUMNS_AT_M001)
    db.execute(
        f"CREATE TRIGGER leads_fts_ai AFTER INSERT ON leads BEGIN "
        f"INSERT INTO leads_fts (rowid, {cols}) VALUES (new.id, {new}); END"
    )
    db.execute(
        f"CREATE TRIGGER leads_fts_ad AFTER DELETE ON leads BEGIN "
        f"INSERT INTO leads_fts (leads_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
    )
    db.execute(
        f"CREATE TRIGGER leads_fts_au AFTER UPDATE OF {cols} ON leads BEGIN "
        f"INSERT INTO leads_fts (leads_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO leads_fts (rowid, {cols}) VALUES (new.id, {new}); END"
    )


def m002_bant(db: Database) -> None:
    """Structured BANT answers, the latest per criterion; earlier answers live in history."""
    db.execute(
        """
        CREATE TABLE bant_answers (
            lead_id INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
            criterion TEXT NOT NULL CHECK (criterion IN
                ('budget', 'authority', 'need', 'timeline')),
            answer TEXT NOT NULL,  -- yes / no / unknown, an authority level, or 'amount'/'date'
            detail TEXT,           -- the amount, the date (YYYY-MM-DD) or the need's text
            met INTEGER NOT NULL CHECK (met IN (0, 1)),
            answered_at TEXT NOT NULL,
            evidence TEXT,
            PRIMARY KEY (lead_id, criterion)
        ) WITHOUT ROWID
        """
    )
    # Funnel and lead-time reports read stage events by time.
    db.execute("CREATE INDEX history_event_at ON history (event, at)")


def m003_followups(db: Database) -> None:
    """Activities, follow-ups and cadence enrolments, with the indexes `due` reads."""
    db.execute(
        """
        CREATE TABLE activities (
            id INTEGER PRIMARY KEY,
            lead_id INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN
                ('call', 'email', 'meeting', 'sms', 'message', 'note')),
            inbound INTEGER NOT NULL DEFAULT 0 CHECK (inbound IN (0, 1)),
            at TEXT NOT NULL,
            note TEXT,
            outcome TEXT,
            logged_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX activities_lead ON activities (lead_id, at)")
    db.execute(
        """
        CREATE TABLE followups (
            id INTEGER PRIMARY KEY,
            lead_id INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
            due_at TEXT NOT NULL,
            note TEXT,
            created_at TEXT NOT NULL,
            done_at TEXT
        )
        """
    )
    # Only open follow-ups are ever searched by date: a partial index stays small, and
    # carrying lead_id makes `due`'s scan index-only.
    db.execute(
        "CREATE INDEX followups_open_due ON followups (due_at, lead_id) WHERE done_at IS NULL"
    )
    db.execute("CREATE INDEX followups_lead ON followups (lead_id) WHERE done_at IS NULL")
    db.execute(
        """
        CREATE TABLE enrolments (
            id INTEGER PRIMARY KEY,
            lead_id INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
            cadence TEXT NOT NULL,
            steps TEXT NOT NULL,  -- JSON copy of the steps: editing the file later is safe
            started_at TEXT NOT NULL,
            next_step INTEGER NOT NULL DEFAULT 0,
            next_due_at TEXT,     -- when the next step is due; NULL once ended
            ended_at TEXT,
            end_reason TEXT
        )
        """
    )
    db.execute(
        "CREATE INDEX enrolments_active_due ON enrolments (next_due_at) WHERE ended_at IS NULL"
    )
    db.execute("CREATE INDEX enrolments_lead ON enrolments (lead_id) WHERE ended_at IS NULL")
    # `due`: new leads not yet contacted, and leads gone quiet, found by range scans of
    # partial indexes holding only candidates and covering every column the query reads
    # (SQLite still checks the partial condition's columns, so they are in the index too).
    db.execute(
        "CREATE INDEX leads_uncontacted ON leads (created_at, score, stage, do_not_contact, "
        "first_contacted_at, next_follow_up_at) "
        "WHERE first_contacted_at IS NULL AND next_follow_up_at IS NULL "
        "AND do_not_contact = 0 AND stage NOT IN ('customer', 'lost')"
    )
    db.execute(
        "CREATE INDEX leads_quiet ON leads (last_activity_at, score, stage, do_not_contact, "
        "next_follow_up_at) "
        "WHERE next_follow_up_at IS NULL AND do_not_contact = 0 "
        "AND stage NOT IN ('customer', 'lost')"
    )


def m004_import_batches(db: Database) -> None:
    """Import batches (file, checksum, counts, mapping) and the leads each created, so an
    import can be listed, recognised when repeated, and undone."""
    db.execute(
        """
        CREATE TABLE import_batches (
            id INTEGER PRIMARY KEY,
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            rows INTEGER NOT NULL,
            imported INTEGER NOT NULL,
            updated INTEGER NOT NULL,
            duplicates INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            rejects_file TEXT,
            mapping TEXT,          -- JSON: column -> field
            options TEXT,          -- JSON: the flags that shaped it
            last_history_id INTEGER NOT NULL,  -- history after this id means "touched since"
            undone_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX import_batches_sha256 ON import_batches (sha256)")
    db.execute(
        """
        CREATE TABLE batch_leads (
            batch_id INTEGER NOT NULL REFERENCES import_batches(id),
            lead_id INTEGER NOT NULL,
            PRIMARY KEY (batch_id, lead_id)
        ) WITHOUT ROWID
        """
    )


def m005_import_ranges(db: Database) -> None:
    """Imports and deletes that stay fast at a million leads, and `due` that forgets no one.

    - An import numbers the leads it creates from one contiguous range while it holds the
      write lock, so a batch is its first and last lead id: no row per lead in
      ``batch_leads`` (kept for batches imported before this step).
    - Deleting a lead makes SQLite look for its rows in every table that references it; a
      partial index (only open follow-ups, only active enrolments) cannot serve that lookup,
      so each delete scanned those tables. Full indexes on ``lead_id`` serve both.
    - Reports read stage changes by time; ``created`` events by time are ``leads.created_at``.
      An index over stage events only is half the size of one over every event.
    - Indexes hold only rows that can match: most leads have no external id, and a freshly
      imported lead has no activity and nobody has contacted it (a lead gone quiet is one that
      was contacted), so a big import no longer builds entries for them.
    - The search index keeps no per-row token counts: only relevance ranking reads them, and
      nothing ranks by relevance.
    - `due` lists uncontacted leads however old (not only those with no follow-up at all):
      by age, and stage by stage by score once their overdue part is capped.
    """
    # The search index keeps no per-row token counts (columnsize=0): nothing ranks matches by
    # relevance (bm25), and without them a million-row import fills the index a quarter faster.
    db.execute("DROP TABLE leads_fts")
    db.execute(
        f"CREATE VIRTUAL TABLE leads_fts USING fts5({', '.join(_FTS_COLUMNS_AT_M005)}, "
        "tokenize='unicode61 remove_diacritics 2', content='leads', columnsize=0)"
    )
    db.execute("INSERT INTO leads_fts (leads_fts) VALUES ('rebuild')")
    db.execute("ALTER TABLE import_batches ADD COLUMN first_lead_id INTEGER")
    db.execute("ALTER TABLE import_batches ADD COLUMN last_lead_id INTEGER")
    db.execute("DROP INDEX followups_lead")
    db.execute("CREATE INDEX followups_lead ON followups (lead_id)")
    db.execute("DROP INDEX enrolments_lead")
    db.execute("CREATE INDEX enrolments_lead ON enrolments (lead_id)")
    db.execute("DROP INDEX history_event_at")
    db.execute("CREATE INDEX history_stage_at ON history (at) WHERE event = 'stage'")
    db.execute("DROP INDEX leads_external_id")
    db.execute(
        "CREATE INDEX leads_external_id ON leads (external_id) WHERE external_id IS NOT NULL"
    )
    db.execute("DROP INDEX leads_quiet")
    db.execute(
        "CREATE INDEX leads_quiet ON leads (last_activity_at, score, stage, do_not_contact, "
        "next_follow_up_at) "
        "WHERE last_activity_at IS NOT NULL AND first_contacted_at IS NOT NULL "
        "AND next_follow_up_at IS NULL AND do_not_contact = 0 "
        "AND stage NOT IN ('customer', 'lost')"
    )
    uncontacted = (
        "WHERE first_contacted_at IS NULL AND do_not_contact = 0 "
        "AND stage NOT IN ('customer', 'lost')"
    )
    db.execute("DROP INDEX leads_uncontacted")
    db.execute(
        "CREATE INDEX leads_new ON leads (created_at, next_follow_up_at, score, stage, "
        f"do_not_contact, first_contacted_at) {uncontacted}"
    )
    db.execute(
        "CREATE INDEX leads_new_by_score ON leads (stage, score DESC, created_at, "
        f"next_follow_up_at, do_not_contact, first_contacted_at) {uncontacted}"
    )


def m006_cheap_checks(db: Database) -> None:
    """The lead table again, with its value checks written as ``=`` comparisons.

    SQLite evaluates ``CHECK (stage IN ('prospect', ...))`` by building a lookup table for
    every row written: the stage and rating checks cost a million-row import about a second,
    while the same rules written with ``OR`` cost next to nothing. SQLite cannot change a
    constraint in place, so the table is rebuilt as its documentation prescribes (new table,
    copy, drop, rename; foreign keys are off meanwhile, see ``migrate``), keeping every id,
    the id sequence, indexes and triggers; the search index reads rows by id and stays valid.
    """
    conn = db.conn
    dependents = conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'leads' AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type, name"
    ).fetchall()
    sequence = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'leads'").fetchone()
    one_of = " OR ".join
    stages = one_of(f"stage = '{s}'" for s in _STAGES_AT_M006)
    ratings = one_of(f"rating = '{r}'" for r in ("hot", "warm", "cold"))
    conn.execute(
        f"""
        CREATE TABLE leads_m006 (
            -- AUTOINCREMENT: an erased lead's id is never given to another lead, so
            -- history rows and ids quoted in scripts keep meaning one person.
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            first_name TEXT,
            last_name TEXT,
            email TEXT,
            phone TEXT,
            company TEXT,
            title TEXT,
            website TEXT,
            city TEXT,
            country TEXT,
            source TEXT,
            owner TEXT,
            value REAL,
            notes TEXT,
            external_id TEXT,
            do_not_contact INTEGER NOT NULL DEFAULT 0
                CHECK (do_not_contact = 0 OR do_not_contact = 1),
            custom TEXT,  -- JSON object of columns an import did not recognise
            -- Comparisons, not IN (...): see m006_cheap_checks.
            stage TEXT NOT NULL DEFAULT 'prospect' CHECK ({stages}),
            score INTEGER CHECK (score BETWEEN 0 AND 100),
            rating TEXT CHECK ({ratings}),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            first_contacted_at TEXT,
            last_activity_at TEXT,
            next_follow_up_at TEXT,
            closed_at TEXT,
            lost_reason TEXT
        )
        """
    )
    conn.execute("INSERT INTO leads_m006 SELECT * FROM leads ORDER BY id")
    conn.execute("DROP TABLE leads")
    conn.execute("ALTER TABLE leads_m006 RENAME TO leads")
    if sequence is not None:  # the highest id ever given, which may exceed the highest left
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'leads'")
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('leads', ?)", sequence)
    for (sql,) in dependents:
        conn.execute(sql)
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise DatabaseError(f"rebuilding the lead table left {len(broken)} dangling references")


#: The stages as m006 wrote them into the lead table's check (a step never changes later).
_STAGES_AT_M006 = ("prospect", "lead", "mql", "sql", "opportunity", "customer", "lost")


def m007_identity(db: Database) -> None:
    """What import needs to never merge two people and to lose nothing.

    - ``other_emails`` / ``other_phones``: a person's further addresses and numbers (JSON
      arrays), brought by a merge or a second column; searchable, so the search index is
      made again with them (literal column lists: this step never changes).
    - ``external_system``: the system an ``external_id`` came from (``salesforce``,
      ``hubspot`` ... or ``import --system``): 1001 in Salesforce and 1001 in HubSpot are
      two people.
    - ``possible_duplicates``: pairs that share a phone, a role address or an id from another
      system without being one person on evidence, left for ``dedupe``; ``lead_id`` is the
      lower id.
    - ``batch_matches``: the older leads each batch's rows were found to be (merged into, or
      bringing nothing), so undoing another batch never deletes a lead a live batch brought.
    """
    conn = db.conn
    conn.execute("ALTER TABLE leads ADD COLUMN other_emails TEXT")
    conn.execute("ALTER TABLE leads ADD COLUMN other_phones TEXT")
    conn.execute("ALTER TABLE leads ADD COLUMN external_system TEXT")
    conn.execute(
        """
        CREATE TABLE possible_duplicates (
            lead_id INTEGER NOT NULL,   -- the lower id of the pair
            other_id INTEGER NOT NULL,  -- the higher id
            reason TEXT NOT NULL,       -- the shared field: phone, email or external_id
            batch_id INTEGER,           -- the import that found it (NULL: another command)
            found_at TEXT NOT NULL,
            PRIMARY KEY (lead_id, other_id),
            CHECK (lead_id < other_id)
        ) WITHOUT ROWID
        """
    )
    conn.execute("CREATE INDEX possible_duplicates_other ON possible_duplicates (other_id)")
    conn.execute(
        """
        CREATE TABLE batch_matches (
            batch_id INTEGER NOT NULL REFERENCES import_batches(id),
            lead_id INTEGER NOT NULL,
            PRIMARY KEY (batch_id, lead_id)
        ) WITHOUT ROWID
        """
    )
    conn.execute("CREATE INDEX batch_matches_lead ON batch_matches (lead_id)")
    columns = _FTS_COLUMNS_AT_M007
    for trigger in ("leads_fts_ai", "leads_fts_ad", "leads_fts_au"):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    conn.execute("DROP TABLE leads_fts")
    cols = ", ".join(columns)
    old = ", ".join(f"old.{c}" for c in columns)
    new = ", ".join(f"new.{c}" for c in columns)
    conn.execute(
        f"CREATE VIRTUAL TABLE leads_fts USING fts5({cols}, "
        "tokenize='unicode61 remove_diacritics 2', content='leads', columnsize=0)"
    )
    conn.execute("INSERT INTO leads_fts (leads_fts) VALUES ('rebuild')")
    conn.execute(
        f"CREATE TRIGGER leads_fts_ai AFTER INSERT ON leads BEGIN "
        f"INSERT INTO leads_fts (rowid, {cols}) VALUES (new.id, {new}); END"
    )
    conn.execute(
        f"CREATE TRIGGER leads_fts_ad AFTER DELETE ON leads BEGIN "
        f"INSERT INTO leads_fts (leads_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
    )
    conn.execute(
        f"CREATE TRIGGER leads_fts_au AFTER UPDATE OF {cols} ON leads BEGIN "
        f"INSERT INTO leads_fts (leads_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO leads_fts (rowid, {cols}) VALUES (new.id, {new}); END"
    )


def m008_scoring(db: Database) -> None:
    """What scoring needs: the learned probability beside the score, the stored models, and
    an index on the score.

    - ``win_probability`` (0-1, full precision) is written only by a predictive score; a
      rules score leaves it NULL, so "no model has scored this lead" is visible.
    - ``scoring_models`` keeps every trained model (its table of points as JSON, when it was
      trained, on how many closed leads, and its cross-validated evaluation); the newest one
      scores. Older ones stay so a score can be traced to the model that gave it.
    - ``list --sort -score --limit 20`` on a million leads reads twenty index entries instead
      of sorting the table.
    """
    db.execute("ALTER TABLE leads ADD COLUMN win_probability REAL")
    db.execute(
        """
        CREATE TABLE scoring_models (
            id INTEGER PRIMARY KEY,
            trained_at TEXT NOT NULL,
            form TEXT NOT NULL,          -- binned-logistic, naive-bayes ...
            closed_leads INTEGER NOT NULL,
            customers INTEGER NOT NULL,
            lost INTEGER NOT NULL,
            evaluation TEXT,             -- JSON: cross-validated AUC, log-loss, calibration
            model TEXT NOT NULL          -- JSON: the features, their points and the intercept
        )
        """
    )
    db.execute("CREATE INDEX leads_score ON leads (score)")


def m009_reports(db: Database) -> None:
    """Marketing spend by source and month, and the indexes reports read.

    - ``spend``: one row per amount recorded with ``leadcli spend``; a month is ``YYYY-MM``.
      Rows are added, never replaced, so a correction is a negative amount and the sum is
      what was spent.
    - ``leads_report``: every lead column the aggregate reports group and sum, in one index,
      so a report over a million leads reads this index, not the wide lead rows (names,
      e-mails, notes...).
    - ``history_stage_lead``: stage events by lead and time with their changes, for "as of",
      time in stage and how far lost leads got.
    """
    db.execute(
        """
        CREATE TABLE spend (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            month TEXT NOT NULL,   -- YYYY-MM
            amount REAL NOT NULL,
            recorded_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX spend_source_month ON spend (source, month)")
    db.execute(
        "CREATE INDEX leads_report ON leads (source, stage, created_at, value, closed_at, "
        "first_contacted_at, owner, rating, lost_reason)"
    )
    # Carrying ``changes`` makes it covering: a report reads a lead's moves without visiting
    # the history table's rows at random.
    db.execute(
        "CREATE INDEX history_stage_lead ON history (lead_id, at, changes) WHERE event = 'stage'"
    )


def m010_merges(db: Database) -> None:
    """Merges and their journal, so `merge undo` can put the leads back exactly as they were.

    ``journal`` holds, as JSON, every row the merge changed or removed (the leads and their
    rows in every table that refers to a lead) as it was before. ``merged_leads`` says which
    lead went into which: a merged lead's history stays under its own id (history is
    append-only) and is shown with the lead it went into.
    """
    db.execute(
        """
        CREATE TABLE merges (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            keep_id INTEGER NOT NULL,
            merged_ids TEXT NOT NULL,      -- JSON array of the ids merged into keep_id
            journal TEXT NOT NULL,         -- JSON: the rows before the merge
            last_history_id INTEGER NOT NULL,  -- history after this id: changed since
            undone_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE merged_leads (
            lead_id INTEGER PRIMARY KEY,   -- the lead merged away
            into_id INTEGER NOT NULL,
            merge_id INTEGER NOT NULL REFERENCES merges(id)
        )
        """
    )
    db.execute("CREATE INDEX merged_leads_into ON merged_leads (into_id)")


def m011_address(db: Database) -> None:
    """Street, postal code and region on the lead: what a vCard address (ADR) and an address
    book hold besides city and country. Plain nullable columns added in place (no rebuild)."""
    for column in ("street", "postal_code", "region"):
        db.conn.execute(f"ALTER TABLE leads ADD COLUMN {column} TEXT")


def m012_capture(db: Database) -> None:
    """The messages ``capture`` turned into a lead or an activity, by a key (the Message-ID,
    else a hash of the raw message), so capturing a mailbox again changes nothing. Skipped
    messages are not kept: after a change to ``capture.own_addresses`` they are judged
    again. A lead erased later leaves its messages' keys (no lead data) with no lead."""
    db.execute(
        """
        CREATE TABLE captured_messages (
            key TEXT PRIMARY KEY,
            lead_id INTEGER REFERENCES leads(id) ON DELETE SET NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('created', 'matched')),
            captured_at TEXT NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX captured_messages_lead ON captured_messages (lead_id)")


def m013_privacy(db: Database) -> None:
    """What erasure and suppression need.

    - ``privacy_key``: one random secret per database, the key of the suppression list's
      HMACs. Kept in the database (and so in its backups): a copy of the list is useless
      without it, and a restored backup still recognises the people it suppresses.
    - ``suppression``: HMAC-SHA256 of the normalised e-mail or phone of each person erased by
      ``forget``, so an import, ``add`` or capture can refuse to bring them back without
      leadcli keeping the address itself. ``kind`` is ``email`` or ``phone``.
    - ``import_batches.suppressed``: rows an import left out as suppressed, so a batch's
      counts still add up to its rows.
    """
    db.execute(
        "CREATE TABLE privacy_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL)"
    )
    db.execute(
        """
        CREATE TABLE suppression (
            digest BLOB PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind = 'email' OR kind = 'phone'),
            added_at TEXT NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute("ALTER TABLE import_batches ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0")


def m014_reports(db: Database) -> None:
    """What lets a report over a million leads read a few indexes instead of sorting.

    - ``leads.reach``: the highest funnel rank (prospect 0 ... customer 5; lost -1) any of
      the lead's stage changes left or led to; NULL before its first. A lost lead's place in
      the funnel is how far it got, and reading that from each one's history cost a report
      a second pass. Kept by the trigger ``history_stage_reach`` on every stage event
      (whoever writes it), filled here from the history there is.
    - ``stage_stays``: each finished stay of a lead in a stage, from entering it (its
      creation, or the stage change that led there) to the change that left it, in whole
      seconds: one row per stage event, written by the trigger ``history_stage_stay`` as the
      event is (stage changes are recorded in time order: ``advance --at`` refuses a time
      before the previous change), filled here from the history there is. Time in stage was
      a window over every stage event on every report; now it is read from
      ``stage_stays_by_stage``. A stay belongs to the lead, and moves with it in a merge.
    - ``leads_report`` again, with ``reach`` after the stage: grouping by source, stage and
      reach then follows the index. ``leads_cohort``: the month a lead was created (UTC, as
      cohorts count), stage and reach, so grouping by month does too.
    - ``leads_lead_time``: a customer's seconds from creation to close;
      ``leads_lead_time_by_source`` the same per source. ``leads_response_time``: a contacted
      lead's seconds from creation to its first outbound touch; ``leads_response_time_by_source``
      the same per source. Medians and 90th percentiles are then a count and a few seeks.
      The expressions are the reports' own (``reports.velocity.LEAD_TIME`` and
      ``reports.response.RESPONSE_TIME``): SQLite uses an index on an expression only for
      the same expression. The columns an expression reads follow it, so a mean of it is
      read from the index alone.
    """
    ranks = {"prospect": 0, "lead": 1, "mql": 2, "sql": 3, "opportunity": 4, "customer": 5}

    def rank(expr: str) -> str:
        whens = " ".join(f"WHEN '{stage}' THEN {n}" for stage, n in ranks.items())
        return f"(CASE {expr} {whens} ELSE -1 END)"

    led_to = rank("json_extract(h.changes, '$.stage[1]')")
    left = rank("json_extract(h.changes, '$.stage[0]')")
    reach = f"max({led_to}, {left})"
    db.execute("ALTER TABLE leads ADD COLUMN reach INTEGER")
    db.execute(
        "UPDATE leads SET reach = (SELECT max(" + reach + ") FROM history AS h "
        "WHERE h.lead_id = leads.id AND h.event = 'stage') "
        "WHERE id IN (SELECT lead_id FROM history WHERE event = 'stage')"
    )
    db.execute(
        "CREATE TRIGGER history_stage_reach AFTER INSERT ON history WHEN new.event = 'stage' "
        "BEGIN UPDATE leads SET reach = max(coalesce(reach, -1), "
        + reach.replace("h.changes", "new.changes")
        + ") WHERE id = new.lead_id; END"
    )
    seconds = "max(0, CAST(round((julianday({left}) - julianday({entered})) * 86400) AS INTEGER))"
    db.execute(
        """
        CREATE TABLE stage_stays (
            history_id INTEGER PRIMARY KEY REFERENCES history(id) ON DELETE CASCADE,
            lead_id INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
            stage TEXT,          -- the stage left
            left_at TEXT NOT NULL,
            seconds INTEGER NOT NULL
        )
        """
    )
    db.execute(
        "INSERT INTO stage_stays (history_id, lead_id, stage, left_at, seconds) "
        f"SELECT id, lead_id, stage, at, {seconds.format(left='at', entered='entered')} FROM ("
        "SELECT h.id, h.lead_id, json_extract(h.changes, '$.stage[0]') AS stage, h.at, "
        "coalesce(lag(h.at) OVER (PARTITION BY h.lead_id ORDER BY h.at, h.id), l.created_at) "
        "AS entered FROM history AS h JOIN leads AS l ON l.id = h.lead_id "
        "WHERE h.event = 'stage')"
    )
    previous = (
        "(SELECT h.at FROM history AS h WHERE h.lead_id = new.lead_id AND h.event = 'stage' "
        "AND (h.at < new.at OR (h.at = new.at AND h.id < new.id)) "
        "ORDER BY h.at DESC, h.id DESC LIMIT 1)"
    )
    db.execute(
        "CREATE TRIGGER history_stage_stay AFTER INSERT ON history WHEN new.event = 'stage' "
        "BEGIN INSERT INTO stage_stays (history_id, lead_id, stage, left_at, seconds) "
        "SELECT new.id, new.lead_id, json_extract(new.changes, '$.stage[0]'), new.at, "
        + seconds.format(left="new.at", entered=f"coalesce({previous}, l.created_at)")
        + " FROM leads AS l WHERE l.id = new.lead_id; END"
    )
    db.execute("CREATE INDEX stage_stays_lead ON stage_stays (lead_id)")
    db.execute("CREATE INDEX stage_stays_by_stage ON stage_stays (stage, seconds)")
    db.execute("DROP INDEX leads_report")
    db.execute(
        "CREATE INDEX leads_report ON leads (source, stage, reach, created_at, value, "
        "closed_at, first_contacted_at, owner, rating, lost_reason)"
    )
    db.execute(
        "CREATE INDEX leads_cohort ON leads (substr(created_at, 1, 7), stage, reach, created_at)"
    )
    lead_time = (
        "max(0, CAST(round((julianday(closed_at) - julianday(created_at)) * 86400) AS INTEGER))"
    )
    response_time = (
        "max(0, CAST(round((julianday(first_contacted_at) - julianday(created_at)) * 86400) "
        "AS INTEGER))"
    )
    won = "stage = 'customer' AND closed_at IS NOT NULL"
    contacted = "first_contacted_at IS NOT NULL"
    db.execute(
        f"CREATE INDEX leads_lead_time ON leads ({lead_time}, created_at, closed_at) WHERE {won}"
    )
    db.execute(
        f"CREATE INDEX leads_lead_time_by_source ON leads (source, {lead_time}, created_at, "
        f"closed_at) WHERE {won}"
    )
    db.execute(
        f"CREATE INDEX leads_response_time ON leads ({response_time}, created_at, "
        f"first_contacted_at) WHERE {contacted}"
    )
    db.execute(
        f"CREATE INDEX leads_response_time_by_source ON leads (source, {response_time}, "
        f"created_at, first_contacted_at) WHERE {contacted}"
    )


def m015_report_cells(db: Database) -> None:
    """Counts reports add up, kept as leads change, so a report over every lead reads a few
    hundred rows instead of a pass over a million.

    - ``lead_cells``: per source, stage, reach, rating and month created (UTC, the first
      seven characters of ``created_at``), the leads, their total value, how many have a
      value, and the sum of their creation times in epoch seconds (an average age is the
      count times the moment, less this sum). ``key`` is the five values as a JSON array,
      so a NULL source or rating is a value of its own. Kept by three triggers on ``leads``;
      a cell that empties is deleted (a sum of values then starts again from zero). Bulk
      writers count in grouped passes instead, with a trigger dropped (``leads.cells``).
    - ``stage_stay_totals``: per stage left, the finished stays and their seconds, kept by
      triggers on ``stage_stays`` (the mean time in stage without reading every stay).
    - ``leads_lost_reason``: the lost leads by reason, so lost reasons are counted in one
      pass over the lost leads without sorting them.
    - ``leads_cohort`` goes: cohorts read ``lead_cells``.
    """
    db.execute(
        """
        CREATE TABLE lead_cells (
            key TEXT PRIMARY KEY,
            source TEXT,
            stage TEXT,
            reach INTEGER,
            rating TEXT,
            month TEXT,
            leads INTEGER NOT NULL,
            value REAL NOT NULL,
            valued INTEGER NOT NULL,
            created INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )
    columns = "key, source, stage, reach, rating, month, leads, value, valued, created"
    adds = (
        "ON CONFLICT (key) DO UPDATE SET leads = leads + excluded.leads, "
        "value = value + excluded.value, valued = valued + excluded.valued, "
        "created = created + excluded.created"
    )
    db.execute(
        f"INSERT INTO lead_cells ({columns}) "
        "SELECT json_array(source, stage, reach, rating, month), source, stage, reach, rating, "
        "month, count(*), total(value), count(value), "
        "coalesce(sum(CAST(strftime('%s', created_at) AS INTEGER)), 0) FROM ("
        "SELECT source, stage, reach, rating, substr(created_at, 1, 7) AS month, value, "
        "created_at FROM leads) GROUP BY source, stage, reach, rating, month"
    )

    def cell(row: str, sign: str) -> str:
        month = f"substr({row}.created_at, 1, 7)"
        return (
            f"INSERT INTO lead_cells ({columns}) VALUES (json_array({row}.source, {row}.stage, "
            f"{row}.reach, {row}.rating, {month}), {row}.source, {row}.stage, {row}.reach, "
            f"{row}.rating, {month}, {sign}1, {sign}coalesce({row}.value + 0.0, 0.0), "
            f"{sign}({row}.value IS NOT NULL), "
            f"{sign}coalesce(CAST(strftime('%s', {row}.created_at) AS INTEGER), 0)) {adds}; "
        )

    def emptied(row: str) -> str:
        return (
            f"DELETE FROM lead_cells WHERE key = json_array({row}.source, {row}.stage, "
            f"{row}.reach, {row}.rating, substr({row}.created_at, 1, 7)) AND leads = 0; "
        )

    db.execute(f"CREATE TRIGGER lead_cells_insert AFTER INSERT ON leads BEGIN {cell('new', '')}END")
    db.execute(
        "CREATE TRIGGER lead_cells_delete AFTER DELETE ON leads "
        f"BEGIN {cell('old', '-')}{emptied('old')}END"
    )
    watched = ("source", "stage", "reach", "rating", "created_at", "value")
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in watched)
    db.execute(
        f"CREATE TRIGGER lead_cells_update AFTER UPDATE OF {', '.join(watched)} ON leads "
        f"WHEN {changed} BEGIN {cell('old', '-')}{emptied('old')}{cell('new', '')}END"
    )
    db.execute(
        "CREATE TABLE stage_stay_totals (stage TEXT PRIMARY KEY, stays INTEGER NOT NULL, "
        "seconds INTEGER NOT NULL) WITHOUT ROWID"
    )
    db.execute(
        "INSERT INTO stage_stay_totals (stage, stays, seconds) "
        "SELECT ifnull(stage, ''), count(*), sum(seconds) FROM stage_stays GROUP BY 1"
    )

    def stay(row: str, sign: str) -> str:
        return (
            "INSERT INTO stage_stay_totals (stage, stays, seconds) "
            f"VALUES (ifnull({row}.stage, ''), {sign}1, {sign}{row}.seconds) "
            "ON CONFLICT (stage) DO UPDATE SET stays = stays + excluded.stays, "
            "seconds = seconds + excluded.seconds; "
        )

    db.execute(
        "CREATE TRIGGER stage_stays_total_insert AFTER INSERT ON stage_stays "
        f"BEGIN {stay('new', '')}END"
    )
    db.execute(
        "CREATE TRIGGER stage_stays_total_delete AFTER DELETE ON stage_stays "
        f"BEGIN {stay('old', '-')}END"
    )
    db.execute(
        "CREATE TRIGGER stage_stays_total_update AFTER UPDATE OF stage, seconds ON stage_stays "
        f"BEGIN {stay('old', '-')}{stay('new', '')}END"
    )
    db.execute("CREATE INDEX leads_lost_reason ON leads (lost_reason) WHERE stage = 'lost'")
    db.execute("DROP INDEX leads_cohort")


def m016_first_contact_unknown(db: Database) -> None:
    """``leads.contact_unknown``: the lead was worked before it came to leadcli (an import's
    "Working - Contacted" or a stage past ``lead``), at a time nobody recorded.

    Imports used to date such a first contact at the lead's creation, so `report response`
    showed a source "100 % < 1 h" and a median of 0.0 h that no one achieved. Now the
    first-contact time stays empty and this flag says the lead was contacted all the same:
    `due` does not list it as never contacted, and `report response` counts it as "unknown",
    outside the response-time medians.

    Leads that an import dated so are found by their trace: a first contact at the very
    second of creation with no outbound activity at that time (a touch logged with
    `leadcli log` is an activity). The indexes whose condition reads the first contact
    (``leads_new``, ``leads_new_by_score``, ``leads_response_time``,
    ``leads_response_time_by_source``) are rebuilt with the flag in their condition, and
    ``leads_contact_unknown`` counts the flagged leads per source.
    """
    db.execute("ALTER TABLE leads ADD COLUMN contact_unknown INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "UPDATE leads SET contact_unknown = 1, first_contacted_at = NULL "
        "WHERE first_contacted_at IS NOT NULL AND first_contacted_at = created_at "
        "AND NOT EXISTS (SELECT 1 FROM activities AS a WHERE a.lead_id = leads.id "
        "AND a.inbound = 0 AND a.at = leads.first_contacted_at)"
    )
    uncontacted = (
        "WHERE first_contacted_at IS NULL AND contact_unknown = 0 AND do_not_contact = 0 "
        "AND stage NOT IN ('customer', 'lost')"
    )
    db.execute("DROP INDEX leads_new")
    db.execute("DROP INDEX leads_new_by_score")
    db.execute(
        "CREATE INDEX leads_new ON leads (created_at, next_follow_up_at, score, stage, "
        f"do_not_contact, first_contacted_at) {uncontacted}"
    )
    db.execute(
        "CREATE INDEX leads_new_by_score ON leads (stage, score DESC, created_at, "
        f"next_follow_up_at, do_not_contact, first_contacted_at) {uncontacted}"
    )
    response_time = (
        "max(0, CAST(round((julianday(first_contacted_at) - julianday(created_at)) * 86400) "
        "AS INTEGER))"
    )
    timed = "first_contacted_at IS NOT NULL AND contact_unknown = 0"
    db.execute("DROP INDEX leads_response_time")
    db.execute("DROP INDEX leads_response_time_by_source")
    db.execute(
        f"CREATE INDEX leads_response_time ON leads ({response_time}, created_at, "
        f"first_contacted_at) WHERE {timed}"
    )
    db.execute(
        f"CREATE INDEX leads_response_time_by_source ON leads (source, {response_time}, "
        f"created_at, first_contacted_at) WHERE {timed}"
    )
    db.execute("CREATE INDEX leads_contact_unknown ON leads (source) WHERE contact_unknown = 1")
    db.execute("DROP INDEX leads_report")
    db.execute(
        "CREATE INDEX leads_report ON leads (source, stage, reach, created_at, value, "
        "closed_at, first_contacted_at, owner, rating, lost_reason, contact_unknown)"
    )


def m017_cents(db: Database) -> None:
    """Value totals in ``lead_cells`` in whole cents (``cents INTEGER``), not REAL: a REAL
    total kept by adding and subtracting values drifts from a fresh sum in its last bits, so
    it can neither be checked (``doctor``) nor trusted to the cent.

    Each lead counts its value times 100, rounded half to even (as Python's ``round``), by
    a truncation and its exact remainder (SQLite's ``round()`` misrounds just below a half).
    The totals are counted afresh from the leads, not converted from the REAL ones, which
    may have drifted; the stays' totals are counted afresh too. The three triggers on
    ``leads`` are made again with the cents; their names stay (bulk writers drop them by
    name). The cents are written out here rather than read from ``leads.cells`` so that
    this step stays what it was when released.
    """
    x = "({0}.value * 100)"
    whole = f"CAST({x} AS INTEGER)"
    rest = f"({x} - {whole})"
    cents = f"({whole} + ({rest} > 0.5) - ({rest} < -0.5) + (abs({rest}) = 0.5) * ({whole} % 2))"
    for trigger in ("lead_cells_insert", "lead_cells_update", "lead_cells_delete"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE lead_cells")
    db.execute(
        """
        CREATE TABLE lead_cells (
            key TEXT PRIMARY KEY,
            source TEXT,
            stage TEXT,
            reach INTEGER,
            rating TEXT,
            month TEXT,
            leads INTEGER NOT NULL,
            cents INTEGER NOT NULL,
            valued INTEGER NOT NULL,
            created INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )
    columns = "key, source, stage, reach, rating, month, leads, cents, valued, created"
    adds = (
        "ON CONFLICT (key) DO UPDATE SET leads = leads + excluded.leads, "
        "cents = cents + excluded.cents, valued = valued + excluded.valued, "
        "created = created + excluded.created"
    )
    db.execute(
        f"INSERT INTO lead_cells ({columns}) "
        "SELECT json_array(source, stage, reach, rating, month), source, stage, reach, rating, "
        "month, count(*), CAST(total(cents) AS INTEGER), count(value), "
        "coalesce(sum(CAST(strftime('%s', created_at) AS INTEGER)), 0) FROM ("
        "SELECT source, stage, reach, rating, substr(created_at, 1, 7) AS month, value, "
        f"{cents.format('leads')} AS cents, created_at FROM leads) "
        "GROUP BY source, stage, reach, rating, month"
    )

    def cell(row: str, sign: str) -> str:
        month = f"substr({row}.created_at, 1, 7)"
        return (
            f"INSERT INTO lead_cells ({columns}) VALUES (json_array({row}.source, {row}.stage, "
            f"{row}.reach, {row}.rating, {month}), {row}.source, {row}.stage, {row}.reach, "
            f"{row}.rating, {month}, {sign}1, {sign}coalesce({cents.format(row)}, 0), "
            f"{sign}({row}.value IS NOT NULL), "
            f"{sign}coalesce(CAST(strftime('%s', {row}.created_at) AS INTEGER), 0)) {adds}; "
        )

    def emptied(row: str) -> str:
        return (
            f"DELETE FROM lead_cells WHERE key = json_array({row}.source, {row}.stage, "
            f"{row}.reach, {row}.rating, substr({row}.created_at, 1, 7)) AND leads = 0; "
        )

    db.execute(f"CREATE TRIGGER lead_cells_insert AFTER INSERT ON leads BEGIN {cell('new', '')}END")
    db.execute(
        "CREATE TRIGGER lead_cells_delete AFTER DELETE ON leads "
        f"BEGIN {cell('old', '-')}{emptied('old')}END"
    )
    watched = ("source", "stage", "reach", "rating", "created_at", "value")
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in watched)
    db.execute(
        f"CREATE TRIGGER lead_cells_update AFTER UPDATE OF {', '.join(watched)} ON leads "
        f"WHEN {changed} BEGIN {cell('old', '-')}{emptied('old')}{cell('new', '')}END"
    )
    db.execute("DELETE FROM stage_stay_totals")
    db.execute(
        "INSERT INTO stage_stay_totals (stage, stays, seconds) "
        "SELECT ifnull(stage, ''), count(*), sum(seconds) FROM stage_stays GROUP BY 1"
    )


def m018_outreach(db: Database) -> None:
    """The messages ``mail`` sent or drafted, by the Message-ID it made: so a reply captured
    later (In-Reply-To / References) finds its lead, and a second run of the same template
    sends nothing new the same day (lead, template, day). No lead data: a lead erased later
    leaves its message ids with no lead, as ``captured_messages`` does."""
    db.execute(
        """
        CREATE TABLE sent_messages (
            message_id TEXT PRIMARY KEY,
            lead_id INTEGER REFERENCES leads(id) ON DELETE SET NULL,
            template TEXT NOT NULL,
            day TEXT NOT NULL,  -- the local day it went (YYYY-MM-DD): once a day a template
            outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'drafted')),
            at TEXT NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX sent_messages_lead ON sent_messages (lead_id, template, day)")


#: Every step in order; the schema version is the number of steps applied.
MIGRATIONS: list[Callable[[Database], None]] = [
    m001_initial,
    m002_bant,
    m003_followups,
    m004_import_batches,
    m005_import_ranges,
    m006_cheap_checks,
    m007_identity,
    m008_scoring,
    m009_reports,
    m010_merges,
    m011_address,
    m012_capture,
    m013_privacy,
    m014_reports,
    m015_report_cells,
    m016_first_contact_unknown,
    m017_cents,
    m018_outreach,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(
    store: Store, *, target: int | None = None, before: Callable[[Store], None] | None = None
) -> int:
    """Apply pending steps (up to ``target``); return the resulting schema version.

    ``before`` is called once, holding the write lock, when a database that already has a
    schema is about to change (the CLI's automatic backup); never for a fresh one, and
    never by a process that finds another one has migrated it meanwhile."""
    target = SCHEMA_VERSION if target is None else target
    current = store.schema_version()
    if current > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database at {store.path} was written by a newer leadcli "
            f"(schema {current}, this one knows {SCHEMA_VERSION})",
            hint="upgrade leadcli: pip install -U leadcli",
        )
    if current >= target:
        return current
    from sqlite_utils import Database

    db = Database(store.conn, recursive_triggers=False)
    # A step may rebuild a table (drop, then rename a copy): with foreign keys on, dropping
    # the lead table would delete every tag and activity. The pragma only takes effect
    # outside a transaction; steps that rebuild check the references themselves.
    foreign_keys = store.conn.execute("PRAGMA foreign_keys").fetchone()[0]
    store.conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for number, step in enumerate(MIGRATIONS[:target], start=1):
            if number <= current:
                continue
            with store.write():
                if store.schema_version() >= number:  # another process got here first
                    continue
                if before is not None and current > 0:
                    before(store)  # an existing schema, about to change
                    before = None
                step(db)
                store.conn.execute(f"PRAGMA user_version = {number}")
    finally:
        store.conn.execute(f"PRAGMA foreign_keys = {foreign_keys}")
    return store.schema_version()
