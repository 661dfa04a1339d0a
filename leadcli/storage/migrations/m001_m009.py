"""Released schema steps m001 to m009, frozen: never edited (add a new step instead)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadcli.errors import DatabaseError

if TYPE_CHECKING:
    from sqlite_utils import Database

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
