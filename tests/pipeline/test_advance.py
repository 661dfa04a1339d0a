"""The stage machine: every transition, lost, reopen, back-dating, batches and stdin."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from leadcli.errors import InvalidValue, NotFound
from leadcli.leads.records import add_lead, get_lead
from leadcli.pipeline.stages import STAGES, is_closed
from leadcli.pipeline.transitions import TransitionError, advance, stage_timeline


def lead_at(store, stage: str) -> int:
    """A lead sitting in ``stage`` (moved there directly)."""
    lead_id = add_lead(store, {"first_name": "Ana"})
    if stage != "prospect":
        advance(store, [lead_id], to=stage, reason="test" if stage == "lost" else None)
    return lead_id


@pytest.mark.parametrize(("start", "target"), list(product(STAGES, STAGES)))
def test_every_transition(store, start, target):
    lead_id = lead_at(store, start)
    reason = "no budget" if target == "lost" else None
    if is_closed(start) or start == target:
        with pytest.raises(TransitionError):
            advance(store, [lead_id], to=target, reason=reason)
        assert get_lead(store, lead_id)["stage"] == start
        return
    [change] = advance(store, [lead_id], to=target, reason=reason)
    lead = get_lead(store, lead_id)
    assert (change.old, change.new, lead["stage"]) == (start, target, target)
    assert bool(lead["closed_at"]) == is_closed(target)
    assert lead["lost_reason"] == reason
    last = lead["history"][-1]
    assert last["event"] == "stage" and last["changes"]["stage"] == [start, target]
    gap = STAGES.index(target) - STAGES.index(start)
    if target != "lost" and gap > 1:
        assert "skipped" in last["reason"]
    elif target != "lost" and gap < 0:
        assert "moved back" in last["reason"]
    else:
        assert last["reason"] == "manual"


def test_next_stage_walks_the_funnel(store):
    lead_id = lead_at(store, "prospect")
    walked = [advance(store, [lead_id])[0].new for _ in range(5)]
    assert walked == ["lead", "mql", "sql", "opportunity", "customer"]


def test_lost_needs_a_reason_and_value_needs_a_deal_stage(store):
    lead_id = lead_at(store, "lead")
    with pytest.raises(InvalidValue, match="reason"):
        advance(store, [lead_id], lost=True)
    with pytest.raises(InvalidValue, match="reason"):
        advance(store, [lead_id], reason="no budget")  # a reason without --lost
    with pytest.raises(InvalidValue, match="value"):
        advance(store, [lead_id], value=100)  # lead -> mql carries no value
    advance(store, [lead_id], to="opportunity", value=5000)
    assert get_lead(store, lead_id)["value"] == 5000


def test_reopen(store):
    lost = lead_at(store, "sql")
    advance(store, [lost], lost=True, reason="bad timing")
    with pytest.raises(TransitionError, match="not closed"):
        advance(store, [lead_at(store, "mql")], reopen=True)
    [change] = advance(store, [lost], reopen=True)
    assert (change.new, change.reason) == ("sql", "reopened")
    lead = get_lead(store, lost)
    assert lead["lost_reason"] is None and lead["closed_at"] is None
    won = lead_at(store, "customer")
    assert advance(store, [won], reopen=True, to="opportunity")[0].new == "opportunity"


def test_batch_is_all_or_nothing(store):
    a, b = lead_at(store, "mql"), lead_at(store, "customer")
    with pytest.raises(NotFound, match="999"):
        advance(store, [a, 999], to="sql")
    with pytest.raises(TransitionError, match=f"lead {b}"):
        advance(store, [a, b])
    assert get_lead(store, a)["stage"] == "mql"


def test_back_dating_and_time_in_stage(store, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-01T09:00:00Z")
    lead_id = lead_at(store, "prospect")
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-22T09:00:00Z")
    advance(store, [lead_id], at=datetime(2026, 11, 5, 9, tzinfo=UTC))
    advance(store, [lead_id], to="opportunity")
    with pytest.raises(InvalidValue, match="before"):
        advance(store, [lead_id], at=datetime(2026, 11, 10, tzinfo=UTC))
    with pytest.raises(InvalidValue, match="future"):
        advance(store, [lead_id], at=datetime(2026, 12, 1, tzinfo=UTC))
    timeline = stage_timeline(store.conn, lead_id)
    assert [(s["stage"], s["seconds"]) for s in timeline] == [
        ("prospect", int(timedelta(days=4).total_seconds())),
        ("lead", int(timedelta(days=17).total_seconds())),
        ("opportunity", 0),
    ]


# ------------------------------------------------------------------------------- CLI


def test_lost_with_reason_shows_in_list(cli):
    cli("add", "--first-name", "Ana")
    cli("add", "--first-name", "Bob")
    result = cli("advance", "2", "--lost", "--reason", "went with competitor")
    assert result.exit_code == 0, result.stderr
    [lost] = json.loads(cli("list", "--stage", "lost", "-f", "json").stdout)
    assert (lost["id"], lost["lost_reason"]) == (2, "went with competitor")


def test_usage_errors(cli):
    cli("add", "--first-name", "Ana")
    assert cli("advance", "1", "--to", "won").exit_code == 2
    assert cli("advance", "abc").exit_code == 2
    assert cli("advance", "1", "--value", "lots").exit_code == 2
    assert cli("advance", "1", "--at", "when pigs fly").exit_code == 2
    assert cli("advance", "1", "--lost").exit_code == 1


def test_history_command(cli):
    cli("add", "--first-name", "Ana")
    cli("advance", "1", "--to", "sql")
    data = json.loads(cli("history", "1", "-f", "json").stdout)
    assert [s["stage"] for s in data] == ["prospect", "sql"]
    assert data[1]["reason"] == "manual (skipped: lead, mql)"
    table = cli("history", "1").stdout
    assert "skipped" in table and "Time in stage" in table
    assert cli("history", "99").exit_code == 1


def test_stdin_chain_moves_exactly_the_listed_leads(tmp_path):
    db = str(tmp_path / "chain.db")

    def leadcli(*args: str, input: str | None = None) -> str:
        return subprocess.run(
            [sys.executable, "-m", "leadcli", "--db", db, *args],
            input=input,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    for n in range(6):
        leadcli("add", "--first-name", f"P{n}")
    leadcli("advance", "2", "4", "5", "--to", "mql")
    pipeline = subprocess.run(
        f"{sys.executable} -m leadcli --db {db} list --stage mql -f tsv | cut -f1 | "
        f"{sys.executable} -m leadcli --db {db} advance - --to sql -f json",
        shell=True,
        capture_output=True,
        text=True,
        check=True,
    )
    moved = json.loads(pipeline.stdout)
    assert [m["id"] for m in moved] == [2, 4, 5]
    stages = {lead["id"]: lead["stage"] for lead in json.loads(leadcli("list", "-f", "json"))}
    assert stages == {1: "prospect", 2: "sql", 3: "prospect", 4: "sql", 5: "sql", 6: "prospect"}


@pytest.mark.parametrize("to", ["sql", "customer", "prospect"])
def test_lost_with_another_to_stage_is_refused(cli, to):
    cli("add", "--first-name", "Ana")
    result = cli("advance", "1", "--lost", "--reason", "x", "--to", to)
    assert result.exit_code == 1 and "--lost" in result.stderr
    assert json.loads(cli("show", "1", "-f", "json").stdout)["stage"] == "prospect"
    assert cli("advance", "1", "--lost", "--reason", "x", "--to", "lost").exit_code == 0
