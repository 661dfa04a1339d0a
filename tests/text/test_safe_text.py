"""Untrusted text: never terminal control, never a spreadsheet formula."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcli.text.safe_text import (
    json_safe,
    may_need_stripping,
    neutralise_formula,
    restore_formula,
    strip_controls,
    visible,
)


def test_visible_escapes_controls():
    assert visible("Evil\x1b[2JCo") == "Evil\\x1b[2JCo"
    assert visible("a\nb\tc\r") == "a\\nb\\tc\\r"
    assert visible("\x9b31m") == "\\x9b31m"
    assert visible("abc\u202edef") == "abc\\u202edef"
    assert visible("Chloé 東京 [bold]") == "Chloé 東京 [bold]"


@given(st.text())
def test_visible_output_has_no_control_characters(text):
    shown = visible(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://x","y")',
        "+SUM(A1)",
        "-2+3",
        "@cmd",
        "\tx",
        "\r=1",
        "=1",
        "\uff1d1+1",
        "+1-2",  # a spreadsheet computes -1: too few digits for a phone number
        "-1-2",
    ],
)
def test_formulas_are_neutralised(cell):
    assert neutralise_formula(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell",
    [
        "+14155550100",
        "+1 415 555 0100",
        "+1-415-555-0100",
        "-42.5",
        "-1,200.50",
        "(415) 555-0100",
        "Acme",
        "",
        "a=b",
    ],
)
def test_numbers_phones_and_text_are_kept(cell):
    assert neutralise_formula(cell) == cell


@given(st.text())
def test_neutralise_restore_round_trip(cell):
    assert restore_formula(neutralise_formula(cell)) == cell


@given(st.text())
def test_neutralised_cell_never_starts_a_formula(cell):
    out = neutralise_formula(cell)
    assert not out.startswith(("=", "@", "\t", "\r", "\n", "\uff1d", "\uff20"))
    if out.startswith(("+", "-")):  # only plain numbers and phone numbers may
        assert out == cell and re.fullmatch(r"[+-]?[0-9][0-9 ().,eE+-]*", cell)
        digits = sum(c.isdigit() for c in cell)
        assert digits >= 7 or re.fullmatch(r"[+-]?[0-9]+([.,][0-9]+)*([eE][+-]?[0-9]+)?", cell)


@given(st.text())
def test_json_safe_keeps_data_and_hides_controls(text):
    encoded = json_safe(json.dumps({"v": text}, ensure_ascii=False))
    assert json.loads(encoded) == {"v": text}
    assert not any(0x7F <= ord(c) <= 0x9F or ord(c) < 0x20 for c in encoded)


# ------------------------------------------------------------------ the input rule

# Written from the characters' definitions, not from safe_text's own list.
_NEVER_STORED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\u2028\u2029\U000e0000-\U000e007f]"
)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Eve\x1b]8;;http://evil\x07click\x1b]8;;\x07", "Eve]8;;http://evilclick]8;;"),
        ("\x1b[2JZed", "[2JZed"),
        ("Acme\x00\x9b31m", "Acme31m"),
        ("abc\u202edef\u2066x\u2069", "abcdefx"),
        ("A\u200bna\ufeff\u2060\U000e0041\U000e007f", "Ana"),
        ("A\u200dna", "Ana"),  # a joiner between Latin letters only hides a difference
        ("\u200dAna\u200c", "Ana"),
        ("line\r\nnext\rthird\u2028fourth\u2029", "line\nnext\nthird\nfourth\n"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
    ],
)
def test_strip_controls_drops_what_must_not_travel(typed, stored):
    assert strip_controls(typed) == stored


@pytest.mark.parametrize(
    "name",
    [
        "\u0645\u06cc\u200c\u0631\u0632\u0627",  # Persian, ZWNJ inside the word
        "\u0915\u094d\u200d\u0937",  # Devanagari, ZWJ inside a conjunct
        "\u200fDavid \u05d3\u05d5\u05d3\u200e",  # RLM / LRM around a mixed name
        "\u0627\u061c1",  # ALM
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # an emoji family sequence
        "Chlo\u00e9 \u6771\u4eac [bold]x",
        "soft\u00adhyphen",
    ],
)
def test_names_that_need_marks_and_joiners_keep_them(name):
    assert strip_controls(name) == name
    assert visible(name) == name
    assert json.loads(json_safe(json.dumps(name, ensure_ascii=False))) == name


@given(st.text())
def test_stripped_text_holds_nothing_that_must_not_travel(text):
    cleaned = strip_controls(text)
    assert not _NEVER_STORED.search(cleaned)
    assert not re.search("(^|[\x00-\x7f])[\u200c\u200d]|[\u200c\u200d]($|[\x00-\x7f])", cleaned)
    assert strip_controls(cleaned) == cleaned  # cleaning twice changes nothing
    assert may_need_stripping(text) or cleaned == text


@given(st.text())
def test_visible_and_json_safe_leave_nothing_raw(text):
    for shown in (visible(text), json_safe(json.dumps(text, ensure_ascii=False))):
        assert not _NEVER_STORED.search(shown)
