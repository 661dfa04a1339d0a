"""Status words from other CRMs: stages, opt-outs, worked leads, and the ones we do not know.

Reproductions of issue 14: "Do Not Contact" did not set do-not-contact; "Not Interested",
"Dead" did not close as lost; "Negotiation", "Proposal" were not opportunities; unknown
statuses became prospects without a word; worked leads showed in `due` as never contacted.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from leadcli.pipeline.stages import read_status
from tests.conftest import REPO, SHARED, requires_shared


@pytest.mark.parametrize(
    ("word", "stage", "opted_out", "contacted"),
    [
        ("Do Not Contact", None, True, False),
        ("Unsubscribed", None, True, False),
        ("Not Interested", "lost", False, False),
        ("Dead", "lost", False, False),
        ("Unqualified", "lost", False, False),
        ("Junk Lead", "lost", False, False),
        ("Negotiation", "opportunity", False, True),
        ("Proposal", "opportunity", False, True),
        ("Working - Contacted", "lead", False, True),
        ("Attempted to Contact", "lead", False, True),
        ("Contacted", "lead", False, True),
        ("Open - Not Contacted", "lead", False, False),
        ("New", "lead", False, False),
        ("salesqualifiedlead", "sql", False, True),
        ("Closed - Converted", "customer", False, True),
    ],
)
def test_status_words(word, stage, opted_out, contacted):
    status = read_status(word)
    assert status is not None
    assert (status.stage, status.do_not_contact, status.contacted) == (
        stage,
        opted_out,
        contacted,
    )


def test_unknown_status_is_none():
    assert read_status("Waiting for Godot") is None


def _import(cli, path: Path):
    result = cli("import", str(path), "-f", "json")
    assert result.exit_code == 0, result.stderr
    return result


def _leads(cli) -> dict[str, dict]:
    return {lead["first_name"]: lead for lead in json.loads(cli("list", "-f", "json").stdout)}


def test_import_maps_statuses_and_names_the_unknown_ones(cli, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-24T09:00:00Z")
    path = tmp_path / "web.csv"
    path.write_text(
        "First Name,Email,Lead Status,Created\n"
        "Ana,ana@a.example,Do Not Contact,2026-10-01\n"
        "Ben,ben@b.example,Not Interested,2026-10-01\n"
        "Cy,cy@c.example,Negotiation,2026-10-01\n"
        "Di,di@d.example,Working - Contacted,2026-10-01\n"
        "Ed,ed@e.example,Waiting for Godot,2026-10-01\n"
        "Fay,fay@f.example,New,2026-10-01\n",
        encoding="utf-8",
    )
    result = _import(cli, path)
    assert "statuses not recognised ('Waiting for Godot')" in result.stderr
    leads = _leads(cli)
    assert leads["Ana"]["do_not_contact"] in (1, True)
    assert leads["Ben"]["stage"] == "lost"
    assert leads["Cy"]["stage"] == "opportunity"
    assert leads["Di"]["stage"] == "lead"
    # Worked, at a time the file does not give: no invented first-contact time.
    assert leads["Di"]["first_contacted_at"] is None
    assert leads["Ed"]["stage"] == "prospect"
    shown = json.loads(cli("show", str(leads["Ed"]["id"]), "-f", "json").stdout)
    assert "Waiting for Godot" in json.dumps(shown)
    due = json.loads(cli("due", "-f", "json").stdout)
    new = {item["first_name"] for item in due["items"] if item["kind"] == "new_lead"}
    # Only the never-contacted open leads: not the opted out, the worked, the lost.
    assert new == {"Ed", "Fay"}


def test_due_does_not_flood_after_an_import(cli, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-24T09:00:00Z")
    path = tmp_path / "old.csv"
    rows = "".join(f"P{n},p{n}@x.example,2026-0{1 + n % 9}-01\n" for n in range(45))
    path.write_text("First Name,Email,Created\n" + rows, encoding="utf-8")
    _import(cli, path)
    table = cli("due")
    assert table.exit_code == 0
    assert table.stdout.count("new lead") == 20
    assert "25 more new leads not contacted yet" in table.stderr
    assert table.stderr.strip().splitlines()[-1].startswith("25 more new leads")
    data = json.loads(cli("due", "-f", "json").stdout)
    assert (len(data["items"]), data["more_new_leads"]) == (20, 25)
    everything = json.loads(cli("due", "--all", "-f", "json").stdout)
    assert (len(everything["items"]), everything["more_new_leads"]) == (45, 0)
    # The 20 shown are the most urgent of all 45.
    assert data["items"] == everything["items"][:20]
    assert cli("config", "set", "followup.new_lead_limit", "5").exit_code == 0
    assert json.loads(cli("due", "-f", "json").stdout)["more_new_leads"] == 40


_CONTACTED_WORDS = {
    "working - contacted",
    "working",
    "qualified",
    "contacted",
    "closed - converted",
    "closed - not converted",
}


@requires_shared("salesforce")
def test_salesforce_exports_then_due_lists_no_contacted_lead(cli, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-24T09:00:00Z")
    files = [*sorted((SHARED / "salesforce").glob("*.csv")), REPO / "examples" / "crm-export.csv"]
    contacted, waiting = set(), set()
    for path in files:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                email = row["Email"].strip().lower()
                (contacted if row["Status"].lower() in _CONTACTED_WORDS else waiting).add(email)
        _import(cli, path)
    due = json.loads(cli("due", "--all", "-f", "json").stdout)
    new = {item["email"] for item in due["items"] if item["kind"] == "new_lead"}
    assert new and new <= waiting - contacted
    assert not new & contacted


def test_a_later_export_saying_worked_marks_the_existing_lead_contacted(cli, tmp_path: Path):
    first = tmp_path / "monday.csv"
    first.write_text("Email,Status,CreatedDate\nana@a.example,Open - Not Contacted,2026-10-01\n")
    later = tmp_path / "tuesday.csv"
    later.write_text("Email,Status,CreatedDate\nana@a.example,Working - Contacted,2026-10-01\n")
    env = {"LEADCLI_NOW": "2026-11-24T09:00:00Z"}
    assert cli("import", str(first), env=env).exit_code == 0
    due = json.loads(cli("due", "-f", "json", env=env).stdout)["items"]
    assert [i["kind"] for i in due] == ["new_lead"]
    assert cli("import", str(later), env=env).exit_code == 0
    assert json.loads(cli("due", "-f", "json", env=env).stdout)["items"] == []
    [lead] = json.loads(cli("list", "-f", "json").stdout)
    assert lead["first_contacted_at"] is None  # worked, but when is not known
    response = json.loads(cli("report", "response", "-f", "json", env=env).stdout)
    assert (response["overall"]["unknown"], response["overall"]["never"]) == (1, 0)
