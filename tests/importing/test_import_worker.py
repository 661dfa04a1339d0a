"""A big import converts its rows in a forked worker process: the database ends up exactly as
an import in one process leaves it, the worker's errors reach the caller, and no worker is
left behind, whatever happens."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from leadcli.importing import loader, worker
from leadcli.importing.readers import ReadError
from leadcli.storage.store import connect

HEADER = "Full Name,Email,Phone,Company,Lead Status,Created Date,Tags,Industry,Notes\n"


def _messy_rows(count: int) -> str:
    """Rows of every kind: good, duplicated, ragged, invalid, multi-line, custom columns."""
    lines = []
    for i in range(count):
        kind = i % 9
        email = f"person{i // 3 if kind == 4 else i}@acme{i % 5}.com"
        phone = f"(415) 555-{i % 10_000:04d}" if kind != 2 else ""
        row = [
            f"Person {i} Silva",
            email,
            phone,
            f"Acme {i % 7}",
            ["New", "Working - Contacted", "Closed - Converted", "Qualified"][i % 4],
            f"2026-0{i % 9 + 1}-1{i % 9}",
            "vip;expo" if kind == 1 else "",
            "Pharma" if kind == 3 else "",
            '"line one\nline two"' if kind == 5 else "",
        ]
        if kind == 6:
            row[1] = "not-an-address"  # rejected
        if kind == 7 and i % 2:
            row = row[:3]  # ragged: rejected with its line number
        lines.append(",".join(row))
    return HEADER + "\n".join(lines) + "\n"


def _snapshot(store: Any) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "leads": "SELECT * FROM leads ORDER BY id",
        "tags": "SELECT * FROM lead_tags ORDER BY lead_id, tag",
        "history": "SELECT lead_id, at, event, changes FROM history ORDER BY id",
        "sequence": "SELECT * FROM sqlite_sequence WHERE name = 'leads'",
        "search": "SELECT rowid FROM leads_fts WHERE leads_fts MATCH 'silva' ORDER BY rowid",
    }
    return {name: [tuple(r) for r in store.conn.execute(sql)] for name, sql in queries.items()}


def _assert_no_child_processes() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the forks (the tests ask for the worker with ``parallel=True``, as the CLI
    does for a big file)."""
    calls: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            calls.append(pid)
        return pid

    monkeypatch.setattr(worker.os, "fork", counting_fork)
    # Many small chunks, so that the worker sends many messages.
    monkeypatch.setattr(loader, "ROWS_PER_STATEMENT", 7)
    return calls


def test_worker_and_single_process_imports_agree(tmp_path: Path, monkeypatch, forks):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-20T09:00:00Z")  # both write the same times
    path = tmp_path / "messy.csv"
    path.write_text(_messy_rows(400), encoding="utf-8")
    results = []
    for parallel in (False, True):
        store = connect(tmp_path / f"{parallel}.db")
        with store.write() as conn:  # a lead already there, merged into
            conn.execute(
                "INSERT INTO leads (email, created_at, updated_at) VALUES "
                "('person0@acme0.com', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
            )
        rejects = tmp_path / f"{parallel}.rejects.csv"
        summary = loader.import_file(
            store,
            str(path),
            loader.ImportOptions(rejects=rejects, tags=["nightly"], parallel=parallel),
        )
        counts = (summary.rows, summary.imported, summary.updated, summary.duplicates)
        results.append((counts, summary.rejected, _snapshot(store), rejects.read_text()))
        store.close()
    assert len(forks) == 1  # the second import, and only it, used a worker
    assert results[0] == results[1]
    (rows, imported, updated, duplicates), rejected, snapshot, rejects_text = results[1]
    assert snapshot["tags"] and snapshot["search"]  # tags and the search index came through
    assert rows == 400 and imported > 250 and updated + duplicates > 0 and rejected > 40
    assert "row has 3 fields, the header has 9" in rejects_text
    _assert_no_child_processes()


def test_a_big_import_from_stdin_goes_through_the_worker(tmp_path: Path, forks):
    """``import -`` asked to use the worker: the worker reads stdin, hashes it as it goes
    and sends the hash back with its last message."""
    import io

    data = _messy_rows(20_000).encode()
    assert len(data) > worker.PARALLEL_MIN_BYTES
    store = connect(tmp_path / "leads.db")
    summary = loader.import_file(
        store,
        "-",
        loader.ImportOptions(rejects=tmp_path / "r.csv", parallel=True),
        stdin=io.BytesIO(data),
    )
    assert forks and summary.rows == 20_000
    batch_hash = store.conn.execute("SELECT sha256 FROM import_batches").fetchone()[0]
    assert batch_hash == hashlib.sha256(data).hexdigest()
    assert summary.imported == store.conn.execute("SELECT count(*) FROM leads").fetchone()[0]
    _assert_no_child_processes()


def test_worker_read_error_reaches_the_caller(tmp_path: Path, forks):
    """Bytes that are not UTF-8 past the part read to detect the encoding: the worker's
    ReadError is raised here, and nothing is imported."""
    path = tmp_path / "broken.csv"
    good = _messy_rows(12_000).encode()
    assert len(good) > 1 << 20  # beyond the sample the encoding is detected from
    path.write_bytes(good + b"Zo\xe9 Broken,zoe@acme.com,,,,,,,\n")
    store = connect(tmp_path / "leads.db")
    with pytest.raises(ReadError, match="is not valid utf-8 past its start"):
        loader.import_file(
            store, str(path), loader.ImportOptions(rejects=tmp_path / "r.csv", parallel=True)
        )
    assert forks
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    assert not (tmp_path / "r.csv").exists()
    _assert_no_child_processes()


