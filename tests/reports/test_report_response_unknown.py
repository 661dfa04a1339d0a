"""Honest response times: a lead imported as worked, without a first-touch time, has no
response time. It is counted as "unknown" in `report response`, never as contacted at the
second it was created (which showed a source "100 % < 1 h" and a median of 0.0 h)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadcli.storage import migrations
from leadcli.storage.store import connect

NOW = {"LEADCLI_NOW": "2026-11-24T09:00:00Z"}


def _response(cli, *args: str) -> dict:
    result = cli("report", "response", "-f", "json", *args, env=NOW)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "crm.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("filtered", [(), ("--source", "fair")], ids=["all", "filtered"])
def test_imported_worked_leads_without_a_first_touch_are_unknown(cli, tmp_path, filtered):
    path = _write(
        tmp_path,
        "Email,Status,Created,Source\n"
        "ana@a.example,Working - Contacted,2026-10-01 09:00,fair\n"
        "ben@b.example,Qualified,2026-10-02 09:00,fair\n"
        "cy@c.example,Open - Not Contacted,2026-10-03 09:00,fair\n",
    )
    assert cli("import", str(path), env=NOW).exit_code == 0
    overall = _response(cli, *filtered)["overall"]
    assert (overall["unknown"], overall["never"], overall["contacted"]) == (2, 1, 2)
    assert overall["within_1h"] == 0 and overall["within_1h_share"] == 0
    assert overall["timed"] == 0
    assert overall["median_hours"] is None  # no time is known: no median, not 0.0 h
    [row] = _response(cli, *filtered)["rows"]
    assert (row["source"], row["unknown"], row["unknown_share"]) == ("fair", 2, 0.6667)


def test_a_first_touch_column_gives_the_response_time(cli, tmp_path):
    path = _write(
        tmp_path,
        "Email,Status,Created,First Contacted\n"
        "ana@a.example,Working - Contacted,2026-10-01 09:00,2026-10-01 11:00\n"
        "ben@b.example,Working - Contacted,2026-10-01 09:00,\n",
    )
    assert cli("import", str(path), env=NOW).exit_code == 0
    overall = _response(cli)["overall"]
    assert (overall["within_24h"], overall["unknown"], overall["median_hours"]) == (1, 1, 2.0)
    leads = {r["email"]: r for r in json.loads(cli("list", "-f", "json").stdout)}
    assert leads["ana@a.example"]["first_contacted_at"] == "2026-10-01T11:00:00Z"
    assert leads["ben@b.example"]["first_contacted_at"] is None


def test_unknown_leads_are_not_due_as_new_and_a_logged_touch_keeps_them_unknown(cli, tmp_path):
    path = _write(tmp_path, "Email,Status,Created\nana@a.example,Working - Contacted,2026-10-01\n")
    assert cli("import", str(path), env=NOW).exit_code == 0
    assert json.loads(cli("due", "--all", "-f", "json", env=NOW).stdout)["items"] == []
    # The first touch leadcli sees is not the first touch there was.
    assert cli("log", "1", "call", "--at", "2026-11-20 10:00", env=NOW).exit_code == 0
    overall = _response(cli)["overall"]
    assert (overall["unknown"], overall["over_24h"], overall["median_hours"]) == (1, 0, None)


def test_the_table_has_an_unknown_column(cli, tmp_path):
    path = _write(tmp_path, "Email,Status\nana@a.example,Working - Contacted\n")
    assert cli("import", str(path), env=NOW).exit_code == 0
    table = cli("report", "response", env=NOW)
    assert table.exit_code == 0 and "Unknown" in table.stdout


def test_merging_keeps_a_contact_of_unknown_time(cli, tmp_path):
    path = _write(
        tmp_path,
        "Email,Phone,First Name,Status\n"
        "ana@a.example,,Ana,Working - Contacted\n"
        "ana.silva@b.example,,Ana,New\n",
    )
    assert cli("import", str(path), env=NOW).exit_code == 0
    assert cli("merge", "2", "1", env=NOW).exit_code == 0
    assert _response(cli)["overall"]["unknown"] == 1
    assert json.loads(cli("due", "--all", "-f", "json", env=NOW).stdout)["items"] == []


def test_the_upgrade_unmakes_the_invented_first_contacts(tmp_path):
    """Schema 15 dated an imported worked lead's first contact at its creation: the upgrade
    finds those (first contact at the second of creation, no touch logged then) and makes
    them unknown; a touch really logged at that second stays."""
    db = tmp_path / "old.db"
    store = connect(db, migrate=False)
    migrations.migrate(store, target=15)
    with store.write() as conn:
        for i, first in enumerate(
            ["2026-10-01T09:00:00Z", "2026-10-01T09:00:00Z", "2026-10-01T12:00:00Z", None]
        ):
            conn.execute(
                "INSERT INTO leads (id, email, stage, created_at, updated_at, first_contacted_at)"
                " VALUES (?, ?, 'lead', '2026-10-01T09:00:00Z', '2026-10-01T09:00:00Z', ?)",
                (i + 1, f"p{i}@x.example", first),
            )
        conn.execute(
            "INSERT INTO activities (lead_id, kind, inbound, at, logged_at) "
            "VALUES (2, 'call', 0, '2026-10-01T09:00:00Z', '2026-10-01T09:00:00Z')"
        )
    store.close()
    store = connect(db)
    rows = store.conn.execute(
        "SELECT id, first_contacted_at, contact_unknown FROM leads ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        (1, None, 1),
        (2, "2026-10-01T09:00:00Z", 0),
        (3, "2026-10-01T12:00:00Z", 0),
        (4, None, 0),
    ]
