"""The lead record in the core library, without the CLI."""

from __future__ import annotations

import pytest

from leadcli.errors import InvalidValue, NotFound
from leadcli.leads import records as leads
from leadcli.leads.records import LeadQuery, add_lead, edit_lead, get_lead, list_leads


def ids(store, **query) -> list[int]:
    return [r["id"] for r in list_leads(store, LeadQuery(**query))]


def test_add_normalises_and_records_creation(store):
    lead_id = add_lead(
        store,
        {
            "first_name": " Ana ",
            "email": " Ana@Acme.COM ",
            "phone": "(415) 555-0100",
            "value": "12,000.50",
        },
        tags=["vip", " VIP ", "webinar", ""],
        custom={"Industry": "Retail"},
    )
    lead = get_lead(store, lead_id)
    assert lead["first_name"] == "Ana"
    assert lead["email"] == "ana@acme.com"
    assert lead["phone"] == "+14155550100"
    assert lead["value"] == 12000.5
    assert lead["tags"] == ["vip", "webinar"]
    assert lead["custom"] == {"Industry": "Retail"}
    assert lead["stage"] == "prospect"
    assert lead["created_at"].endswith("Z")
    [created] = lead["history"]
    assert created["event"] == "created"
    assert created["changes"]["email"] == [None, "ana@acme.com"]


def test_phone_region_from_caller(store):
    lead_id = add_lead(store, {"phone": "020 7946 0958"}, phone_region="GB")
    assert get_lead(store, lead_id)["phone"] == "+442079460958"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"first_name": "A", "email": "not-an-email"}, "email"),
        ({"first_name": "A", "email": "ana@"}, "email"),
        ({"first_name": "A", "phone": "12"}, "phone"),
        ({"first_name": "A", "phone": "call me"}, "phone"),
        ({"first_name": "A", "value": "lots"}, "value"),
        ({"first_name": "A", "value": "-5"}, "value"),
        ({"title": "CEO"}, "lead"),
    ],
)
def test_bad_values_name_the_field_and_write_nothing(store, values, field):
    with pytest.raises(InvalidValue) as err:
        add_lead(store, values)
    assert err.value.field == field
    for value in values.values():  # never echo the data
        assert str(value) not in str(err.value) or len(str(value)) < 3
    assert leads.count_leads(store) == 0
    assert store.conn.execute("SELECT count(*) FROM history").fetchone()[0] == 0


def test_edit_changes_fields_tags_and_history(store):
    lead_id = add_lead(store, {"first_name": "Ana", "title": "CTO"}, tags=["cold-list"])
    changes = edit_lead(
        store,
        lead_id,
        {"title": "CEO", "email": "ANA@x.io"},
        add_tags=["vip"],
        remove_tags=["COLD-LIST"],
        custom={"Plan": "gold"},
    )
    assert changes["title"] == ["CTO", "CEO"]
    assert changes["email"] == [None, "ana@x.io"]
    assert changes["tags"] == [["cold-list"], ["vip"]]
    assert changes["custom"] == [{}, {"Plan": "gold"}]
    lead = get_lead(store, lead_id)
    assert (lead["title"], lead["tags"], lead["custom"]) == ("CEO", ["vip"], {"Plan": "gold"})
    assert [e["event"] for e in lead["history"]] == ["created", "edited"]


def test_edit_with_no_change_writes_nothing(store):
    lead_id = add_lead(store, {"first_name": "Ana"})
    before = get_lead(store, lead_id)
    assert edit_lead(store, lead_id, {"first_name": "Ana"}) == {}
    after = get_lead(store, lead_id)
    assert after["updated_at"] == before["updated_at"]
    assert len(after["history"]) == 1


def test_edit_can_clear_but_not_remove_identity(store):
    lead_id = add_lead(store, {"first_name": "Ana", "title": "CTO"})
    edit_lead(store, lead_id, {"title": ""})
    assert get_lead(store, lead_id)["title"] is None
    with pytest.raises(InvalidValue):
        edit_lead(store, lead_id, {"first_name": ""})
    assert get_lead(store, lead_id)["first_name"] == "Ana"


def test_edit_bad_value_writes_nothing(store):
    lead_id = add_lead(store, {"first_name": "Ana"})
    with pytest.raises(InvalidValue, match="email"):
        edit_lead(store, lead_id, {"email": "nope", "title": "CEO"})
    lead = get_lead(store, lead_id)
    assert lead["title"] is None and len(lead["history"]) == 1


def test_missing_lead(store):
    with pytest.raises(NotFound):
        get_lead(store, 999)
    with pytest.raises(NotFound):
        edit_lead(store, 999, {"title": "x"})


@pytest.fixture
def sample(store):
    rows = [
        (
            {
                "first_name": "Ana",
                "last_name": "Silva",
                "company": "Acme",
                "source": "web",
                "owner": "sam",
                "notes": "met at the Lisbon summit",
            },
            ["vip", "webinar"],
        ),
        (
            {
                "first_name": "Bob",
                "last_name": "Stone",
                "company": "Zeta",
                "source": "Referral",
                "value": 500,
            },
            ["webinar"],
        ),
        ({"first_name": "Chloé", "company": "Acme Labs", "email": "chloe@acme.io"}, []),
    ]
    return [add_lead(store, values, tags=tags) for values, tags in rows]


def test_filters(store, sample):
    a, b, c = sample
    assert ids(store, tags=["webinar"]) == [a, b]
    assert ids(store, tags=["webinar", "VIP"]) == [a]
    assert ids(store, sources=["referral"]) == [b]
    assert ids(store, owners=["sam"]) == [a]
    assert ids(store, stages=["prospect"]) == [a, b, c]
    assert ids(store, stages=["lost"]) == []
    store.conn.execute("UPDATE leads SET score = 80, rating = 'hot' WHERE id = ?", (b,))
    assert ids(store, min_score=50) == [b]
    assert ids(store, ratings=["hot"]) == [b]


def test_search_is_full_text_and_safe(store, sample):
    a, _b, c = sample
    assert ids(store, search="acme") == [a, c]
    assert ids(store, search="lisb") == [a]  # prefix
    assert ids(store, search="chloe") == [c]  # diacritics folded
    assert ids(store, search="chloe@acme.io") == [c]
    assert ids(store, search='AND OR " * -') == []  # FTS syntax in user text is just text


def test_search_follows_edits(store, sample):
    a, *_ = sample
    edit_lead(store, a, {"company": "Globex"})
    assert a not in ids(store, search="acme")
    assert ids(store, search="globex") == [a]


def test_sort_and_limit(store, sample):
    a, b, c = sample
    assert ids(store, sort="-id") == [c, b, a]
    assert ids(store, sort="name") == [c, a, b]  # no last name sorts first
    assert ids(store, sort="-value", limit=1) == [b]
    with pytest.raises(InvalidValue):
        ids(store, sort="nonsense")


def test_custom_field_names(store, sample):
    add_lead(store, {"first_name": "D"}, custom={"Zone": "1", "Budget Code": "x"})
    assert leads.custom_field_names(store) == ["Budget Code", "Zone"]