def test_worker_is_ended_when_the_load_fails(tmp_path: Path, monkeypatch, forks):
    """The database side fails half-way (a full disk, say): the worker, maybe blocked on a
    full pipe, is ended and reaped, and the database is as it was."""
    path = tmp_path / "leads.csv"
    path.write_text(_messy_rows(2_000), encoding="utf-8")
    real_submit = loader._Inserter.submit
    calls = []

    def failing_submit(self: Any, sql: str, params: list[Any]) -> None:
        calls.append(sql)
        if len(calls) == 5:
            raise sqlite3.OperationalError("database or disk is full")
        real_submit(self, sql, params)

    monkeypatch.setattr(loader._Inserter, "submit", failing_submit)
    store = connect(tmp_path / "leads.db")
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        loader.import_file(
            store, str(path), loader.ImportOptions(rejects=tmp_path / "r.csv", parallel=True)
        )
    assert forks
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM import_batches").fetchone()[0] == 0
    _assert_no_child_processes()


def test_no_worker_is_forked_while_other_threads_run():
    """A thread might hold a lock at the moment of a fork, and the worker would wait for it
    for ever: an application calling the library from a threaded program converts in-process."""
    import threading

    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert worker.can_fork() is False
    finally:
        release.set()
        thread.join()
    assert worker.can_fork() is (len(os.sched_getaffinity(0)) >= 2)


def test_a_worker_that_dies_is_a_clear_error(tmp_path: Path, monkeypatch, forks):
    """Killed (by the OOM killer, say) half-way: one clear error, the database as it was."""
    from leadcli.errors import LeadcliError

    real_prepare = worker._prepare

    def dying(*args: Any) -> Any:
        chunks = real_prepare(*args)
        yield next(chunks)
        os._exit(9)  # in the worker: the parent never forks itself

    monkeypatch.setattr(worker, "_prepare", dying)
    path = tmp_path / "leads.csv"
    path.write_text(_messy_rows(500), encoding="utf-8")
    store = connect(tmp_path / "leads.db")
    with pytest.raises(LeadcliError, match="worker process ended unexpectedly"):
        loader.import_file(
            store, str(path), loader.ImportOptions(rejects=tmp_path / "r.csv", parallel=True)
        )
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    _assert_no_child_processes()


def test_an_import_gives_the_connection_its_settings_back(tmp_path: Path):
    """An import reads without a memory map and with a bigger page cache; a program that
    goes on using the store gets its own settings back."""
    store = connect(tmp_path / "leads.db")
    pragmas = ("mmap_size", "main.cache_size", "temp.cache_size", "threads")
    before = [store.conn.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas]
    assert before[0] > 0  # connect maps the file: the import has something to give back
    path = tmp_path / "leads.csv"
    path.write_text(_messy_rows(50), encoding="utf-8")
    loader.import_file(store, str(path), loader.ImportOptions(rejects=tmp_path / "r.csv"))
    assert [store.conn.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas] == before


def test_no_converted_value_is_the_missing_marker():
    """A chunk's parameters carry a missing value as ``worker.MISSING`` and the INSERT stores
    it as NULL: a converted value equal to it would be lost. Every field a file can fill,
    from cells that clean to nothing (blanks, placeholders, control characters, a bare
    formula guard, empty list items) as well as from real values."""
    from leadcli.importing import mapping
    from leadcli.importing.rows import EXTRA_COLUMNS, LEAD_FIELDS, RowConverter

    header = [
        "Full Name", "First Name", "Last Name", "Email", "Phone", "Company", "Title",
        "Website", "City", "Country", "Lead Source", "Owner", "Amount", "Notes", "Id",
        "Do Not Contact", "Lead Status", "Created Date", "Close Date", "Lost Reason", "Tags",
        "Email 2", "Mobile", "Street", "Postal Code", "State", "Converted", "Industry",
    ]  # fmt: skip
    targets = mapping.build(header, {})
    assert set(LEAD_FIELDS) - {"external_system"} <= set(targets)
    empty_like = ["", "   ", "'", "\u200b", "\x07", "n/a", "-", ",", " ; ", "[]", "none"]
    real = [
        "Ana Silva", "Ana", "Silva", "ana@acme.com", "+1 415 555 0100", "Acme", "CEO",
        "acme.com", "Lisbon", "PT", "web", "jo", "1200", "met", "X1", "yes", "Closed - Lost",
        "2026-01-02", "2026-02-03", "price", "vip", "b@acme.com; '", "415 555 0101", "Rua 1",
        "1000", "Lisboa", "false", "Pharma",
    ]  # fmt: skip
    rows = [(2, real)] + [(3 + i, [e] * len(header)) for i, e in enumerate(empty_like)]
    rows += [(100 + i, [*real[:3], e, *real[4:]]) for i, e in enumerate(empty_like)]
    converter = RowConverter(header, targets, system="salesforce")
    chunk = converter.convert(rows)
    assert chunk.lines  # some rows kept, their columns checked
    for name, column in zip([*converter.fields, *EXTRA_COLUMNS], chunk.columns, strict=True):
        assert worker.MISSING not in column, name
    prepared = next(worker._prepare(iter(rows), converter.convert, 100, 1, None))
    assert None not in prepared.params
