"""Untrusted text: never terminal control, never a spreadsheet formula."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcli.text.safe_text import json_safe, neutralise_formula, restore_formula, visible


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
