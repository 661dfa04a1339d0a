"""Loading an import: one transaction, set-based SQL, every row accounted for.

Rows are validated a chunk at a time and stream straight into ``leads`` and the search index
(memory stays flat), inserted on a second thread while the next chunk is converted (by a
forked worker process for a big file, see ``worker``), each lead scored by the INSERT that
creates it (``scoring.apply.fresh_insert_sql``); indexes, duplicates and history are then
settled with a handful of set-based statements, and only leads merges changed are scored
again. New leads are
numbered on from the highest id in one contiguous range, so a batch is its first and last id
(ids skip the numbers of rows merged into other leads; ids were never promised to be dense).
Duplicates, usually few, are merged one by one.

Interrupted at any point (Ctrl-C, kill, crash), the transaction is not committed and the
database is as it was; the rejects file is only moved into place after the commit.

Each input is read once (a regular file may be hashed in a cheap first pass): pipes, FIFOs,
``/dev/stdin`` and ``<(...)`` are hashed while they load. The same bytes imported again with
the same options that shape the result are reported as already imported (checked before the
load for a regular file, after it, and rolled back, for anything else); ``again`` forces it.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import json
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from leadcli.errors import LeadcliError
from leadcli.identity.evidence import DEFAULT_LISTS, Lists
from leadcli.importing import duplicates as duplicates_mod
from leadcli.importing import mapping as mapping_mod
from leadcli.importing.readers import ReadError, Table, is_regular_file, open_table
from leadcli.importing.rows import EXTRA_COLUMNS, Evidence, RowConverter
from leadcli.importing.worker import Chunks, null_if_missing, prepared_chunks
from leadcli.leads import cells, history
from leadcli.leads.records import drop_trigger
from leadcli.pipeline.stages import CLOSED_STAGES, CLOSED_STAGES_SQL, FIRST_STAGE
from leadcli.privacy.suppression import Suppressions, lift
from leadcli.storage.bulk import drop_indexes, index_builds
from leadcli.storage.migrations import FTS_COLUMNS
from leadcli.storage.store import Store
from leadcli.text import dates, numbers
from leadcli.text.safe_text import neutralise_formula, printable_path, strip_controls

ON_DUPLICATE = ("merge", "skip", "update")
IMPORT_CACHE_KIB = 32768
#: Rows a multi-row INSERT carries: big enough that per-statement costs vanish.
ROWS_PER_STATEMENT = 500


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
    #: Import even when the same bytes were imported with the same options before.
    again: bool = False
    #: Convert rows in a forked worker process (see ``worker``): the application's choice
    #: (the CLI's for a big regular file, when ``worker.can_fork()``), never the library's.
    parallel: bool = False
    #: The system the file's external ids come from; None: the layout detected, if any.
    system: str | None = None
    #: Role addresses and placeholders (``identity.*`` in the config).
    lists: Lists = DEFAULT_LISTS
    #: ``import --stage``: the stage of rows the file gives none for.
    stage: str | None = None
    #: ``import --closed-if-not-converted``: the file is closed history, so a row its
    #: converted column says was not converted is a lost lead (see ``rows.RowConverter``).
    closed_if_not_converted: bool = False
    #: Import rows of people erased with ``forget`` (they came back by their own choice),
    #: lifting their suppression, instead of counting them as ``suppressed``.
    allow_suppressed: bool = False
    #: Scores the leads the import created or changed, in its transaction (a
    #: ``scoring.apply.Scorer``; the CLI builds it from the config). None: leave scores.
    scorer: Any = None
    #: How numbers and dates whose cells fit two readings are read when their column does
    #: not decide (``1.500``, ``03/11/2026``): the locale's way (None: the environment's,
    #: ``text.numbers.environment_locale``).
    locale: str | None = None
    #: Ambiguous dates day first (True) or month first (False); None: as ``locale`` writes.
    day_first: bool | None = None
    #: A CSV listing every cell that could not be read (line, column, cell, why).
    report_cells: Path | None = None
    #: The matching rules possible duplicates are scored with (``identity.matcher.Rules``;
    #: the CLI loads the user's, as `dedupe` does). None: the built-in rules.
    matching: Any = None


@dataclass
class ImportSummary:
    file: str
    rows: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    #: Rows of people erased with ``forget`` (the suppression list), left out.
    suppressed: int = 0
    #: Of ``imported``: new leads that share a phone, a role address or another system's id
    #: with a lead without being that person on evidence, recorded for `dedupe`.
    possible_duplicates: int = 0
    #: Cells (of imported and rejected rows alike) that lost control or invisible characters
    #: on the way in (``safe_text.strip_controls``); not a count of rows.
    cleaned: int = 0
    #: Phone cells that are no valid number in their row's region (its country, else the
    #: import's), kept exactly as written rather than rewritten into another country's format.
    phones_kept_as_written: int = 0
    system: str | None = None
    rejects_file: str | None = None
    batch: int | None = None
    already_imported_as: int | None = None
    dry_run: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    #: One entry per column whose cells were interpreted: ``{"column", "field", "reading",
    #: "cells"}`` (``Amount``, ``value``, ``decimal comma``, 412). Any part of the import may
    #: append its own (phones kept as written ...).
    interpretations: list[dict[str, Any]] = field(default_factory=list)
    #: Cells of imported rows that could not be read as their field (a number, a date):
    #: kept as custom fields, listed in ``cells_report`` when one was asked for.
    unread: int = 0
    cells_report: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hash_file(path: str) -> str:
    """The SHA-256 of a regular file, read in a first fast pass (it can be read again)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ReadError.unopenable(path, exc) from None
    return digest.hexdigest()


