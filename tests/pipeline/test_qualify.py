"""BANT answers, the qualification rules at their thresholds, prompts and the script path."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcli.errors import InvalidValue
from leadcli.leads.records import add_lead, get_lead
from leadcli.pipeline import qualification as q
from leadcli.text import dates

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "answer", "detail", "met"),
    [
        ("20000", "amount", "20000", True),
        ("$12,500.50", "amount", "12500.5", True),
        ("0", "no", None, False),
        ("yes", "yes", None, True),
        ("No", "no", None, False),
        ("unknown", "unknown", None, False),
    ],
)
def test_budget(text, answer, detail, met):
    assert q.parse_budget(text) == q.Answer("budget", answer, detail, met)


def test_authority_and_need():
    assert q.parse_authority("Decision Maker").met
    assert not q.parse_authority("influencer").met
    assert q.parse_need("yes: replacing spreadsheets") == q.Answer(
        "need", "yes", "replacing spreadsheets", True
    )
    assert not q.parse_need("no").met
    for bad, parse in (
        ("boss", q.parse_authority),
        ("maybe", q.parse_need),
        ("lots", q.parse_budget),
    ):
        with pytest.raises(InvalidValue):
            parse(bad)


@pytest.mark.parametrize(
    ("text", "day", "met"),
    [
        ("in 2 months", "2027-01-22", True),
        ("2026-09-01", "2026-09-01", False),  # passed: not a buying timeline
        ("2026-11-22", "2026-11-22", True),
        ("next quarter", "2027-01-01", True),
        ("Q3", "2027-07-01", False),
        ("in 3 months", "2027-02-22", True),
        ("2028-01-01", "2028-01-01", False),
    ],
)
def test_timeline_phrases_and_horizon(text, day, met):
    answer = q.parse_timeline(text, horizon_days=180, now_=NOW)
    assert (answer.answer, answer.detail, answer.met) == ("date", day, met)


def test_timeline_unknown_and_bad():
    assert q.parse_timeline("unknown", horizon_days=180, now_=NOW).answer == "unknown"
    with pytest.raises(InvalidValue, match="timeline"):
        q.parse_timeline("when pigs fly", horizon_days=180, now_=NOW)


@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["d", " days", " day"]))
def test_relative_days(n, unit):
    got = dates.parse_when(f"in {n}{unit}", now_=NOW)
    assert got - datetime(2026, 11, 22) == timedelta(days=n)


@given(st.text(max_size=40))
def test_parse_when_only_raises_value_error(text):
    """Any text is a datetime or a ValueError (shown as a usage error), never a crash."""
    with contextlib.suppress(ValueError):
        assert isinstance(dates.parse_when(text, now_=NOW), datetime)


@pytest.mark.parametrize(
    ("met", "score", "expected"),
    [
        (4, None, "sql"),
        (3, None, "sql"),
        (2, None, "mql"),
        (1, None, "mql"),
        (0, None, None),
        (0, 51, "mql"),
        (0, 50, None),
        (2, 99, "mql"),
    ],
)
def test_rules_at_thresholds(met, score, expected):
    assert q.conclude(met, score, sql_min_criteria=3, mql_min_score=50) == expected


def test_rules_follow_config():
    assert q.conclude(2, None, sql_min_criteria=2, mql_min_score=50) == "sql"


def test_qualify_advances_forward_only_and_records_each_answer(store):
    lead_id = add_lead(store, {"first_name": "Ana"})
    result = q.qualify(store, lead_id, {"need": q.parse_need("yes")}, note="form answer")
    assert result.stage_change.new == "mql"
    answers = {
        "budget": q.parse_budget("20000"),
        "authority": q.parse_authority("decision-maker"),
    }
    result = q.qualify(store, lead_id, answers, note="call with CFO")
    assert (result.met, result.conclusion, result.stage_change.new) == (3, "sql", "sql")
    lead = get_lead(store, lead_id)
    assert lead["stage"] == "sql"
    assert lead["bant"]["budget"]["detail"] == "20000"
    qualified = [e for e in lead["history"] if e["event"] == "qualified"]
    assert [list(e["changes"]) for e in qualified] == [["need"], ["budget"], ["authority"]]
    assert qualified[-1]["reason"] == "call with CFO"
    # answering "no" later does not move the lead back
    result = q.qualify(store, lead_id, {"budget": q.parse_budget("no")})
    assert result.conclusion == "mql" and result.stage_change is None
    assert get_lead(store, lead_id)["stage"] == "sql"


def test_qualify_no_advance_and_unchanged_answers(store):
    lead_id = add_lead(store, {"first_name": "Ana"})
    result = q.qualify(store, lead_id, {"need": q.parse_need("yes")}, advance=False)
    assert result.conclusion == "mql" and result.stage_change is None
    assert get_lead(store, lead_id)["stage"] == "prospect"
    before = len(get_lead(store, lead_id)["history"])
    q.qualify(store, lead_id, {"need": q.parse_need("yes")}, advance=False)
    assert len(get_lead(store, lead_id)["history"]) == before


# ------------------------------------------------------------------------------- CLI


def test_headline_qualify_then_close_then_reopen(cli):
    assert cli("add", "--first-name", "Ana", "--company", "Acme").stdout.strip() == "1"
    result = cli(
        "qualify",
        "1",
        "--budget",
        "20000",
        "--authority",
        "decision-maker",
        "--need",
        "yes",
        "--timeline",
        "in 2 months",
        "--note",
        "call with CFO",
    )
    assert result.exit_code == 0, result.stderr
    assert "prospect → sql" in result.stderr and "→" not in result.stdout
    assert "4 of 4 BANT criteria met" in result.stdout
    lead = json.loads(cli("show", "1", "-f", "json").stdout)
    assert lead["stage"] == "sql"
    assert set(lead["bant"]) == {"budget", "authority", "need", "timeline"}
    events = [(e["event"], list(e["changes"])) for e in lead["history"]]
    assert events[1:] == [
        ("qualified", ["budget"]),
        ("qualified", ["authority"]),
        ("qualified", ["need"]),
        ("qualified", ["timeline"]),
        ("follow-up", ["follow_up"]),
        ("stage", ["stage"]),
    ]

    closed = cli("advance", "1", "--to", "customer", "--value", "12000", "-f", "json")
    assert closed.exit_code == 0, closed.stderr
    lead = json.loads(cli("show", "1", "-f", "json").stdout)
    assert (lead["stage"], lead["value"]) == ("customer", 12000)
    assert lead["closed_at"]

    again = cli("advance", "1")
    assert again.exit_code == 1
    assert "closed" in again.stderr and "--reopen" in again.stderr
    reopened = cli("advance", "1", "--reopen", "-f", "json")
    assert json.loads(reopened.stdout)[0]["to"] == "sql"
    lead = json.loads(cli("show", "1", "-f", "json").stdout)
    assert lead["stage"] == "sql" and lead["closed_at"] is None


def test_qualify_script_path_never_prompts(cli):
    cli("add", "--first-name", "Ana")
    result = cli("qualify", "1", input="20000\n")
    assert result.exit_code == 1
    assert "nothing to record" in result.stderr
    assert json.loads(cli("show", "1", "-f", "json").stdout)["bant"] == {}


def test_qualify_prompts_on_a_terminal(cli, monkeypatch):
    from leadcli.cli import options

    monkeypatch.setattr(options, "stdin_is_interactive", lambda: True)
    cli("add", "--first-name", "Ana")
    answers = "20000\nboss\ndecision-maker\nyes: spreadsheets\nin 2 months\nmet at expo\n"
    result = cli("qualify", "1", input=answers)
    assert result.exit_code == 0, result.stderr
    assert "Budget" in result.stderr and "use one of" in result.stderr  # asked again
    lead = json.loads(cli("show", "1", "-f", "json").stdout)
    assert lead["stage"] == "sql"
    assert lead["bant"]["need"]["detail"] == "spreadsheets"
    # the second time, current answers are the defaults: Enter keeps them all
    again = cli("qualify", "1", input="\n\n\n\n\n")
    assert again.exit_code == 0 and "[20000]" in again.stderr
    after = json.loads(cli("show", "1", "-f", "json").stdout)
    assert after["bant"] == lead["bant"]
    assert len(after["history"]) == len(lead["history"])


def test_enter_on_a_lead_without_answers_records_nothing(cli, monkeypatch):
    from leadcli.cli import options

    monkeypatch.setattr(options, "stdin_is_interactive", lambda: True)
    cli("add", "--first-name", "Ana")
    before = json.loads(cli("show", "1", "-f", "json").stdout)
    result = cli("qualify", "1", input="\n\n\n\n\n")
    assert result.exit_code == 0, result.stderr
    assert "[unknown]" not in result.stderr
    after = json.loads(cli("show", "1", "-f", "json").stdout)
    assert after["bant"] == {} and after["history"] == before["history"]
    # only the answer that changes is recorded
    cli("qualify", "1", input="\ninfluencer\n\n\n\n")
    after = json.loads(cli("show", "1", "-f", "json").stdout)
    assert set(after["bant"]) == {"authority"}
    assert [list(e["changes"]) for e in after["history"][len(before["history"]) :]] == [
        ["authority"]
    ]


def _bant_follow_ups(cli, lead: int) -> list[dict]:
    card = json.loads(cli("show", str(lead), "-f", "json").stdout)
    return [f for f in card["follow_ups"] if f["note"].startswith("BANT timeline")]


def test_one_open_timeline_follow_up_moved_or_closed(cli, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-22T12:00:00Z")
    cli("add", "--first-name", "Ana")
    cli("qualify", "1", "--timeline", "2027-01-15")
    cli("qualify", "1", "--timeline", "2027-02-01")
    [follow_up] = _bant_follow_ups(cli, 1)
    assert follow_up["due_at"].startswith("2027-02-01T09:00")
    assert "2027-02-01" in follow_up["note"]
    cli("followup", "1", "2026-12-01", "my own call")
    cli("qualify", "1", "--timeline", "unknown")
    assert _bant_follow_ups(cli, 1) == []
    card = json.loads(cli("show", "1", "-f", "json").stdout)
    assert [f["note"] for f in card["follow_ups"]] == ["my own call"]  # others untouched
    assert card["next_follow_up_at"].startswith("2026-12-01")
    cli("qualify", "1", "--timeline", "2027-03-01")
    assert len(_bant_follow_ups(cli, 1)) == 1


def test_a_past_timeline_is_not_met_and_sets_no_overdue_follow_up(cli, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-22T12:00:00Z")
    cli("add", "--first-name", "Ana")
    cli("qualify", "1", "--timeline", "2027-01-15")
    result = json.loads(cli("qualify", "1", "--timeline", "2026-09-01", "-f", "json").stdout)
    assert result["answers"]["timeline"] == {"answer": "date", "detail": "2026-09-01", "met": False}
    assert _bant_follow_ups(cli, 1) == []  # the old one closed, no overdue one added
    due = json.loads(cli("due", "-f", "json").stdout)["items"]
    assert [i for i in due if i["kind"] == "follow_up"] == []


def test_qualify_bad_answer_exits_1_and_writes_nothing(cli):
    cli("add", "--first-name", "Ana")
    result = cli("qualify", "1", "--budget", "20000", "--authority", "the boss")
    assert result.exit_code == 1 and "authority" in result.stderr
    assert json.loads(cli("show", "1", "-f", "json").stdout)["bant"] == {}


def test_prompts_show_stored_answers_without_control_characters(cli, monkeypatch):
    from leadcli.cli import options

    monkeypatch.setattr(options, "stdin_is_interactive", lambda: True)
    cli("add", "--first-name", "Ana")
    hostile = "yes: \x1b[2J\x1b]8;;http://x\x1b\\L\u202eR\x9b31m"
    assert cli("qualify", "1", "--need", hostile).exit_code == 0
    result = cli("qualify", "1", input="\n\n\n\n\n")
    assert result.exit_code == 0, result.stderr
    assert "\\x1b[2J" in result.stderr
    assert not any(c in result.stderr for c in "\x1b\x9b\u202e")
    # Enter on the shown (escaped) answer keeps the stored one
    assert json.loads(cli("show", "1", "-f", "json").stdout)["bant"]["need"]["detail"] == (
        hostile.removeprefix("yes: ")
    )
