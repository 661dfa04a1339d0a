"""`leadcli doctor` checks the counts kept for reports (``lead_cells``, ``stage_stay_totals``)
against a fresh count and `doctor --repair` rebuilds them; value totals are whole cents, so
adding and removing values leaves them exactly equal to a fresh sum."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadcli.leads import cells
from leadcli.leads.records import add_lead, drop_trigger
from leadcli.privacy import doctor
from leadcli.privacy.backups import list_backups
from leadcli.storage.migrations import SCHEMA_VERSION, migrate
from leadcli.storage.store import connect

LEADS = "Email,Lead Status,Lead Source,Amount,Created Date\n" + "".join(
    f"p{n}@x.com,{status},Trade Show {n % 3},{amount},2026-0{n % 4 + 1}-05\n"
    for n, (status, amount) in enumerate(
        [
            ("Closed - Converted", "1000.10"),
            ("Closed - Not Converted", ""),
            ("Working - Contacted", "250.5"),
            ("", "0.1"),
            ("", "0.2"),
            ("Closed - Converted", "12.345"),
            ("", "0.3"),
        ]
    )
)


def _findings(result) -> dict[str, dict]:
    return {f["check"]: f for f in json.loads(result.stdout)["findings"]}


def _loaded(cli, tmp_path: Path) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text(LEADS)
    assert cli("import", str(crm)).exit_code == 0


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports age open leads against now: the figures compared before and after a repair
    must not move with the clock (a slow run drifted the fourth decimal of an age)."""
    monkeypatch.setenv("LEADCLI_NOW", "2026-12-07T12:00:00Z")


def _reports(cli) -> list[str]:
    return [cli("report", name, "-f", "json").stdout for name in ("pipeline", "funnel", "sources")]


def _edit(db: Path, *sql: str) -> None:
    """A change made behind leadcli's back (the sqlite3 shell, another program)."""
    with sqlite3.connect(db) as conn:
        for statement in sql:
            conn.execute(statement)
    conn.close()


def test_kept_counts_equal_a_fresh_count_on_a_healthy_database(cli, tmp_path):
    _loaded(cli, tmp_path)
    found = _findings(cli("doctor", "-f", "json"))
    for table in ("lead_cells", "stage_stay_totals"):
        assert found[f"kept counts ({table})"]["status"] == "ok"


def test_hand_edited_lead_cells_are_found_and_repaired(cli, tmp_path, db_path):
    _loaded(cli, tmp_path)
    honest = _reports(cli)
    _edit(
        db_path,
        "UPDATE lead_cells SET cents = cents + 1 WHERE key = (SELECT min(key) FROM lead_cells)",
        "DELETE FROM lead_cells WHERE key = (SELECT max(key) FROM lead_cells)",
        "INSERT INTO lead_cells VALUES ('[\"ghost\"]', 'ghost', 'lead', 1, NULL, '2026-01', "
        "3, 300, 3, 0)",
    )
    assert _reports(cli) != honest  # the reports over every lead read the cells
    result = cli("doctor", "-f", "json")
    assert result.exit_code == 1
    finding = _findings(result)["kept counts (lead_cells)"]
    assert finding["status"] == "problem"
    assert "lead_cells" in finding["detail"]
    assert "1 wrong, 1 missing, 1 extra" in finding["detail"]
    assert finding["fix"].startswith("leadcli doctor --repair")
    assert "Trade Show" not in result.stdout and "ghost" not in result.stdout  # no lead data
    assert _findings(result)["kept counts (stage_stay_totals)"]["status"] == "ok"
    table = cli("doctor")
    assert table.exit_code == 1 and "doctor --repair" in table.stdout

    repaired = cli("doctor", "--repair", "-f", "json")
    assert repaired.exit_code == 0, repaired.stdout
    assert "Rebuilt lead_cells from a fresh count: 1 wrong, 1 missing, 1 extra" in (repaired.stderr)
    assert "Backed up to" in repaired.stderr
    assert [b.reason for b in list_backups(db_path)] == ["repair"]
    report = json.loads(repaired.stdout)
    assert report["repaired"][0] == {
        "table": "lead_cells",
        "rebuilt": True,
        "wrong": 1,
        "missing": 1,
        "extra": 1,
    }
    assert report["repaired"][1]["rebuilt"] is False
    assert _findings(repaired)["kept counts (lead_cells)"]["status"] == "ok"
    after = cli("doctor", "-f", "json")
    assert after.exit_code == 0
    assert _reports(cli) == honest  # the figures are the honest ones again


