"""``leads.reach`` (how far a lead's stage changes went) and ``stage_stays`` (each finished
stay in a stage), which reports read instead of every lead's history, always say what the
history says, whoever wrote it: an import of closed leads, advance and lose, reopen, merge
and its undo, import undo; and a database from before them is filled when it is upgraded.
The counts kept for reports (``lead_cells``, ``stage_stay_totals``) always equal a count of
the leads and stays as they are, after every writer too, a bulk import and rescore among
them."""

from __future__ import annotations

import json

import pytest

from leadcli.importing import loader
from leadcli.pipeline.stages import reach_sql
from leadcli.scoring import apply
from leadcli.storage.migrations import migrate
from leadcli.storage.store import connect
from leadcli.text.dates import span_sql

#: Leads whose ``reach`` is not the highest rank their stage events reached.
WRONG = (
    "SELECT l.id, l.reach, (SELECT max(" + reach_sql("h.changes") + ") FROM history AS h "
    "WHERE h.lead_id = l.id AND h.event = 'stage') AS expected FROM leads AS l "
    "WHERE l.reach IS NOT expected"
)


#: Each stage event of a lead there is, with the stay it ended, worked out from history.
EXPECTED_STAYS = (
    "SELECT h.id, json_extract(h.changes, '$.stage[0]') AS stage, h.at AS left_at, "
    "coalesce(lag(h.at) OVER (PARTITION BY h.lead_id ORDER BY h.at, h.id), l.created_at) "
    "AS entered FROM history AS h JOIN leads AS l ON l.id = h.lead_id WHERE h.event = 'stage'"
)
#: Stays that differ from history, and stage events of a lead there is without their stay.
WRONG_STAYS = (
    f"SELECT e.id, s.stage, s.seconds FROM ({EXPECTED_STAYS}) AS e "
    "LEFT JOIN stage_stays AS s ON s.history_id = e.id WHERE s.history_id IS NULL "
    "OR s.stage IS NOT e.stage OR s.left_at IS NOT e.left_at "
    f"OR s.seconds IS NOT {span_sql('e.entered', 'e.left_at')}"
)


#: The lead cells, and the same counted from the leads: equal, value totals too (whole
#: cents, each lead's value rounded half to even by Python's ``round``: ``py_cents``).
KEPT_CELLS = (
    "SELECT key, source, stage, reach, rating, month, leads, cents, valued, created FROM lead_cells"
)
COUNTED_CELLS = (
    "SELECT json_array(source, stage, reach, rating, substr(created_at, 1, 7)), source, stage, "
    "reach, rating, substr(created_at, 1, 7), count(*), coalesce(sum(py_cents(value)), 0), "
    "count(value), "
    "coalesce(sum(CAST(strftime('%s', created_at) AS INTEGER)), 0) FROM leads "
    "GROUP BY source, stage, reach, rating, substr(created_at, 1, 7)"
)
KEPT_TOTALS = "SELECT stage, stays, seconds FROM stage_stay_totals WHERE stays <> 0"
COUNTED_TOTALS = (
    "SELECT ifnull(stage, ''), count(*), sum(seconds) FROM stage_stays GROUP BY ifnull(stage, '')"
)


def py_cents(value: float | None) -> int | None:
    """A lead's value in whole cents as the cells count it, worked out in Python."""
    return None if value is None else round(value * 100)


def _wrong(db_path) -> list[tuple]:
    """Every row that breaks one of the invariants (empty: all hold)."""
    store = connect(db_path)
    store.conn.create_function("py_cents", 1, py_cents, deterministic=True)
    try:
        found = [tuple(r) for q in (WRONG, WRONG_STAYS) for r in store.conn.execute(q)]
        for kept, counted in ((KEPT_CELLS, COUNTED_CELLS), (KEPT_TOTALS, COUNTED_TOTALS)):
            for a, b in ((kept, counted), (counted, kept)):
                found += [
                    ("not counted as kept", *r) for r in store.conn.execute(f"{a} EXCEPT {b}")
                ]
        return found
    finally:
        store.close()


def _stays(db_path) -> int:
    store = connect(db_path)
    try:
        return store.conn.execute("SELECT count(*) FROM stage_stays").fetchone()[0]
    finally:
        store.close()


