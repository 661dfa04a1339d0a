"""Amounts read as their writers meant them: babel's locales round-trip, ambiguity is told."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal, get_territory_currencies
from hypothesis import given
from hypothesis import strategies as st

from leadcli.text import numbers
from leadcli.text.numbers import COMMA, POINT, is_ambiguous, parse_number, readings

LOCALES = ["de_DE", "fr_FR", "de_CH", "en_US", "en_IN", "es_ES", "it_IT", "nl_NL", "pt_BR"]
AMOUNTS = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False
)


def _currency(locale: str) -> str:
    return get_territory_currencies(locale.split("_")[1])[0]


@pytest.mark.parametrize("locale", LOCALES)
@given(amount=AMOUNTS)
def test_babel_formatted_numbers_read_back_exactly_in_their_locale(locale: str, amount):
    decimal = numbers.locale_decimal(locale)
    for text in (
        format_decimal(amount, locale=locale),
        format_currency(amount, _currency(locale), locale=locale),
    ):
        assert parse_number(text, decimal) == float(amount), text


@pytest.mark.parametrize(
    ("cell", "comma", "point"),
    [
        ("1.500,00", 1500.0, None),
        ("€3.400", 3400.0, 3.4),
        ("€ 12.000,50", 12000.5, None),
        ("1,500.00", None, 1500.0),
        ("$ 12,000.50", None, 12000.5),
        ("12,5", 12.5, None),
        ("0,500", 0.5, None),
        ("1.234.567", 1234567.0, None),
        ("1\u202f234,50\u00a0€", 1234.5, None),  # fr_FR: narrow no-break space groups
        ("1 234 EUR", 1234.0, 1234.0),
        ("CHF 1'234.50", None, 1234.5),
        ("12,34,567.89", None, 1234567.89),
        ("£12", 12.0, 12.0),
    ],
)
def test_each_cell_says_what_it_can_mean(cell: str, comma, point):
    assert readings(cell) == (comma, point)


def test_only_cells_that_fit_two_numbers_are_ambiguous():
    assert is_ambiguous(readings("1.500")) and is_ambiguous(readings("2,750"))
    assert not is_ambiguous(readings("1.500,00")) and not is_ambiguous(readings("1500"))


@pytest.mark.parametrize("cell", ["lots", "1,2,3", "12.", "1e5", "", "1.5.00,1", "€€12", "XYZ 5"])
def test_what_is_not_an_amount_is_refused_without_repeating_it(cell: str):
    with pytest.raises(ValueError) as caught:
        readings(cell)
    assert str(caught.value).startswith("is not an amount")  # one text, never the cell


def test_an_ambiguous_amount_alone_follows_the_locale(monkeypatch: pytest.MonkeyPatch):
    assert numbers.parse_amount("1.500", "de_DE") == 1500.0
    assert numbers.parse_amount("1.500", "en_US") == 1.5
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    assert numbers.parse_amount("1.500") == 1500.0
    monkeypatch.setenv("LC_ALL", "C")
    assert numbers.parse_amount("1,500") == 1500.0


def test_a_column_is_decided_by_the_cells_that_read_one_way():
    assert numbers.decide(2, 0, POINT) == (COMMA, True)
    assert numbers.decide(0, 3, COMMA) == (POINT, True)
    assert numbers.decide(0, 0, COMMA) == (COMMA, False)


@given(st.text(max_size=40))
def test_any_text_is_read_or_refused_never_a_crash(text: str):
    try:
        comma, point = readings(text)
    except ValueError:
        return
    assert comma is not None or point is not None


@given(st.text(max_size=40))
def test_any_date_cell_is_read_or_not_never_a_crash(text: str):
    from leadcli.text.dates import date_readings

    day, month, kind = date_readings(text)
    assert kind in ("day", "month", "both", "serial", "other")
    if kind == "other":  # one reading: day first and month first agree
        assert day == month