def test_hand_edited_stage_stay_totals_are_found_and_repaired(cli, tmp_path, db_path):
    _loaded(cli, tmp_path)
    honest = cli("report", "velocity", "-f", "json").stdout
    _edit(db_path, "UPDATE stage_stay_totals SET seconds = seconds + 86400")
    result = cli("doctor", "-f", "json")
    assert result.exit_code == 1
    finding = _findings(result)["kept counts (stage_stay_totals)"]
    assert finding["status"] == "problem"
    assert "stage_stay_totals" in finding["detail"] and "1 wrong" in finding["detail"]
    assert "doctor --repair" in finding["fix"]
    repaired = cli("doctor", "--repair")
    assert repaired.exit_code == 0, repaired.stdout
    assert "Rebuilt stage_stay_totals from a fresh count: 1 wrong" in repaired.stderr
    assert "lead_cells equals a fresh count: nothing to repair." in repaired.stderr
    assert cli("report", "velocity", "-f", "json").stdout == honest


def test_repair_with_nothing_to_mend_writes_nothing(cli, tmp_path, db_path):
    _loaded(cli, tmp_path)
    before = db_path.read_bytes()
    result = cli("doctor", "--repair")
    assert result.exit_code == 0
    assert "Backed up" not in result.stderr and list_backups(db_path) == []
    assert "nothing to repair" in result.stderr
    assert db_path.read_bytes() == before


#: Values as people type them, with sub-cent digits and halves among them.
AMOUNTS = st.one_of(
    st.integers(0, 10**8).map(lambda n: n / 1000),
    st.integers(0, 10**6).map(lambda n: n / 8),
    st.floats(0, 1e9, allow_nan=False),
    st.none(),
)


