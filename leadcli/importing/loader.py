"""Loading an import: one transaction, set-based SQL, every row accounted for.

Rows are validated a chunk at a time and stream straight into ``leads`` and the search index
(memory stays flat), inserted on a second thread while the next chunk is converted (by a
forked worker process for a big file, see ``worker``); indexes, duplicates and history are
then settled with a handful of set-based statements. New leads are
numbered on from the highest id in one contiguous range, so a batch is its first and last id
(ids skip the numbers of rows merged into other leads; ids were never promised to be dense).
Duplicates, usually few, are merged one by one.

Interrupted at any point (Ctrl-C, kill, crash), the transaction is not committed and the
database is as it was; the rejects file is only moved into place after the commit.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import json
import os
import queue
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from leadcli.engagement.cadences import end_enrolments
from leadcli.errors import LeadcliError, NotFound
from leadcli.importing import mapping as mapping_mod
from leadcli.importing.readers import ReadError, Table, open_table
from leadcli.importing.rows import EXTRA_COLUMNS, LEAD_FIELDS, RowConverter
from leadcli.importing.worker import PARALLEL_MIN_BYTES, can_fork, prepared_chunks
from leadcli.leads import history
from leadcli.leads.records import delete_leads, drop_trigger
from leadcli.pipeline.stages import CLOSED_STAGES, STAGES, rank
from leadcli.pipeline.transitions import change_stage, last_change_at
from leadcli.storage.migrations import FTS_COLUMNS
from leadcli.storage.store import Store
from leadcli.text import dates
from leadcli.text.safe_text import neutralise_formula

ON_DUPLICATE = ("merge", "skip", "update")
IMPORT_CACHE_KIB = 32768
#: Rows a multi-row INSERT carries: big enough that per-statement costs vanish.
ROWS_PER_STATEMENT = 500
#: How long (seconds) a thread may keep the GIL while the other waits, during the load.
SWITCH_INTERVAL = 0.0005
_KEYS = ("email", "phone", "external_id")


@dataclass
class ImportOptions:
    input_format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    maps: list[str] = field(default_factory=list)
    mapping_file: Path | None = None
    region: str = "US"
    keep_invalid: bool = False
    on_duplicate: str = "merge"
    rejects: Path | None = None
    dry_run: bool = False
    source: str | None = None
    tags: list[str] = field(default_factory=list)
    stage: str | None = None


@dataclass
class ImportSummary:
    file: str
    rows: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects_file: str | None = None
    batch: int | None = None
    already_imported_as: int | None = None
    dry_run: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read_source(path: str, stdin: IO[bytes] | None) -> tuple[str, str, IO[bytes] | None]:
    """(name, sha256, a stream for stdin or None for files): files are hashed in a first
    fast pass; stdin is read into memory once, since it cannot be read twice."""
    digest = hashlib.sha256()
    if path == "-":
        data = (stdin or sys.stdin.buffer).read()
        digest.update(data)
        return "-", digest.hexdigest(), io.BytesIO(data)
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ReadError.unopenable(path, exc) from None
    return path, digest.hexdigest(), None


def check_readable(paths: list[str]) -> None:
    """Fail before anything is written when a named file cannot be opened: a typo in the
    last of three names must not leave the first two imported."""
    for path in paths:
        if path != "-":
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                raise ReadError.unopenable(path, exc) from None


#: The counts that add up over several files' summaries.
COUNTS = ("rows", "imported", "updated", "duplicates", "rejected")


def combined_summary(summaries: list[ImportSummary]) -> dict[str, Any]:
    """Several files' summaries as one object: the totals (``rows`` still equals the sum of
    the others) and each file's own summary, with its rejects file, under ``files``."""
    totals: dict[str, Any] = {key: sum(getattr(s, key) for s in summaries) for key in COUNTS}
    rejects = [s.rejects_file for s in summaries if s.rejects_file]
    return {
        **totals,
        "rejects_file": rejects[0] if len(rejects) == 1 else None,
        "rejects_files": rejects,
        "files": [s.as_dict() for s in summaries],
    }


