"""dedupe over a database: possible duplicates recorded by import join the matcher's pairs."""

from __future__ import annotations

from leadcli.identity import matcher
from leadcli.identity.dedupe import find_duplicates, likely_matches
from leadcli.leads.records import add_lead
from leadcli.storage.store import Store


def test_pairs_recorded_by_import_are_included(store: Store) -> None:
    a = add_lead(store, {"first_name": "Ana", "last_name": "Silva", "phone": "+14155550100"})
    add_lead(store, {"first_name": "Zed", "last_name": "Quork"})
    c = add_lead(store, {"first_name": "Bob", "last_name": "Stone", "phone": "+14155550100"})
    # As schema step 7 (identity-import) records them: lower id first, the shared field.
    store.conn.execute(
        "CREATE TABLE IF NOT EXISTS possible_duplicates (lead_id INTEGER NOT NULL, "
        "other_id INTEGER NOT NULL, reason TEXT NOT NULL, batch_id INTEGER, "
        "found_at TEXT NOT NULL, PRIMARY KEY (lead_id, other_id))"
    )
    store.conn.execute(
        "INSERT INTO possible_duplicates VALUES (?, ?, 'phone', 1, '2026-01-01T00:00:00Z')",
        (a, c),
    )
    pairs, _ = find_duplicates(store, matcher.load_rules())
    assert [p["ids"] for p in pairs] == [[a, c]]
    assert "recorded by import: shared phone" in pairs[0]["reasons"]
    assert "phone shared, names differ (not counted)" in pairs[0]["reasons"]


def test_likely_matches_finds_a_typo_through_the_search_index(store: Store) -> None:
    first = add_lead(
        store,
        {
            "first_name": "Katherine",
            "last_name": "Oduya",
            "email": "k.oduya@kestrel.io",
            "company": "Kestrel Labs",
        },
    )
    add_lead(store, {"first_name": "Bob", "last_name": "Oduya", "company": "Other"})
    new = add_lead(
        store,
        {
            "first_name": "Katharine",
            "last_name": "Oduya",
            "email": "katharine@kestrel.io",
            "company": "Kestrel Labs",
        },
    )
    found = likely_matches(store, new, matcher.load_rules())
    assert [m["id"] for m in found] == [first]


def test_an_address_among_other_emails_is_the_same_person(store: Store) -> None:
    a = add_lead(store, {"first_name": "Ana", "last_name": "Silva", "email": "ana@acme.com"})
    b = add_lead(store, {"first_name": "A.", "last_name": "Costa", "email": "ana@gmail.com"})
    store.conn.execute("UPDATE leads SET other_emails = ? WHERE id = ?", ('["ana@gmail.com"]', a))
    pairs, _ = find_duplicates(store, matcher.load_rules())
    assert [p["ids"] for p in pairs] == [[a, b]]
    assert pairs[0]["score"] >= 0.99
    assert "same e-mail (among other_emails)" in pairs[0]["reasons"]


def test_colleagues_at_one_switchboard_are_not_a_pair(store: Store) -> None:
    """Same phone, company and e-mail domain, same last name, other first names: the matcher
    alone scored this 0.96. A shared phone counts only with both names agreeing."""
    a = add_lead(
        store,
        {
            "first_name": "Ana",
            "last_name": "Silva",
            "email": "ana.silva@acme.example.com",
            "phone": "+14155550100",
            "company": "Acme",
        },
    )
    b = add_lead(
        store,
        {
            "first_name": "Eva",
            "last_name": "Silva",
            "email": "eva.silva@acme.example.com",
            "phone": "+14155550100",
            "company": "Acme",
        },
    )
    c = add_lead(
        store,
        {
            "first_name": "Eva",
            "last_name": "Sylva",
            "email": "eva.s@acme.example.com",
            "phone": "+14155550100",
            "company": "Acme",
        },
    )
    pairs, _ = find_duplicates(store, matcher.load_rules())
    assert [p["ids"] for p in pairs] == [[b, c]]
    assert "phone exact" in pairs[0]["reasons"]
    low, _ = find_duplicates(store, matcher.load_rules(), min_score=0.01)
    gated = next(p for p in low if p["ids"] == [a, b])
    assert gated["score"] < 0.5
    assert "phone shared, names differ (not counted)" in gated["reasons"]