def _exact(conn: sqlite3.Connection) -> None:
    """Every cell's cents are the sum of its leads' values in cents, each rounded half to even
    in Python; and the module's own comparison agrees."""
    expected: dict[str, int] = {}
    for key, value in conn.execute(
        "SELECT json_array(source, stage, reach, rating, substr(created_at, 1, 7)), value "
        "FROM leads"
    ):
        expected[key] = expected.get(key, 0) + (0 if value is None else round(value * 100))
    kept = dict(conn.execute("SELECT key, cents FROM lead_cells").fetchall())
    assert kept == expected
    assert all(type(c) is int for c in kept.values())
    assert [d.rows for d in cells.compare(conn)] == [0, 0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.lists(AMOUNTS, min_size=1, max_size=40),
    second=st.lists(AMOUNTS, min_size=1, max_size=40),
    moves=st.lists(st.tuples(st.integers(0, 79), AMOUNTS), max_size=40),
    gone=st.lists(st.integers(0, 79), max_size=20),
)
def test_adding_and_removing_values_keeps_totals_exact(
    tmp_path_factory, first, second, moves, gone
):
    """Through every writer of the cells: the triggers (insert, update, delete one lead) and
    the grouped passes bulk writers use (counted in after a load, taken out before a delete)."""
    store = connect(tmp_path_factory.mktemp("cells") / "leads.db")
    try:
        with store.write() as conn:
            conn.executemany(
                "INSERT INTO leads (first_name, source, value, created_at, updated_at) "
                "VALUES ('x', 'web', ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                [(v,) for v in first],
            )
            # the bulk path: rows inserted with the trigger dropped, then counted in
            trigger = drop_trigger(conn, cells.INSERT_TRIGGER)
            floor = conn.execute("SELECT max(id) FROM leads").fetchone()[0]
            conn.executemany(
                "INSERT INTO leads (first_name, source, value, created_at, updated_at) "
                "VALUES ('y', 'fair', ?, '2026-02-01T00:00:00Z', '2026-02-01T00:00:00Z')",
                [(v,) for v in second],
            )
            cells.add(conn, "id > ?", (floor,))
            conn.execute(trigger)
        with store.write() as conn:
            for lead, value in moves:
                conn.execute("UPDATE leads SET value = ? WHERE id = ?", (value, lead + 1))
            for lead in gone[: len(gone) // 2]:
                conn.execute("DELETE FROM leads WHERE id = ?", (lead + 1,))
            rest = [lead + 1 for lead in gone[len(gone) // 2 :]]
            marks = ", ".join("?" * len(rest)) or "NULL"
            cells.add(conn, f"id IN ({marks})", rest, sign=-1)
            trigger = drop_trigger(conn, cells.DELETE_TRIGGER)
            conn.execute(f"DELETE FROM leads WHERE id IN ({marks})", rest)
            conn.execute(trigger)
            conn.executemany(
                "INSERT INTO leads (first_name, source, value, created_at, updated_at) "
                "VALUES ('z', 'web', ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                [(v,) for v in second],
            )
        _exact(store.conn)
    finally:
        store.close()


@given(st.floats(-1e13, 1e13, allow_nan=False))
def test_cents_are_the_value_rounded_half_to_even(value):
    conn = sqlite3.connect(":memory:")
    assert conn.execute(f"SELECT {cells.cents_sql('?1')}", (value,)).fetchone()[0] == round(
        value * 100
    )


def test_half_cents_round_to_even():
    conn = sqlite3.connect(":memory:")
    got = [
        conn.execute(f"SELECT {cells.cents_sql('?1')}", (v,)).fetchone()[0]
        for v in (0.125, 0.375, 12.345, 1e20, float("inf"))
    ]
    assert got[:3] == [12, 38, 1234]
    assert all(isinstance(g, float) for g in got[3:])  # beyond 2**63 cents: REAL, no error


def test_upgrade_from_schema_15_counts_cents_afresh(tmp_path):
    """A schema-15 database's REAL totals (drifted here by hand) become whole cents counted
    from the leads; the stays' totals (the stay is the one its history trigger made) are
    counted afresh too."""
    db = tmp_path / "old.db"
    store = connect(db, migrate=False)
    migrate(store, target=15)
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO leads (first_name, source, stage, value, created_at, updated_at) "
            "VALUES ('a', ?, ?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [
                ("web", "prospect", 0.1),
                ("web", "prospect", 0.2),
                ("web", "prospect", 12.345),
                ("web", "lead", None),
                ("fair", "lead", 1000.10),
                (None, "lead", 0.125),
            ],
        )
        conn.execute(
            "INSERT INTO history (lead_id, at, event, changes, reason) VALUES "
            "(1, '2026-01-02T00:00:00Z', 'stage', '{\"stage\": [\"prospect\", \"lead\"]}', 'x')"
        )
        conn.execute("UPDATE lead_cells SET value = value + 0.000001")
        conn.execute("UPDATE stage_stay_totals SET seconds = 7")
    assert store.schema_version() == 15
    findings = doctor.examine(db, keep=5)
    assert {f.check: f.status for f in findings}["kept counts"] == "ok"  # checked after upgrade
    migrate(store)
    assert store.schema_version() == SCHEMA_VERSION >= 17  # m017 and any later step
    conn = store.conn
    columns = [r[1] for r in conn.execute("PRAGMA table_info(lead_cells)")]
    assert "cents" in columns and "value" not in columns
    totals = dict(conn.execute("SELECT source, sum(cents) FROM lead_cells GROUP BY 1").fetchall())
    assert totals == {"web": 10 + 20 + 1234, "fair": 100010, None: 12}
    assert [
        tuple(r) for r in conn.execute("SELECT stage, stays, seconds FROM stage_stay_totals")
    ] == [("prospect", 1, 86400)]
    _exact(conn)
    with store.write() as conn:  # the new triggers count in cents
        conn.execute("UPDATE leads SET value = 0.3 WHERE id = 1")
        conn.execute("DELETE FROM leads WHERE id = 2")
    add_lead(store, {"first_name": "b", "value": "7.005"})
    _exact(store.conn)
    store.close()
    assert doctor.healthy([f for f in doctor.examine(db, keep=5) if f.check != "backups"])
