"""Import from the command line: every row accounted for, duplicates, batches, undo."""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path

import pytest

from tests.conftest import REPO

EXAMPLES = REPO / "examples"


def run_import(cli, *args: str, input: str | None = None) -> dict:
    result = cli("import", *args, "-f", "json", input=input)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == (
        summary["imported"] + summary["updated"] + summary["duplicates"] + summary["rejected"]
    )
    return summary


def leads(cli) -> list[dict]:
    return json.loads(cli("list", "-f", "json").stdout)


def test_examples_import_with_rejects_and_merge(cli, tmp_path: Path):
    rejects = tmp_path / "web.rejects.csv"
    web = run_import(cli, str(EXAMPLES / "web-form.csv"), "--rejects", str(rejects))
    assert (web["rows"], web["imported"], web["duplicates"], web["rejected"]) == (7, 4, 1, 2)
    with open(rejects, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["reason"]) for r in rows] == [
        ("6", "email: not a valid address"),
        ("7", "no name, email, phone, company or external id"),
    ]
    assert rows[0]["Full Name"] == "David Kim"  # the original cells, ready to fix
    crm = run_import(cli, str(EXAMPLES / "crm-export.csv"), "--rejects", str(tmp_path / "r.csv"))
    assert (crm["imported"], crm["updated"]) == (4, 1)
    by_email = {lead["email"]: lead for lead in leads(cli)}
    ana = by_email["ana@acme.com"]
    assert (ana["first_name"], ana["last_name"], ana["phone"]) == ("Ana", "Silva", "+14155550100")
    chloe = by_email["chloe.oneil@initech.example.com"]
    assert (chloe["first_name"], chloe["last_name"]) == ("Chloé", "O'Neil")
    assert chloe["notes"] == "Asked for pricing\nand a demo"
    eva = by_email["eva.novak@umbrella.example.com"]  # in both files: merged
    assert eva["external_id"] == "00Q000000000005AAA" and eva["stage"] == "lead"
    assert eva["notes"] == "Referred by Ana" and eva["custom"]["Industry"] == "Pharma"
    hiro = by_email["hiro.tanaka@tyrell.example.com"]
    assert hiro["stage"] == "customer" and hiro["closed_at"].startswith("2026-10-20")
    assert hiro["created_at"] == "2026-08-01T09:30:00Z"
    stage_events = [
        e
        for e in json.loads(cli("show", str(hiro["id"]), "-f", "json").stdout)["history"]
        if e["event"] == "stage"
    ]
    assert stage_events[0]["changes"]["stage"] == ["prospect", "customer"]
    assert stage_events[0]["at"].startswith("2026-10-20")


def test_same_file_twice_changes_nothing(cli, tmp_path: Path):
    path = str(EXAMPLES / "crm-export.csv")
    run_import(cli, path, "--rejects", str(tmp_path / "r.csv"))
    before = leads(cli)
    again = run_import(cli, path)
    assert again["already_imported_as"] == 1 and again["duplicates"] == 5
    assert leads(cli) == before
    assert len(json.loads(cli("imports", "-f", "json").stdout)) == 1


