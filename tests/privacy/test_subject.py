"""`export --subject`: everything held about one person, as one JSON document."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

EMAIL = "ana.silva@example.org"


def _person(cli, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"First Name,Email,Industry\nAna,{EMAIL},Biotech\nBo,bo@example.org,Retail\n")
    assert cli("import", str(source)).exit_code == 0
    assert cli("edit", "1", "--add-tag", "vip", "--notes", "met at the fair").exit_code == 0
    assert cli("qualify", "1", "--budget", "20000").exit_code == 0
    assert cli("log", "1", "call", "first call").exit_code == 0
    assert cli("followup", "1", "tomorrow 10:00", "send the offer").exit_code == 0
    assert cli("add", "--first-name", "Ana", "--email", "ana.work@example.org").exit_code == 0
    assert cli("merge", "1", "3").exit_code == 0  # her work address is hers too


def test_subject_export_holds_everything_about_the_person(cli, tmp_path: Path) -> None:
    _person(cli, tmp_path)
    result = cli("export", "--subject", EMAIL.upper())
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["subject"] == EMAIL and doc["suppressed"] is False
    [lead] = doc["leads"]
    assert lead["id"] == 1 and lead["email"] == EMAIL
    assert lead["other_emails"] == ["ana.work@example.org"]
    assert lead["custom"] == {"Industry": "Biotech"}
    assert lead["tags"] == ["vip"]
    assert [b["criterion"] for b in lead["bant_answers"]] == ["budget"]
    assert [a["note"] for a in lead["activities"]] == ["first call"]
    assert [f["note"] for f in lead["followups"]] == ["send the offer"]
    events = [e["event"] for e in lead["history"]]
    # hers and that of the lead merged into hers (its creation by `add`)
    assert {"created", "edited", "merged", "stage"} <= set(events)
    assert [(b["id"], b["how"]) for b in lead["import_batches"]] == [(1, "created")]
    assert "bo@example.org" not in result.stdout


def test_subject_export_to_a_file_is_owner_only(cli, tmp_path: Path) -> None:
    _person(cli, tmp_path)
    target = tmp_path / "ana.json"
    result = cli("export", "--subject", EMAIL, "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert json.loads(target.read_text())["leads"][0]["id"] == 1


def test_after_forget_only_the_suppression_is_left(cli, tmp_path: Path) -> None:
    _person(cli, tmp_path)
    assert cli("forget", EMAIL, "--yes").exit_code == 0
    result = cli("export", "--subject", EMAIL)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["leads"] == [] and doc["suppressed"] is True
    assert "suppressed" in result.stderr


def test_subject_takes_no_filters_and_needs_an_address(cli) -> None:
    assert cli("export", "--subject", EMAIL, "--stage", "lead").exit_code == 2
    bad = cli("export", "--subject", "not-an-address")
    assert bad.exit_code == 1 and "subject" in bad.stderr