def default_rejects_path(source: str) -> Path:
    if source == "-":
        return Path.cwd() / "leadcli-rejects.csv"
    path = Path(source)
    return path.with_name(f"{path.stem}.rejects.csv")


class _Rejects:
    """The rejects CSV, written to a temporary name and moved into place on commit."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self.header = header
        self.count = 0
        self._handle: IO[str] | None = None
        self._writer: Any = None

    @property
    def tmp(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")

    def add(self, line: int, cells: list[str], reason: str) -> None:
        if self._writer is None:
            self._handle = open(self.tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._handle)
            self._writer.writerow([neutralise_formula(c) for c in [*self.header, "line", "reason"]])
        width = len(self.header)
        extra = cells[width:]
        if any(extra):  # keep them, without shifting line and reason out of their columns
            reason += " (cells past the header: " + json.dumps(extra, ensure_ascii=False) + ")"
        padded = (cells + [""] * width)[:width]
        self._writer.writerow([neutralise_formula(c) for c in padded] + [line, reason])
        self.count += 1

    def commit(self) -> str | None:
        if self._handle is None:
            return None
        self._handle.close()
        os.replace(self.tmp, self.path)
        return str(self.path)

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self.tmp.unlink(missing_ok=True)


class _DryRun(Exception):
    """Raised to roll a dry run back after everything was done."""


def import_file(
    store: Store,
    path: str,
    options: ImportOptions,
    *,
    stdin: IO[bytes] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import one file (or ``-``) as one batch, in one transaction."""
    name, sha256, buffered = _read_source(path, stdin)
    table = open_table(
        path,
        input_format=options.input_format,
        encoding=options.encoding,
        delimiter=options.delimiter,
        stdin=buffered,
    )
    targets = mapping_mod.build(
        table.header, mapping_mod.parse_overrides(options.maps, options.mapping_file)
    )
    summary = ImportSummary(
        file=name,
        dry_run=options.dry_run,
        encoding=table.encoding,
        delimiter=table.delimiter,
        notices=table.notices,
        mapping={c: t for c, t in zip(table.header, targets, strict=True) if c.strip()},
    )
    previous = store.conn.execute(
        "SELECT id FROM import_batches WHERE sha256 = ? AND undone_at IS NULL", (sha256,)
    ).fetchone()
    if previous:
        # The same bytes again: nothing to do, and saying so beats re-merging every row.
        summary.rows = summary.duplicates = sum(1 for _ in table.rows)
        summary.already_imported_as = previous[0]
        return summary
    converter = RowConverter(
        table.header,
        targets,
        region=options.region,
        keep_invalid=options.keep_invalid,
        source=options.source,
        tags=options.tags,
        stage=options.stage,
    )
    rejects = _Rejects(options.rejects or default_rejects_path(name), table.header)
    size = table.byte_count or (len(buffered.getbuffer()) if buffered else 0)
    try:
        with _import_settings(store.conn), store.write() as conn:
            load = _Load(conn, converter, options, summary)
            load.begin(name, sha256, size)
            load.stream(table, rejects, progress)
            load.finish()
            summary.rejected = rejects.count
            if options.dry_run:
                raise _DryRun
            summary.rejects_file = rejects.commit()
            conn.execute(
                "UPDATE import_batches SET rejected = ?, rejects_file = ? WHERE id = ?",
                (summary.rejected, summary.rejects_file, summary.batch),
            )
    except _DryRun:
        rejects.discard()
        summary.batch = None
    except BaseException:
        rejects.discard()
        raise
    assert (
        summary.rows == summary.imported + summary.updated + summary.duplicates + summary.rejected
    )
    return summary