def test_undo_keeps_leads_touched_since(cli, tmp_path: Path):
    summary = run_import(cli, str(EXAMPLES / "crm-export.csv"))
    ids = sorted(lead["id"] for lead in leads(cli))
    cli("edit", str(ids[0]), "--title", "Changed since")
    result = cli("import", "undo", str(summary["batch"]), "-f", "json")
    assert result.exit_code == 0, result.stderr
    undone = json.loads(result.stdout)
    assert undone["kept"] == [ids[0]] and sorted(undone["removed"]) == ids[1:]
    assert [lead["id"] for lead in leads(cli)] == [ids[0]]
    assert cli("import", "undo", str(summary["batch"])).exit_code == 1  # already undone
    assert cli("import", "undo", "99").exit_code == 1
    batches = json.loads(cli("imports", "-f", "json").stdout)
    assert batches[0]["undone_at"]
    # undone, the same file can come in again
    assert run_import(cli, str(EXAMPLES / "crm-export.csv"))["imported"] == 4


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("semi.csv", "Name;Email;Company\nAna Silva;ana@acme.com;Acme\n"),
        ("pipe.txt", "Name|Email|Company\nAna Silva|ana@acme.com|Acme\n"),
        ("tab.tsv", "Name\tEmail\tCompany\nAna Silva\tana@acme.com\tAcme\n"),
        ("crlf.csv", "Name,Email,Company\r\nAna Silva,ana@acme.com,Acme\r\n"),
        ("leads.json", '[{"Name": "Ana Silva", "Email": "ana@acme.com", "Company": "Acme"}]'),
        ("leads.jsonl", '{"Name": "Ana Silva", "Email": "ana@acme.com", "Company": "Acme"}\n'),
        ("excel.csv", "Name,Email,Company,,\nAna Silva,ana@acme.com,Acme,,\n"),
    ],
)
def test_layouts(cli, tmp_path: Path, name: str, content: str):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert run_import(cli, str(path))["imported"] == 1
    [lead] = leads(cli)
    assert (lead["first_name"], lead["email"], lead["company"]) == ("Ana", "ana@acme.com", "Acme")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32", "cp1252"])
