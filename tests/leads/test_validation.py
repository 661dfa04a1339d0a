"""One set of field rules for every writer: add, edit, import, advance and merge agree."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcli.errors import InvalidValue
from leadcli.identity.merge import merge_leads
from leadcli.leads import validation
from leadcli.leads.records import add_lead, edit_lead, get_lead, normalise_fields
from leadcli.pipeline.transitions import advance
from leadcli.storage.store import Store


def _import(cli, tmp_path: Path, text: str) -> tuple[dict, list[dict]]:
    path, rejects = tmp_path / "in.csv", tmp_path / "rejects.csv"
    path.write_text(text, encoding="utf-8")
    result = cli("import", str(path), "--rejects", str(rejects), "-f", "json")
    assert result.exit_code == 0, result.stderr
    rows = []
    if rejects.exists():
        with open(rejects, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    return json.loads(result.stdout), rows


def test_an_imported_negative_amount_is_a_reject_with_adds_reason(cli, tmp_path: Path):
    """`Amount -5` was stored and lowered the pipeline total; `add --value -1` refused it."""
    added = cli("add", "--email", "x@acme.com", "--value", "-1")
    assert added.exit_code == 1 and "value: must not be negative" in added.stderr
    summary, rejects = _import(
        cli,
        tmp_path,
        "Email,Amount,Stage\na@acme.com,100,opportunity\nb@acme.com,-5,opportunity\n",
    )
    assert (summary["imported"], summary["rejected"]) == (1, 1)
    assert [(r["Email"], r["reason"]) for r in rejects] == [
        ("b@acme.com", "value: must not be negative")
    ]
    rows = json.loads(cli("report", "pipeline", "-f", "json").stdout)["rows"]
    (opportunity,) = [r for r in rows if r["stage"] == "opportunity"]
    assert (opportunity["leads"], opportunity["value"]) == (1, 100.0)


def test_a_value_above_the_limit_is_refused_everywhere(cli, tmp_path: Path, store: Store):
    too_big = "2000000000000"
    added = cli("add", "--email", "x@acme.com", "--value", too_big)
    assert added.exit_code == 1 and "value: must be at most" in added.stderr
    assert too_big not in added.stderr  # reasons never repeat the value
    _, rejects = _import(cli, tmp_path, f"Email,Amount\nb@acme.com,{too_big}\n")
    assert [r["reason"] for r in rejects] == ["value: must be at most 1,000,000,000,000"]
    lead = add_lead(store, {"email": "c@acme.com"})
    with pytest.raises(InvalidValue, match="must be at most"):
        edit_lead(store, lead, {"value": too_big})
    with pytest.raises(InvalidValue, match="must not be negative"):
        advance(store, [lead], to="opportunity", value=-1)


def test_an_overlong_field_is_refused_by_add_and_rejected_by_import(cli, tmp_path: Path):
    company = "Acme " * 300  # 1,500 characters: a cell that swallowed a record
    added = cli("add", "--email", "x@acme.com", "--company", company)
    assert added.exit_code == 1 and "company: must be at most 1,000 characters" in added.stderr
    summary, rejects = _import(
        cli, tmp_path, f"Email,Company\na@acme.com,Acme\nb@acme.com,{company}\n"
    )
    assert (summary["imported"], summary["rejected"]) == (1, 1)
    assert rejects[0]["reason"] == "company: must be at most 1,000 characters"


def test_a_merge_does_not_carry_a_value_the_rules_refuse(store: Store):
    """A value stored before the rules held (an older import's -5) is not written onto the
    survivor: the merge is refused, naming the field, and nothing changes."""
    keep = add_lead(store, {"email": "ana@acme.com"})
    other = add_lead(store, {"email": "ana.silva@acme.com"})
    with store.write() as conn:
        conn.execute("UPDATE leads SET value = -5 WHERE id = ?", (other,))
    with pytest.raises(InvalidValue, match="value: must not be negative"):
        merge_leads(store, keep, [other])
    assert get_lead(store, keep, with_history=False)["value"] is None
    assert get_lead(store, other, with_history=False)["value"] == -5


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_the_value_rule_is_one_rule(amount: float):
    """normalise_fields (add, edit, capture) refuses exactly what the rule refuses."""
    reason = validation.problem("value", amount)
    try:
        clean = normalise_fields({"value": amount})
    except InvalidValue as exc:
        assert exc.reason == reason
    else:
        assert reason is None and clean["value"] == amount


def test_a_phone_is_read_in_the_leads_country_by_add_and_edit(cli, store: Store):
    """One rule with the import: `add --country FR --phone "06 ..."` is French, and a number
    valid nowhere it could be is an error, never another country's E.164."""
    added = cli("add", "--first-name", "Ana", "--country", "FR", "--phone", "06 12 34 56 78")
    assert added.exit_code == 0, added.stderr
    lead = int(added.stdout)
    assert get_lead(store, lead, with_history=False)["phone"] == "+33612345678"
    edit_lead(store, lead, {"phone": "01 42 34 56 78"})  # the lead's stored country
    assert get_lead(store, lead, with_history=False)["phone"] == "+33142345678"
    refused = cli("add", "--first-name", "Bob", "--phone", "06 12 34 56 78")  # region US
    assert refused.exit_code == 1
    assert "phone: is not a valid phone number for its country" in refused.stderr
    german = add_lead(
        store, {"first_name": "Cleo", "country": "Deutschland", "phone": "030 901820"}
    )
    assert get_lead(store, german, with_history=False)["phone"] == "+4930901820"
