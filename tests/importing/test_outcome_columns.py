"""Outcome columns: a not-converted flag closes a lead as lost where the file says the row is
closed (its status, or --closed-if-not-converted for a file of closed history), so such a
file trains a model without hand edits."""

from __future__ import annotations

import json
from pathlib import Path


def _import(cli, path: Path, *options: str) -> dict:
    result = cli("import", str(path), "-f", "json", *options)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _leads(cli) -> list[dict]:
    return json.loads(cli("list", "-f", "json").stdout)


def test_closed_history_imports_lost_and_customers(cli, tmp_path: Path):
    path = tmp_path / "closed.csv"
    path.write_text(
        "Prospect ID,Email,Converted,Close Date\n"
        "a1,ann@acme.com,1,2026-02-01\n"
        "a2,bo@acme.com,0,2026-02-03\n"
        "a3,cy@acme.com,0,\n"
        "a4,di@acme.com,,\n"
    )
    _import(cli, path, "--closed-if-not-converted")
    by_email = {lead["email"]: lead for lead in _leads(cli)}
    assert by_email["ann@acme.com"]["stage"] == "customer"
    assert by_email["ann@acme.com"]["lost_reason"] is None
    bo = by_email["bo@acme.com"]
    assert (bo["stage"], bo["lost_reason"]) == ("lost", "not converted")
    assert bo["closed_at"].startswith("2026-02-03")  # the file's own close date
    assert by_email["cy@acme.com"]["stage"] == "lost" and by_email["cy@acme.com"]["closed_at"]
    assert by_email["di@acme.com"]["stage"] == "prospect"  # no flag: nothing decided


def test_without_the_option_a_not_converted_row_with_no_status_stays_open(cli, tmp_path):
    path = tmp_path / "open.csv"
    path.write_text("Email,Converted\nann@acme.com,1\nbo@acme.com,0\n")
    _import(cli, path)
    stages = {lead["email"]: lead["stage"] for lead in _leads(cli)}
    assert stages == {"ann@acme.com": "customer", "bo@acme.com": "prospect"}


def test_a_closed_status_not_converted_is_lost(cli, tmp_path: Path):
    """Salesforce: "Closed - Converted" with IsConverted false was closed by someone but never
    converted: lost (its status kept as a custom field); an open status stays open."""
    path = tmp_path / "sf.csv"
    path.write_text(
        "Id,Email,Status,IsConverted\n"
        "1,ann@acme.com,Closed - Converted,TRUE\n"
        "2,bo@acme.com,Closed - Converted,FALSE\n"
        "3,cy@acme.com,Closed - Not Converted,FALSE\n"
        "4,di@acme.com,Working - Contacted,FALSE\n"
    )
    _import(cli, path)
    by_email = {lead["email"]: lead for lead in _leads(cli)}
    assert by_email["ann@acme.com"]["stage"] == "customer"
    bo = by_email["bo@acme.com"]
    assert (bo["stage"], bo["lost_reason"]) == ("lost", "not converted")
    assert bo["custom"] == {"Status": "Closed - Converted"}
    assert bo["first_contacted_at"] is None
    assert by_email["cy@acme.com"]["stage"] == "lost"
    assert by_email["di@acme.com"]["stage"] == "lead"


def test_the_option_needs_a_converted_column(cli, tmp_path: Path):
    path = tmp_path / "plain.csv"
    path.write_text("Email\nann@acme.com\n")
    result = cli("import", str(path), "--closed-if-not-converted")
    assert result.exit_code == 1
    assert "needs a converted column" in result.stderr
    assert "ann@" not in result.stderr
    assert _leads(cli) == []