def _ok(result) -> None:
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("bulk", [False, True])
def test_reach_follows_every_writer_of_stage_history(cli, tmp_path, db_path, monkeypatch, bulk):
    if bulk:  # the big-file path: indexes dropped and built again, stays written at once;
        # a statement per row, so the rows are counted in their cells in several passes
        monkeypatch.setattr(loader, "BULK_MIN_BYTES", 0)
        monkeypatch.setattr(loader, "ROWS_PER_STATEMENT", 1)
    crm = tmp_path / "crm.csv"
    crm.write_text(
        "Email,Lead Status,Lead Source,Amount,Created Date\n"
        "won@x.com,Closed - Converted,Web,1000.10,2026-01-05\n"
        "gone@x.com,Closed - Not Converted,web ,,2026-02-01\n"
        "open@x.com,Working - Contacted,,250.5,2026-02-03\n"
        "new@x.com,,Referral,0.1,\n"
        "dup@x.com,,Web,0.2,2026-01-05\n"
        "DUP@x.com,,Fair,0.3,2026-03-01\n"
        "a1@x.com,,Fair,,2026-03-02\n"
        "a2@x.com,,Fair,7,2026-03-02\n"
        "a3@x.com,,,,2026-04-02\n"
        "a4@x.com,,Web,9,2026-04-03\n"
    )
    _ok(cli("import", str(crm)))
    assert _wrong(db_path) == []
    assert _stays(db_path) == 2  # the two closed leads' stays in prospect
    store = connect(db_path)
    indexes = {
        r[0] for r in store.conn.execute("SELECT name FROM pragma_index_list('stage_stays')")
    }
    store.close()
    assert {"stage_stays_lead", "stage_stays_by_stage"} <= indexes
    ids = {lead["email"]: lead["id"] for lead in json.loads(cli("list", "-f", "json").stdout)}
    _ok(cli("advance", str(ids["new@x.com"]), "--to", "sql"))
    _ok(cli("advance", str(ids["new@x.com"]), "--lost", "--reason", "no budget"))
    _ok(cli("advance", str(ids["open@x.com"]), "--to", "opportunity"))
    _ok(cli("advance", str(ids["gone@x.com"]), "--reopen", "--to", "lead"))
    assert _wrong(db_path) == []
    _ok(cli("merge", str(ids["open@x.com"]), str(ids["new@x.com"])))
    assert _wrong(db_path) == []
    stays = _stays(db_path)
    _ok(cli("merge", "undo", "1"))
    assert _wrong(db_path) == []
    assert _stays(db_path) == stays
    more = tmp_path / "more.csv"
    more.write_text("Email,Lead Status\nopen@x.com,Closed - Converted\nlate@x.com,Qualified\n")
    _ok(cli("import", str(more)))
    assert _wrong(db_path) == []
    _ok(cli("import", "undo", "2"))
    assert _wrong(db_path) == []
    lost = json.loads(cli("report", "funnel", "-f", "json").stdout)
    assert lost["totals"]["lost"] == 1  # new@x.com, lost from sql
    _ok(cli("edit", str(ids["won@x.com"]), "--value", "12.25", "--source", "Fair"))
    _ok(cli("forget", "gone@x.com", "--yes"))
    assert _wrong(db_path) == []
    # A rescore that changes many ratings (the bulk one drops the cells' trigger and counts
    # every cell again), then one that changes a few (the trigger counts them).
    monkeypatch.setattr(apply, "BULK_CHANGES", 0 if bulk else 10**9)
    _ok(cli("config", "set", "rating.warm", "0"))
    _ok(cli("score"))
    assert _wrong(db_path) == []
    monkeypatch.setattr(apply, "BULK_CHANGES", 10**9)
    _ok(cli("config", "set", "rating.warm", "40"))
    _ok(cli("score", str(ids["open@x.com"])))
    assert _wrong(db_path) == []


def test_an_upgraded_database_gets_reach_from_its_history(tmp_path):
    db = tmp_path / "old.db"
    store = connect(db, migrate=False)
    migrate(store, target=13)
    with store.write() as conn:
        conn.execute(
            "INSERT INTO leads (id, first_name, stage, created_at, updated_at) VALUES "
            "(1, 'a', 'lost', '2026-01-01', '2026-01-01'), "
            "(2, 'b', 'mql', '2026-01-01', '2026-01-01')"
        )
        conn.executemany(
            "INSERT INTO history (lead_id, at, event, changes, reason) "
            "VALUES (?, ?, 'stage', ?, 'manual')",
            [
                (1, "2026-01-02", '{"stage": ["prospect", "opportunity"]}'),
                (1, "2026-01-03", '{"stage": ["opportunity", "lost"]}'),
                (2, "2026-01-02", '{"stage": ["prospect", "mql"]}'),
            ],
        )
    migrate(store)
    assert dict(store.conn.execute("SELECT id, reach FROM leads").fetchall()) == {1: 4, 2: 2}
    assert [
        tuple(r)
        for r in store.conn.execute(
            "SELECT lead_id, stage, seconds FROM stage_stays ORDER BY history_id"
        )
    ] == [(1, "prospect", 86400), (1, "opportunity", 86400), (2, "prospect", 86400)]
    store.close()
    assert _wrong(db) == []
