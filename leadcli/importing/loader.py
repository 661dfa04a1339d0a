"""Loading an import: one transaction, set-based SQL, every row accounted for.

Rows are validated while streaming into a temporary staging table (memory stays flat), then
de-duplicated and written with a handful of ``INSERT ... SELECT`` statements: leads, tags,
search index, history and batch membership. New leads get the id ``base + line``, so every
staging row knows its lead without a lookup table (ids may skip numbers where rows were
rejected; ids were never promised to be dense). Duplicates, usually few, are merged one by one.

Interrupted at any point (Ctrl-C, kill, crash), the transaction is not committed and the
database is as it was; the rejects file is only moved into place after the commit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from leadcli import dates, history
from leadcli.errors import LeadcliError, NotFound
from leadcli.importing import mapping as mapping_mod
from leadcli.importing.readers import Table, open_table
from leadcli.importing.rows import LeadRow, Reject, RowConverter
from leadcli.leads import CONTACT_FIELDS
from leadcli.migrations import FTS_COLUMNS
from leadcli.safe_text import neutralise_formula
from leadcli.stages import CLOSED_STAGES, rank
from leadcli.store import Store
from leadcli.transitions import change_stage

ON_DUPLICATE = ("merge", "skip", "update")
BATCH_ROWS = 5000
IMPORT_CACHE_KIB = 32768
#: The lead fields a staging row carries, in column order.
STAGED = (*CONTACT_FIELDS, "value", "notes", "external_id", "do_not_contact")
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
        raise LeadcliError(f"cannot read {path}: {exc.strerror}") from None
    return path, digest.hexdigest(), None


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
            self._writer.writerow([*self.header, "line", "reason"])
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
    )
    rejects = _Rejects(options.rejects or default_rejects_path(name), table.header)
    # Bulk loading rewrites index pages at random (email, phone ...): a 32 MB page cache for
    # the database and for the staging table instead of the default 2 MB cuts the I/O, and
    # still keeps a million-row import well under 250 MB of memory.
    store.conn.execute(f"PRAGMA main.cache_size = -{IMPORT_CACHE_KIB}")
    store.conn.execute(f"PRAGMA temp.cache_size = -{IMPORT_CACHE_KIB}")
    try:
        with store.write() as conn:
            _stage(conn, table, converter, rejects, summary, progress)
            _load(conn, name, sha256, options, summary)
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


def _stage(
    conn: sqlite3.Connection,
    table: Table,
    converter: RowConverter,
    rejects: _Rejects,
    summary: ImportSummary,
    progress: Callable[[int, int], None] | None,
) -> None:
    conn.execute("DROP TABLE IF EXISTS temp.staging")
    columns = ", ".join(f"{c} {'REAL' if c == 'value' else 'TEXT'}" for c in STAGED)
    conn.execute(
        f"CREATE TEMP TABLE staging (line INTEGER PRIMARY KEY, {columns}, stage TEXT, "
        "created_at TEXT, closed_at TEXT, tags TEXT, custom TEXT, first_line INTEGER, "
        "existing_id INTEGER)"
    )
    marks = ", ".join("?" for _ in range(len(STAGED) + 6))
    insert = (
        f"INSERT INTO staging (line, {', '.join(STAGED)}, stage, created_at, closed_at, tags, "
        f"custom) VALUES ({marks})"
    )
    batch: list[tuple[Any, ...]] = []
    rows = 0
    for line, cells in table.rows:
        rows += 1
        try:
            row = converter.convert(line, cells)
        except Reject as why:
            rejects.add(line, cells, str(why))
            continue
        batch.append(_staged(row))
        if len(batch) >= BATCH_ROWS:
            conn.executemany(insert, batch)
            batch.clear()
            if progress and table.bytes_read:
                progress(table.bytes_read(), rows)
    conn.executemany(insert, batch)
    summary.rows = rows
    if progress and table.bytes_read:
        progress(table.bytes_read(), rows)


def _staged(row: LeadRow) -> tuple[Any, ...]:
    values = row.values
    return (
        row.line,
        *(values.get(c) for c in STAGED[:-1]),
        values.get("do_not_contact", 0),
        row.stage,
        row.created_at,
        row.closed_at,
        json.dumps(row.tags, ensure_ascii=False) if row.tags else None,
        json.dumps(row.custom, ensure_ascii=False) if row.custom else None,
    )


def _mark_duplicates(conn: sqlite3.Connection) -> int:
    """Set ``first_line`` (an earlier row of the file with the same key) and ``existing_id``
    (a lead already in the database with the same key); return how many rows are either."""
    for key in _KEYS:
        conn.execute(f"CREATE INDEX temp.staging_{key} ON staging ({key}) WHERE {key} IS NOT NULL")
        conn.execute(
            f"UPDATE staging SET first_line = min(coalesce(first_line, g.first), g.first) "
            f"FROM (SELECT {key} AS k, min(line) AS first FROM staging WHERE {key} IS NOT NULL "
            f"GROUP BY {key} HAVING count(*) > 1) AS g "
            f"WHERE staging.{key} = g.k AND staging.line > g.first"
        )
    if conn.execute("SELECT EXISTS (SELECT 1 FROM leads)").fetchone()[0]:
        for key in _KEYS:
            conn.execute(
                f"UPDATE staging SET existing_id = l.id FROM leads AS l "
                f"WHERE l.{key} = staging.{key} AND staging.existing_id IS NULL"
            )
    return conn.execute(
        "SELECT count(*) FROM staging WHERE first_line IS NOT NULL OR existing_id IS NOT NULL"
    ).fetchone()[0]


_NEW = "staging.first_line IS NULL AND staging.existing_id IS NULL"


def _drop_indexes_for_bulk_load(conn: sqlite3.Connection) -> list[str]:
    """When the file is at least as big as the table, drop the leads table's secondary
    indexes and return the statements that rebuild them: one sorted build after the load is
    several times cheaper than a million random index insertions during it. All inside the
    import's transaction, so an interrupted import leaves the indexes as they were."""
    staged = conn.execute("SELECT count(*) FROM staging").fetchone()[0]
    existing = conn.execute("SELECT count(*) FROM leads").fetchone()[0]
    if staged < 10_000 or staged < existing:
        return []
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in indexes]