@contextlib.contextmanager
def _import_settings(conn: sqlite3.Connection) -> Iterator[None]:
    """The connection's settings for an import, and back to what they were after it.

    A load into a big table keeps its indexes and rewrites their pages at random (email,
    phone ...), and merges look leads up: a 32 MB page cache for the database and for
    temporary tables instead of the default 2 MB cuts the I/O. The file is read through
    ``read`` rather than a memory map: mapped, every page of a big database an import
    touches would count in its memory (300 MB re-importing a million leads), for no speed.
    """
    pragmas = ("main.cache_size", "temp.cache_size", "mmap_size")
    before = {p: conn.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas}
    conn.execute(f"PRAGMA main.cache_size = -{IMPORT_CACHE_KIB}")
    conn.execute(f"PRAGMA temp.cache_size = -{IMPORT_CACHE_KIB}")
    conn.execute("PRAGMA mmap_size = 0")
    try:
        yield
    finally:
        for pragma, value in before.items():
            conn.execute(f"PRAGMA {pragma} = {value}")


#: A file at least this big, with at least as many rows as the table holds leads, is loaded
#: with the indexes dropped and rebuilt after: one sorted build costs several times less
#: than a million random index insertions.
BULK_MIN_BYTES = 1 << 20
#: ...except indexes a load only appends to, kept up as rows come in (on the inserting thread,
#: where that overlaps with converting): a new lead goes to the end of its stage's run (ids
#: grow), a new lead has no activity (so never enters the quiet-lead index), and its events
#: follow the last lead's.
KEPT_DURING_BULK = frozenset({"leads_stage", "leads_quiet", "history_lead"})
#: The indexes duplicates are found with (one per key in ``_KEYS``).
_KEY_INDEXES = frozenset({"leads_email", "leads_phone", "leads_external_id"})
#: Fewer bytes than any real lead row takes: a file's size over this bounds its row count.
MIN_ROW_BYTES = 100