def _shape(options: ImportOptions, table: Table, system: str | None) -> dict[str, Any]:
    """What, besides the bytes and the mapping (which --map and --mapping decide), decides an
    import's result: the same bytes with any of it different are a new import. Recorded in
    the batch's ``options``."""
    return {
        "on_duplicate": options.on_duplicate,
        "source": options.source,
        "stage": options.stage,
        "closed_if_not_converted": options.closed_if_not_converted,
        "tags": options.tags,
        "region": options.region,
        "keep_invalid": options.keep_invalid,
        "input_format": table.input_format,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "system": system,
        "locale": options.locale,
        "day_first": options.day_first,
    }


def _earlier_import(
    conn: sqlite3.Connection, sha256: str, mapping: dict[str, str], shape: dict[str, Any]
) -> tuple[int | None, int | None]:
    """(the batch that imported these bytes with the same mapping and options, the latest
    that imported them otherwise): batches recorded before an option was kept compare on
    the options they kept."""
    same = other = None
    for batch, kept_mapping, kept_options in conn.execute(
        "SELECT id, mapping, options FROM import_batches "
        "WHERE sha256 = ? AND undone_at IS NULL ORDER BY id",
        (sha256,),
    ):
        kept = json.loads(kept_options or "{}")
        alike = json.loads(kept_mapping or "{}") == mapping and all(
            kept[key] == value for key, value in shape.items() if key in kept
        )
        if alike:
            same = same or batch
        else:
            other = batch
    return same, other


class _AlreadyImported(Exception):
    """Raised to roll back the load of an input that turned out to be a repeat."""

    def __init__(self, batch: int) -> None:
        super().__init__(batch)
        self.batch = batch


def check_readable(paths: list[str]) -> None:
    """Fail before anything is written when a named file cannot be opened: a typo in the
    last of three names must not leave the first two imported. A pipe or FIFO is not
    opened (that would take its bytes, or block): it must exist and be readable."""
    for path in paths:
        if path == "-":
            continue
        try:
            if is_regular_file(path):
                with open(path, "rb"):
                    pass
            else:
                os.stat(path)
                if not os.access(path, os.R_OK):
                    raise PermissionError(13, "Permission denied", path)
        except OSError as exc:
            raise ReadError.unopenable(path, exc) from None


#: The counts that add up over several files' summaries.
COUNTS = (
    "rows",
    "imported",
    "updated",
    "duplicates",
    "rejected",
    "suppressed",
    "possible_duplicates",
    "cleaned",
    "phones_kept_as_written",
)


def combined_summary(summaries: list[ImportSummary]) -> dict[str, Any]:
    """Several files' summaries as one object: the totals (``rows`` still equals the sum of
    the others) and each file's own summary, with its rejects file, under ``files``."""
    totals: dict[str, Any] = {key: sum(getattr(s, key) for s in summaries) for key in COUNTS}
    totals["unread"] = sum(s.unread for s in summaries)
    rejects = [s.rejects_file for s in summaries if s.rejects_file]
    return {
        **totals,
        "rejects_file": rejects[0] if len(rejects) == 1 else None,
        "rejects_files": rejects,
        "files": [s.as_dict() for s in summaries],
    }


def default_rejects_path(source: str) -> Path:
    """Beside a regular file; in the current folder for stdin, a pipe or ``/dev/fd/N``."""
    if not is_regular_file(source):
        return Path.cwd() / "leadcli-rejects.csv"
    path = Path(source)
    return path.with_name(f"{path.stem}.rejects.csv")


def _reject_cell(cell: str) -> str:
    """A rejected cell as the rejects CSV keeps it, ready to fix: without the control and
    invisible characters an import drops anyway (the file is often looked at with `cat` or
    `head`), and never a formula a spreadsheet would run."""
    return neutralise_formula(strip_controls(cell))


