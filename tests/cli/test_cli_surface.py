"""The command surface a script relies on: TSV for cut, ids on stdin, --db anywhere, -f on
every command that prints records, enums in --help, tables for cron mail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadcli.text.safe_text import strip_controls
from tests.conftest import REPO

EXAMPLES = REPO / "examples"


def _leadcli(db: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "leadcli", "--db", str(db), *args],
        input=input,
        capture_output=True,
        text=True,
    )


def test_list_tsv_cut_gives_ids_on_the_shipped_examples(tmp_path):
    db = tmp_path / "x.db"
    assert _leadcli(db, "import", str(EXAMPLES / "web-form.csv")).returncode == 0
    listed = json.loads(_leadcli(db, "list", "-f", "json").stdout)
    assert any("\n" in (lead["notes"] or "") for lead in listed)
    ids = subprocess.run(
        f"{sys.executable} -m leadcli --db {db} list -f tsv | cut -f1",
        shell=True,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert ids == ["id"] + [str(lead["id"]) for lead in listed]
    piped = subprocess.run(
        f"{sys.executable} -m leadcli --db {db} list -f tsv | cut -f1 | "
        f"{sys.executable} -m leadcli --db {db} advance - --to lead -f json",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0, piped.stderr
    assert [m["id"] for m in json.loads(piped.stdout)] == [lead["id"] for lead in listed]


FIELD_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
).filter(lambda t: t.strip() == t and t != "")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(company=FIELD_TEXT, notes=FIELD_TEXT)
def test_tsv_round_trip_through_import(cli, tmp_path, company, notes):
    """`list -f tsv` imported into another database gives the same values."""
    source, target = tmp_path / "a.db", tmp_path / "b.db"
    for db in (source, target):
        db.unlink(missing_ok=True)
    added = cli(
        "--db",
        str(source),
        "add",
        "--first-name",
        "Ana",
        "--company",
        company,
        "--notes",
        notes,
        "--email",
        "ana@example.com",
    )
    assert added.exit_code == 0, added.stderr
    listed = cli("--db", str(source), "list", "-f", "tsv").stdout
    imported = cli("--db", str(target), "import", "-", "--input-format", "tsv", input=listed)
    assert imported.exit_code == 0, imported.stderr
    [lead] = json.loads(cli("--db", str(target), "list", "-f", "json").stdout)
    [stored] = json.loads(cli("--db", str(source), "list", "-f", "json").stdout)
    # As stored: `add` dropped any control or invisible character (safe_text.strip_controls).
    assert (lead["company"], lead["notes"]) == (stored["company"], stored["notes"])
    assert (stored["company"], stored["notes"]) == tuple(
        strip_controls(t).strip() or None for t in (company, notes)
    )


LONG_EMAIL = "bartholomew.alexander.featherstonehaugh@long-company-domain.example.com"
LONG_TEXT = "International Consolidated Widgets and Sprockets Holdings of the Northern Reaches"


def test_cron_mail_tables_keep_emails_and_phones_whole(cli, monkeypatch):
    """Piped with no COLUMNS (width 100), `list` and `due` wrap names and notes, never an
    e-mail address or a phone number."""
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-22T10:00:00Z")
    for email, phone in ((LONG_EMAIL, None), ("ana@acme.com", "+1 415 555 0100")):
        args = ["--first-name", "Bartholomew-Alexander", "--last-name", "Featherstonehaugh"]
        args += ["--email", email, "--company", LONG_TEXT, "--notes", LONG_TEXT]
        added = cli("add", *args, *(["--phone", phone] if phone else []))
        assert added.exit_code == 0, added.stderr
        cli("followup", added.stdout.strip(), "2026-11-22 09:00", LONG_TEXT, "--past")
    for args in (["list"], ["due"], ["followup", "list"]):
        out = cli(*args).stdout
        assert "+14155550100" in out, args
        if args != ["followup", "list"]:
            assert LONG_EMAIL in out, args
        assert LONG_TEXT not in out, args  # free text wraps to make room
    assert "ana@acme.com" in cli("list").stdout
