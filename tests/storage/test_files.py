"""Files leadcli must not harm or half-write: other programs' databases, read-only files,
a full disk, and the temporary files of failures."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from leadcli.importing import loader
from leadcli.storage import store as store_mod

ROOT = os.geteuid() == 0


def _other_programs_db(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO photos (name) VALUES ('beach.jpg')")
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("command", [["list"], ["add", "--first-name", "Ana"], ["doctor"]])
def test_another_programs_database_is_refused_untouched(proc, tmp_path, command):
    (tmp_path / "photos").mkdir()
    path = tmp_path / "photos" / "photos.db"
    before = _other_programs_db(path)
    result = proc("--db", str(path), *command)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    if command != ["doctor"]:
        assert len(lines) == 1 and "another program's SQLite database" in lines[0]
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["photos.db"]  # no -wal, no -shm


def test_a_file_that_is_not_sqlite_is_refused_untouched(proc, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("Name,Email\nAna,ana@acme.com\n")
    result = proc("--db", str(path), "add", "--first-name", "Bob")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "not a SQLite database" in result.stderr
    assert path.read_text() == "Name,Email\nAna,ana@acme.com\n"


def test_an_empty_file_becomes_a_leadcli_database(proc, tmp_path):
    path = tmp_path / "new.db"
    path.touch()
    assert proc("--db", str(path), "add", "--first-name", "Ana").returncode == 0


def test_read_only_database_reads_and_refuses_writes(cli, monkeypatch, db_path):
    assert cli("add", "--first-name", "Ana").exit_code == 0
    # Root writes through any mode: make leadcli see what a user on a read-only file sees.
    monkeypatch.setattr(store_mod, "_writable", lambda _path: False)
    listed = cli("list", "-q")
    assert listed.exit_code == 0 and listed.stdout == "1\n"
    assert cli("due").exit_code == 0
    assert cli("export", "-f", "json").exit_code == 0
    refused = cli("add", "--first-name", "Bob")
    assert refused.exit_code == 1
    assert "read-only" in refused.stderr and refused.stderr.count("\n") == 1
    monkeypatch.setattr(store_mod, "_writable", lambda _path: True)
    assert cli("add", "--first-name", "Bob").exit_code == 0


@pytest.mark.skipif(ROOT, reason="root writes through file modes")
def test_read_only_file_and_folder_for_real(proc, db_path):
    assert proc("add", "--first-name", "Ana").returncode == 0
    db_path.chmod(0o400)
    db_path.parent.chmod(0o500)
    try:
        listed = proc("list", "-q")
        assert listed.returncode == 0 and listed.stdout == "1\n"
        refused = proc("add", "--first-name", "Bob")
        assert refused.returncode == 1 and "read-only" in refused.stderr
    finally:
        db_path.parent.chmod(0o700)
        db_path.chmod(0o600)


@pytest.fixture
def small_disk(monkeypatch):
    """A database that cannot grow past a few pages: what SQLite does on a full disk."""
    real = store_mod.connect

    def connect(*args, **kwargs):
        store = real(*args, **kwargs)
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages + 3}")
        return store

    monkeypatch.setattr(store_mod, "connect", connect)


def test_full_disk_import_says_so_and_leaves_no_temporary_file(cli, small_disk, tmp_path, db_path):
    rows = "".join(f"Person{i} X,p{i}@example.com\n" for i in range(3000))
    source = tmp_path / "in" / "big.csv"
    source.parent.mkdir()
    source.write_text("Name,Email\n" + rows + "Nobody,not-an-email\n")  # one rejected row
    result = cli("import", str(source))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the disk is full; nothing was changed")
    assert "another program" not in result.stderr
    assert sorted(p.name for p in source.parent.iterdir()) == ["big.csv"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0


def test_full_disk_writing_rejects_leaves_no_partial_file(cli, monkeypatch, tmp_path):
    source = tmp_path / "in" / "bad.csv"
    source.parent.mkdir()
    source.write_text("Name,Email\n" + "Nobody,not-an-email\n" * 50)

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(loader._Rejects, "commit", lambda self: full(self))
    result = cli("import", str(source))
    assert result.exit_code == 1 and "disk is full" in result.stderr
    assert sorted(p.name for p in source.parent.iterdir()) == ["bad.csv"]


def test_full_disk_config_set_keeps_the_old_file_and_no_tmp(cli, monkeypatch, tmp_path):
    import tomli_w

    assert cli("config", "set", "followup.stale_days", "10").exit_code == 0
    config = Path(os.environ["LEADCLI_CONFIG"])
    before = config.read_bytes()

    def full(_data, handle):
        handle.write(b"[followup]\n")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tomli_w, "dump", full)
    result = cli("config", "set", "followup.stale_days", "20")
    assert result.exit_code == 1 and "disk is full" in result.stderr
    assert config.read_bytes() == before
    assert sorted(p.name for p in config.parent.iterdir()) == ["config.toml"]


def test_import_from_a_read_only_folder_puts_rejects_elsewhere(cli, monkeypatch, tmp_path):
    source = tmp_path / "cdrom" / "leads.csv"
    source.parent.mkdir()
    source.write_text("Name,Email\nAna Silva,ana@acme.com\nNobody,not-an-email\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    real = loader._writable_folder
    monkeypatch.setattr(loader, "_writable_folder", lambda f: f != source.parent and real(f))
    result = cli("import", str(source), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert '"imported": 1' in result.stdout and '"rejected": 1' in result.stdout
    assert (work / "leads.rejects.csv").exists()
    assert sorted(p.name for p in source.parent.iterdir()) == ["leads.csv"]
    explicit = cli("import", str(source), "--rejects", str(source.parent / "r.csv"), "--again")
    assert explicit.exit_code == 1 and "--rejects" in explicit.stderr
