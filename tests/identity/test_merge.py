"""Merging leads, and undoing a merge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadcli.engagement import activities, followups
from leadcli.errors import NotFound
from leadcli.identity.merge import MergeError, merge_leads, undo_merge
from leadcli.leads import history
from leadcli.leads.records import add_lead, edit_lead, get_lead
from leadcli.pipeline.qualification import parse_budget, qualify
from leadcli.pipeline.transitions import advance
from leadcli.storage.store import Store
from leadcli.text import dates


def _snapshot(store: Store, lead_id: int) -> dict:
    record = get_lead(store, lead_id, with_history=False)
    with store.read() as conn:
        record["activities"] = activities.for_lead(conn, lead_id)
        record["history"] = [
            tuple(r)
            for r in conn.execute(
                "SELECT id, at, event, changes, reason FROM history WHERE lead_id = ? "
                "AND event <> 'unmerged' ORDER BY id",
                (lead_id,),
            )
        ]
    record["follow_ups"] = followups.open_followups(store, lead_id, include_held=True)
    return record


@pytest.fixture
def two(store: Store) -> tuple[int, int]:
    a = add_lead(
        store,
        {"first_name": "Ana", "last_name": "Silva", "email": "ana@acme.com", "company": "Acme"},
        tags=["webinar"],
        custom={"size": "10"},
    )
    b = add_lead(
        store,
        {
            "first_name": "Anna",
            "last_name": "Silva",
            "email": "anna@acme.com",
            "phone": "+14155550100",
            "title": "CTO",
            "do_not_contact": True,
        },
        tags=["Webinar", "expo"],
        custom={"size": "12", "industry": "energy"},
    )
    activities.log(store, a, "call", "first call")
    activities.log(store, b, "email", "sent deck")
    activities.log(store, b, "meeting", "demo")
    followups.add(store, b, dates.now() + timedelta(days=3), "call back")
    qualify(store, b, {"budget": parse_budget("yes")}, advance=False)
    advance(store, [b], to="opportunity", value=5000)
    return a, b


def test_merge_keeps_every_activity_and_history_entry_of_both(store: Store, two) -> None:
    a, b = two
    before = {i: _snapshot(store, i) for i in two}
    result = merge_leads(store, a, [b])
    merged = get_lead(store, a)
    with store.read() as conn:
        acts = activities.for_lead(conn, a)
    assert sorted(x["note"] for x in acts) == ["demo", "first call", "sent deck"]
    entries = [(e["at"], e["event"], e["changes"]) for e in merged["history"]]
    for lead_id in two:
        for _, at, event, _changes, _ in before[lead_id]["history"]:
            assert any(e[0] == at and e[1] == event for e in entries)
    assert merged["history"][-1]["event"] in (history.STAGE, "merged")
    assert any("merge #" in (e["reason"] or "") for e in merged["history"])
    # fill, conflicts, tags, stage, do-not-contact, BANT, follow-ups
    assert merged["phone"] == "+14155550100" and merged["title"] == "CTO"
    assert merged["first_name"] == "Ana"
    assert {c["field"] for c in result["conflicts"]} >= {"first_name", "email", "size"}
    assert sorted(t.lower() for t in merged["tags"]) == ["expo", "webinar"]
    assert merged["stage"] == "opportunity"
    assert merged["do_not_contact"] is True
    assert "budget" in merged["bant"]
    assert merged["custom"] == {"size": "10", "industry": "energy"}
    assert [f["note"] for f in followups.open_followups(store, a, include_held=True)] == [
        "call back"
    ]
    assert merged["next_follow_up_at"] is not None
    with pytest.raises(NotFound):
        get_lead(store, b)


def test_prefer_other_flips_conflicts(store: Store, two) -> None:
    a, b = two
    merge_leads(store, a, [b], prefer="other")
    merged = get_lead(store, a, with_history=False)
    assert merged["first_name"] == "Anna" and merged["email"] == "anna@acme.com"


def test_dry_run_changes_nothing(store: Store, two) -> None:
    a, b = two
    before = {i: _snapshot(store, i) for i in two}
    result = merge_leads(store, a, [b], dry_run=True)
    assert result["dry_run"] is True and result["merge"] is None
    assert result["changes"]["phone"] == [None, "+14155550100"]
    assert {i: _snapshot(store, i) for i in two} == before


def test_undo_restores_both_leads_exactly(store: Store, two) -> None:
    a, b = two
    before = {i: _snapshot(store, i) for i in two}
    result = merge_leads(store, a, [b])
    undo_merge(store, result["merge"])
    after = {i: _snapshot(store, i) for i in two}
    for i in two:
        old, new = before[i], after[i]
        assert {k: v for k, v in new.items() if k != "history"} == {
            k: v for k, v in old.items() if k != "history"
        }
        # The history of each is its own again (plus the merge events, which stay).
        assert [
            h for h in new["history"] if h[2] != "merged" and "merge #" not in (h[4] or "")
        ] == old["history"]
    assert "unmerged" in [e["event"] for e in get_lead(store, b)["history"]]
    with pytest.raises(MergeError):
        undo_merge(store, result["merge"])


def test_undo_refuses_when_the_kept_lead_changed_since(store: Store, two) -> None:
    a, b = two
    result = merge_leads(store, a, [b])
    edit_lead(store, a, {"title": "CEO"})
    with pytest.raises(MergeError, match="changed since"):
        undo_merge(store, result["merge"])


def test_merge_refuses_itself_and_unknown_leads(store: Store, two) -> None:
    a, _ = two
    with pytest.raises(Exception, match="itself"):
        merge_leads(store, a, [a])
    with pytest.raises(NotFound):
        merge_leads(store, a, [999])


def test_rows_of_any_table_referring_to_leads_move_and_come_back(store: Store, two) -> None:
    """A table a later step adds (here one with two lead columns, like a list of pairs)
    moves with the merge, drops the row tying the survivor to itself, and is restored."""
    a, b = two
    c = add_lead(store, {"first_name": "Cy"})
    store.conn.execute(
        "CREATE TABLE pair_notes (lead_id INTEGER REFERENCES leads(id) ON DELETE CASCADE, "
        "other_id INTEGER REFERENCES leads(id) ON DELETE CASCADE, note TEXT)"
    )
    rows = [(a, b, "a-b"), (b, c, "b-c"), (c, a, "c-a")]
    store.conn.executemany("INSERT INTO pair_notes VALUES (?, ?, ?)", rows)
    result = merge_leads(store, a, [b])
    after = sorted(tuple(r) for r in store.conn.execute("SELECT * FROM pair_notes"))
    assert after == sorted([(a, c, "b-c"), (c, a, "c-a")])
    undo_merge(store, result["merge"])
    restored = sorted(tuple(r) for r in store.conn.execute("SELECT * FROM pair_notes"))
    assert restored == sorted(rows)


def test_a_second_email_and_phone_are_kept_and_prefer_other_swaps_them(store: Store) -> None:
    a = add_lead(store, {"first_name": "Ana", "email": "ana@acme.com", "phone": "+14155550100"})
    b = add_lead(store, {"first_name": "Ana", "email": "ana@gmail.com", "phone": "+14155550199"})
    result = merge_leads(store, a, [b])
    merged = get_lead(store, a, with_history=False)
    assert merged["email"] == "ana@acme.com" and merged["other_emails"] == ["ana@gmail.com"]
    assert merged["other_phones"] == ["+14155550199"]
    assert {c["field"]: c.get("kept_in") for c in result["conflicts"]} == {
        "email": "other_emails",
        "phone": "other_phones",
    }
    assert result["changes"]["other_emails"] == [[], ["ana@gmail.com"]]
    undo_merge(store, result["merge"])
    c = add_lead(store, {"first_name": "Ana", "email": "ana@gmail.com"})
    merge_leads(store, a, [c], prefer="other")
    flipped = get_lead(store, a, with_history=False)
    assert flipped["email"] == "ana@gmail.com" and flipped["other_emails"] == ["ana@acme.com"]
