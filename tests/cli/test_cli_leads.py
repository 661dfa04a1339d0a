"""add / list / show / edit / stages from the command line, every format."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

ESC = "\x1b"


def add(cli, *args: str) -> int:
    result = cli("add", *args)
    assert result.exit_code == 0, result.stderr
    return int(result.stdout)


def test_show_and_edit_with_history(cli):
    lead_id = add(cli, "--first-name", "Ana", "--company", "Acme", "--tag", "webinar")
    edited = cli("edit", str(lead_id), "--title", "CTO", "--add-tag", "vip", "--field", "Plan=gold")
    assert edited.exit_code == 0, edited.stderr
    assert "title" in edited.stdout and "CTO" in edited.stdout
    card = cli("show", str(lead_id))
    assert card.exit_code == 0
    fields, _, events = card.stdout.partition("History")
    # The card's rows: each field beside its value (not just the words somewhere on screen).
    for row in (r"company\s+Acme", r"title\s+CTO", r"tags\s+vip, webinar", r"Plan\s+gold"):
        assert re.search(row, fields), row
    # The history table: the creation and the edit as events, in that order, with the change.
    created = re.search(r"\bcreated\s+first_name=Ana", events)
    edited = re.search(r"\bedited\s+title: \S+ → CTO", events)
    assert created and edited and created.start() < edited.start()
    data = json.loads(cli("show", str(lead_id), "-f", "json").stdout)
    assert data["title"] == "CTO"
    assert data["tags"] == ["vip", "webinar"]
    assert data["custom"] == {"Plan": "gold"}
    assert [e["event"] for e in data["history"]] == ["created", "edited"]
    assert data["history"][1]["changes"]["title"] == [None, "CTO"]


def test_edit_nothing_to_change(cli):
    lead_id = add(cli, "--first-name", "Ana")
    result = cli("edit", str(lead_id), "--first-name", "Ana")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "nothing to change" in result.stderr


def test_markup_and_escapes_never_reach_the_terminal(cli):
    lead_id = add(cli, "--first-name", "[bold red]PWNED[/]", "--company", f"Evil{ESC}[2JCo")
    for args in (("list",), ("show", str(lead_id))):
        out = cli(*args).stdout
        assert "[bold red]PWNED[/]" in out
        assert ESC not in out
        assert "Evil[2JCo" in out  # the escape was dropped on the way in


def test_json_keeps_exact_data(cli):
    add(cli, "--first-name", "[bold]x", "--company", f"Evil{ESC}[2JCo")
    [lead] = json.loads(cli("list", "-f", "json").stdout)
    assert lead["first_name"] == "[bold]x"
    assert lead["company"] == "Evil[2JCo"  # stored without the ESC (safe_text.strip_controls)


def test_csv_neutralises_formulas_and_keeps_phones(cli):
    add(
        cli,
        "--first-name",
        "Ana",
        "--company",
        '=HYPERLINK("http://x","y")',
        "--phone",
        "+1 415 555 0100",
        "--notes",
        "-42",
    )
    rows = list(csv.DictReader(io.StringIO(cli("list", "-f", "csv").stdout)))
    assert rows[0]["company"] == '\'=HYPERLINK("http://x","y")'
    assert rows[0]["phone"] == "+14155550100"
    assert rows[0]["notes"] == "-42"


def test_every_format_carries_every_field(cli):
    add(
        cli,
        "--first-name",
        "Ana",
        "--email",
        "ana@acme.com",
        "--value",
        "1200",
        "--tag",
        "a,b",
        "--field",
        "Industry=Retail",
        "--do-not-contact",
    )
    add(cli, "--company", "Zeta")
    as_json = json.loads(cli("list", "-f", "json").stdout)
    as_jsonl = [json.loads(line) for line in cli("list", "-f", "jsonl").stdout.splitlines()]
    assert as_json == as_jsonl
    assert as_json[0]["do_not_contact"] is True and as_json[1]["do_not_contact"] is False
    assert as_json[0]["value"] == 1200
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        text = cli("list", "-f", fmt).stdout
        rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
        assert len(rows) == 2
        assert rows[0]["email"] == "ana@acme.com"
        assert rows[0]["tags"] == "a,b"
        assert rows[0]["Industry"] == "Retail"
        assert rows[0]["do_not_contact"] == "true"
        assert rows[0]["value"] == "1200"
        assert set(as_json[0]) - {"custom"} <= set(rows[0])


def test_list_filters_and_empty_result(cli):
    add(cli, "--first-name", "Ana", "--source", "web", "--tag", "vip")
    add(cli, "--first-name", "Bob", "--source", "referral")
    out = json.loads(cli("list", "--source", "web", "-f", "json").stdout)
    assert [r["first_name"] for r in out] == ["Ana"]
    out = json.loads(cli("list", "--search", "bob", "-f", "json").stdout)
    assert [r["first_name"] for r in out] == ["Bob"]
    empty = cli("list", "--tag", "nothing")
    assert empty.exit_code == 0 and empty.stdout == "" and "No leads" in empty.stderr
    assert json.loads(cli("list", "--tag", "nothing", "-f", "json").stdout) == []


def test_table_limit_says_there_is_more(cli):
    for n in range(3):
        add(cli, "--first-name", f"P{n}")
    result = cli("list", "--limit", "2")
    assert "P1" in result.stdout and "P2" not in result.stdout
    assert "--limit" in result.stderr
    assert len(json.loads(cli("list", "-n", "0", "-f", "json").stdout)) == 3


def test_show_missing_lead_exits_1_with_one_line(cli):
    result = cli("show", "999")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "999" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("show", "abc"),
        ("list", "--format", "xml"),
        ("list", "--nope"),
        ("list", "--stage", "x"),
        ("list", "--sort", "height"),
        ("list", "--rating", "tepid"),
        ("add", "--field", "novalue"),
    ],
)
def test_usage_errors_exit_2(cli, args):
    assert cli(*args).exit_code == 2


def test_bad_value_names_field_without_echoing_it(cli):
    result = cli("add", "--first-name", "Ana", "--email", "secret-not-an-email")
    assert result.exit_code == 1
    assert "email" in result.stderr and "secret" not in result.stderr
    assert json.loads(cli("list", "-f", "json").stdout) == []


def test_stages_in_order(cli):
    data = json.loads(cli("stages", "-f", "json").stdout)
    assert [s["stage"] for s in data] == [
        "prospect",
        "lead",
        "mql",
        "sql",
        "opportunity",
        "customer",
        "lost",
    ]
    assert [s["stage"] for s in data if s["closed"]] == ["customer", "lost"]


def test_add_json_prints_the_record(cli):
    record = json.loads(cli("add", "--first-name", "Ana", "-f", "json").stdout)
    assert record["id"] == 1 and record["first_name"] == "Ana"


def test_address_fields_through_add_edit_show_and_import(cli, tmp_path):
    lead = cli("add", "--first-name", "Ana", "--street", "1 Main St", "--postal-code", "94107")
    assert lead.exit_code == 0
    lead_id = lead.stdout.strip()
    assert cli("edit", lead_id, "--region", "CA").exit_code == 0
    shown = cli("show", lead_id).stdout
    assert "1 Main St" in shown and "94107" in shown and "CA" in shown
    path = tmp_path / "addresses.csv"
    path.write_text("Name,Address,Zip,State\nBo Li,2 Side Rd,10001,NY\n")
    assert cli("import", str(path)).exit_code == 0
    rows = json.loads(cli("list", "-f", "json").stdout)
    assert [(r["street"], r["postal_code"], r["region"]) for r in rows] == [
        ("1 Main St", "94107", "CA"),
        ("2 Side Rd", "10001", "NY"),
    ]