def _load(
    conn: sqlite3.Connection,
    name: str,
    sha256: str,
    options: ImportOptions,
    summary: ImportSummary,
) -> None:
    now = dates.now_text()
    duplicates = _mark_duplicates(conn)
    base = conn.execute(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'leads'), 0), "
        "coalesce((SELECT max(id) FROM leads), 0))"
    ).fetchone()[0]
    # New leads are numbered from the next free id on: base + line, counted from the first
    # staged line (rejected and duplicate rows leave small gaps).
    first_line = conn.execute("SELECT min(line) FROM staging").fetchone()[0] or 1
    base -= first_line - 1
    batch = conn.execute(
        "INSERT INTO import_batches (file_name, sha256, imported_at, rows, imported, updated, "
        "duplicates, rejected, mapping, options, last_history_id) "
        "VALUES (?, ?, ?, ?, 0, 0, 0, 0, ?, ?, 0)",
        (
            name,
            sha256,
            now,
            summary.rows,
            json.dumps(summary.mapping, ensure_ascii=False),
            json.dumps(
                {
                    "on_duplicate": options.on_duplicate,
                    "source": options.source,
                    "tags": options.tags,
                    "region": options.region,
                }
            ),
        ),
    ).lastrowid
    summary.batch = batch
    reason = f"import #{batch} ({Path(name).name})"
    fields = ", ".join(STAGED)
    rebuild = _drop_indexes_for_bulk_load(conn)
    # The search index is filled once, set-based, instead of by a trigger row by row.
    conn.execute("DROP TRIGGER leads_fts_ai")
    conn.execute(
        f"INSERT INTO leads (id, {fields}, stage, created_at, updated_at, closed_at, custom) "
        f"SELECT :base + line, {fields}, stage, coalesce(created_at, :now), :now, "
        f"CASE WHEN stage IN ('customer', 'lost') THEN coalesce(closed_at, created_at, :now) END,"
        f" custom FROM staging WHERE {_NEW} ORDER BY line",
        {"base": base, "now": now},
    )
    for sql in rebuild:
        conn.execute(sql)
    cols = ", ".join(FTS_COLUMNS)
    conn.execute(
        f"INSERT INTO leads_fts (rowid, {cols}) SELECT id, {cols} FROM leads WHERE id >= ?",
        (base + first_line,),
    )
    new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    conn.execute(
        f"CREATE TRIGGER leads_fts_ai AFTER INSERT ON leads BEGIN "
        f"INSERT INTO leads_fts (rowid, {cols}) VALUES (new.id, {new}); END"
    )
    conn.execute(
        f"INSERT OR IGNORE INTO lead_tags (lead_id, tag) SELECT :base + line, trim(j.value) "
        f"FROM staging, json_each(staging.tags) AS j WHERE {_NEW} AND staging.tags IS NOT NULL "
        f"AND trim(j.value) != ''",
        {"base": base},
    )
    conn.execute(
        f"INSERT INTO batch_leads (batch_id, lead_id) SELECT ?, ? + line FROM staging WHERE {_NEW}",
        (batch, base),
    )
    conn.execute(
        f"INSERT INTO history (lead_id, at, event, changes, reason) "
        f"SELECT :base + line, :now, 'created', NULL, :reason FROM staging WHERE {_NEW}",
        {"base": base, "now": now, "reason": reason},
    )
    # A file that says where a lead stands (status, converted) is history from elsewhere:
    # the change is recorded when the file says it happened.
    conn.execute(
        f"INSERT INTO history (lead_id, at, event, changes, reason) "
        f"SELECT :base + line, CASE WHEN stage IN ('customer', 'lost') "
        f"THEN coalesce(closed_at, created_at, :now) ELSE coalesce(created_at, :now) END, "
        f"'stage', json_object('stage', json_array('prospect', stage)), 'import' "
        f"FROM staging WHERE {_NEW} AND stage != 'prospect'",
        {"base": base, "now": now},
    )
    summary.imported = conn.execute(
        "SELECT count(*) FROM batch_leads WHERE batch_id = ?", (batch,)
    ).fetchone()[0]
    if duplicates:
        _merge_duplicates(conn, base, options.on_duplicate, now, reason, summary)
    conn.execute(
        "UPDATE import_batches SET imported = ?, updated = ?, duplicates = ?, "
        "last_history_id = (SELECT coalesce(max(id), 0) FROM history) WHERE id = ?",
        (summary.imported, summary.updated, summary.duplicates, batch),
    )
    conn.execute("DROP TABLE temp.staging")


