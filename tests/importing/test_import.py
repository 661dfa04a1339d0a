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


def test_undo_keeps_leads_touched_since(cli, tmp_path: Path, db_path: Path):
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
    # the removed leads left the search index too (and only they did)
    searched = json.loads(cli("list", "--search", "example", "-f", "json").stdout)
    assert [lead["id"] for lead in searched] == [ids[0]]
    import sqlite3

    with sqlite3.connect(db_path) as conn:  # raises if the index and the table disagree
        conn.execute("INSERT INTO leads_fts (leads_fts) VALUES ('integrity-check')")
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
        "Someone,,415.555.0100,c\n"
        "ana s.,,+1 415 555 0100,d\n",
        encoding="utf-8",
    )
    summary = run_import(cli, str(path))
    # The same e-mail is Ana; the same phone with her name is Ana; "Someone" at her phone is
    # another person (kept; with another name, not even a possible duplicate).
    assert (summary["imported"], summary["updated"]) == (2, 2)
    assert summary["possible_duplicates"] == 0
    ana, someone = leads(cli)
    assert (ana["phone"], ana["tags"]) == ("+14155550100", ["a", "b", "d"])
    assert (someone["first_name"], someone["tags"]) == ("Someone", ["c"])


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
    assert b"importing" in output and b"rows/s" in output  # only the bar says rows/s
    piped = subprocess.run(
        [sys.executable, "-m", "leadcli", "--db", str(tmp_path / "pipe.db"), "import", source],
        capture_output=True,
        text=True,
        check=True,
    )
    assert piped.stderr == "" and "importing" not in piped.stdout


def test_several_files_give_one_summary_with_totals(cli, tmp_path: Path):
    a = tmp_path / "a.csv"
    a.write_text("Name,Email\nAna Silva,ana@acme.com\nNobody,bad@@x\n")
    b = tmp_path / "b.csv"
    b.write_text("Name,Email\nBob Stone,bob@zeta.com\nAna Silva,ana@acme.com\n")
    result = cli("import", str(a), str(b), "-f", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["imported"], summary["duplicates"], summary["rejected"]) == (
        4,
        2,
        1,
        1,
    )
    assert [Path(f["file"]).name for f in summary["files"]] == ["a.csv", "b.csv"]
    assert summary["rejects_file"] == summary["files"][0]["rejects_file"]
    assert summary["rejects_files"] == [summary["rejects_file"]]


