"""dedupe, merge, merge undo and add's duplicate warning, end to end."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path


def _pair(cli) -> None:
    cli(
        "add",
        "--first-name",
        "Ana",
        "--last-name",
        "Silva",
        "--email",
        "ana@acme.com",
        "--company",
        "Acme",
        "--city",
        "Lisbon",
    )
    cli(
        "add",
        "--first-name",
        "Anna",
        "--last-name",
        "Silva",
        "--email",
        "anna.s@acme.com",
        "--company",
        "Acme",
        "--city",
        "Lisbon",
        "--phone",
        "+1 415 555 0100",
    )
    cli("add", "--first-name", "Bob", "--last-name", "Stone", "--company", "Globex")


def test_add_warns_of_a_likely_duplicate_and_still_adds(cli) -> None:
    cli(
        "add",
        "--first-name",
        "Ana",
        "--last-name",
        "Silva",
        "--email",
        "ana@acme.com",
        "--company",
        "Acme",
        "--city",
        "Lisbon",
    )
    result = cli(
        "add",
        "--first-name",
        "Anna",
        "--last-name",
        "Silva",
        "--email",
        "anna.s@acme.com",
        "--company",
        "Acme",
        "--city",
        "Lisbon",
    )
    assert result.exit_code == 0
    assert result.stdout.strip() == "2"
    assert "probably lead 1" in result.stderr and "merge 1 2" in result.stderr
    quiet = cli("add", "--first-name", "Bob", "--last-name", "Stone")
    assert quiet.stderr == ""


def test_dedupe_json_is_one_object_per_pair(cli) -> None:
    _pair(cli)
    result = cli("dedupe", "-f", "json")
    assert result.exit_code == 0
    pairs = json.loads(result.stdout)
    assert [p["ids"] for p in pairs] == [[1, 2]]
    assert 0 <= pairs[0]["score"] <= 1 and "last_name exact" in pairs[0]["reasons"]
    table = cli("dedupe")
    assert "Ana Silva / Anna Silva" in table.stdout
    for fmt in ("jsonl", "csv", "tsv"):
        assert cli("dedupe", "-f", fmt).exit_code == 0


def test_dedupe_table_never_renders_markup_from_data(cli) -> None:
    cli(
        "add",
        "--allow-duplicate",
        "--first-name",
        "[bold]Ana",
        "--last-name",
        "Silva",
        "--email",
        "a@x.com",
    )
    cli(
        "add",
        "--allow-duplicate",
        "--first-name",
        "[bold]Ana",
        "--last-name",
        "Silva",
        "--email",
        "a@x.com",
    )
    out = cli("dedupe").stdout
    assert "[bold]Ana" in out


def test_dedupe_merge_in_a_script_needs_yes_and_merges_above_min_score(cli) -> None:
    _pair(cli)
    refused = cli("dedupe", "--merge")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    done = cli("dedupe", "--merge", "--yes", "--min-score", "0.5", "-f", "json")
    assert done.exit_code == 0
    assert [(m["kept"], m["merged"]) for m in json.loads(done.stdout)] == [(1, [2])]
    ids = [r["id"] for r in json.loads(cli("list", "-f", "json").stdout)]
    assert ids == [1, 3]


def test_merge_dry_run_then_merge_then_undo(cli) -> None:
    _pair(cli)
    dry = cli("merge", "1", "2", "--dry-run", "-f", "json")
    assert json.loads(dry.stdout)["dry_run"] is True
    assert len(json.loads(cli("list", "-f", "json").stdout)) == 3
    done = json.loads(cli("merge", "1", "2", "-f", "json").stdout)
    assert done["merge"] == 1 and done["changes"]["phone"] == [None, "+14155550100"]
    shown = json.loads(cli("show", "1", "-f", "json").stdout)
    assert shown["phone"] == "+14155550100"
    assert cli("show", "2").exit_code == 1
    # Anna's address is kept on lead 1 (other_emails), where a search finds it.
    found = json.loads(cli("list", "--search", "anna.s", "-f", "json").stdout)
    assert [r["id"] for r in found] == [1] and found[0]["other_emails"] == ["anna.s@acme.com"]
    undone = cli("merge", "undo", "1")
    assert undone.exit_code == 0
    leads = json.loads(cli("list", "-f", "json").stdout)
    assert [r["id"] for r in leads] == [1, 2, 3] and leads[0]["phone"] is None
    # The search index follows: Anna is found again, as herself.
    found = json.loads(cli("list", "--search", "Anna", "-f", "json").stdout)
    assert [r["id"] for r in found] == [2]


def test_merge_usage_errors(cli) -> None:
    _pair(cli)
    assert cli("merge", "1").exit_code == 2
    assert cli("merge", "1", "x").exit_code == 2
    missing = cli("merge", "1", "99")
    assert missing.exit_code == 1 and "no lead with id 99" in missing.stderr
    assert cli("merge", "undo", "7").exit_code == 1


def test_a_bad_rules_file_exits_1_naming_rule_and_line(cli, tmp_path: Path) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text('[fields.first_name]\ncomparator = "fuzzy"\n')
    result = cli("dedupe", "--rules", str(rules))
    assert result.exit_code == 1
    assert "line 2" in result.stderr and "fields.first_name" in result.stderr
    assert result.stderr.count("\n") == 1


def test_compare_with_a_field_no_lead_has_is_an_error(cli) -> None:
    cli("add", "--first-name", "Ana", "--field", "Post Code=1000")
    assert cli("dedupe", "--compare", "post_code").exit_code == 0
    result = cli("dedupe", "--compare", "postcod")
    assert result.exit_code == 1 and "postcod" in result.stderr


def test_merging_a_lead_merged_away_says_where_it_went(cli) -> None:
    _pair(cli)
    cli("merge", "1", "2")
    result = cli("merge", "3", "2")
    assert result.exit_code == 1 and "merged into lead 1 (merge 1)" in result.stderr


def test_dedupe_merge_on_a_terminal_walks_the_pairs(cli, monkeypatch) -> None:
    from leadcli.cli import options

    _pair(cli)
    cli("add", "--first-name", "Bob", "--last-name", "Stone", "--company", "Globex")
    monkeypatch.setattr(options, "stdin_is_interactive", lambda: True)
    assert len(json.loads(cli("dedupe", "-f", "json").stdout)) == 2
    result = cli("dedupe", "--merge", input="r\nq\n")
    assert result.exit_code == 0
    assert "Merged lead 1 into 2" in result.stderr
    ids = [r["id"] for r in json.loads(cli("list", "-f", "json").stdout)]
    assert ids == [2, 3, 4]  # kept the right-hand lead of the first pair, then quit


def test_compare_takes_lead_fields_too(cli) -> None:
    cli("add", "--first-name", "Ana", "--last-name", "Silva", "--title", "CTO")
    cli("add", "--first-name", "Ana", "--last-name", "Silva", "--title", "Chief Technology Officer")
    plain = json.loads(cli("dedupe", "-f", "json", "--min-score", "0").stdout)
    titled = json.loads(
        cli("dedupe", "-f", "json", "--min-score", "0", "--compare", "title").stdout
    )
    assert titled[0]["score"] < plain[0]["score"]


def test_placeholders_and_role_addresses_are_no_evidence(cli) -> None:
    """At any score: a shared role address and a shared "n/a" company give no agreement,
    where the same personal address and company do (the control pair)."""

    def add(first: str, last: str, email: str, company: str) -> None:
        args = ("--first-name", first, "--last-name", last, "--email", email)
        assert cli("add", "--allow-duplicate", *args, "--company", company).exit_code == 0

    add("Ana", "Silva", "info@acme.com", "n/a")
    add("Bob", "Stone", "info@acme.com", "n/a")
    add("Cy", "Doe", "cy@zeta.com", "Zeta")
    add("Di", "Roe", "cy@zeta.com", "Zeta")
    pairs = json.loads(cli("dedupe", "-f", "json", "--min-score", "0").stdout)
    reasons = {tuple(p["ids"]): p["reasons"] for p in pairs}
    assert {"email exact", "company exact"} <= set(reasons[(3, 4)])
    assert not {"email exact", "company exact"} & set(reasons.get((1, 2), []))


def test_a_placeholder_never_wins_a_merge(cli) -> None:
    cli("add", "--first-name", "Ana", "--last-name", "Silva", "--company", "N/A")
    cli(
        "add",
        "--first-name",
        "Ana",
        "--last-name",
        "Silva",
        "--company",
        "Acme",
        "--email",
        "ana@acme.com",
    )
    cli("add", "--first-name", "Ana", "--last-name", "Silva", "--company", "-")
    done = json.loads(cli("merge", "1", "2", "3", "-f", "json").stdout)
    assert done["changes"]["company"] == ["N/A", "Acme"]
    assert not any(c["field"] == "company" for c in done["conflicts"])
    assert json.loads(cli("show", "1", "-f", "json").stdout)["company"] == "Acme"


def test_limit_keeps_the_best_pairs(cli) -> None:
    _pair(cli)
    cli("add", "--first-name", "Bob", "--last-name", "Stone", "--company", "Globex")
    everything = json.loads(cli("dedupe", "-f", "json").stdout)
    best = json.loads(cli("dedupe", "-f", "json", "-n", "1").stdout)
    assert len(everything) == 2 and best == everything[:1]
    table = cli("dedupe", "-n", "1")
    assert "2 likely duplicate pairs" in table.stderr and "showing the best 1" in table.stderr


def test_add_warns_of_a_lead_with_its_names_swapped(cli) -> None:
    cli(
        "add",
        "--first-name",
        "Grace",
        "--last-name",
        "Hopper",
        "--company",
        "Navy",
        "--city",
        "Arlington",
    )
    result = cli(
        "add",
        "--first-name",
        "Hopper",
        "--last-name",
        "Grace",
        "--company",
        "Navy",
        "--city",
        "Arlington",
    )
    assert result.exit_code == 0 and "probably lead 1" in result.stderr
    assert "swapped" in result.stderr


def test_dedupe_merge_yes_follows_a_chain_to_one_lead(cli) -> None:
    for email in ("ana@acme.com", "ana@acme.com", "ana.silva@acme.com"):
        cli(
            "add",
            "--allow-duplicate",
            "--first-name",
            "Ana",
            "--last-name",
            "Silva",
            "--email",
            email,
            "--company",
            "Acme",
            "--city",
            "Lisbon",
        )
    pairs = json.loads(cli("dedupe", "-f", "json").stdout)
    assert len(pairs) == 3
    done = json.loads(cli("dedupe", "--merge", "--yes", "-f", "json").stdout)
    assert len(done) == 2
    assert [r["id"] for r in json.loads(cli("list", "-f", "json").stdout)] == [1]


def test_merge_yes_never_merges_a_low_pair_recorded_by_import(cli, tmp_path: Path) -> None:
    data = tmp_path / "kestrel.csv"
    data.write_text(
        "First Name,Last Name,Email,Phone\n"
        "Ana,Silva,ana@kestrel.io,+1 415 555 0100\n"
        "Bob,Stone,bob@kestrel.io,+1 415 555 0100\n"
    )
    cli("import", "files", str(data))
    # Two colleagues at one switchboard: no longer recorded; as a leadcli before issue 25 did.
    db = sqlite3.connect(os.environ["LEADCLI_DB"])
    with db:
        assert db.execute("SELECT count(*) FROM possible_duplicates").fetchone()[0] == 0
        db.execute(
            "INSERT INTO possible_duplicates VALUES (1, 2, 'phone', 1, '2026-01-01T00:00:00Z')"
        )
    db.close()
    listed = json.loads(cli("dedupe", "-f", "json").stdout)
    assert [p["ids"] for p in listed] == [[1, 2]] and listed[0]["score"] < 0.5
    assert json.loads(cli("dedupe", "-f", "json", "--min-score", "0.5").stdout) == []
    done = json.loads(cli("dedupe", "--merge", "--yes", "-f", "json").stdout)
    assert done == []
    assert len(json.loads(cli("list", "-f", "json").stdout)) == 2
