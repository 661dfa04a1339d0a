"""Surface defects a new user met (issue 26): labels that read as English, `config set`
echoing TOML, and no always-empty column in `score --explain`."""

from __future__ import annotations

import json
import tomllib

from leadcli.text.toml_text import as_toml


def test_config_set_prints_the_setting_as_toml(cli):
    result = cli("config", "set", "capture.own_addresses", "me@x.example, @mine.example")
    assert result.exit_code == 0, result.stderr
    line = result.stderr.strip() or result.stdout.strip()
    assert line == 'capture.own_addresses = ["me@x.example", "@mine.example"]'
    assert "(" not in line  # not a Python tuple
    assert tomllib.loads(line) == {"capture": {"own_addresses": ["me@x.example", "@mine.example"]}}


def test_as_toml_round_trips_every_kind_of_value():
    for key, value in [
        ("a.text", 'GB "quoted" \\ back'),
        ("a.number", 3.5),
        ("a.whole", 7),
        ("a.flag", True),
        ("a.list", ("x", "y")),
        ("a.table", {"forms@site.com": "website form", "plain": "x"}),
    ]:
        parsed = tomllib.loads(as_toml(key, value))["a"][key.split(".")[1]]
        expected = list(value) if isinstance(value, tuple) else value
        assert parsed == expected, (key, as_toml(key, value))


def test_the_overview_labels_read_as_english(cli):
    assert cli("add", "--first-name", "Ana", "--email", "ana@x.example").exit_code == 0
    assert cli("advance", "1", "--to", "customer").exit_code == 0
    out = cli("report").stdout
    assert "Median lead time" in out
    assert "lead time days" not in out and "median_lead" not in out


def test_score_explain_has_no_always_empty_value_column(cli):
    assert (
        cli("add", "--first-name", "Ana", "--email", "ana@x.example", "--company", "A").exit_code
        == 0
    )
    out = cli("score", "--explain", "1").stdout
    header = next(line for line in out.splitlines() if "Points" in line)
    assert "Value" not in header


def test_a_merged_id_points_to_its_survivor_in_every_command(cli):
    for name in ("Ana", "Bea", "Cy"):
        assert cli("add", "--first-name", name, "--email", f"{name}@x.example").exit_code == 0
    assert cli("merge", "1", "2", input="y\n").exit_code == 0
    assert cli("merge", "3", "1", input="y\n").exit_code == 0  # a merge of a merge: 2 -> 1 -> 3
    for args in (("show", "2"), ("advance", "2", "--to", "lead"), ("log", "2", "call")):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert "merged into lead 3" in result.stderr, (args, result.stderr)
        assert "merge undo 1" in result.stderr
    never = cli("show", "99")
    assert never.exit_code == 1 and "merged" not in never.stderr


def test_add_refuses_an_exact_duplicate_email_naming_the_lead(cli):
    assert cli("add", "--first-name", "Ana", "--email", "Ana@Acme.example").exit_code == 0
    again = cli("add", "--first-name", "Ana S", "--email", "ana@acme.example")
    assert again.exit_code == 1
    assert "lead 1 already has this e-mail" in again.stderr
    assert "ana@acme.example" not in again.stderr.lower()  # no lead data in errors
    assert cli("list", "-q").stdout.split() == ["1"]
    forced = cli("add", "--first-name", "Ana S", "--email", "ana@acme.example", "--allow-duplicate")
    assert forced.exit_code == 0 and forced.stdout.strip() == "2"
    # A role address is many people's: not refused.
    assert cli("add", "--first-name", "Bo", "--email", "info@acme.example").exit_code == 0
    assert cli("add", "--first-name", "Cy", "--email", "info@acme.example").exit_code == 0


def test_add_enters_a_past_lead_at_its_stage_with_dated_history(cli):
    added = cli(
        "add",
        "--first-name",
        "Old",
        "--email",
        "old@x.example",
        "--stage",
        "customer",
        "--created",
        "2026-03-01",
    )
    assert added.exit_code == 0, added.stderr
    lead = json.loads(cli("show", "1", "-f", "json").stdout)
    assert lead["stage"] == "customer"
    assert lead["created_at"].startswith("2026-03-01")
    assert lead["closed_at"].startswith("2026-03-01")
    history = cli("history", "1").stdout
    assert "customer" in history and "2026-03-01" in history


def test_add_refuses_a_future_creation_and_a_lost_stage_writing_nothing(cli):
    assert cli("add", "--first-name", "F", "--created", "tomorrow").exit_code == 2
    assert cli("add", "--first-name", "L", "--stage", "lost").exit_code == 2
    assert cli("list", "-q").stdout.split() == []
