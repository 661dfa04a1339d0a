"""The database file: where it lives, how it is protected, how it migrates."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from leadcli.errors import DatabaseError
from leadcli.storage import migrations
from leadcli.storage.paths import resolve_db_path
from leadcli.storage.store import connect


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


def test_rebuilding_the_lead_table_keeps_everything(tmp_path: Path):
    """Schema 6 rebuilds ``leads`` (cheaper checks): ids, the id sequence, tags, the search
    index, its triggers and the cascades all survive, and the checks still hold."""
    path = tmp_path / "v5.db"
    old = connect(path, migrate=False)
    migrations.migrate(old, target=5)
    with old.write() as conn:
        conn.executemany(
            "INSERT INTO leads (id, first_name, email, stage, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
            [
                (1, "Ana", "ana@acme.com", "mql"),
                (2, "Bo", "b@acme.com", "lead"),
                (9, "Cy", None, "lost"),
            ],
        )
        conn.execute("INSERT INTO lead_tags (lead_id, tag) VALUES (1, 'vip')")
        conn.execute("DELETE FROM leads WHERE id = 9")  # the sequence stays at 9
    old.close()

    store = connect(path)
    conn = store.conn
    assert store.schema_version() >= 6
    assert [tuple(r) for r in conn.execute("SELECT id, first_name, stage FROM leads")] == [
        (1, "Ana", "mql"),
        (2, "Bo", "lead"),
    ]
    assert conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'leads'").fetchone()[0] == 9
    indexes = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'leads'")
    }
    assert {"leads_email", "leads_stage", "leads_new", "leads_fts_ai", "leads_fts_au"} <= indexes
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1

    def search(word: str) -> list[int]:
        sql = "SELECT rowid FROM leads_fts WHERE leads_fts MATCH ? ORDER BY rowid"
        return [r[0] for r in conn.execute(sql, (word,))]

    assert search("ana") == [1]
    with store.write():
        conn.execute("UPDATE leads SET first_name = 'Bea' WHERE id = 2")
        new_id = conn.execute(
            "INSERT INTO leads (first_name, created_at, updated_at) VALUES ('Dee', 'x', 'x')"
        ).lastrowid
    assert (search("bea"), search("bo"), new_id) == ([2], [], 10)
    for bad in ("stage = 'won'", "rating = 'tepid'", "do_not_contact = 2", "score = 101"):
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(f"UPDATE leads SET {bad} WHERE id = 1")
    conn.execute("UPDATE leads SET rating = NULL, stage = 'sql' WHERE id = 1")
    with store.write():
        conn.execute("DELETE FROM leads WHERE id = 1")
    assert conn.execute("SELECT count(*) FROM lead_tags").fetchone()[0] == 0
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
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
    with pytest.raises(DatabaseError, match="not a SQLite database; leadcli left it untouched"):
        connect(path)
    assert path.read_text() == "this is not sqlite " * 100


def test_history_is_append_only(store):
    from leadcli.leads import history

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


def test_a_write_inside_a_write_joins_it_all_or_none(store):
    """Commands acting on several leads call one-lead functions inside one write: a failure
    on the last lead undoes the first."""
    from leadcli.leads.records import add_lead, edit_lead

    first = add_lead(store, {"first_name": "Ana"})
    with pytest.raises(RuntimeError), store.write():
        edit_lead(store, first, {"title": "CTO"})
        with store.read() as conn:  # reads see the transaction's own changes
            assert conn.execute("SELECT title FROM leads").fetchone()[0] == "CTO"
        raise RuntimeError("the second lead failed")
    assert store.conn.execute("SELECT title FROM leads").fetchone()[0] is None
    assert not store.conn.in_transaction
    with store.write():
        edit_lead(store, first, {"title": "CEO"})
    assert store.conn.execute("SELECT title FROM leads").fetchone()[0] == "CEO"


def test_m011_adds_address_fields_keeping_leads(tmp_path: Path):
    """A database from before the address fields opens with them, its leads untouched."""
    path = tmp_path / "old.db"
    before = migrations.MIGRATIONS.index(migrations.m011_address)
    old = connect(path, migrate=False)
    migrations.migrate(old, target=before)
    old.conn.execute(
        "INSERT INTO leads (first_name, city, created_at, updated_at) "
        "VALUES ('Ana', 'Porto', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')"
    )
    old.close()
    store = connect(path)
    row = store.conn.execute(
        "SELECT first_name, city, street, postal_code, region FROM leads"
    ).fetchone()
    assert tuple(row) == ("Ana", "Porto", None, None, None)
    store.close()
