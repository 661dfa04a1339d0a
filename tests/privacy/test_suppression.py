"""The suppression list's rules, checked on the core directly."""

from __future__ import annotations

from leadcli.privacy import suppression
from leadcli.privacy.suppression import Suppressions


def test_a_row_is_checked_with_the_digests_forget_stored(store) -> None:
    """The import's per-row check and the stored digests are the same keyed hash."""
    found = _listed(store, ("email", "ana@acme.com"), ("phone", "+14155550100"))
    hits = found.hits_by_row(
        ["bob@acme.com", " Ana@Acme.com", None],
        [None, None, "+14155550100"],
        [None] * 3,
        [None] * 3,
    )
    assert sorted(hits) == [1, 2]


def _listed(store, *values: tuple[str, str]) -> Suppressions:
    with store.write() as conn:
        suppression.add(conn, values)
    return Suppressions.load(store.conn)


def test_an_email_suppresses_any_row_carrying_it(store) -> None:
    found = _listed(store, ("email", "ana@acme.com"))
    assert found.matches(" ANA@acme.com ", None)
    assert found.matches("new@acme.com", None, other_emails='["ana@acme.com"]')
    assert not found.matches("bo@acme.com", None)
    assert suppression.is_suppressed(store.conn, email="ana@acme.com")


def test_a_phone_suppresses_only_a_row_without_an_email(store) -> None:
    found = _listed(store, ("phone", "+14155550199"))
    assert found.matches(None, "+14155550199")
    assert found.matches(None, None, other_phones=["+14155550199"])
    assert not found.matches("colleague@acme.com", "+14155550199")


def test_the_bulk_check_agrees_with_the_single_one(store) -> None:
    found = _listed(store, ("email", "ana@acme.com"), ("phone", "+14155550199"))
    emails = ["ana@acme.com", "bo@acme.com", None, "cy@acme.com", None]
    phones = [None, "+14155550199", "+14155550199", None, "+14155550100"]
    others = [None, None, None, '["ana@acme.com"]', None]
    none = [None] * len(emails)
    assert sorted(found.hits_by_row(emails, phones, others, none)) == [0, 2, 3]


def test_role_addresses_and_placeholders_are_not_suppressed() -> None:
    kept = suppression.suppressible(
        ["info@acme.com", "test@test.com", "ana@acme.com"], ["0000000000", "+14155550199"]
    )
    assert kept == [("email", "ana@acme.com"), ("phone", "+14155550199")]


def test_an_empty_list_costs_nothing(store) -> None:
    found = Suppressions.load(store.conn)
    assert not found and found.matches("ana@acme.com", "+14155550199") == []
    assert suppression.key(store.conn) is None  # no key is made until someone is forgotten
