"""Rules that live in one place: the closed stages, "do-not-contact or closed ends
enrolments", which follow-ups are held back, which characters never travel and the
``UPDATE ... SET`` builder. Behaviour first, then a guard that the code
does not grow a second copy."""

from __future__ import annotations

import itertools
import re
import sqlite3

import pytest

from leadcli.engagement import cadences
from leadcli.engagement.cadences import Cadence, EnrolmentError, Step
from leadcli.leads.records import add_lead, edit_lead
from leadcli.pipeline.stages import CLOSED_STAGES, CLOSED_STAGES_SQL, STAGES
from leadcli.pipeline.transitions import change_stage
from leadcli.storage.updates import set_columns
from tests.conftest import REPO

INTRO = Cadence("intro", None, (Step(0, "email"), Step(3, "call")))


def _enrolment(store, lead_id: int) -> dict:
    return dict(
        store.conn.execute(
            "SELECT ended_at, end_reason FROM enrolments WHERE lead_id = ?", (lead_id,)
        ).fetchone()
    )


@pytest.mark.parametrize(("stage", "dnc"), list(itertools.product(STAGES, (False, True))))
def test_enroll_refuses_exactly_the_leads_the_rule_names(store, stage: str, dnc: bool):
    lead = add_lead(store, {"first_name": "Ana"})
    with store.write() as conn:
        conn.execute(
            "UPDATE leads SET stage = ?, do_not_contact = ? WHERE id = ?", (stage, dnc, lead)
        )
    why = cadences.unreachable_because(stage, dnc)
    assert (why is not None) == (dnc or stage in CLOSED_STAGES)
    if why:
        with pytest.raises(EnrolmentError):
            cadences.enroll(store, [lead], INTRO)
    else:
        assert cadences.enroll(store, [lead], INTRO)


@pytest.mark.parametrize("closed", CLOSED_STAGES)
def test_closing_ends_enrolments_with_the_stage_as_reason(store, closed: str):
    lead = add_lead(store, {"first_name": "Ana"})
    cadences.enroll(store, [lead], INTRO)
    with store.write() as conn:
        row = dict(conn.execute("SELECT * FROM leads WHERE id = ?", (lead,)).fetchone())
        change_stage(conn, row, closed, reason="test", at="2026-11-20T09:00:00Z")
    assert _enrolment(store, lead)["end_reason"] == f"closed ({closed})"


def test_an_open_stage_change_and_an_opt_in_leave_enrolments_alone(store):
    lead = add_lead(store, {"first_name": "Ana"})
    cadences.enroll(store, [lead], INTRO)
    with store.write() as conn:
        row = dict(conn.execute("SELECT * FROM leads WHERE id = ?", (lead,)).fetchone())
        change_stage(conn, row, "mql", reason="test", at="2026-11-20T09:00:00Z")
    edit_lead(store, lead, {"title": "CTO"})
    assert _enrolment(store, lead)["ended_at"] is None
    edit_lead(store, lead, {"do_not_contact": True})
    assert _enrolment(store, lead)["end_reason"] == "do not contact"


def test_closed_stages_sql_matches_the_constant(store):
    got = store.conn.execute(
        f"SELECT 'customer' IN {CLOSED_STAGES_SQL}, 'lost' IN "
        f"{CLOSED_STAGES_SQL}, 'opportunity' IN {CLOSED_STAGES_SQL}"
    ).fetchone()
    assert tuple(got) == (1, 1, 0)


def test_set_columns_updates_one_row_and_refuses_names_that_are_not_identifiers():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT, updated_at TEXT)")
    conn.executemany("INSERT INTO t (id) VALUES (?)", [(1,), (2,)])
    set_columns(conn, "t", 1, {"a": "x; DROP TABLE t", "b": 2}, updated_at="now")
    set_columns(conn, "t", 2, {})  # nothing to set: no statement
    assert conn.execute("SELECT * FROM t ORDER BY id").fetchall() == [
        (1, "x; DROP TABLE t", 2, "now"),
        (2, None, None, None),
    ]
    with pytest.raises(ValueError):
        set_columns(conn, "t", 1, {"a = 1, b": 3})


def test_no_second_copy_of_these_rules_in_the_code():
    """The closed stages written out as a list, an ``UPDATE ... SET`` built from a dict, or
    enrolments ended for an opt-out or a close outside their one place. Released
    migrations are history and keep their literals."""
    exempt = "storage/migrations/m"  # the released steps' modules
    patterns = {
        "closed stages": re.compile(r"""['"]customer['"],\s*['"]lost['"]"""),
        "SET builder": re.compile(r"SET \{"),
        "enrolments rule": re.compile(r"end_enrolments\([^)]*(do not contact|closed)"),
        # Which characters are dropped or escaped: a second list would drift from the first.
        "control characters": re.compile(r"\\x00-|\\x7f-\\x9f|\\u202[ae]|\\u200b|\\U000e00"),
        "held follow-ups": re.compile(r"WHEN leads\.stage = 'lost'"),
    }
    homes = {
        "closed stages": "pipeline/stages.py",
        "SET builder": "storage/updates.py",
        "enrolments rule": "engagement/cadences.py",
        "control characters": "text/safe_text.py",
        "held follow-ups": "engagement/followups.py",
    }
    found = []
    for path in sorted((REPO / "leadcli").rglob("*.py")):
        relative = path.relative_to(REPO / "leadcli").as_posix()
        if relative.startswith(exempt):
            continue
        text = path.read_text(encoding="utf-8")
        for rule, pattern in patterns.items():
            if relative != homes[rule] and pattern.search(text):
                found.append((rule, relative))
    assert found == []