class _PrivateCsv:
    """A CSV of people's data written beside the import: owner-only (like exports), to a
    temporary name, moved into place on commit and removed on discard, so a failed import
    leaves no half file. Opened on the first row; ``commit`` returns its printable path, or
    None when it never was."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self.header = header
        self._handle: IO[str] | None = None
        self._writer: Any = None

    @property
    def tmp(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")

    def writer(self) -> Any:
        if self._writer is None:
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow([_reject_cell(c) for c in self.header])
        return self._writer

    def commit(self) -> str | None:
        if self._handle is None:
            return None
        try:
            self._handle.close()  # flushes: a full disk fails here
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise
        return printable_path(str(self.path))

    def discard(self) -> None:
        if self._handle is not None:
            # Closing flushes, and on a full disk that fails again: the temporary file
            # goes all the same.
            with contextlib.suppress(OSError):
                self._handle.close()
            self.tmp.unlink(missing_ok=True)


class _Rejects(_PrivateCsv):
    """The rejects CSV: each rejected row as it was, then its line and reason."""

    def __init__(self, path: Path, header: list[str]) -> None:
        super().__init__(path, [*header, "line", "reason"])
        self.width = len(header)
        self.count = 0

    def add(self, line: int, cells: list[str], reason: str) -> None:
        width = self.width
        extra = cells[width:]
        if any(extra):  # keep them, without shifting line and reason out of their columns
            reason += " (cells past the header: " + json.dumps(extra, ensure_ascii=False) + ")"
        padded = (cells + [""] * width)[:width]
        self.writer().writerow([_reject_cell(c) for c in padded] + [line, reason])
        self.count += 1


class _CellReport:
    """``--report-cells FILE``: the cells not read (line, column, cell, why); nothing
    without a path (the summary counts them all the same). Written even when every cell
    was read: a report with its header only says so."""

    def __init__(self, path: Path | None) -> None:
        self._file = None if path is None else _PrivateCsv(path, ["line", "column", "cell", "why"])

    def add(self, rows: list[tuple[int, str, str, str]]) -> None:
        if self._file is None or not rows:
            return
        self._file.writer().writerows(
            [line, _reject_cell(column), _reject_cell(cell), why]
            for line, column, cell, why in rows
        )

    def commit(self) -> str | None:
        if self._file is None:
            return None
        self._file.writer()  # nothing unread: the header alone
        return self._file.commit()

    def discard(self) -> None:
        if self._file is not None:
            self._file.discard()


def _writable_folder(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def rejects_path(explicit: Path | None, source: str, db_folder: Path) -> Path:
    """Where the rejects go, decided before the import starts: a rejected row half-way
    through must not find a folder it cannot write (a source on a read-only mount) and
    abort the import. An explicit ``--rejects`` in such a folder is refused up front; the
    default moves to the current folder, else the database's folder."""
    if explicit is not None:
        if not _writable_folder(explicit.parent):
            raise LeadcliError(
                f"cannot write the rejects file in {printable_path(str(explicit.parent))}",
                hint="give --rejects a path in a folder you can write",
            )
        return explicit
    default = default_rejects_path(source)
    if _writable_folder(default.parent):
        return default
    for folder in (Path.cwd(), db_folder):
        if _writable_folder(folder):
            return folder / default.name
    raise LeadcliError(
        "no writable folder for the rejects file", hint="give one with --rejects PATH"
    )


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
    """Import one file (or ``-``) as one batch, in one transaction, reading it once."""
    name = printable_path(path)  # stored and printed: a non-UTF-8 file name made safe
    sha256 = _hash_file(path) if is_regular_file(path) else None
    table = open_table(
        path,
        input_format=options.input_format,
        encoding=options.encoding,
        delimiter=options.delimiter,
        stdin=stdin,
        hash_input=sha256 is None,  # a regular file was hashed in its first pass
    )
    with table:
        return _import_table(store, path, name, sha256, table, options, progress)


