"""Backups: what a user gets back is a whole database, taken when they expected one."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from leadcli.cli import options
from leadcli.leads.records import add_lead
from leadcli.privacy import backups
from leadcli.storage import migrations
from leadcli.storage.paths import backup_dir, backup_glob
from leadcli.storage.store import connect


def _names(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT first_name FROM leads ORDER BY id")]


def _automatic(db: Path) -> list[backups.Backup]:
    return [b for b in backups.list_backups(db) if b.reason != backups.MANUAL]


def test_backup_is_whole_owner_only_self_contained_and_listed(store, db_path):
    add_lead(store, {"first_name": "Ana"})
    taken = backups.take_backup(store)
    assert taken.path.parent == backup_dir(db_path)
    assert taken.path.match(backup_glob(db_path))
    assert stat.S_IMODE(taken.path.stat().st_mode) == 0o600
    assert _names(taken.path) == ["Ana"]
    with sqlite3.connect(taken.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert [b.path for b in backups.list_backups(db_path)] == [taken.path]
    assert not [p for p in taken.path.parent.iterdir() if p.name.startswith(".")]


def test_automatic_backups_keep_the_newest_and_spare_manual_ones(store, db_path):
    manual = backups.take_backup(store)
    taken = [backups.automatic_backup(store, "merge", keep=2) for _ in range(4)]
    assert [b.path for b in _automatic(db_path)] == [t.path for t in taken[-2:]]
    assert manual.path.exists()
    assert backups.automatic_backup(store, "merge", keep=0) is None
    assert len(_automatic(db_path)) == 2


def test_a_failed_backup_leaves_no_file(store, db_path, monkeypatch):
    import errno

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backups.os, "replace", full)
    with pytest.raises(OSError):
        backups.take_backup(store)
    assert list(backup_dir(db_path).iterdir()) == []


def test_a_killed_backups_temporary_file_goes_with_the_next_backup(store, db_path):
    folder = backup_dir(db_path)
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **_text)
    stale = folder / f".leads-x.db.{int(dead.stdout)}.tmp"
    stale.write_bytes(b"half a backup")
    backups.take_backup(store)
    assert not stale.exists()


_text = {"capture_output": True, "text": True, "check": True}


def test_restore_brings_a_backup_back_and_keeps_the_current_state(store, db_path):
    add_lead(store, {"first_name": "Ana"})
    old = backups.take_backup(store)
    add_lead(store, {"first_name": "Bob"})
    before = backups.restore(store, old.path)
    assert _names(db_path) == ["Ana"]
    assert _names(before.path) == ["Ana", "Bob"]
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_restore_refuses_what_is_not_a_whole_leadcli_database(store, tmp_path):
    add_lead(store, {"first_name": "Ana"})
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER)")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    from leadcli.errors import DatabaseError

    for path in (other, text, tmp_path / "missing.db"):
        with pytest.raises(DatabaseError):
            backups.restore(store, path)
    assert [r[0] for r in store.conn.execute("SELECT first_name FROM leads")] == ["Ana"]


def test_cli_backup_list_and_restore(cli, db_path, tmp_path, monkeypatch):
    assert cli("add", "--first-name", "Ana").exit_code == 0
    copy = tmp_path / "safe" / "copy.db"
    out = cli("backup", str(copy), "-f", "json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["path"] == str(copy)
    assert cli("backup").exit_code == 0
    assert cli("add", "--first-name", "Bob").exit_code == 0
    listed = json.loads(cli("backup", "list", "-f", "json").stdout)
    assert [b["reason"] for b in listed] == ["manual"]
    # In a script, restore needs --yes (usage error, nothing changed).
    refused = cli("restore", str(copy))
    assert refused.exit_code == 2
    assert _names(db_path) == ["Ana", "Bob"]
    # On a terminal it asks; "n" keeps everything.
    monkeypatch.setattr(options, "stdin_is_interactive", lambda: True)
    declined = cli("restore", str(copy), input="n\n")
    assert declined.exit_code == 1 and _names(db_path) == ["Ana", "Bob"]
    done = cli("restore", str(copy), input="y\n")
    assert done.exit_code == 0, done.stderr
    assert _names(db_path) == ["Ana"]
    reasons = [b["reason"] for b in json.loads(cli("backup", "list", "-f", "json").stdout)]
    assert reasons == ["manual", "restore"]


def test_bulk_commands_back_up_first_unless_turned_off(cli, db_path, tmp_path):
    for name in ("Ana", "Bob", "Cy"):
        cli("add", "--first-name", name, "--email", f"{name.lower()}@acme.com")
    assert cli("merge", "1", "2").exit_code == 0
    first = _automatic(db_path)
    assert [b.reason for b in first] == ["merge"]
    assert _names(first[0].path) == ["Ana", "Bob", "Cy"]  # the state before the merge
    csv = tmp_path / "more.csv"
    csv.write_text("Name,Email\nDee Dent,dee@zeta.com\n")
    assert cli("import", str(csv)).exit_code == 0
    assert cli("import", "undo", "1").exit_code == 0
    assert [b.reason for b in _automatic(db_path)] == ["merge", "import-undo"]
    assert cli("config", "set", "backup.keep", "0").exit_code == 0
    assert cli("merge", "1", "3").exit_code == 0
    assert len(_automatic(db_path)) == 2
    # Small commands never take one.
    cli("add", "--first-name", "Eve")
    cli("list")
    assert len(_automatic(db_path)) == 2


def test_dedupe_merge_backs_up_first(cli, db_path):
    cli(
        "add",
        "--allow-duplicate",
        "--first-name",
        "Ana",
        "--last-name",
        "Silva",
        "--email",
        "ana@acme.com",
    )
    cli(
        "add",
        "--allow-duplicate",
        "--first-name",
        "Ana",
        "--last-name",
        "Silva",
        "--email",
        "ana@acme.com",
    )
    result = cli("dedupe", "--merge", "--yes")
    assert result.exit_code == 0, result.stderr
    assert [b.reason for b in _automatic(db_path)] == ["dedupe"]
    assert len(_names(_automatic(db_path)[0].path)) == 2


def test_upgrading_an_existing_database_backs_it_up_a_fresh_one_not(proc, tmp_path):
    old_path = tmp_path / "old" / "leads.db"
    old = connect(old_path, migrate=False)
    migrations.migrate(old, target=migrations.SCHEMA_VERSION - 1)
    old.conn.execute(
        "INSERT INTO leads (first_name, created_at, updated_at) "
        "VALUES ('Ana', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')"
    )
    old.close()
    result = proc("--db", str(old_path), "list", "-q")
    assert result.returncode == 0, result.stderr
    taken = backups.list_backups(old_path)
    assert [b.reason for b in taken] == ["upgrade"]
    with sqlite3.connect(taken[0].path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION - 1
        assert conn.execute("SELECT first_name FROM leads").fetchall() == [("Ana",)]
    fresh = tmp_path / "fresh" / "leads.db"
    assert proc("--db", str(fresh), "add", "--first-name", "Bob").returncode == 0
    assert not backup_dir(fresh).exists()


def _writer(db: Path, csv: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "leadcli", "--db", str(db), "import", str(csv), "-f", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def test_backup_taken_while_another_process_imports_restores_a_committed_state(tmp_path):
    """Imports of 20,000 rows run one after another while backups are taken: every backup
    passes the integrity check and holds exactly the leads of a state some import committed
    (all of a batch or none of it)."""
    db = tmp_path / "busy" / "leads.db"
    files = []
    for n in range(3):
        path = tmp_path / f"batch{n}.csv"
        rows = "".join(f"P{n}x{i} Q,p{n}x{i}@example.com\n" for i in range(20_000))
        path.write_text("Name,Email\n" + rows)
        files.append(path)
    connect(db).close()
    committed = {0, 20_000, 40_000, 60_000}
    taken: list[Path] = []
    for path in files:
        importer = _writer(db, path)
        store = connect(db)
        while importer.poll() is None:
            taken.append(backups.take_backup(store).path)
        store.close()
        assert importer.wait() == 0, importer.stderr.read()
    assert len(taken) >= 3
    for path in taken:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT count(*) FROM leads").fetchone()[0] in committed
    # And one of them, restored, is that committed state in the live database.
    store = connect(db)
    mid = taken[len(taken) // 2]
    with sqlite3.connect(mid) as conn:
        expected = conn.execute("SELECT id, email FROM leads ORDER BY id").fetchall()
    backups.restore(store, mid)
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    got = [tuple(r) for r in store.conn.execute("SELECT id, email FROM leads ORDER BY id")]
    assert got == [tuple(r) for r in expected]
    store.close()
