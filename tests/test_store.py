"""The database file: where it lives, how it is protected, how it migrates."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from leadcli import migrations
from leadcli.errors import DatabaseError
from leadcli.paths import resolve_db_path
from leadcli.store import connect


def test_created_owner_only_in_wal_mode(tmp_path: Path):
    path = tmp_path / "new" / "nested" / "leads.db"
    store = connect(path)
    store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_existing_folder_mode_is_left_alone(tmp_path: Path):
    tmp_path.chmod(0o755)
    connect(tmp_path / "leads.db").close()
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_busy_timeout_is_set(store):
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_db_location_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("LEADCLI_DB", str(tmp_path / "env.db"))
    assert resolve_db_path(tmp_path / "flag.db") == tmp_path / "flag.db"
    assert resolve_db_path(None) == tmp_path / "env.db"
    monkeypatch.delenv("LEADCLI_DB")
    default = resolve_db_path(None)
    assert default.name == "leads.db" and "leadcli" in str(default.parent)


def test_fresh_database_is_at_current_schema(store):
    assert store.schema_version() == migrations.SCHEMA_VERSION
    tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
    assert {"leads", "lead_tags", "history", "leads_fts"} <= tables


def test_old_database_migrates_forward_keeping_data(tmp_path: Path, monkeypatch):
    """A database made by schema version 1 opens after a new migration is added."""
    path = tmp_path / "old.db"
    old = connect(path, migrate=False)
    migrations.migrate(old, target=1)
    old.conn.execute(
        "INSERT INTO leads (first_name, email, created_at, updated_at) "
        "VALUES ('Ana', 'ana@acme.com', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')"
    )
    old.close()

    def m999_add_linkedin(db) -> None:
        db.execute("ALTER TABLE leads ADD COLUMN linkedin TEXT")

    steps = [*migrations.MIGRATIONS, m999_add_linkedin]
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", len(steps))
    store = connect(path)
    assert store.schema_version() == len(steps)
    columns = {r["name"] for r in store.conn.execute("PRAGMA table_info(leads)")}
    assert "linkedin" in columns
    row = store.conn.execute("SELECT first_name, email FROM leads").fetchone()
    assert tuple(row) == ("Ana", "ana@acme.com")
    # the kept lead is still searchable: the FTS index came along
    hits = store.conn.execute("SELECT rowid FROM leads_fts WHERE leads_fts MATCH 'ana'").fetchall()
    assert len(hits) == 1
    store.close()


def test_failed_migration_rolls_back_and_stays_pending(tmp_path: Path, monkeypatch):
    path = tmp_path / "x.db"
    connect(path).close()

    def m999_broken(db) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    steps = [*migrations.MIGRATIONS, m999_broken]
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", len(steps))
    with pytest.raises(RuntimeError):
        connect(path)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == len(steps) - 1
    assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None


def test_database_from_newer_leadcli_is_refused(tmp_path: Path):
    path = tmp_path / "future.db"
    connect(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 5}")
    with pytest.raises(DatabaseError, match="newer leadcli"):
        connect(path)


def test_not_a_database_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not sqlite " * 100)
    with pytest.raises(DatabaseError, match="cannot use the database"):
        connect(path)


def test_history_is_append_only(store):
    from leadcli import history

    with store.write() as conn:
        history.record(conn, 1, history.CREATED, {"first_name": [None, "Ana"]})
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE history SET event = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM history")
    assert store.conn.execute("SELECT count(*) FROM history").fetchone()[0] == 1


def test_write_rolls_back_on_error(store):
    with pytest.raises(ZeroDivisionError), store.write() as conn:
        conn.execute(
            "INSERT INTO leads (first_name, created_at, updated_at) VALUES ('x', 'a', 'b')"
        )
        1 / 0  # noqa: B018
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    assert not store.conn.in_transaction
