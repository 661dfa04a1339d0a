"""Erasure's plan names every table and column there is: a new one cannot be forgotten."""

from __future__ import annotations

import sqlite3

from leadcli.privacy.erasure_plan import BY_LEAD_ID, PLAN, unplanned
from leadcli.storage.store import Store


def _schema(conn: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}


def test_every_table_and_column_is_in_erasures_plan(store: Store) -> None:
    store.conn.execute("ANALYZE")  # sqlite_stat1 (and sqlite_stat4 where compiled in)
    assert unplanned(store.conn) == {}, "say in erasure.PLAN what `forget` does with these"
    schema = _schema(store.conn)
    stale = {
        table: sorted(set(rule.columns) - schema.get(table, set()))
        for table, rule in PLAN.items()
        if not (rule.optional and table not in schema)
    }
    assert {t: c for t, c in stale.items() if c} == {}


def test_a_new_table_or_column_is_found_unplanned(store: Store) -> None:
    store.conn.execute("ALTER TABLE leads ADD COLUMN nickname TEXT")
    store.conn.execute("CREATE TABLE call_recordings (lead_id INTEGER, transcript TEXT)")
    assert unplanned(store.conn) == {
        "leads": ["nickname"],
        "call_recordings": ["lead_id", "transcript"],
    }


def test_tables_erased_by_lead_id_have_one(store: Store) -> None:
    schema = _schema(store.conn)
    for table, rule in PLAN.items():
        if rule.rows.startswith(BY_LEAD_ID):
            assert "lead_id" in schema[table], table


def test_every_table_referring_to_a_lead_is_erased_by_lead_id(store: Store) -> None:
    """A table with a foreign key to leads (whose rows a merge moves) is one erasure
    deletes from by lead_id."""
    referring = {
        r[0]
        for r in store.conn.execute(
            "SELECT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f "
            "WHERE m.type = 'table' AND f.\"table\" = 'leads'"
        )
    }
    assert referring
    for table in referring:
        assert PLAN[table].rows.startswith(BY_LEAD_ID), table
