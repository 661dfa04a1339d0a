"""Reading leads back: readable history, and no silent new database on a mistyped path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

#: Every command that does not bring the first data in. Reads (reports, lists, exports,
#: doctor) and changes to leads that must already exist: none may answer a mistyped --db
#: with a new, empty database (a report of zeros, exit 0, is what a cron job would mail).
NO_NEW_DATABASE = [
    ("list",),
    ("show", "1"),
    ("edit", "1", "--title", "CTO"),
    ("due",),
    ("due", "-f", "json"),
    ("history", "1"),
    ("imports",),
    ("import", "list"),
    ("import", "undo", "1"),
    ("qualify", "1", "--budget", "yes"),
    ("advance", "1", "--to", "sql"),
    ("log", "1", "call"),
    ("followup", "list"),
    ("followup", "1", "tomorrow"),
    ("report",),
    *(
        ("report", name)
        for name in (
            "pipeline",
            "funnel",
            "sources",
            "velocity",
            "response",
            "lost",
            "cohorts",
            "ratings",
        )
    ),
    ("report", "-f", "json"),
    ("report", "--html", "report.html"),
    ("dedupe",),
    ("dedupe", "-f", "json"),
    ("merge", "1", "2"),
    ("export",),
    ("export", "-f", "json"),
    ("export", "--subject", "ana@example.com"),
    ("score",),
    ("score", "--explain", "1"),
    ("model", "train"),
    ("model", "show"),
    ("model", "evaluate"),
    ("forget", "ana@example.com", "--yes"),
    ("backup",),
]


@pytest.mark.parametrize("args", NO_NEW_DATABASE, ids=" ".join)
def test_commands_on_a_missing_database_name_the_path_and_create_nothing(cli, tmp_path: Path, args):
    typo = tmp_path / "nowhere" / "laeds.db"
    result = cli("--db", str(typo), *args)
    assert result.exit_code == 1
    assert str(typo) in result.stderr and "no database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not typo.exists() and not typo.parent.exists()


def test_doctor_finds_a_missing_database_and_creates_nothing(cli, tmp_path: Path):
    typo = tmp_path / "nowhere" / "laeds.db"
    result = cli("--db", str(typo), "doctor", "-f", "json")
    assert result.exit_code == 1
    assert "no database" in result.stdout
    assert not typo.exists() and not typo.parent.exists()


def test_backup_list_works_without_a_database(cli, tmp_path: Path):
    """The backups are what a user whose database is gone needs to see."""
    typo = tmp_path / "nowhere" / "laeds.db"
    result = cli("--db", str(typo), "backup", "list")
    assert result.exit_code == 0
    assert not typo.exists()


def test_a_missing_database_from_the_environment_too(proc, tmp_path: Path):
    typo = tmp_path / "laeds.db"
    result = proc("due", env={"LEADCLI_DB": str(typo)})
    assert result.returncode == 1 and str(typo) in result.stderr
    assert not typo.exists()


def test_commands_that_write_still_create_the_database(cli, tmp_path: Path):
    fresh = tmp_path / "new" / "leads.db"
    assert cli("--db", str(fresh), "add", "--first-name", "Ana").exit_code == 0
    assert fresh.exists()
    [lead] = json.loads(cli("--db", str(fresh), "list", "-f", "json").stdout)
    assert lead["first_name"] == "Ana"


def test_edit_and_show_print_custom_field_changes_field_by_field(cli):
    cli("add", "--first-name", "Ana", "--field", "industry=Retail", "--field", "size=10")
    edited = cli("edit", "1", "--field", "industry=Biotech")
    assert edited.exit_code == 0
    assert "industry" in edited.stdout and "Retail" in edited.stdout
    assert "Biotech" in edited.stdout
    assert "{" not in edited.stdout and "size" not in edited.stdout
    shown = cli("show", "1").stdout
    assert "industry: Retail → Biotech" in shown
    assert "{'" not in shown and '{"' not in shown


def test_history_is_in_time_order(cli, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-20T10:00:00Z")
    cli("add", "--first-name", "Ana")
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-22T10:00:00Z")
    cli("edit", "1", "--title", "CTO")
    # Logged afterwards, but it happened before the edit.
    assert cli("log", "1", "call", "--at", "2026-11-21 09:00").exit_code == 0
    events = json.loads(cli("show", "1", "-f", "json").stdout)["history"]
    times = [e["at"] for e in events]
    assert times == sorted(times)
    assert [e["event"] for e in events][-2:] == ["activity", "edited"]