class _Load:
    """One import inside its transaction.

    Rows stream straight into ``leads`` as multi-row ``INSERT ... VALUES`` statements that
    bind only the columns the file can fill: per statement, not per row, is where SQLite
    spends its fixed costs. The search index follows chunk by chunk. New leads are numbered
    as they come, so the statement carries each lead's id and nothing has to look it up.
    Then, set-based: indexes, duplicates and history; the duplicates are merged into their
    leads (one by one where they bring something) and their rows deleted again (the search
    index must hold them by then: deleting a row it lacks corrupts it).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        converter: RowConverter,
        options: ImportOptions,
        summary: ImportSummary,
    ) -> None:
        self.conn = conn
        self.converter = converter
        self.options = options
        self.summary = summary
        self.now = dates.now_text()
        # Only the lead fields the file maps (or --source sets) are bound; the rest are NULL.
        self.fields = converter.fields
        self.keys = [k for k in _KEYS if k in self.fields]
        self.floor = conn.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'leads'), 0), "
            "coalesce((SELECT max(id) FROM leads), 0))"
        ).fetchone()[0]
        self.batch = 0
        self.size = 0
        self.tuned_search = False
        self.inserted = 0
        self.reason = ""
        self.fts_insert_trigger = ""
        self.bulk = False
        #: Dropped indexes to build again: first those finding duplicates needs, then (once
        #: the rows merged away are gone) the other lead indexes, and the history ones.
        self.rebuild_keys: list[str] = []
        self.rebuild_leads: list[str] = []
        self.rebuild_history: list[str] = []

    def begin(self, name: str, sha256: str, size: int) -> None:
        """Record the batch, and choose between index upkeep and a rebuild after the load."""
        options = self.options
        self.batch = self.conn.execute(
            "INSERT INTO import_batches (file_name, sha256, imported_at, rows, imported, "
            "updated, duplicates, rejected, mapping, options, last_history_id) "
            "VALUES (?, ?, ?, 0, 0, 0, 0, 0, ?, ?, 0)",
            (
                name,
                sha256,
                self.now,
                json.dumps(self.summary.mapping, ensure_ascii=False),
                json.dumps(
                    {
                        "on_duplicate": options.on_duplicate,
                        "source": options.source,
                        "stage": options.stage,
                        "tags": options.tags,
                        "region": options.region,
                    }
                ),
            ),
        ).lastrowid
        self.summary.batch = self.batch
        self.size = size
        self.reason = history.import_reason(self.batch, name)
        rows_at_most = size // MIN_ROW_BYTES
        if size >= BULK_MIN_BYTES:
            leads = self.conn.execute("SELECT count(*) FROM leads").fetchone()[0]
            if rows_at_most >= leads:
                self.bulk = True
                dropped = _drop_indexes(self.conn, "leads")
                self.rebuild_keys = [sql for name, sql in dropped if name in _KEY_INDEXES]
                self.rebuild_leads = [sql for name, sql in dropped if name not in _KEY_INDEXES]
            events = self.conn.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0]
            if 2 * rows_at_most >= events:
                self.bulk = True
                self.rebuild_history = [sql for _, sql in _drop_indexes(self.conn, "history")]
            self.tuned_search = True
            _tune_search_index(self.conn, bulk=True)
        # The search index is filled chunk by chunk (see stream), not by a trigger row by row.
        self.fts_insert_trigger = drop_trigger(self.conn, "leads_fts_ai")

    @functools.cache  # noqa: B019 - one loader per import; a handful of sizes
    def _insert_sql(self, rows: int) -> str:
        marks = ", ".join("coalesce(?, 0)" if f == "do_not_contact" else "?" for f in self.fields)
        one = f"(?, {marks}, ?, ?, ?, ?, '{self.now}')"
        return (
            f"INSERT INTO leads (id, {', '.join(self.fields)}, {', '.join(EXTRA_COLUMNS)}, "
            f"updated_at) VALUES " + ", ".join([one] * rows)
        )

    def stream(
        self,
        table: Table,
        rejects: _Rejects,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        """Convert and insert every row; rejected rows go to the rejects file."""
        conn, floor = self.conn, self.floor
        width = len(self.fields) + len(EXTRA_COLUMNS) + 1
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per_statement = max(1, min(ROWS_PER_STATEMENT, limit // width))
        tags: list[tuple[int, str]] = []
        rows = statements = 0
        cols = ", ".join(FTS_COLUMNS)
        # The search index is filled chunk by chunk on the inserting thread too, where SQLite
        # works without the GIL while the next rows are being made ready.
        index = f"INSERT INTO leads_fts (rowid, {cols}) SELECT id, {cols} FROM leads WHERE id > ?"
        indexed = last_id = floor
        # Forked (when it is) before the inserting thread starts.
        chunks = prepared_chunks(
            table.rows,
            self.converter.convert,
            per_statement,
            floor + 1,
            table.bytes_read,
            parallel=self.size >= PARALLEL_MIN_BYTES and can_fork(),
        )
        # closing: a failure here (or Ctrl-C) ends the worker now, not when the frame goes.
        with contextlib.closing(chunks), _Inserter(conn) as inserter:
            for chunk in chunks:
                rows += chunk.rows
                for line, cells, reason in chunk.rejects:
                    rejects.add(line, cells, reason)
                if not chunk.count:
                    continue
                inserter.submit(self._insert_sql(chunk.count), chunk.params)
                tags.extend(chunk.tags)
                self.inserted += chunk.count
                last_id = chunk.first_id + chunk.count - 1
                statements += 1
                if statements % 10 == 0:
                    inserter.submit(index + " AND id <= ?", [indexed, last_id])
                    indexed = last_id
                    if progress and chunk.bytes_read:
                        progress(chunk.bytes_read, rows)
            inserter.submit(index, [indexed])
        conn.executemany("INSERT OR IGNORE INTO lead_tags (lead_id, tag) VALUES (?, ?)", tags)
        self.summary.rows = rows
        if progress and table.bytes_read:
            progress(self.size, rows)

    def finish(self) -> None:
        """Indexes, duplicates, history, merges, and the batch's counts."""
        with _index_builds(self.conn, self.bulk):
            duplicates = self._find_and_record()
        # Merged with the page cache the load uses (each looks up its lead), before the
        # indexes only the finished table needs are built.
        self.summary.imported = self.inserted - duplicates
        if duplicates:
            self._merge_duplicates(duplicates)
        with _index_builds(self.conn, self.bulk):
            for sql in self.rebuild_leads:
                self.conn.execute(sql)
        self._count()

    def _find_and_record(self) -> int:
        """Build the indexes duplicates are found with, find them (returning how many), and
        record the stages the file gives in history."""
        conn, floor = self.conn, self.floor
        for sql in self.rebuild_keys:
            conn.execute(sql)
        duplicates = self._find_duplicates()
        conn.execute(self.fts_insert_trigger)
        # A file that says where a lead stands (status, converted) is history from elsewhere,
        # recorded when the file says it happened. An open stage is the stage the lead was
        # created in; a closed one is a move from prospect at its close date. The creation
        # itself is not a row per lead: the batch (its id range) and the lead's own
        # created_at record it, and `history.for_lead` shows it (see there).
        conn.execute(
            f"INSERT INTO history (lead_id, at, event, changes, reason) "
            f"SELECT id, closed_at, 'stage', {_stage_change_sql(_CLOSED_FROM_PROSPECT)}, 'import' "
            # "+stage": a scan of the new id range, not the stage index and a sort.
            f"FROM leads WHERE id > ? AND +stage IN ('customer', 'lost') "
            f"AND id NOT IN (SELECT id FROM temp.import_dups) ORDER BY id",
            (floor,),
        )
        for sql in self.rebuild_history:
            conn.execute(sql)
        if self.tuned_search:
            _tune_search_index(conn, bulk=False)
        return duplicates

    def _count(self) -> None:
        """Record the batch's counts and id range."""
        conn, floor, summary = self.conn, self.floor, self.summary
        conn.execute(
            "UPDATE import_batches SET rows = ?, imported = ?, updated = ?, duplicates = ?, "
            "first_lead_id = CASE WHEN ? THEN ? + 1 END, "
            "last_lead_id = CASE WHEN ? THEN (SELECT max(id) FROM leads) END, "
            "last_history_id = (SELECT coalesce(max(id), 0) FROM history) WHERE id = ?",
            (
                summary.rows,
                summary.imported,
                summary.updated,
                summary.duplicates,
                summary.imported,
                floor,
                summary.imported,
                self.batch,
            ),
        )
        # Rows merged away gave their ids back: the next lead continues after the highest one
        # this import kept, and never reuses an id that existed before it (AUTOINCREMENT).
        conn.execute(
            "UPDATE sqlite_sequence SET seq = max(?, (SELECT coalesce(max(id), 0) FROM leads)) "
            "WHERE name = 'leads'",
            (floor,),
        )
        conn.execute("DROP TABLE temp.import_dups")

    def _find_duplicates(self) -> int:
        """Fill ``temp.import_dups`` with each new lead that shares an email, phone or
        external id with an older lead (in the database, or earlier in the file), and the
        oldest such lead; return how many."""
        conn = self.conn
        conn.execute("DROP TABLE IF EXISTS temp.import_dups")
        conn.execute(
            "CREATE TEMP TABLE import_dups (id INTEGER PRIMARY KEY, first INTEGER NOT NULL)"
        )
        if not self.keys:
            return 0
        if self.bulk:
            # Most of the table is new: one pass over each key's index, grouping equal values,
            # beats an index seek per new lead.
            for k in self.keys:
                conn.execute(
                    f"INSERT INTO temp.import_dups (id, first) SELECT n.id, g.first "
                    f"FROM (SELECT {k} AS value, min(id) AS first FROM leads "
                    f"WHERE {k} IS NOT NULL GROUP BY {k} HAVING count(*) > 1) AS g "
                    f"JOIN leads AS n ON n.{k} = g.value AND n.id > g.first "
                    f"WHERE n.id > ? "
                    f"ON CONFLICT (id) DO UPDATE SET first = min(first, excluded.first)",
                    (self.floor,),
                )
        else:
            # A few new leads in a big table: one index seek per key and new lead.
            probes = ", ".join(
                f"coalesce((SELECT min(o.id) FROM leads AS o WHERE o.{k} = n.{k}), n.id)"
                for k in self.keys
            )
            first = f"min({probes})" if len(self.keys) > 1 else probes
            conn.execute(
                f"INSERT INTO temp.import_dups (id, first) SELECT id, first FROM "
                f"(SELECT n.id AS id, {first} AS first FROM leads AS n WHERE n.id > ?) "
                f"WHERE first < id",
                (self.floor,),
            )
        return conn.execute("SELECT count(*) FROM temp.import_dups").fetchone()[0]

    def _merge_duplicates(self, count: int) -> None:
        """Apply ``--on-duplicate`` to each duplicate row, in file order, then delete the rows
        they were loaded as (their tags go with them).

        A nightly re-import is mostly rows that change nothing. Under ``skip`` none does;
        under ``merge``, which only ever fills, adds, advances or closes, a row that brings
        its lead nothing new brings it nothing whatever else is merged into that lead first.
        Those are counted in one statement and only the others are merged one by one (under
        ``update`` every row is, since a later row may undo an earlier one).
        """
        conn, summary, policy = self.conn, self.summary, self.options.on_duplicate
        if policy == "skip":
            summary.duplicates += count
            delete_leads(conn, "id IN (SELECT id FROM temp.import_dups)")
            return
        conn.execute("DROP TABLE IF EXISTS temp.import_same")
        conn.execute("CREATE TEMP TABLE import_same (id INTEGER PRIMARY KEY)")
        if policy == "merge":
            conn.execute(f"INSERT INTO temp.import_same (id) {_BRINGS_NOTHING}")
        summary.duplicates += conn.execute("SELECT count(*) FROM temp.import_same").fetchone()[0]
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
            row = conn.execute("SELECT * FROM leads WHERE id = ?", (dup_id,)).fetchone()
            tags = [
                t for (t,) in conn.execute("SELECT tag FROM lead_tags WHERE lead_id = ?", (dup_id,))
            ]
            if _merge_one(conn, target, row, tags, policy, self.now, self.reason):
                summary.updated += 1
            else:
                summary.duplicates += 1
        conn.execute("DROP TABLE temp.import_same")
        delete_leads(conn, "id IN (SELECT id FROM temp.import_dups)")