def _import_table(
    store: Store,
    path: str,
    name: str,
    sha256: str | None,
    table: Table,
    options: ImportOptions,
    progress: Callable[[int, int], None] | None,
) -> ImportSummary:
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
    given = (options.system or "").strip().lower()  # one spelling per system, however typed
    # leadcli's own export says each lead's system in its ``external_system`` column (empty:
    # none); a custom field named like another CRM's column must not make it that CRM's.
    own_export = mapping_mod.is_own_export(table.header)
    summary.system = given or (None if own_export else mapping_mod.detect_system(table.header))
    shape = _shape(options, table, summary.system)
    if sha256 is not None:
        same, other = _earlier_import(store.conn, sha256, summary.mapping, shape)
        if same and not options.again:
            # The same bytes and options again: nothing to do, and saying so beats
            # re-merging every row.
            summary.rows = sum(1 for _ in table.rows)
            return _already_imported(summary, same)
        _note_earlier(summary, same or other, again=bool(same))
    converter = RowConverter(
        table.header,
        targets,
        region=options.region,
        keep_invalid=options.keep_invalid,
        source=options.source,
        tags=options.tags,
        system=summary.system,
        lists=options.lists,
        placeholders_missing=not own_export,
        own_export=own_export,
        stage=options.stage,
        closed_if_not_converted=options.closed_if_not_converted,
        decimal=numbers.locale_decimal(options.locale),
        day_first=(
            options.day_first
            if options.day_first is not None
            else dates.locale_day_first(options.locale or numbers.environment_locale())
        ),
    )
    cell_report = _CellReport(options.report_cells)
    rejects = _Rejects(rejects_path(options.rejects, path, store.path.parent), table.header)
    conn = store.conn
    width = len(converter.fields) + len(EXTRA_COLUMNS) + 1
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per_statement = max(1, min(ROWS_PER_STATEMENT, limit // width))
    # Forked (when asked) here: before the write transaction opens, and before the
    # inserting thread starts.
    chunks = prepared_chunks(
        table.rows,
        converter.convert,
        per_statement,
        table.bytes_read,
        parallel=options.parallel,
        finished=table.sha256,
    )
    try:
        with contextlib.closing(chunks), _import_settings(conn), store.write() as conn:
            load = _Load(conn, converter, options, summary, shape)
            load.begin(name, sha256, table.byte_count)
            load.stream(chunks, per_statement, rejects, progress, cell_report)
            if sha256 is None:
                # Hashed as it loaded: a repeat is only known now, and rolled back.
                sha256 = chunks.result
                same, other = _earlier_import(conn, sha256, summary.mapping, shape)
                if same and not options.again:
                    raise _AlreadyImported(same)
                _note_earlier(summary, same or other, again=bool(same))
                conn.execute(
                    "UPDATE import_batches SET sha256 = ? WHERE id = ?", (sha256, summary.batch)
                )
            load.finish()
            summary.rejected = rejects.count
            if options.dry_run:
                raise _DryRun
            summary.rejects_file = rejects.commit()
            summary.cells_report = cell_report.commit()
            conn.execute(
                "UPDATE import_batches SET rejected = ?, rejects_file = ? WHERE id = ?",
                (summary.rejected, summary.rejects_file, summary.batch),
            )
    except _DryRun:
        rejects.discard()
        cell_report.discard()
        summary.batch = None
    except _AlreadyImported as repeat:
        rejects.discard()
        cell_report.discard()
        return _already_imported(summary, repeat.batch)
    except BaseException:
        rejects.discard()
        cell_report.discard()
        raise
    assert summary.rows == (
        summary.imported
        + summary.updated
        + summary.duplicates
        + summary.rejected
        + summary.suppressed
    )
    return summary


def _already_imported(summary: ImportSummary, batch: int) -> ImportSummary:
    """The summary of an input already imported as ``batch``: every row a duplicate."""
    summary.imported = summary.updated = summary.rejected = 0
    summary.duplicates = summary.rows
    summary.batch = None
    summary.already_imported_as = batch
    summary.notices.append(
        f"{summary.file}: already imported as batch {batch} (the same bytes with the same "
        "mapping and options); nothing imported"
    )
    return summary


def _note_earlier(summary: ImportSummary, batch: int | None, *, again: bool) -> None:
    if batch is None:
        return
    why = "as asked (--again)" if again else "since the mapping or options differ"
    summary.notices.append(
        f"{summary.file}: the same bytes were imported as batch {batch}; imported again {why}"
    )


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
#: and stays follow the last lead's.
KEPT_DURING_BULK = frozenset({"leads_stage", "leads_quiet", "history_lead", "stage_stays_lead"})
#: The indexes duplicates are found with (e-mail, phone, external id).
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
        shape: dict[str, Any],
    ) -> None:
        self.shape = shape
        self.converter = converter
        #: Whether ``_reread`` read cells again (their leads are in temp.import_reread).
        self.reread = False
        self.conn = conn
        self.options = options
        self.summary = summary
        self.now = dates.now_text()
        # Only the lead fields the file maps (or --source sets) are bound; the rest are NULL.
        self.fields = converter.fields
        self.floor = conn.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'leads'), 0), "
            "coalesce((SELECT max(id) FROM leads), 0))"
        ).fetchone()[0]
        #: The newest history row before the load: leads with history after it were touched.
        self.since = conn.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0]
        self.batch = 0
        self.size = 0
        self.tuned_search = False
        self.inserted = 0
        self.reason = ""
        self.fts_insert_trigger = ""
        self.cells_trigger = ""
        self.bulk = False
        #: Dropped indexes to build again: first those finding duplicates needs, then (once
        #: the rows merged away are gone) the other lead indexes, and the history ones.
        self.rebuild_keys: list[str] = []
        self.rebuild_leads: list[str] = []
        self.rebuild_history: list[str] = []
        #: The columns of leads and their defaults, for scoring rows as they are inserted:
        #: read here, since the statements are built while the inserting thread runs.
        self.lead_columns: dict[str, str] = {}
        if self.scorer is not None:
            from leadcli.scoring.apply import lead_columns

            self.lead_columns = lead_columns(conn)
        # Read once: empty (nothing hashed, nothing checked) unless someone was forgotten.
        self.suppressions = Suppressions.load(conn)
        self.contact_offsets = [
            1 + self.fields.index(f) if f in self.fields else None
            for f in ("email", "phone", "other_emails", "other_phones")
        ]

    def _suppress(self, chunk: Any, width: int) -> list[tuple[int, str]]:
        """Leave out the chunk's rows of suppressed people (``--allow-suppressed``: keep them
        and note their suppressions to lift); return the chunk's tags of the rows kept.

        One HMAC and one set lookup per contact value: the list was read once."""
        params, found, count = chunk.params, self.suppressions, chunk.count
        none = [None] * count
        # Each column a slice of the flat parameters (runs in C).
        columns = [params[off::width] if off is not None else none for off in self.contact_offsets]
        hits = found.hits_by_row(*columns)
        if self.options.allow_suppressed:
            for digests in hits.values():
                found.allowed.update(digests)
            hits = {}
        dropped = sorted(hits)
        if not dropped:
            return chunk.tags
        gone = set(dropped)
        chunk.params = [
            value
            for row in range(chunk.count)
            if row not in gone
            for value in params[row * width : (row + 1) * width]
        ]
        ids = {params[row * width] for row in dropped}
        chunk.count -= len(dropped)
        self.summary.suppressed += len(dropped)
        return [(lead, tag) for lead, tag in chunk.tags if lead not in ids]

    def begin(self, name: str, sha256: str | None, size: int) -> None:
        """Record the batch (its hash is filled in after the load for an input hashed as it
        loads), and choose between index upkeep and a rebuild after the load."""
        self.batch = self.conn.execute(
            "INSERT INTO import_batches (file_name, sha256, imported_at, rows, imported, "
            "updated, duplicates, rejected, mapping, options, last_history_id) "
            "VALUES (?, ?, ?, 0, 0, 0, 0, 0, ?, ?, 0)",
            (
                name,
                sha256 or "",
                self.now,
                json.dumps(self.summary.mapping, ensure_ascii=False),
                json.dumps(self.shape, ensure_ascii=False),
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
                dropped = drop_indexes(self.conn, "leads", _not_kept)
                self.rebuild_keys = [sql for name, sql in dropped if name in _KEY_INDEXES]
                self.rebuild_leads = [sql for name, sql in dropped if name not in _KEY_INDEXES]
            if 2 * rows_at_most >= self.since:  # history rows at most (ids only grow)
                self.bulk = True
                self.rebuild_history = [
                    sql for _, sql in drop_indexes(self.conn, "history", _not_kept)
                ]
            self.tuned_search = True
            _tune_search_index(self.conn, bulk=True)
        # The search index and the report cells are filled chunk by chunk (see stream), not
        # by a trigger row by row.
        self.fts_insert_trigger = drop_trigger(self.conn, "leads_fts_ai")
        self.cells_trigger = drop_trigger(self.conn, cells.INSERT_TRIGGER)

    @property
    def scorer(self) -> Any:
        """The scorer the new leads are scored with as they are inserted (None: not scored;
        a dry run is rolled back, so it does not score either)."""
        return None if self.options.dry_run else self.options.scorer

    @functools.cache  # noqa: B019 - one loader per import; a handful of sizes
    def _insert_sql(self, rows: int) -> str:
        columns = ["id", *self.fields, *EXTRA_COLUMNS]
        one = "(" + ", ".join("?" for _ in columns) + ")"
        # Each value is bound as the chunk holds it and made NULL if missing (see
        # ``worker.MISSING``) once per column here, not in each row of the VALUES list: a
        # cached statement of 500 rows stays 1.5 MB instead of 6 MB. OFFSET (even 0) keeps
        # SQLite from flattening this into a scored INSERT, which would repeat the nullif()
        # in every term that reads the column.
        read = ["column1"] + [
            f"coalesce({null_if_missing(f'column{i}')}, 0)"
            if name == "do_not_contact"
            else null_if_missing(f"column{i}")
            for i, name in enumerate(columns[1:], start=2)
        ]
        values = (
            f"SELECT {', '.join(read)}, '{self.now}' "
            f"FROM (VALUES {', '.join([one] * rows)}) LIMIT -1 OFFSET 0"
        )
        columns.append("updated_at")
        if self.scorer is not None:
            from leadcli.scoring.apply import fresh_insert_sql

            # Scored in the INSERT, on the inserting thread where it overlaps converting,
            # instead of by a second pass over the new rows that rewrites each one.
            return fresh_insert_sql(self.scorer, self.lead_columns, columns, values)
        return f"INSERT INTO leads ({', '.join(columns)}) {values}"

    def stream(
        self,
        chunks: Chunks,
        per_statement: int,
        rejects: _Rejects,
        progress: Callable[[int, int], None] | None,
        cell_report: _CellReport | None = None,
    ) -> None:
        """Insert every converted row; rejected rows go to the rejects file; then read the
        ambiguous cells again where their column decided otherwise (``_reread``).

        Chunks come numbered from 1: each row's id is moved on past ``floor``, the highest
        id when this transaction took the write lock."""
        conn, floor = self.conn, self.floor
        width = len(self.fields) + len(EXTRA_COLUMNS) + 1
        tags: list[tuple[int, str]] = []
        rows = statements = 0
        unknown: set[tuple[str, str]] = set()
        evidence: dict[str, Evidence] = {}
        #: By column: (lead id, the cell's other reading), for ``_reread``.
        ambiguous: dict[str, list[tuple[int, Any]]] = {}
        cols = ", ".join(FTS_COLUMNS)
        # The search index is filled chunk by chunk on the inserting thread too, where SQLite
        # works without the GIL while the next rows are being made ready.
        index = f"INSERT INTO leads_fts (rowid, {cols}) SELECT id, {cols} FROM leads WHERE id > ?"
        # The report cells too, a few thousand rows a time (sorted in memory, read while
        # their pages are at hand), rather than by one pass sorting them all after the load.
        counting = cells.add_sql("id > ? AND id <= ?")
        indexed = last_id = floor
        tags_first = False
        if self.scorer is not None:
            from leadcli.scoring.apply import reads_tags

            tags_first = reads_tags(self.scorer)
        if tags_first:
            _tags_before_leads(conn)
        with _Inserter(conn) as inserter:
            for chunk in chunks:
                rows += chunk.rows
                for line, values, reason in chunk.rejects:
                    rejects.add(line, values, reason)
                unknown |= chunk.unknown_statuses
                self.summary.cleaned += chunk.cleaned
                for column, seen in (chunk.evidence or {}).items():
                    evidence.setdefault(column, Evidence(seen.field)).add(seen)
                if chunk.unread:
                    self.summary.unread += len(chunk.unread)
                    if cell_report is not None:
                        cell_report.add(chunk.unread)
                for lead, column, alt in chunk.ambiguous or ():
                    ambiguous.setdefault(column, []).append((lead + floor, alt))
                self.summary.phones_kept_as_written += chunk.phones_kept
                if not chunk.count:
                    continue
                first_id = floor + chunk.first_id
                if floor:  # the ids, every width-th parameter (a slice: runs in C)
                    chunk.params[0::width] = range(first_id, first_id + chunk.count)
                    chunk.tags = [(lead + floor, tag) for lead, tag in chunk.tags]
                if self.suppressions:  # after numbering: a row left out leaves a gap
                    chunk.tags = self._suppress(chunk, width)
                    if not chunk.count:
                        continue
                if tags_first and chunk.tags:
                    # The score of a lead reads its tags as it is inserted.
                    inserter.submit(_INSERT_TAGS, chunk.tags, many=True)
                else:
                    tags.extend(chunk.tags)
                inserter.submit(self._insert_sql(chunk.count), chunk.params)
                self.inserted += chunk.count
                last_id = chunk.params[(chunk.count - 1) * width]
                statements += 1
                if statements % 10 == 0:
                    inserter.submit(index + " AND id <= ?", [indexed, last_id])
                    inserter.submit(counting, [indexed, last_id])
                    indexed = last_id
                    if progress and chunk.bytes_read:
                        progress(chunk.bytes_read, rows)
            inserter.submit(index, [indexed])
            inserter.submit(counting, [indexed, last_id])
        conn.executemany(_INSERT_TAGS, tags)
        self._reread(evidence, ambiguous)
        if kept := self.summary.phones_kept_as_written:
            # Said like every other reading of a column (one list, one line each).
            phone = next((c for c, t in self.summary.mapping.items() if t == "phone"), "phone")
            self.summary.interpretations.append(
                {
                    "column": phone,
                    "field": "phone",
                    "reading": "kept as written (no valid number in the row's country)",
                    "cells": kept,
                }
            )
        self.summary.rows = rows
        self.summary.notices.extend(unknown_status_notices(unknown))
        if progress:
            progress(self.size, rows)

    def _reread(
        self, evidence: dict[str, Evidence], ambiguous: dict[str, list[tuple[int, Any]]]
    ) -> None:
        """Decide each number and date column from all its cells, say how it was read, and
        read again the ambiguous cells of a column decided against the fallback they were
        inserted with: one UPDATE per statement shape, for those leads only (scored again
        in ``finish``)."""
        options, converter = self.options, self.converter
        locale = options.locale or numbers.environment_locale()
        for column, seen in evidence.items():
            if not (seen.first or seen.second or seen.ambiguous or seen.serials):
                continue  # plain numbers, ISO dates: nothing was interpreted
            cells = seen.read
            if seen.field == "value":
                fallback = converter.decimal
                style, decided = numbers.decide(seen.first, seen.second, fallback)
                reading = numbers.STYLE_NAMES[style]
                other = style != fallback
                if not decided and seen.ambiguous:
                    given = "--locale" if options.locale else "the environment's locale"
                    reading += f" (the cells read both ways: {given} {locale})"
            else:
                fallback_day = converter.day_first
                if seen.first == seen.second:
                    day_first, decided = fallback_day, False
                else:
                    day_first, decided = seen.first > seen.second, True
                reading = "day first" if day_first else "month first"
                other = day_first != fallback_day
                if not decided and seen.ambiguous:
                    given = (
                        ("--day-first" if day_first else "--month-first")
                        if options.day_first is not None
                        else f"the locale {locale}"
                    )
                    reading += f" (the dates read both ways: {given})"
                if seen.serials:
                    self.summary.interpretations.append(
                        {
                            "column": column,
                            "field": seen.field,
                            "reading": "Excel serial dates",
                            "cells": seen.serials,
                        }
                    )
                    if not (seen.first or seen.second or seen.ambiguous):
                        continue
            self.summary.interpretations.append(
                {"column": column, "field": seen.field, "reading": reading, "cells": cells}
            )
            if other and ambiguous.get(column):
                self._apply_other(seen.field, ambiguous[column])

    def _apply_other(self, field_name: str, cells: list[tuple[int, Any]]) -> None:
        conn = self.conn
        if not self.reread:
            conn.execute("CREATE TEMP TABLE import_reread (id INTEGER PRIMARY KEY)")
            self.reread = True
        conn.executemany(
            "INSERT OR IGNORE INTO temp.import_reread (id) VALUES (?)", [(i,) for i, _ in cells]
        )
        if field_name == "value":
            conn.executemany("UPDATE leads SET value = ? WHERE id = ?", [(v, i) for i, v in cells])
            return
        # A date moves what the load derived from it: a first contact and a close no
        # earlier than the creation, a creation taken from the close.
        sql = {
            "created_at": "UPDATE leads SET created_at = :at, "
            "first_contacted_at = CASE WHEN first_contacted_at IS NOT NULL "
            "THEN max(first_contacted_at, :at) END, "
            "closed_at = CASE WHEN closed_at IS NOT NULL THEN max(closed_at, :at) END "
            "WHERE id = :id",
            "closed_at": "UPDATE leads SET closed_at = max(:at, created_at) "
            "WHERE id = :id AND closed_at IS NOT NULL",
            "closed_at+created_at": "UPDATE leads SET closed_at = :at, created_at = :at, "
            "first_contacted_at = CASE WHEN first_contacted_at IS NOT NULL "
            "THEN max(first_contacted_at, :at) END "
            "WHERE id = :id AND closed_at IS NOT NULL",
            "first_contacted_at": "UPDATE leads SET first_contacted_at = max(:at, created_at) "
            "WHERE id = :id AND first_contacted_at IS NOT NULL",
        }
        for target, statement in sql.items():
            conn.executemany(
                statement,
                [{"at": at, "id": i} for i, (at, kind) in cells if kind == target],
            )

    def finish(self) -> None:
        """Duplicates, history, merges, the batch's counts, scores (of the leads it created
        and of those it changed), and indexes."""
        # Every new row was counted in its cells as it went in (see stream): the trigger keeps
        # them from here on, as merges and rescores change the rows.
        self.conn.execute(self.cells_trigger)
        with index_builds(self.conn, self.bulk):
            duplicates = self._find_and_record()
        # Merged with the page cache the load uses (each looks up its lead), before the
        # indexes only the finished table needs are built.
        self.summary.imported = self.inserted - duplicates
        # Until here the new leads are as they were inserted (and scored): only merges
        # change them, and each change they make is a history row after this one.
        (merged_since,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()
        if duplicates:
            updated, unchanged = duplicates_mod.merge(
                self.conn,
                self.fields,
                self.options.on_duplicate,
                floor=self.floor,
                batch=self.batch,
                now=self.now,
                reason=self.reason,
                lists=self.options.lists,
            )
            self.summary.updated += updated
            self.summary.duplicates += unchanged
        self._record_possible()
        self._count()
        if self.suppressions.allowed:  # they came back by their own choice
            lift(self.conn, self.suppressions.allowed)
        if self.scorer is not None:
            # The new leads were scored as they went in; those rows merged into since, and
            # the older leads the import changed, are scored again. Before the dropped
            # indexes are built: each is then built once, with the scores in it.
            from leadcli.scoring.apply import rescore_batch

            rescore_batch(self.conn, self.scorer, self.batch, self.since, scored_until=merged_since)
            if self.reread:
                from dataclasses import replace as with_fields

                from leadcli.scoring.apply import rescore_in

                rescore_in(
                    self.conn,
                    with_fields(self.scorer, fresh=True),
                    where="id IN (SELECT id FROM temp.import_reread)",
                )
        if self.reread:
            self.conn.execute("DROP TABLE temp.import_reread")
        # After scoring: its rating events are the import's own, not changes made since.
        self.conn.execute(
            "UPDATE import_batches SET last_history_id = "
            "(SELECT coalesce(max(id), 0) FROM history) WHERE id = ?",
            (self.batch,),
        )
        with index_builds(self.conn, self.bulk):
            for sql in self.rebuild_leads:
                self.conn.execute(sql)

    def _find_and_record(self) -> int:
        """Build the indexes duplicates are found with, find them (returning how many), and
        record the stages the file gives in history."""
        conn, floor = self.conn, self.floor
        for sql in self.rebuild_keys:
            conn.execute(sql)
        duplicates = duplicates_mod.find(
            conn, floor, self.fields, bulk=self.bulk, lists=self.options.lists
        )
        conn.execute(self.fts_insert_trigger)
        # A file that says where a lead stands (status, converted) is history from elsewhere,
        # recorded when the file says it happened. An open stage is the stage the lead was
        # created in; a closed one is a move from prospect at its close date. The creation
        # itself is not a row per lead: the batch (its id range) and the lead's own
        # created_at record it, and `history.for_lead` shows it (see there).
        # "+stage": a scan of the new id range, not the stage index and a sort.
        closed = (
            f"id > ? AND +stage IN {CLOSED_STAGES_SQL} "
            "AND id NOT IN (SELECT id FROM temp.import_dups)"
        )
        # What the triggers on stage events keep a row at a time is written for all of
        # them at once: how far each got (``leads.reach``, inserted with the row, see
        # ``rows``), its stay in prospect (from its creation to the move, ``stage_stays``)
        # and the stays' totals. The leads are new: the move is their first.
        triggers = [
            drop_trigger(conn, t)
            for t in ("history_stage_reach", "history_stage_stay", cells.STAYS_INSERT_TRIGGER)
        ]
        before = conn.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0]
        conn.execute(
            f"INSERT INTO history (lead_id, at, event, changes, reason) "
            f"SELECT id, closed_at, 'stage', {_stage_change_sql(_CLOSED_FROM_PROSPECT)}, 'import' "
            f"FROM leads WHERE {closed} ORDER BY id",
            (floor,),
        )
        # A big load builds the stays' index by stage after them (sorted, once) rather than
        # slotting each stay into it at random.
        stays_indexes = drop_indexes(conn, "stage_stays", _not_kept) if self.bulk else []
        conn.execute(
            "INSERT INTO stage_stays (history_id, lead_id, stage, left_at, seconds) "
            f"SELECT h.id, h.lead_id, '{FIRST_STAGE}', h.at, "
            f"{dates.span_sql('l.created_at', 'h.at')} FROM history AS h "
            "JOIN leads AS l ON l.id = h.lead_id WHERE h.id > ? ORDER BY h.id",
            (before,),
        )
        cells.add_stays(conn, "history_id > ?", (before,))
        for sql in [*triggers, *(sql for _, sql in stays_indexes)]:
            conn.execute(sql)
        for sql in self.rebuild_history:
            conn.execute(sql)
        if self.tuned_search:
            _tune_search_index(conn, bulk=False)
        return duplicates

    def _record_possible(self) -> None:
        """Record the possible duplicates among the leads the import kept (``identity.
        possible``), after the merges, so each pair is scored on what its leads hold now."""
        from leadcli.identity import possible

        rules = self.options.matching
        if rules is None:
            from leadcli.identity.matcher import load_rules

            rules = load_rules()
        pairs = possible.find(self.conn, rules, self.options.lists, self.floor, many=self.bulk)
        self.summary.possible_duplicates = possible.record(self.conn, pairs, self.batch, self.now)

    def _count(self) -> None:
        """Record the batch's counts and id range."""
        conn, floor, summary = self.conn, self.floor, self.summary
        conn.execute(
            "UPDATE import_batches SET rows = ?, imported = ?, updated = ?, duplicates = ?, "
            "suppressed = ?, "
            "first_lead_id = CASE WHEN ? THEN ? + 1 END, "
            "last_lead_id = CASE WHEN ? THEN (SELECT max(id) FROM leads) END WHERE id = ?",
            (
                summary.rows,
                summary.imported,
                summary.updated,
                summary.duplicates,
                summary.suppressed,
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


_INSERT_TAGS = "INSERT OR IGNORE INTO lead_tags (lead_id, tag) VALUES (?, ?)"


def _tags_before_leads(conn: sqlite3.Connection) -> None:
    """Let tags go in before their leads (a score reads them as the lead is inserted): the
    foreign keys are checked at COMMIT instead of per statement, for the rest of the
    import's transaction (SQLite switches this off at its end).

    Not switched off after the load: that would forget a tag still waiting for its lead
    instead of failing on it. While tags wait for their lead, inserting a lead looks for
    rows referring to it in each table that refers to leads (an indexed lookup each): only
    in a load whose scorer reads tags."""
    conn.execute("PRAGMA defer_foreign_keys = ON")


class _Inserter:
    """Runs the load's INSERT statements on a second thread.

    SQLite releases the GIL while it executes a statement, so getting the next rows ready
    (converting them, or receiving them from the worker) and inserting the previous ones
    overlap. Statements run in order on one connection, never two at once; an error in one
    stops the rest and is raised here.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.queue: queue.Queue[tuple[str, list[Any], bool] | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="leadcli-insert", daemon=True)

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                sql, params, many = item
                try:
                    if many:
                        self.conn.executemany(sql, params)
                    else:
                        self.conn.execute(sql, params)
                except BaseException as exc:  # handed to the caller's thread
                    self.error = exc

    def submit(self, sql: str, params: list[Any], *, many: bool = False) -> None:
        """Queue a statement (``many``: run once per parameter tuple in ``params``)."""
        if self.error is not None:
            raise self.error
        self.queue.put((sql, params, many))

    def __enter__(self) -> _Inserter:
        # Overlapping works best with a GIL switch interval well under Python's 5 ms; that
        # setting is the whole process's, so the application chooses it (the CLI does).
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.queue.put(None)  # after the statements already queued: they finish first
        self.thread.join()
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
_CLOSED_FROM_PROSPECT = {s: [FIRST_STAGE, s] for s in CLOSED_STAGES}


#: FTS5's settings for a bulk load, and the defaults they go back to: the terms of 16 MB of
#: text gathered in memory before they are written (1 MB by default) and no merging of the
#: segments written meanwhile (FTS5 still merges if 16 pile up) cut the search index's share
#: of a million-row import by a fifth. ``hashsize`` is read by FTS5 like the documented
#: options, though not documented itself.
_SEARCH_INDEX_SETTINGS = {
    True: {"hashsize": 16 << 20, "automerge": 0},
    False: {"hashsize": 1 << 20, "automerge": 4},
}


def _tune_search_index(conn: sqlite3.Connection, *, bulk: bool) -> None:
    """Written to the index's own settings, in the import's transaction like the rest."""
    for name, value in _SEARCH_INDEX_SETTINGS[bulk].items():
        conn.execute("INSERT INTO leads_fts (leads_fts, rank) VALUES (?, ?)", (name, value))


def _not_kept(name: str, sql: str) -> bool:
    """An index a big import drops and builds again (all but ``KEPT_DURING_BULK``)."""
    return name not in KEPT_DURING_BULK


def list_batches(store: Store) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in store.conn.execute(
            "SELECT id, file_name, imported_at, rows, imported, updated, duplicates, rejected,"
            " suppressed, rejects_file, sha256, undone_at FROM import_batches ORDER BY id"
        )
    ]


def unknown_status_notices(unknown: set[tuple[str, str]], shown: int = 10) -> list[str]:
    """One notice per status column naming the words leadcli did not know (the first
    ``shown`` of them): those leads were imported as prospects, the word kept as a custom
    field, and the user may want a --map or a fix in the file."""
    by_column: dict[str, list[str]] = {}
    for column, word in sorted(unknown):
        by_column.setdefault(column, []).append(word)
    notices = []
    for column, words in by_column.items():
        listed = ", ".join(repr(w) for w in words[:shown])
        more = f" and {len(words) - shown} more" if len(words) > shown else ""
        notices.append(
            f"column {column!r}: statuses not recognised ({listed}{more}); those leads "
            f"stay prospects and keep the status as a custom field"
        )
    return notices
