"""Released schema steps m010 to m017, frozen: never edited (add a new step instead)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


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
