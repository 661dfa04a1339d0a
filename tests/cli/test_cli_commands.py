"""One command surface: import's help and verbs, ids from stdin everywhere, enums, --db
after the command, follow-ups by id, enroll/unenroll alike, -f on every record command."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import REPO

CADENCES = str(REPO / "examples" / "cadences.toml")
WEB_FORM = str(REPO / "examples" / "web-form.csv")


def add(cli, *args: str) -> int:
    result = cli("add", *args)
    assert result.exit_code == 0, result.stderr
    return int(result.stdout)


def leads(cli, *args: str) -> list[dict]:
    return json.loads(cli("list", "-f", "json", *args).stdout)


# --------------------------------------------------------------------------- import


def test_import_help_shows_every_import_option_and_the_verbs(cli):
    result = cli("import", "--help")
    assert result.exit_code == 0
    for text in ("--on-duplicate", "merge|skip|update", "--input-format", "csv|tsv|json|jsonl",
                 "--map", "--dry-run", "--rejects", "import list", "import undo"):  # fmt: skip
        assert text in result.stdout, text
    assert "Usage: leadcli import [OPTIONS]" in " ".join(result.stdout.split())


def test_import_list_and_the_imports_alias(cli, tmp_path):
    assert cli("import", WEB_FORM, "--rejects", str(tmp_path / "r.csv")).exit_code == 0
    listed = json.loads(cli("import", "list", "-f", "json").stdout)
    assert [b["id"] for b in listed] == [1]
    assert json.loads(cli("imports", "-f", "json").stdout) == listed


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json"])
def test_import_undo_prints_its_result_in_every_format(cli, tmp_path, fmt):
    cli("import", WEB_FORM, "--rejects", str(tmp_path / "r.csv"))
    created = [lead["id"] for lead in leads(cli)]
    result = cli("import", "undo", "1", "-f", fmt)
    assert result.exit_code == 0, result.stderr
    if fmt in ("csv", "tsv"):
        [row] = list(
            csv.DictReader(
                io.StringIO(result.stdout), dialect="excel-tab" if fmt == "tsv" else "excel"
            )
        )
        assert row["batch"] == "1" and row["removed"] == ",".join(map(str, created))
    else:
        record = json.loads(result.stdout)
        assert record == {"batch": 1, "removed": created, "kept": []}
    assert leads(cli) == []


def test_import_choices_are_case_insensitive_and_checked(cli, tmp_path):
    ok = cli("import", WEB_FORM, "--on-duplicate", "SKIP", "--rejects", str(tmp_path / "r.csv"))
    assert ok.exit_code == 0, ok.stderr
    bad = cli("import", WEB_FORM, "--on-duplicate", "replace")
    assert bad.exit_code == 2 and "replace" in bad.stderr


# --------------------------------------------------------------------------- --db anywhere


def test_db_is_accepted_after_the_command(cli, tmp_path):
    other = str(tmp_path / "other.db")
    assert cli("add", "--first-name", "Ana", "--db", other).exit_code == 0
    assert [lead["first_name"] for lead in leads(cli, "--db", other)] == ["Ana"]
    assert [
        lead["first_name"] for lead in json.loads(cli("--db", other, "list", "-f", "json").stdout)
    ] == ["Ana"]
    assert leads(cli) == []  # the default database was not touched
    assert cli("followup", "list", "--db", other, "-f", "json").exit_code == 0
    assert cli("import", "list", "--db", other).exit_code == 0


# --------------------------------------------------------------------------- ids on stdin


def test_list_ids_feeds_log_from_stdin(cli):
    for name in ("Ana", "Bo", "Cy"):
        add(cli, "--first-name", name)
    cli("advance", "1", "3", "--to", "mql")
    ids = cli("list", "--stage", "mql", "-q")
    assert ids.stdout == "1\n3\n"
    assert cli("list", "--ids").stdout == "1\n2\n3\n"
    logged = cli("log", "-", "email", "webinar invite", "-f", "json", input=ids.stdout)
    assert logged.exit_code == 0, logged.stderr
    assert [r["lead_id"] for r in json.loads(logged.stdout)] == [1, 3]
    touched = {lead["id"]: lead["last_activity_at"] for lead in leads(cli)}
    assert touched[1] and touched[3] and touched[2] is None


@pytest.mark.parametrize(
    "args",
    [
        ["edit", "-", "--title", "CTO"],
        ["qualify", "-", "--budget", "20000"],
        ["advance", "-", "--to", "lead"],
        ["log", "-", "call"],
        ["followup", "-", "tomorrow"],
        ["enroll", "-", "--cadence", "intro", "--file", CADENCES],
    ],
)
def test_every_id_command_reads_stdin_all_or_none(cli, args, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-22T10:00:00Z")
    for name in ("Ana", "Bo", "Cy"):
        add(cli, "--first-name", name)

    def snapshot() -> list[str]:  # everything about every lead, its history included
        return [cli("show", str(i), "-f", "json").stdout for i in (1, 2, 3)]

    before = snapshot()
    # the tsv header is skipped, blank lines ignored
    ok = cli(*args, input="id\n1\n\n2\n")
    assert ok.exit_code == 0, ok.stderr
    after = snapshot()
    assert after[0] != before[0] and after[1] != before[1] and after[2] == before[2]
    # an unknown id anywhere: nothing written at all
    failed = cli(*args, input="3\n999\n")
    assert failed.exit_code == 1 and "999" in failed.stderr
    assert snapshot() == after
    # a bad line: one clear error, exit 1, nothing written
    bad = cli(*args, input="3\nAna Silva\n")
    assert bad.exit_code == 1 and "line 2 of stdin is not a lead id" in bad.stderr
    assert "Ana Silva" not in bad.stderr
    assert snapshot() == after


def test_unenroll_reads_stdin_and_takes_the_cadence_like_enroll(cli):
    add(cli, "--first-name", "Ana")
    add(cli, "--first-name", "Bo")
    old_form = cli("enroll", "1", "intro", "--file", CADENCES, "-f", "json")
    assert old_form.exit_code == 0, old_form.stderr
    assert json.loads(old_form.stdout)[0]["cadence"] == "intro"
    new_form = cli("enroll", "2", "--cadence", "intro", "--file", CADENCES, "-f", "jsonl")
    assert json.loads(new_form.stdout)["lead_id"] == 2
    ended = cli("unenroll", "-", "--cadence", "intro", "-f", "json", input="1\n2\n")
    assert ended.exit_code == 0, ended.stderr
    assert json.loads(ended.stdout) == [
        {"lead_id": 1, "cadence": "intro", "ended": 1},
        {"lead_id": 2, "cadence": "intro", "ended": 1},
    ]
    assert cli("enroll", "1", "--file", CADENCES).exit_code == 2  # no cadence given


# --------------------------------------------------------------------------- enums


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (["list"], ["hot|warm|cold", "-score", "prospect|lead|mql", "table|json|jsonl|csv|tsv"]),
        (["due"], ["prospect|lead|mql"]),
        (["log"], ["call|email|meeting|sms|message|note"]),
        (["advance"], ["prospect|lead|mql"]),
    ],
)
def test_enumerated_values_show_their_choices(cli, args, choices):
    text = "".join(cli(*args, "--help", env={"COLUMNS": "400"}).stdout.split())
    for choice in choices:
        assert choice.replace(" ", "") in text, choice


def test_enum_values_match_the_core():
    from leadcli.cli import options
    from leadcli.engagement.activities import KINDS
    from leadcli.importing.loader import ON_DUPLICATE
    from leadcli.importing.readers import INPUT_FORMATS
    from leadcli.leads.records import SORT_KEYS
    from leadcli.pipeline.stages import STAGES

    assert tuple(options.ActivityKind) == KINDS
    assert tuple(options.OnDuplicate) == ON_DUPLICATE
    assert tuple(options.InputFormat) == INPUT_FORMATS
    assert tuple(SORT_KEYS) == options.SORT_KEYS
    assert tuple(options.Stage) == STAGES


def test_enum_options_keep_case_insensitivity(cli):
    add(cli, "--first-name", "Ana")
    assert cli("log", "1", "CALL").exit_code == 0
    assert cli("list", "--stage", "PROSPECT", "--sort", "-ID", "-q").stdout == "1\n"
    assert cli("advance", "1", "--to", "MQL").exit_code == 0
    assert cli("list", "--rating", "lukewarm").exit_code == 2


# --------------------------------------------------------------------------- follow-ups


def test_followup_list_takes_dues_filters_and_shows_ids(cli, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-22T10:00:00Z")
    sam = add(cli, "--first-name", "Ana", "--owner", "sam", "--tag", "a,b")
    kim = add(cli, "--first-name", "Bo", "--owner", "kim", "--tag", "a")
    cli("followup", str(sam), "2026-11-22 15:00", "today")
    cli("followup", str(kim), "2026-11-30 10:00", "next week")

    def listed(*args: str) -> list[tuple[int, int]]:
        out = cli("followup", "list", "-f", "json", *args).stdout
        return [(f["id"], f["lead_id"]) for f in json.loads(out)]

    assert listed() == [(1, sam), (2, kim)]
    assert listed("--owner", "sam") == [(1, sam)]
    assert listed("--days", "0") == [(1, sam)]
    assert listed("--tag", "a,b") == [(1, sam)]
    assert listed("--stage", "lead") == []
    table = cli("followup", "list").stdout
    assert table.split("\n")[0].split()[0] == "#"


def test_due_tag_list_matches_what_list_matches(cli, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-22T10:00:00Z")
    both = add(cli, "--first-name", "Ana", "--tag", "a", "--tag", "b")
    add(cli, "--first-name", "Bo", "--tag", "a")
    for lead_id in (1, 2):
        cli("followup", str(lead_id), "2026-11-22 09:00")
    assert [lead["id"] for lead in leads(cli, "--tag", "a,b")] == [both]
    due = json.loads(cli("due", "--tag", "a,b", "-f", "json").stdout)
    assert {i["lead_id"] for i in due} == {both}


def test_followup_done_and_snooze_by_follow_up_id(cli, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-22T10:00:00Z")
    lead = add(cli, "--first-name", "Ana")
    for when in ("2026-11-23 10:00", "2026-11-24 10:00", "2026-11-25 10:00"):
        cli("followup", str(lead), when)
    done = cli("followup", "done", "--id", "2", "-f", "json")
    assert done.exit_code == 0, done.stderr
    [closed] = json.loads(done.stdout)
    assert (closed["id"], closed["lead_id"]) == (2, lead)
    assert [f["id"] for f in json.loads(cli("followup", "list", "-f", "json").stdout)] == [1, 3]
    snoozed = cli("followup", "snooze", "--id", "3", "2026-12-01 10:00", "-f", "csv")
    assert snoozed.exit_code == 0, snoozed.stderr
    [row] = list(csv.DictReader(io.StringIO(snoozed.stdout)))
    assert (row["id"], row["due_at"]) == ("3", "2026-12-01T10:00:00Z")
    # by lead: its next follow-up only
    assert json.loads(cli("followup", "done", str(lead), "-f", "json").stdout)[0]["id"] == 1
    again = cli("followup", "done", "--id", "2")
    assert again.exit_code == 1 and "already done" in again.stderr
    assert cli("followup", "done", "--id", "99").exit_code == 1
    assert cli("followup", "done").exit_code == 2


def test_config_set_prints_the_setting_with_f(cli):
    result = cli("config", "set", "contacts.phone_region", "GB", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "key": "contacts.phone_region",
        "value": "GB",
        "from": "file",
    }
