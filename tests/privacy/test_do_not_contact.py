"""An opt-out, from a flag or an import, outlives every later change but an explicit opt-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIRST = (
    "Email,FirstName,HasOptedOutOfEmail,DoNotCall,Lead Status\n"
    "a@x.org,A,1,0,Open\n"
    "b@x.org,B,0,1,Open\n"
    "c@x.org,C,0,0,Unsubscribed\n"
    "d@x.org,D,0,0,Open\n"
)
# The same people, later, from a system that says nothing of (or forgot) the opt-out.
LATER = (
    "Email,FirstName,HasOptedOutOfEmail,DoNotCall,Lead Status,Company\n"
    "a@x.org,A,0,0,Working,AcmeA\n"
    "b@x.org,B,false,false,Working,AcmeB\n"
    "c@x.org,C,0,0,Working,AcmeC\n"
)


def _opted_out(cli) -> dict[str, bool]:
    result = cli("list", "-f", "json")
    assert result.exit_code == 0, result.stderr
    return {lead["email"]: lead["do_not_contact"] for lead in json.loads(result.stdout)}


@pytest.mark.parametrize("mode", ["merge", "update"])
def test_a_reimport_never_clears_an_opt_out(cli, tmp_path: Path, mode: str) -> None:
    first, later = tmp_path / "first.csv", tmp_path / "later.csv"
    first.write_text(FIRST)
    later.write_text(LATER)
    assert cli("import", str(first)).exit_code == 0
    expected = {"a@x.org": True, "b@x.org": True, "c@x.org": True, "d@x.org": False}
    assert _opted_out(cli) == expected
    summary = json.loads(cli("import", str(later), "--on-duplicate", mode, "-f", "json").stdout)
    assert summary["updated"] == 3  # the rows did change the leads (their company)
    assert _opted_out(cli) == expected


def test_an_import_row_opting_out_sets_the_existing_lead(cli, tmp_path: Path) -> None:
    assert cli("add", "--email", "d@x.org", "--first-name", "D").exit_code == 0
    row = tmp_path / "row.csv"
    row.write_text("Email,FirstName,HasOptedOutOfEmail\nd@x.org,D,1\n")
    assert cli("import", str(row)).exit_code == 0
    assert _opted_out(cli) == {"d@x.org": True}


@pytest.mark.parametrize(("keep", "other"), [("1", "2"), ("2", "1")])
def test_a_merge_keeps_the_opt_out_whichever_lead_survives(cli, keep: str, other: str) -> None:
    assert cli("add", "--email", "d@x.org", "--first-name", "Dee").exit_code == 0
    opted_out = cli("add", "--email", "d2@x.org", "--first-name", "Dee", "--do-not-contact")
    assert opted_out.exit_code == 0
    assert cli("merge", keep, other).exit_code == 0
    assert list(_opted_out(cli).values()) == [True]


def test_an_edit_of_other_fields_keeps_it_and_only_contact_ok_clears_it(cli) -> None:
    assert cli("add", "--email", "d@x.org", "--do-not-contact").exit_code == 0
    assert cli("edit", "1", "--company", "Acme", "--notes", "x").exit_code == 0
    assert _opted_out(cli) == {"d@x.org": True}
    assert cli("edit", "1", "--contact-ok").exit_code == 0
    assert _opted_out(cli) == {"d@x.org": False}
