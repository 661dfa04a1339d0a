"""Contact normalisation: emails, phones and amounts as people write them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcli.text.contacts import (
    fast_emails,
    fast_phones,
    normalise_email,
    normalise_phone,
    phone_cell,
)
from leadcli.text.numbers import parse_amount


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Ana@Acme.COM ", "ana@acme.com"),
        ("bob.o'neil+crm@Example.co.uk", "bob.o'neil+crm@example.co.uk"),
    ],
)
def test_email_is_trimmed_and_lowercased(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "ana", "ana@", "@acme.com", "ana@@acme.com", "a b@c.com"])
def test_bad_emails_are_refused_without_echo(raw):
    with pytest.raises(ValueError) as err:
        normalise_email(raw)
    assert raw.strip() == "" or raw not in str(err.value)


@given(st.emails())
def test_email_normalisation_is_idempotent(email):
    try:
        once = normalise_email(email)
    except ValueError:
        return  # hypothesis' emails() allows a few forms email-validator refuses
    assert normalise_email(once) == once
    assert once == once.strip().lower()


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-0100", "US", "+14155550100"),
        ("+1 415 555 0100", "GB", "+14155550100"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+49 30 901820", "US", "+4930901820"),
    ],
)
def test_phones_to_e164(raw, region, expected):
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["12", "call me", "+999 1234", ""])
def test_bad_phones_are_refused(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw, "US")


def test_unknown_region_is_refused():
    with pytest.raises(ValueError, match="region"):
        normalise_phone("415 555 0100", "XX")


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False))
def test_amount_round_trips_with_thousands_separators(amount):
    assert parse_amount(f"{amount:,.2f}") == pytest.approx(float(amount))
    assert parse_amount(f"${amount:.2f}") == pytest.approx(float(amount))


@pytest.mark.parametrize("raw", ["lots", "1,2,3", "12.", "1e5", ""])
def test_bad_amounts_are_refused(raw):
    with pytest.raises(ValueError):
        parse_amount(raw)


# The import's fast paths skip the libraries for common shapes: whatever they accept, the
# library must accept too, and normalise to the same text.
_EMAILISH = st.from_regex(
    r"\A[A-Za-z0-9_.%+'-]{0,70}@[A-Za-z0-9.-]{0,70}\.(com|co\.uk|example|test|io|x|[a-z]{20,26})\Z"
)


@given(st.one_of(st.emails(), _EMAILISH, st.text(max_size=30)))
def test_fast_email_path_agrees_with_email_validator(text: str):
    (fast,) = fast_emails([text.strip()])
    if fast is not None:
        assert normalise_email(text) == fast


def test_fast_email_path_takes_the_common_shapes_and_leaves_the_rest():
    cells = ["Ana.Silva@Acme.com", "", "a@b.example", "x" * 65 + "@acme.com", "ana@@acme.com"]
    assert fast_emails(cells) == ["ana.silva@acme.com", None, None, None, None]


_PHONEISH = st.from_regex(r"\A(\+?1[ .-]?)?\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}\Z")


@given(st.one_of(_PHONEISH, st.text(alphabet="0123456789 +-().", max_size=16)))
def test_fast_phone_path_agrees_with_phonenumbers(text: str):
    """The fast path's E.164 is the library's, and its "valid nowhere" (False) is the
    library's refusal: it never stores a number the library would call invalid."""
    (fast,) = fast_phones([text.strip()], "US")
    if fast is not None:
        assert phone_cell(text.strip(), "US") == (fast or None)
    assert fast_phones([text.strip()], "FR") == [None]  # only for North American regions


@given(st.integers(min_value=2_000_000_000, max_value=9_999_999_999))
def test_fast_phone_validity_is_the_librarys_for_every_north_american_shape(n: int):
    import phonenumbers

    digits = str(n)
    (fast,) = fast_phones([digits], "US")
    if fast is None:  # not the shape (a 0 or 1 opening the exchange): the library's to judge
        return
    number = phonenumbers.parse(digits, "US")
    assert (fast or None) == (f"+1{digits}" if phonenumbers.is_valid_number(number) else None)


def test_a_number_not_valid_in_its_region_is_refused_not_rewritten():
    """06 12 34 56 78 read as American was +10612345678, a number no one has."""
    with pytest.raises(ValueError, match="not a valid phone number") as err:
        normalise_phone("06 12 34 56 78", "US")
    assert "06" not in str(err.value)
    assert normalise_phone("06 12 34 56 78", "FR") == "+33612345678"
    assert phone_cell("06 12 34 56 78", "US") is None
    assert phone_cell("06 12 34 56 78", "FR") == "+33612345678"