class _Inserter:
    """Runs the load's INSERT statements on a second thread.

    SQLite releases the GIL while it executes a statement, so getting the next rows ready
    (converting them, or receiving them from the worker) and inserting the previous ones
    overlap. Statements run in order on one connection, never two at once; an error in one
    stops the rest and is raised here.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.queue: queue.Queue[tuple[str, list[Any]] | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="leadcli-insert", daemon=True)

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.conn.execute(*item)
                except BaseException as exc:  # handed to the caller's thread
                    self.error = exc

    def submit(self, sql: str, params: list[Any]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((sql, params))

    def __enter__(self) -> _Inserter:
        # The thread making rows ready would otherwise keep the GIL up to 5 ms after each
        # insert finished, leaving the inserting thread idle.
        self.interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.queue.put(None)  # after the statements already queued: they finish first
        self.thread.join()
        sys.setswitchinterval(self.interval)
        if self.error is not None and exc_info[0] is None:
            raise self.error


def _stage_change_sql(changes: dict[str, list[str | None]]) -> str:
    """SQL for a history row's ``changes``, picked by the row's stage among literal JSON
    texts: several times cheaper than building a JSON object for each of a million rows."""
    cases = " ".join(
        f"WHEN '{stage}' THEN '{json.dumps({'stage': change})}'"
        for stage, change in changes.items()
    )
    return f"CASE stage {cases} END"


#: An imported lead the file closed moves from prospect to its closed stage at its close date.
_CLOSED_FROM_PROSPECT = {s: ["prospect", s] for s in CLOSED_STAGES}


def _brings_nothing_sql() -> str:
    """The duplicate rows a merge (see ``_merge_one``) would not change their lead with, read
    against the lead they point to: no value for a field the lead has empty, no opt-out the
    lead lacks, no stage it would move to, no tag it lacks, no custom fields (those are left
    to ``_merge_one``). A row pointing to another duplicate is left to it too."""
    closed = ", ".join(f"'{s}'" for s in CLOSED_STAGES)
    ranks = " ".join(f"WHEN '{s}' THEN {rank(s)}" for s in STAGES)
    fills = " AND ".join(
        f"(n.{f} IS NULL OR n.{f} = '' OR NOT (o.{f} IS NULL OR o.{f} = ''))"
        for f in LEAD_FIELDS
        if f != "do_not_contact"
    )
    return (
        "SELECT d.id FROM temp.import_dups AS d "
        "JOIN leads AS n ON n.id = d.id JOIN leads AS o ON o.id = d.first "
        "WHERE d.first NOT IN (SELECT id FROM temp.import_dups) AND n.custom IS NULL "
        f"AND {fills} AND NOT (n.do_not_contact = 1 AND o.do_not_contact = 0) "
        f"AND (n.stage = o.stage OR o.stage IN ({closed}) OR (n.stage NOT IN ({closed}) "
        f"AND CASE n.stage {ranks} END <= CASE o.stage {ranks} END)) "
        # lead_tags.tag compares without case, as _merge_one does (ASCII only: a non-ASCII
        # tag differing in case goes to _merge_one, which is only slower)
        "AND NOT EXISTS (SELECT 1 FROM lead_tags AS t WHERE t.lead_id = n.id AND NOT EXISTS "
        "(SELECT 1 FROM lead_tags AS u WHERE u.lead_id = o.id AND u.tag = t.tag))"
    )


_BRINGS_NOTHING = _brings_nothing_sql()


#: FTS5's settings for a bulk load, and the defaults they go back to: the terms of 16 MB of
#: text gathered in memory before they are written (1 MB by default) and no merging of the
#: segments written meanwhile (FTS5 still merges if 16 pile up) cut the search index's share
#: of a million-row import by a fifth. ``hashsize`` is read by FTS5 like the documented
#: options, though not documented itself.
_SEARCH_INDEX_SETTINGS = {
    True: {"hashsize": 16 << 20, "automerge": 0},
    False: {"hashsize": 1 << 20, "automerge": 4},
}


#: Page cache (KiB) while a bulk load's indexes are rebuilt and its duplicates found. SQLite
#: sorts an index's keys in runs the size of the page cache, on helper threads when it may
#: use them, and merges the runs: small runs spread over two cores make this part of a
#: million-row import about a quarter faster than the 32 MB cache the load itself uses.
INDEX_BUILD_CACHE_KIB = 2048


@contextlib.contextmanager
def _index_builds(conn: sqlite3.Connection, building: bool) -> Iterator[None]:
    """Sort with helper threads and a small cache while indexes are rebuilt, then go back."""
    if not building:
        yield
        return
    cache = conn.execute("PRAGMA main.cache_size").fetchone()[0]
    conn.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
    conn.execute(f"PRAGMA main.cache_size = -{INDEX_BUILD_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute("PRAGMA threads = 0")
        conn.execute(f"PRAGMA main.cache_size = {cache}")


def _tune_search_index(conn: sqlite3.Connection, *, bulk: bool) -> None:
    """Written to the index's own settings, in the import's transaction like the rest."""
    for name, value in _SEARCH_INDEX_SETTINGS[bulk].items():
        conn.execute("INSERT INTO leads_fts (leads_fts, rank) VALUES (?, ?)", (name, value))


def _drop_indexes(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """Drop ``table``'s own indexes (but those ``KEPT_DURING_BULK``) and return their names
    and the statements that rebuild them; all inside the import's transaction, so an
    interrupted import leaves them as they were."""
    indexes = [
        (name, sql)
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
        if name not in KEPT_DURING_BULK
    ]
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return indexes


def _merge_one(
    conn: sqlite3.Connection,
    lead_id: int,
    row: sqlite3.Row,
    tags: list[str],
    policy: str,
    now: str,
    reason: str,
) -> bool:
    """Merge (fill empty fields, union tags, keep the more advanced stage) or update
    (non-empty values win) the duplicate ``row`` into lead ``lead_id``; return whether
    anything changed."""
    lead = conn.execute("SELECT * FROM leads WHERE id = ?", (lead_id,)).fetchone()
    changes: dict[str, list[Any]] = {}
    for name in LEAD_FIELDS:
        new, old = row[name], lead[name]
        if name == "do_not_contact":
            # An opt-out from any source holds, whatever the policy; one is never undone here.
            if new and not old:
                changes[name] = [False, True]
        elif new not in (None, "") and (
            (policy == "update" and new != old) or (policy == "merge" and old in (None, ""))
        ):
            changes[name] = [old, new]
    custom = json.loads(lead["custom"]) if lead["custom"] else {}
    extra = json.loads(row["custom"]) if row["custom"] else {}
    merged_custom = {**extra, **custom} if policy == "merge" else {**custom, **extra}
    if merged_custom != custom:
        changes["custom"] = [custom, merged_custom]
    if changes:
        sets = {k: v[1] for k, v in changes.items()}
        if "custom" in sets:
            sets["custom"] = json.dumps(merged_custom, ensure_ascii=False)
        assignments = ", ".join(f"{k} = ?" for k in sets)
        conn.execute(
            f"UPDATE leads SET {assignments}, updated_at = ? WHERE id = ?",
            (*sets.values(), now, lead_id),
        )
    old_tags = {
        t.lower()
        for (t,) in conn.execute("SELECT tag FROM lead_tags WHERE lead_id = ?", (lead_id,))
    }
    added = [t for t in dict.fromkeys(tags) if t.lower() not in old_tags]
    if added:
        conn.executemany(
            "INSERT OR IGNORE INTO lead_tags (lead_id, tag) VALUES (?, ?)",
            [(lead_id, t) for t in added],
        )
        changes["tags"] = [None, added]
    if changes:
        history.record(conn, lead_id, "merged", changes, reason=reason, at=now)
    if changes.get("do_not_contact"):
        end_enrolments(conn, lead_id, "do not contact", now)
    stage = row["stage"]
    if (
        stage != lead["stage"]
        and lead["stage"] not in CLOSED_STAGES
        and (rank(stage) > rank(lead["stage"]) or stage in CLOSED_STAGES)
    ):
        # When the file says it happened, unless that is before the lead's own last move.
        said = row["closed_at"] if stage in CLOSED_STAGES else row["created_at"]
        at = max(said, last_change_at(conn, lead_id, lead["created_at"]))
        change_stage(conn, dict(lead), stage, reason="import", at=at)
        changes["stage"] = [lead["stage"], stage]
    return bool(changes)


@dataclass
class UndoResult:
    batch: int
    removed: list[int]
    kept: list[int]


def undo_batch(store: Store, batch_id: int) -> UndoResult:
    """Remove the leads a batch created, except those changed since (which are kept and
    listed). Their history stays (it is append-only) with an "erased" entry added."""
    now = dates.now_text()
    with store.write() as conn:
        batch = conn.execute(
            "SELECT last_history_id, undone_at, first_lead_id, last_lead_id "
            "FROM import_batches WHERE id = ?",
            (batch_id,),
        ).fetchone()
        if batch is None:
            raise NotFound(f"no import batch {batch_id}", hint="`leadcli imports` lists them")
        if batch["undone_at"]:
            raise LeadcliError(f"import batch {batch_id} was already undone")
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
            "reason": f"import #{batch_id} undone",
        }
        conn.execute("DROP TABLE IF EXISTS temp.undo_kept")
        conn.execute(
            "CREATE TEMP TABLE undo_kept AS SELECT DISTINCT lead_id AS id FROM history "
            f"WHERE id > :since AND {member.format(id='lead_id')}",
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
            f"SELECT id, :now, 'erased', NULL, :reason FROM leads WHERE {removed_where} "
            "ORDER BY id",
            params,
        )
        delete_leads(conn, removed_where, params)
        conn.execute("UPDATE import_batches SET undone_at = ? WHERE id = ?", (now, batch_id))
        conn.execute("DROP TABLE temp.undo_kept")
    return UndoResult(batch_id, removed, kept)


def list_batches(store: Store) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in store.conn.execute(
            "SELECT id, file_name, imported_at, rows, imported, updated, duplicates, rejected,"
            " rejects_file, sha256, undone_at FROM import_batches ORDER BY id"
        )
    ]