def test_a_missing_file_among_several_imports_nothing(cli, tmp_path: Path):
    good = tmp_path / "good.csv"
    good.write_text("Name,Email\nAna Silva,ana@acme.com\n")
    result = cli("import", str(good), str(tmp_path / "missing.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot read") and result.stderr.count("\n") == 1
    assert leads(cli) == [] and json.loads(cli("imports", "-f", "json").stdout) == []


def test_a_later_file_that_fails_names_what_was_imported(cli, tmp_path: Path):
    good = tmp_path / "good.csv"
    good.write_text("Name,Email\nAna Silva,ana@acme.com\n")
    broken = tmp_path / "broken.json"
    broken.write_text("[{not json")
    result = cli("import", str(good), str(broken))
    assert result.exit_code == 1
    assert "already imported: good.csv as batch 1" in result.stderr
    assert [lead["email"] for lead in leads(cli)] == ["ana@acme.com"]


def test_imported_stages_are_history_at_the_files_dates(cli, tmp_path: Path):
    """An open stage is the stage the lead was created in, at its created date; a closed one
    is a move at the close date; the timeline shows both."""
    path = tmp_path / "crm.csv"
    path.write_text(
        "Email,Lead Status,Created Date,Closed Date\n"
        "open@acme.com,Qualified,2026-03-01,\n"
        "won@acme.com,Closed - Converted,2026-03-01,2026-05-10\n"
    )
    run_import(cli, str(path), "--map", "Closed Date=closed_at")
    by_email = {lead["email"]: lead for lead in leads(cli)}
    open_id, won_id = by_email["open@acme.com"]["id"], by_email["won@acme.com"]["id"]
    open_lead = json.loads(cli("show", str(open_id), "-f", "json").stdout)
    assert [(e["event"], e["at"][:10], e["changes"]) for e in open_lead["history"]] == [
        ("created", "2026-03-01", {"stage": [None, "sql"]})
    ]
    timeline = json.loads(cli("history", str(won_id), "-f", "json").stdout)
    assert [(t["stage"], t["entered_at"][:10]) for t in timeline] == [
        ("prospect", "2026-03-01"),
        ("customer", "2026-05-10"),
    ]
    assert by_email["won@acme.com"]["closed_at"].startswith("2026-05-10")


def test_an_imported_leads_creation_is_its_batch_not_a_row(cli, tmp_path: Path, db_path: Path):
    """A million-row import writes no million "created" rows: the batch and the lead record
    the creation, and `show` still starts the lead's history with it, in the stage the lead
    was created in, also after the lead moved on."""
    import sqlite3

    path = tmp_path / "leads.csv"
    path.write_text("Email,Lead Status,Created Date\nana@acme.com,MQL,2026-03-01\n")
    run_import(cli, str(path))
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM history").fetchone()[0] == 0
    assert cli("advance", "1", "--to", "sql").exit_code == 0
    history = json.loads(cli("show", "1", "-f", "json").stdout)["history"]
    assert [(e["event"], e["at"][:10], e["changes"]["stage"], e["reason"]) for e in history] == [
        ("created", "2026-03-01", [None, "mql"], "import #1 (leads.csv)"),
        ("stage", history[1]["at"][:10], ["mql", "sql"], history[1]["reason"]),
    ]
    added = cli("add", "--email", "bo@acme.com")
    assert added.exit_code == 0
    history = json.loads(cli("show", "2", "-f", "json").stdout)["history"]
    assert [e["event"] for e in history] == ["created"]  # stored by `add`, shown once
    assert "import" not in (history[0]["reason"] or "")


def test_a_merged_row_moves_its_lead_when_the_file_says(cli, tmp_path: Path):
    first = tmp_path / "first.csv"
    first.write_text("Email,Created Date\nhiro@tyrell.com,2026-01-05\n")
    run_import(cli, str(first))
    later = tmp_path / "later.csv"
    later.write_text(
        "Email,Status,IsConverted,ConvertedDate,CreatedDate\n"
        "hiro@tyrell.com,Closed - Converted,true,2026-02-01,2026-01-05\n"
    )
    assert run_import(cli, str(later))["updated"] == 1
    lead = leads(cli)[0]
    assert lead["stage"] == "customer" and lead["closed_at"].startswith("2026-02-01")
    stage_events = [
        e
        for e in json.loads(cli("show", str(lead["id"]), "-f", "json").stdout)["history"]
        if e["event"] == "stage"
    ]
    assert [e["at"][:10] for e in stage_events] == ["2026-02-01"]


def test_a_merge_that_sets_do_not_contact_ends_enrolments(cli, tmp_path: Path, db_path: Path):
    first = tmp_path / "first.csv"
    first.write_text("Email\nana@acme.com\n")
    run_import(cli, str(first))
    cadences = str(EXAMPLES / "cadences.toml")
    assert cli("enroll", "1", "intro", "--file", cadences).exit_code == 0
    optout = tmp_path / "optout.csv"
    optout.write_text("Email,Do Not Contact\nana@acme.com,yes\n")
    run_import(cli, str(optout), "--map", "Do Not Contact=do_not_contact")
    assert leads(cli)[0]["do_not_contact"] is True
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        ended = conn.execute("SELECT ended_at IS NOT NULL, end_reason FROM enrolments").fetchall()
    assert ended == [(1, "do not contact")]


def test_undo_of_a_batch_from_before_schema_5(db_path: Path):
    """Batches imported before lead ids came in ranges listed their leads one by one; a
    newer leadcli still undoes them."""
    import sqlite3

    from leadcli.importing.undo import undo_batch
    from leadcli.storage import migrations
    from leadcli.storage.store import connect

    old = connect(db_path, migrate=False)
    migrations.migrate(old, target=4)
    with old.write() as conn:
        conn.executemany(
            "INSERT INTO leads (id, email, created_at, updated_at) VALUES (?, ?, 'x', 'x')",
            [(1, "a@acme.com"), (2, "b@acme.com"), (3, "c@acme.com")],
        )
        conn.execute(
            "INSERT INTO import_batches (id, file_name, sha256, imported_at, rows, imported, "
            "updated, duplicates, rejected, last_history_id) VALUES (7, 'f', 's', 'x', 2, 2, "
            "0, 0, 0, 0)"
        )
        conn.executemany("INSERT INTO batch_leads VALUES (7, ?)", [(1,), (3,)])
    old.close()
    store = connect(db_path)
    assert store.schema_version() == migrations.SCHEMA_VERSION
    result = undo_batch(store, 7)
    assert (result.removed, result.kept) == ([1, 3], [])
    assert [r[0] for r in store.conn.execute("SELECT id FROM leads")] == [2]
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("bulk", [False, True])
def test_bulk_and_incremental_loads_agree(bulk: bool, tmp_path: Path, monkeypatch):
    """A big file is loaded with the indexes dropped and duplicates found by grouping; a small
    one with indexes kept and one seek per key. Both must find the same duplicates."""
    from leadcli.importing import loader
    from leadcli.storage.store import connect

    monkeypatch.setattr(loader, "BULK_MIN_BYTES", 0 if bulk else 1 << 40)
    monkeypatch.setattr(loader, "MIN_ROW_BYTES", 1)
    store = connect(tmp_path / "leads.db")
    existing = tmp_path / "existing.csv"
    existing.write_text("Email,Phone\nold@acme.com,\n,+14155550199\n")
    loader.import_file(store, str(existing), loader.ImportOptions())
    path = tmp_path / "new.csv"
    path.write_text(
        "Name,Email,Phone,Tags\n"
        "Ana Silva,ana@acme.com,,a\n"
        "Ana S.,ana@acme.com,+14155550100,b\n"  # same email as line 2
        "ana s,,+1 415 555 0100,c\n"  # same phone and name as line 3, so Ana's lead
        "Old One,old@acme.com,,d\n"  # in the database already
        "Phone Only,,(415) 555-0199,e\n"  # the database's phone, no name there: not enough
        "Bob Stone,bob@zeta.com,,f\n"
    )
    summary = loader.import_file(store, str(path), loader.ImportOptions())
    assert (summary.imported, summary.updated + summary.duplicates) == (3, 3)
    assert summary.possible_duplicates == 0  # a phone without a name is no likeness
    rows = store.conn.execute(
        "SELECT email, phone, first_name, (SELECT group_concat(tag, '') FROM "
        "(SELECT tag FROM lead_tags WHERE lead_id = leads.id ORDER BY tag)) FROM leads ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        ("old@acme.com", None, "Old", "d"),
        (None, "+14155550199", None, None),
        ("ana@acme.com", "+14155550100", "Ana", "abc"),
        (None, "+14155550199", "Phone", "e"),
        ("bob@zeta.com", None, "Bob", "f"),
    ]
    assert store.conn.execute("SELECT count(*) FROM possible_duplicates").fetchone()[0] == 0
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The search index matches the table (this raises when it does not)...
    store.conn.execute("INSERT INTO leads_fts (leads_fts) VALUES ('integrity-check')")
    # ...and holds the merged rows' words only where they were merged to.
    fts = store.conn.execute("SELECT rowid FROM leads_fts WHERE leads_fts MATCH 'silva'")
    assert [r[0] for r in fts] == [3]


def test_every_opt_out_column_counts(cli, tmp_path: Path):
    path = tmp_path / "optouts.csv"
    path.write_text(
        "Email,Do Not Email,Do Not Call\n"
        "a@acme.com,Yes,No\n"
        "b@acme.com,No,Yes\n"
        "c@acme.com,No,No\n"
        "d@acme.com,,\n"
    )
    run_import(cli, str(path))
    assert {lead["email"]: lead["do_not_contact"] for lead in leads(cli)} == {
        "a@acme.com": True,
        "b@acme.com": True,
        "c@acme.com": False,
        "d@acme.com": False,
    }


def test_rejected_and_merged_rows_use_up_no_ids(cli, tmp_path: Path):
    """Nightly re-imports of a whole export must not make ids grow: rejected rows take no id,
    and rows merged into existing leads give theirs back."""
    first = tmp_path / "first.csv"
    first.write_text("Email\na@acme.com\nnot-an-email@\nb@acme.com\n")
    run_import(cli, str(first))
    assert sorted(lead["id"] for lead in leads(cli)) == [1, 2]
    again = tmp_path / "again.csv"  # other bytes, the same people
    again.write_text("Email,Title\nb@acme.com,CTO\na@acme.com,CEO\n")
    assert run_import(cli, str(again))["updated"] == 2
    assert cli("add", "--email", "c@acme.com").stdout.strip() == "3"


def test_the_rejects_file_is_owner_only_and_carries_no_terminal_control(cli, tmp_path: Path):
    """A rejects file holds people's data and is read with `cat`: 0600, no escape sequence
    (dropped as an import drops it), and a formula neutralised."""
    rejects = tmp_path / "r.csv"
    summary = run_import(
        cli,
        "-",
        "--rejects",
        str(rejects),
        input="Name,Email\nEve\x1b]0;owned\x07,not-an-address\n=HYPERLINK(1),also bad\n",
    )
    assert summary["rejected"] == 2
    assert rejects.stat().st_mode & 0o777 == 0o600
    text = rejects.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text
    assert "Eve]0;owned" in text and "'=HYPERLINK(1)" in text