def test_encodings(cli, tmp_path: Path, encoding: str):
    path = tmp_path / "enc.csv"
    path.write_bytes("First Name,Company\nChloé,Café Müller\n".encode(encoding))
    result = cli("import", str(path), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert ("Windows-1252" in result.stderr) == (encoding == "cp1252")
    [lead] = leads(cli)
    assert (lead["first_name"], lead["company"]) == ("Chloé", "Café Müller")


def test_stdin_and_rejects_in_current_folder(cli, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    summary = run_import(cli, "-", input="Email,Company\nana@acme.com,Acme\nnope,Zeta\n")
    assert (summary["imported"], summary["rejected"]) == (1, 1)
    assert Path(summary["rejects_file"]) == tmp_path / "leadcli-rejects.csv"


def test_ragged_rows_huge_fields_and_line_numbers(cli, tmp_path: Path):
    notes = "x" * 200_000
    path = tmp_path / "ragged.csv"
    path.write_text(
        "Name,Company,Notes\n"
        f'Ana,Acme,"{notes}"\n'
        'Bob,"Multi\nline Co",ok\n'
        "Cleo,Zeta,too,many\n"
        "Dan,Only\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rej.csv"
    summary = run_import(cli, str(path), "--rejects", str(rejects))
    assert (summary["imported"], summary["rejected"]) == (2, 2)
    with open(rejects, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["line"] for r in rows] == ["5", "6"]
    assert "4 fields" in rows[0]["reason"] and "2 fields" in rows[1]["reason"]
    assert {lead["first_name"]: len(lead["notes"]) for lead in leads(cli)} == {
        "Ana": 200_000,
        "Bob": 2,
    }


def test_map_mapping_source_tags_and_dry_run(cli, tmp_path: Path):
    path = tmp_path / "odd.csv"
    path.write_text("Who,Contact Address,Org,Src\nAna Silva,ana@acme.com,Acme,\n", encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text('[map]\n"Contact Address" = "email"\nOrg = "company"\n')
    dry = run_import(cli, str(path), "--map", "Who=name", "--mapping", str(mapping), "--dry-run")
    assert dry["imported"] == 1 and dry["batch"] is None
    assert dry["mapping"] == {
        "Who": "name",
        "Contact Address": "email",
        "Org": "company",
        "Src": "custom",
    }
    assert leads(cli) == []
    table = cli("import", str(path), "--map", "Who=name", "--mapping", str(mapping), "--dry-run")
    assert "mapping" in table.stdout and "Contact Address" in table.stdout
    run_import(
        cli,
        str(path),
        "--map",
        "Who=name",
        "--mapping",
        str(mapping),
        "--source",
        "expo",
        "--tag",
        "q4,vip",
    )
    [lead] = leads(cli)
    assert (lead["email"], lead["source"], lead["tags"]) == ("ana@acme.com", "expo", ["q4", "vip"])
    assert cli("import", str(path), "--map", "Who=height").exit_code == 1
    assert cli("import", str(path), "--on-duplicate", "sometimes").exit_code == 2


def test_on_duplicate_policies_and_keep_invalid(cli, tmp_path: Path):
    first = tmp_path / "a.csv"
    first.write_text("Email,Title,Company\nana@acme.com,CTO,\n", encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text("Email,Title,Company\nANA@acme.com,CEO,Acme\n", encoding="utf-8")
    run_import(cli, str(first))
    assert run_import(cli, str(second), "--on-duplicate", "skip")["duplicates"] == 1
    assert leads(cli)[0]["title"] == "CTO"
    second.write_text("Email,Title,Company\nANA@acme.com,CEO,Acme\n\n", encoding="utf-8")
    assert run_import(cli, str(second))["updated"] == 1  # merge: fills company only
    assert (leads(cli)[0]["title"], leads(cli)[0]["company"]) == ("CTO", "Acme")
    second.write_text("Email,Title\nana@acme.com,CEO\n", encoding="utf-8")
    assert run_import(cli, str(second), "--on-duplicate", "update")["updated"] == 1
    assert leads(cli)[0]["title"] == "CEO"
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Email\nZed,zed@@nowhere\n", encoding="utf-8")
    assert run_import(cli, str(bad), "--keep-invalid")["imported"] == 1
    zed = next(lead for lead in leads(cli) if lead["first_name"] == "Zed")
    assert zed["email"] is None and zed["custom"]["invalid email"] == "zed@@nowhere"
    assert "invalid-contact" in zed["tags"]


def test_duplicates_inside_one_file(cli, tmp_path: Path):
    path = tmp_path / "dups.csv"
    path.write_text(
        "Name,Email,Phone,Tags\n"
        "Ana Silva,ana@acme.com,,a\n"
        "Ana S.,ANA@ACME.COM,(415) 555-0100,b\n"
        "Someone,,415.555.0100,c\n",
        encoding="utf-8",
    )
    summary = run_import(cli, str(path))
    assert (summary["imported"], summary["updated"]) == (1, 2)
    [lead] = leads(cli)
    assert (lead["phone"], lead["tags"]) == ("+14155550100", ["a", "b", "c"])


def test_unreadable_file_is_one_clear_error(cli, tmp_path: Path):
    assert cli("import", str(tmp_path / "missing.csv")).exit_code == 1
    bad_json = tmp_path / "x.json"
    bad_json.write_text("[{", encoding="utf-8")
    result = cli("import", str(bad_json))
    assert result.exit_code == 1 and "not valid JSON" in result.stderr


def test_bom_is_never_part_of_the_first_column(cli, tmp_path: Path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + b"Email,Company\nana@acme.com,Acme\n")
    summary = run_import(cli, str(path))
    assert summary["mapping"] == {"Email": "email", "Company": "company"}


def test_progress_bar_on_a_terminal_only(tmp_path: Path):
    """On a TTY the import draws a progress bar on stderr; piped, it prints nothing extra."""
    import os
    import pty
    import subprocess
    import sys

    db = str(tmp_path / "tty.db")
    source = str(EXAMPLES / "crm-export.csv")
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "leadcli", "--db", db, "import", source],
        stdout=secondary,
        stderr=secondary,
        stdin=secondary,
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=60) == 0
    assert b"importing" in output and b"crm-export.csv" in output
    piped = subprocess.run(
        [sys.executable, "-m", "leadcli", "--db", str(tmp_path / "pipe.db"), "import", source],
        capture_output=True,
        text=True,
        check=True,
    )
    assert piped.stderr == "" and "importing" not in piped.stdout
