"""Logging many leads at once is the same as logging them one by one, in one statement each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadcli.engagement import activities, cadences
from leadcli.errors import NotFound
from leadcli.leads.records import add_lead
from leadcli.storage.store import connect
from tests.conftest import REPO

CADENCES = REPO / "examples" / "cadences.toml"


def _dump(store) -> tuple:
    def rows(sql: str) -> list[tuple]:
        return [tuple(r) for r in store.conn.execute(sql)]

    return (
        rows("SELECT id, first_contacted_at, last_activity_at, updated_at FROM leads"),
        rows("SELECT id, lead_id, kind, inbound, at, note, outcome FROM activities"),
        rows("SELECT lead_id, event, changes, reason, at FROM history ORDER BY lead_id, id"),
        rows("SELECT lead_id, next_step, ended_at, end_reason FROM enrolments"),
    )


@pytest.mark.parametrize(("kind", "inbound"), [("email", False), ("email", True), ("note", False)])
def test_log_many_equals_logging_one_by_one(tmp_path, monkeypatch, kind, inbound):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-22T10:00:00Z")
    stores = [connect(tmp_path / "one.db"), connect(tmp_path / "many.db")]
    for store in stores:
        for n in range(4):
            add_lead(store, {"first_name": f"P{n}"})
        cadences.enroll(store, [2, 3], cadences.get("intro", CADENCES))
        activities.log(store, 4, "call", at=datetime(2026, 11, 22, 10, tzinfo=UTC))
    one, many = stores
    for lead_id in (1, 2, 3, 4):
        activities.log(one, lead_id, kind, "webinar invite", inbound=inbound)
    results = activities.log_many(many, [1, 2, 3, 4], kind, "webinar invite", inbound=inbound)
    assert _dump(one) == _dump(many)
    assert [r["lead_id"] for r in results] == [1, 2, 3, 4]
    assert [r["id"] for r in results] == [2, 3, 4, 5]


def test_log_many_with_an_unknown_id_logs_nothing(store):
    add_lead(store, {"first_name": "Ana"})
    with pytest.raises(NotFound, match="999"):
        activities.log_many(store, [1, 999], "call")
    assert store.conn.execute("SELECT count(*) FROM activities").fetchone()[0] == 0


def test_notes_follow_the_input_rule_wherever_they_come_from(store) -> None:
    """`log`, `followup` and `advance --lost --reason` store typed text as `add` does:
    escape sequences and bidi overrides dropped, so no later output can be driven by them."""
    from leadcli.engagement import followups
    from leadcli.pipeline import transitions

    lead = add_lead(store, {"first_name": "Ana"})
    hostile = "call\x1b[2J back\u202e\x07"
    activities.log(store, lead, "call", hostile, outcome="left\x1b]0;x\x07 a message")
    with store.write() as conn:
        followups.schedule(conn, lead, "2026-12-01T09:00:00Z", hostile)
    transitions.advance(store, [lead], lost=True, reason=hostile)
    stored = [
        *store.conn.execute("SELECT note, outcome FROM activities").fetchone(),
        store.conn.execute("SELECT note FROM followups").fetchone()[0],
        store.conn.execute("SELECT lost_reason FROM leads").fetchone()[0],
    ]
    assert stored == ["call[2J back", "left]0;x a message", "call[2J back", "call[2J back"]
