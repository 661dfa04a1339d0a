"""The merge rule: what a record brings a lead, in Python and in its generated SQL."""

from __future__ import annotations

import json
import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from leadcli.identity.policy import RULES, advanced_stage, brings_nothing_sql, plan_merge
from leadcli.pipeline.stages import STAGES


def lead(**values: object) -> dict:
    base = {name: None for name in RULES}
    base.update(do_not_contact=0, stage="prospect", custom=None)
    base.update(other_emails=None, other_phones=None, external_system=None)
    base.update(first_contacted_at=None)
    base.update(values)
    return base


def test_merge_fills_empty_fields_only() -> None:
    plan = plan_merge(lead(company="Acme"), lead(company="Other", city="Lyon"), "merge")
    assert plan.changes == {"city": [None, "Lyon"]}


def test_placeholders_never_overwrite_real_values_even_under_update() -> None:
    old = lead(phone="+14155550100", company="Acme", last_name="Silva")
    new = lead(phone="n/a", company="N/A", last_name="-")
    assert not plan_merge(old, new, "update")
    assert not plan_merge(old, new, "merge")


def test_a_lead_placeholder_is_filled_like_an_empty_field() -> None:
    plan = plan_merge(lead(company="n/a"), lead(company="Acme"), "merge")
    assert plan.changes == {"company": ["n/a", "Acme"]}


def test_a_second_email_or_phone_is_kept_not_dropped() -> None:
    old = lead(email="ana@a.io", phone="+14155550100")
    plan = plan_merge(old, lead(email="ana@b.io", phone="+14155550199"), "merge")
    assert plan.changes == {
        "other_emails": [None, ["ana@b.io"]],
        "other_phones": [None, ["+14155550199"]],
    }
    assert json.loads(plan.assignments()["other_emails"]) == ["ana@b.io"]


def test_update_makes_the_new_email_the_main_one_and_keeps_the_old() -> None:
    plan = plan_merge(lead(email="ana@a.io"), lead(email="ana@b.io"), "update")
    assert plan.changes == {"email": ["ana@a.io", "ana@b.io"], "other_emails": [None, ["ana@a.io"]]}


def test_do_not_contact_sticks_on_a_merge() -> None:
    for policy in ("merge", "update"):
        plan = plan_merge(lead(), lead(do_not_contact=1), policy)
        assert plan.changes == {"do_not_contact": [False, True]}
        assert not plan_merge(lead(do_not_contact=1), lead(do_not_contact=0), policy)


def test_skip_changes_nothing_else() -> None:
    brought = lead(city="Lyon", stage="customer", do_not_contact=1)
    assert not plan_merge(lead(), brought, "skip", record_tags=["x"])


def test_a_worked_status_fills_the_first_contact_and_never_moves_one() -> None:
    worked = lead(first_contacted_at="2026-01-05T10:00:00Z")
    assert plan_merge(lead(), worked, "merge").changes == {
        "first_contacted_at": [None, "2026-01-05T10:00:00Z"]
    }
    earlier = lead(first_contacted_at="2025-12-01T10:00:00Z")
    assert not plan_merge(earlier, worked, "update")


def test_every_settable_field_merges_address_fields_too() -> None:
    lead = {"email": "ana@x.io", "first_name": "Ana", "city": "Lyon"}
    record = {"email": "ana@x.io", "street": "1 Rue X", "postal_code": "69001", "region": "ARA"}
    changes = plan_merge(lead, record, "merge").changes
    assert changes == {
        "street": [None, "1 Rue X"],
        "postal_code": [None, "69001"],
        "region": [None, "ARA"],
    }


def test_tags_united_without_case() -> None:
    plan = plan_merge(lead(), lead(), "merge", lead_tags=["VIP"], record_tags=["vip", "new"])
    assert plan.tags == ["new"]


def test_external_id_fills_with_its_system() -> None:
    plan = plan_merge(lead(), lead(external_id="1001", external_system="hubspot"), "merge")
    assert plan.changes["external_system"] == [None, "hubspot"]


def test_stage_most_advanced_kept_and_closed_stays_closed() -> None:
    assert advanced_stage("lead", "mql") == "mql"
    assert advanced_stage("mql", "lead") is None
    assert advanced_stage("mql", "lost") == "lost"
    assert advanced_stage("customer", "opportunity") is None
    assert advanced_stage("lost", "customer") is None


TEXT = st.sampled_from([None, "", "a", "b", "n/a", "A"])
EMAIL = st.sampled_from([None, "x@a.io", "y@a.io"])
PHONE = st.sampled_from([None, "+14155550100", "+14155550199", "+10000000000"])


@st.composite
def records(draw: st.DrawFn) -> dict:
    return lead(
        first_name=draw(TEXT),
        company=draw(TEXT),
        email=draw(EMAIL),
        phone=draw(PHONE),
        external_id=draw(st.sampled_from([None, "1", "2"])),
        do_not_contact=draw(st.sampled_from([0, 1])),
        stage=draw(st.sampled_from(STAGES)),
        other_emails=draw(st.sampled_from([None, '["y@a.io"]'])),
        custom=draw(st.sampled_from([None, '{"k": "v"}'])),
        first_contacted_at=draw(st.sampled_from([None, "2026-01-05T10:00:00Z"])),
        contact_unknown=draw(st.sampled_from([0, 1])),
    )


COLUMNS = [
    *RULES,
    "other_emails",
    "other_phones",
    "external_system",
    "custom",
    "stage",
    "first_contacted_at",
    "contact_unknown",
]


@settings(max_examples=400, deadline=None)
@given(
    records(),
    records(),
    st.sampled_from(["merge", "update", "skip"]),
    st.lists(st.sampled_from(["a", "b"]), unique=True),
    st.lists(st.sampled_from(["a", "b", "B"]), unique=True),
)
def test_the_sql_fast_path_never_skips_a_row_that_brings_something(
    old: dict, new: dict, policy: str, old_tags: list[str], new_tags: list[str]
) -> None:
    # other_emails on the record side is only ever NULL in an import row's place
    new = {**new, "other_emails": None}
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE leads (id INTEGER PRIMARY KEY, {', '.join(COLUMNS)})")
    conn.execute("CREATE TABLE lead_tags (lead_id, tag COLLATE NOCASE)")
    marks = ", ".join("?" for _ in COLUMNS)
    for lead_id, row in ((1, old), (2, new)):
        conn.execute(
            f"INSERT INTO leads VALUES (?, {marks})", [lead_id, *(row[c] for c in COLUMNS)]
        )
    conn.executemany("INSERT INTO lead_tags VALUES (1, ?)", [(t,) for t in old_tags])
    conn.executemany("INSERT INTO lead_tags VALUES (2, ?)", [(t,) for t in new_tags])
    where = brings_nothing_sql(policy, list(RULES))
    nothing = conn.execute(
        f"SELECT count(*) FROM leads AS n, leads AS o WHERE n.id = 2 AND o.id = 1 AND {where}"
    ).fetchone()[0]
    plan = plan_merge(old, new, policy, lead_tags=old_tags, record_tags=new_tags)
    if nothing:
        assert not plan, plan
