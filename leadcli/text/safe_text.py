"""Making untrusted text safe to show and to open in a spreadsheet.

Lead data comes from web forms and other people's CSV files. It must never drive the terminal
(escape sequences can clear the screen, fake output, set the window title or worse) and never
run as a formula when a CSV export is opened in a spreadsheet (CSV injection).
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text
# (bidi overrides and isolates: the "Trojan Source" characters; zero-width joiners are left,
# they are legitimate in many scripts).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\n``)."""
    return _UNSAFE.sub(_escape, text)


def has_unsafe(text: str) -> bool:
    return _UNSAFE.search(text) is not None


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def json_safe(encoded: str) -> str:
    """Escape, inside already-encoded JSON, the controls ``json.dumps`` leaves raw.

    ``json.dumps(..., ensure_ascii=False)`` escapes C0 controls but not DEL, C1 (``\\x9b`` is
    a CSI on some terminals) or bidi overrides. Those can only occur inside JSON strings, where
    ``\\uXXXX`` is the same character to every JSON reader, so the data is unchanged.
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


# Spreadsheets run a cell as a formula when it starts with one of these (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# ...but a number or a phone number is data people need intact: -42.5, 1,200, +14155550100,
# +1 415 555 0100. A phone number has at least seven digits; "+1-2" or "-1-2" is too short to
# be one, and a spreadsheet would compute it.
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:[.,][0-9]+)*|[.][0-9]+)(?:[eE][+-]?[0-9]+)?$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]*$")
_PHONE_MIN_DIGITS = 7
FORMULA_GUARD = "'"


def _number_like(body: str) -> bool:
    if _NUMBER.match(body):
        return True
    return bool(_PHONE.match(body)) and sum(c.isdigit() for c in body) >= _PHONE_MIN_DIGITS


def _needs_guard(cell: str) -> bool:
    # A cell of guard quotes in front of a formula needs one more quote too, or importing it
    # back would strip a quote the user typed: this keeps neutralise/restore a bijection.
    body = cell.lstrip(FORMULA_GUARD)
    return body.startswith(_FORMULA_START) and not _number_like(body)


def neutralise_formula(cell: str) -> str:
    """Prefix a formula-like cell with ``'`` so spreadsheets show it as text."""
    return FORMULA_GUARD + cell if _needs_guard(cell) else cell


def restore_formula(cell: str) -> str:
    """Undo ``neutralise_formula`` exactly (for importing leadcli's own CSV back)."""
    if cell.startswith(FORMULA_GUARD) and _needs_guard(cell[1:]):
        return cell[1:]
    return cell


def printable_path(name: str) -> str:
    """A path as text that can be stored and printed. A file name that is not valid UTF-8
    reaches Python with its bad bytes as surrogates (PEP 383), which SQLite, JSON output and
    a UTF-8 terminal all refuse; each such byte is written ``\\xNN`` instead."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