def _merge_duplicates(
    conn: sqlite3.Connection,
    base: int,
    policy: str,
    now: str,
    reason: str,
    summary: ImportSummary,
) -> None:
    """Apply ``--on-duplicate`` to each duplicate row, in file order."""
    rows = conn.execute(
        f"SELECT line, {', '.join(STAGED)}, stage, tags, custom, first_line, existing_id "
        "FROM staging WHERE first_line IS NOT NULL OR existing_id IS NOT NULL ORDER BY line"
    ).fetchall()
    target_of: dict[int, int] = {}
    for row in rows:
        if row["existing_id"] is not None:
            target = row["existing_id"]
        else:  # an earlier row of this file: its lead, or the lead it merged into
            target = target_of.get(row["first_line"], base + row["first_line"])
        target_of[row["line"]] = target
        if policy == "skip" or not _merge_one(conn, target, row, policy, now, reason):
            summary.duplicates += 1
        else:
            summary.updated += 1


def _merge_one(
    conn: sqlite3.Connection,
    lead_id: int,
    row: sqlite3.Row,
    policy: str,
    now: str,
    reason: str,
) -> bool:
    """Merge (fill empty fields, union tags, keep the more advanced stage) or update
    (non-empty values win); returns whether anything changed."""
    lead = conn.execute("SELECT * FROM leads WHERE id = ?", (lead_id,)).fetchone()
    if lead is None:  # pragma: no cover - the target was created or found in this transaction
        return False
    changes: dict[str, list[Any]] = {}
    for name in STAGED:
        new = row[name]
        if new in (None, "") or (name == "do_not_contact" and not new):
            continue
        old = lead[name]
        if (policy == "update" and new != old) or (policy == "merge" and old in (None, "")):
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
    new_tags = [t.strip() for t in json.loads(row["tags"] or "[]") if t.strip()]
    added = [t for t in dict.fromkeys(new_tags) if t.lower() not in old_tags]
    if added:
        conn.executemany(
            "INSERT OR IGNORE INTO lead_tags (lead_id, tag) VALUES (?, ?)",
            [(lead_id, t) for t in added],
        )
        changes["tags"] = [None, added]
    if changes:
        history.record(conn, lead_id, "merged", changes, reason=reason, at=now)
    stage = row["stage"]
    if (
        stage != lead["stage"]
        and lead["stage"] not in CLOSED_STAGES
        and (rank(stage) > rank(lead["stage"]) or stage in CLOSED_STAGES)
    ):
        change_stage(conn, dict(lead), stage, reason="import", at=now)
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
            "SELECT last_history_id, undone_at FROM import_batches WHERE id = ?", (batch_id,)
        ).fetchone()
        if batch is None:
            raise NotFound(f"no import batch {batch_id}", hint="`leadcli imports` lists them")
        if batch["undone_at"]:
            raise LeadcliError(f"import batch {batch_id} was already undone")
        touched = {
            lead_id
            for (lead_id,) in conn.execute(
                "SELECT DISTINCT h.lead_id FROM history h JOIN batch_leads b "
                "ON b.lead_id = h.lead_id AND b.batch_id = ? WHERE h.id > ?",
                (batch_id, batch["last_history_id"]),
            )
        }
        created = [
            lead_id
            for (lead_id,) in conn.execute(
                "SELECT b.lead_id FROM batch_leads b JOIN leads l ON l.id = b.lead_id "
                "WHERE b.batch_id = ? ORDER BY b.lead_id",
                (batch_id,),
            )
        ]
        removed = [i for i in created if i not in touched]
        conn.executemany(
            "INSERT INTO history (lead_id, at, event, changes, reason) "
            "VALUES (?, ?, 'erased', NULL, ?)",
            [(i, now, f"import #{batch_id} undone") for i in removed],
        )
        conn.executemany("DELETE FROM leads WHERE id = ?", [(i,) for i in removed])
        conn.execute("UPDATE import_batches SET undone_at = ? WHERE id = ?", (now, batch_id))
    return UndoResult(batch_id, removed, sorted(touched.intersection(created)))


def list_batches(store: Store) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in store.conn.execute(
            "SELECT id, file_name, imported_at, rows, imported, updated, duplicates, rejected,"
            " rejects_file, sha256, undone_at FROM import_batches ORDER BY id"
        )
    ]
