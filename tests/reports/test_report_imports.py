"""`import --stage`, and imported leads in reports as of a day: created at the file's date in
the file's stage, closed ones moved at the file's close date."""

from __future__ import annotations

import json


def _json(cli, *args):
    result = cli(*args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _stages(cli, *args):
    out = _json(cli, "report", *args)
    return {r["stage"]: r["leads"] for r in out["stages"] if r["leads"]}


def test_import_stage_sets_rows_without_one(cli, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("email,created\na@x.com,2026-01-05\nb@x.com,2026-01-06\n")
    assert _json(cli, "import", str(plain), "--stage", "MQL")["imported"] == 2
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("email,status\nc@x.com,Closed - Converted\nd@x.com,\n")
    _json(cli, "import", str(mixed), "--stage", "sql")
    assert _stages(cli) == {"mql": 2, "customer": 1, "sql": 1}


def test_import_stage_must_be_a_stage(cli, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("email\na@x.com\n")
    result = cli("import", str(plain), "--stage", "hot")
    assert result.exit_code == 2
    assert "is not a stage" in result.stderr


def test_as_of_rebuilds_imported_leads(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-06-01T00:00:00Z")
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "email,created,status,closed\n"
        "a@x.com,2026-01-10,Marketing Qualified Lead,\n"
        "b@x.com,2026-02-01,Closed - Converted,2026-03-15\n"
        "c@x.com,2026-04-01,,\n"
    )
    _json(cli, "import", str(leads), "--map", "closed=closed_at")
    assert _stages(cli, "--as-of", "2026-01-09") == {}
    assert _stages(cli, "--as-of", "2026-02-20") == {"mql": 1, "prospect": 1}
    assert _stages(cli, "--as-of", "2026-03-15") == {"mql": 1, "customer": 1}
    assert _stages(cli, "--as-of", "2026-05-01") == {"mql": 1, "customer": 1, "prospect": 1}
    lead_time = _json(cli, "report", "velocity")["summary"]["median_lead_time_days"]
    assert lead_time == 42  # 2026-02-01 to 2026-03-15


def test_closed_deals_without_creation_date_close_on_their_own_date(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-06-01T00:00:00Z")
    deals = tmp_path / "deals.csv"
    deals.write_text("email,won\na@x.com,2026-02-03\n")
    _json(cli, "import", str(deals), "--map", "won=closed_at", "--stage", "customer")
    lead = _json(cli, "list")[0]
    assert lead["created_at"] == lead["closed_at"] == "2026-02-03T00:00:00Z"
