"""A lead that becomes unreachable (do-not-contact or closed) leaves every cadence, whoever
writes the change: the database ends the enrolments (m019), so ``leads.records`` need not
know that cadences exist, and the rule in SQL agrees with ``unreachable_because``."""

from __future__ import annotations

import itertools

import pytest

from leadcli.engagement import cadences
from leadcli.engagement.cadences import Cadence, Step
from leadcli.leads.records import add_lead
from leadcli.pipeline.stages import STAGES
from leadcli.pipeline.transitions import change_stage
from leadcli.storage import migrations
from leadcli.storage.store import connect

INTRO = Cadence("intro", None, (Step(0, "email"), Step(3, "call")))
AT = "2026-11-20T09:00:00Z"


def _enrolment(store, lead_id: int) -> tuple:
    row = store.conn.execute(
        "SELECT ended_at, end_reason, next_due_at FROM enrolments WHERE lead_id = ?", (lead_id,)
    ).fetchone()
    return tuple(row)


@pytest.mark.parametrize(("stage", "dnc"), list(itertools.product(STAGES, (False, True))))
def test_any_writer_of_the_lead_ends_its_enrolments_exactly_as_the_rule_says(
    store, stage: str, dnc: bool
):
    lead = add_lead(store, {"first_name": "Ana"})
    cadences.enroll(store, [lead], INTRO)
    with store.write() as conn:  # a writer that knows nothing of cadences
        conn.execute(
            "UPDATE leads SET stage = ?, do_not_contact = ?, updated_at = ?, closed_at = ? "
            "WHERE id = ?",
            (stage, dnc, AT, "2026-11-19T08:00:00Z", lead),
        )
    why = cadences.unreachable_because(stage, dnc)
    ended_at, reason, next_due = _enrolment(store, lead)
    assert reason == why
    if why is None:
        assert ended_at is None and next_due is not None
    else:
        assert next_due is None
        assert ended_at == (AT if dnc else "2026-11-19T08:00:00Z")


def test_a_back_dated_close_ends_enrolments_on_the_day_it_closed(store):
    lead = add_lead(store, {"first_name": "Ana"})
    cadences.enroll(store, [lead], INTRO)
    with store.write() as conn:
        row = dict(conn.execute("SELECT * FROM leads WHERE id = ?", (lead,)).fetchone())
        change_stage(conn, row, "lost", reason="test", at="2026-01-05T10:00:00Z")
    assert _enrolment(store, lead)[:2] == ("2026-01-05T10:00:00Z", "closed (lost)")


def test_the_step_ends_enrolments_already_left_behind_by_an_older_writer(tmp_path):
    step = migrations.MIGRATIONS.index(migrations.m019_unreachable_ends_enrolments)
    old = connect(tmp_path / "old.db", migrate=False)
    migrations.migrate(old, target=step)
    lead = add_lead(old, {"first_name": "Ana"})
    cadences.enroll(old, [lead], INTRO)
    with old.write() as conn:
        conn.execute("UPDATE leads SET do_not_contact = 1, updated_at = ? WHERE id = ?", (AT, lead))
    assert _enrolment(old, lead)[0] is None  # before the step: left active
    migrations.migrate(old)
    assert _enrolment(old, lead)[:2] == (AT, "do not contact")
