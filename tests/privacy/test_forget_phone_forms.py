"""`forget PHONE` finds the person however their phone was stored: phones now parse strictly
(an invalid number is kept as written), but older versions stored the E.164 of any possible
number, and a lookup must not refuse what a store once took."""

from __future__ import annotations

import pytest

from leadcli.errors import InvalidValue
from leadcli.leads.records import add_lead
from leadcli.privacy.erasure import Ambiguous, find_person, forget
from leadcli.storage.store import Store


def _lead(store: Store, name: str, phone: str | None, others: str | None = None) -> int:
    """A lead whose phone is stored exactly so (``add`` refuses an invalid one today)."""
    lead = add_lead(store, {"first_name": name, "email": f"{name.lower()}@example.org"})
    with store.write() as conn:
        conn.execute(
            "UPDATE leads SET phone = ?, other_phones = ? WHERE id = ?", (phone, others, lead)
        )
    return lead


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("+10612345678", "06 12 34 56 78"),  # an older version's E.164 of a possible number
        ("06 12 34 56 78", "06 12 34 56 78"),  # an import kept the invalid number as written
        ("06 12 34 56 78", "06.12.34.56.78"),  # the same digits, other separators
        ("(415) 555-0199", "+1 415 555 0199"),  # kept as written; typed as a valid number
        ("+14155550199", "415.555.0199"),  # the ordinary case
    ],
)
def test_forget_finds_a_phone_stored_in_an_older_or_looser_form(
    store: Store, stored: str, typed: str
) -> None:
    other = _lead(store, "Bob", "+14155550111")
    theirs = _lead(store, "Ana", stored)
    assert find_person(store.conn, typed).live == [theirs]
    result = forget(store, typed)
    assert result.erased == [theirs]
    assert [r[0] for r in store.conn.execute("SELECT id FROM leads")] == [other]


def test_a_second_phone_kept_as_written_finds_the_person(store: Store) -> None:
    theirs = _lead(store, "Ana", "+14155550111", '["06 12 34 56 78"]')
    assert find_person(store.conn, "06-12-34-56-78").live == [theirs]


def test_a_loose_phone_shared_by_two_leads_is_still_not_one_person(store: Store) -> None:
    _lead(store, "Ana", "06 12 34 56 78")
    _lead(store, "Bob", "+10612345678")
    with pytest.raises(Ambiguous):
        find_person(store.conn, "06 12 34 56 78")


def test_text_that_is_no_phone_is_refused(store: Store) -> None:
    _lead(store, "Ana", "06 12 34 56 78")
    with pytest.raises(InvalidValue):
        find_person(store.conn, "call me")
