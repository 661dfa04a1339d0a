"""Making untrusted text safe to show and to open in a spreadsheet.

Lead data comes from web forms and other people's CSV files. It must never drive the terminal
(escape sequences can clear the screen, fake output, set the window title or worse) and never
run as a formula when a CSV export is opened in a spreadsheet (CSV injection).
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------- which characters, and why
# The decision, written once. Three sets:
#
# DROPPED on input (``strip_controls``: import, add, edit, tags; capture calls it too) and on
# output to CSV, TSV, .ics and vCard, where no escape exists for them:
#   - C0 controls other than tab and newline (ESC starts terminal sequences, BEL ends OSC 8
#     links and window titles, NUL truncates C strings), DEL, and C1 controls (U+0080-U+009F:
#     U+009B is a CSI on some terminals). A carriage return (CR LF or a lone CR) and the
#     Unicode line and paragraph separators U+2028/U+2029 become a newline: they are line ends
#     people typed, and a newline is the one line end every program reads alike.
#   - Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): the
#     "Trojan Source" characters, which reorder everything after them up to the end of the line,
#     other columns included. Typed names never need them.
#   - Invisible format characters that have no place in a name or an address and hide text or
#     make two equal-looking names differ: zero-width space U+200B, word joiner and invisible
#     operators U+2060-U+2064, the deprecated format characters U+206A-U+206F, zero-width
#     no-break space / byte-order mark U+FEFF, interlinear annotation U+FFF9-U+FFFB and the
#     tag characters U+E0000-U+E007F (invisible ASCII, used to smuggle text).
#   - Zero-width joiner and non-joiner (U+200D, U+200C) *outside a word*: next to ASCII,
#     whitespace, another joiner, or at either end. Between two other non-ASCII characters
#     they are kept: Persian, Arabic and Indic names need them (the ZWNJ in Persian
#     "\u0645\u06cc\u200c\u0631"),
#     and so do emoji sequences.
# KEPT everywhere: tab and newline (notes have lines), the bidi *marks* LRM U+200E, RLM U+200F
#   and ALM U+061C (a mixed right-to-left name needs them to display in the right order; a
#   mark has no more power over the line than a right-to-left letter, which data may always
#   hold), joiners inside words, soft hyphens and variation selectors.
# ESCAPED where people read (tables, messages, HTML/SVG: ``visible``) and in JSON (``json_safe``,
#   as ``\uXXXX``, which every JSON reader decodes to the same value): everything dropped
#   above, plus tab, newline and carriage return in tables and messages. Data stored before
#   leadcli cleaned its input can still hold any of them, so output never relies on input.
_DROPPED = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0000-\U000e007f"
)
_JOINERS = "\u200c\u200d"
# A joiner is out of a word when the character before it, or after it, is not a non-ASCII,
# non-space, non-joiner character that stays (the start and the end of the text count as
# outside): judged as if the dropped characters were gone, so cleaning twice changes nothing.
_WORDLY = f"[^\x00-\x7f\\s{_JOINERS}{_DROPPED}\u2028\u2029]"
_LONE_JOINER = f"(?<!{_WORDLY})[{_JOINERS}]|[{_JOINERS}](?!{_WORDLY})"
# The fast test: any character that might have to go. Most text has none, and a single
# character class is one scan in C (the import runs it once per column of a chunk).
_SUSPECT = re.compile(f"[{_DROPPED}{_JOINERS}\u2028\u2029]")
_INPUT = re.compile(f"\r\n?|[\u2028\u2029]|[{_DROPPED}]|{_LONE_JOINER}")
_SHOWN = re.compile(f"[{_DROPPED}\t\n\r\u2028\u2029]|{_LONE_JOINER}")
_JSON_UNSAFE = re.compile(f"[{_DROPPED}\u2028\u2029]|{_LONE_JOINER}")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _dropped(match: re.Match[str]) -> str:
    return "\n" if match.group() in ("\r", "\r\n", "\u2028", "\u2029") else ""


def strip_controls(text: str) -> str:
    """``text`` without the characters that must never travel (see above): the one input
    cleaner, and what CSV, TSV, .ics and vCard output do to data stored before it existed.

    Dropping, rather than writing ``\\x1b``, keeps those formats' round trip: exporting and
    importing back gives the value an import of the original would have stored.
    """
    # Every character dropped is a control, format or separator character, which
    # isprintable() refuses: a C loop that clears almost every value without the regex
    # (CSV export calls this once a cell).
    if text.isprintable() or _SUSPECT.search(text) is None:
        return text
    return _INPUT.sub(_dropped, text)


# The first UTF-8 byte of every character ``_SUSPECT`` finds: ASCII controls (but tab and
# newline), and the lead bytes of U+0080-U+00BF (C1), U+2000-U+2FFF (zero-width, bidi,
# separators), U+F000-U+FFFF (BOM, annotation) and U+C0000-U+FFFFF (tags).
_SUSPECT_BYTES = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, 0xC2, 0xE2, 0xEF, 0xF3])


def may_need_stripping(text: str) -> bool:
    """Whether ``strip_controls`` could change ``text``, for a bulk caller testing a whole
    column joined with newlines before looking at its cells.

    A regex scan costs about 10 ns a character, a tenth of a second per 200,000 rows of a
    typical file; deleting the suspect lead bytes from the UTF-8 form runs in C at memory
    speed, and only a column where one occurs (a curly quote or a non-breaking space does)
    pays for the exact scan.
    """
    data = text.encode("utf-8", "surrogatepass")
    if len(data.translate(None, _SUSPECT_BYTES)) == len(data):
        return False
    return _SUSPECT.search(text) is not None


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str) -> str:
    """``text`` with every character that must not reach a terminal raw shown as an escape
    (``\\x1b``, ``\\n``, ``\\u202e``): for tables, messages and HTML/SVG, read by people."""
    return _SHOWN.sub(_escape, text)


def json_safe(encoded: str) -> str:
    """Escape, inside already-encoded JSON, what ``json.dumps`` leaves raw.

    ``json.dumps(..., ensure_ascii=False)`` escapes C0 controls but not DEL, C1 (``\\x9b`` is
    a CSI on some terminals), bidi overrides or invisible characters. Those can only occur
    inside JSON strings, where ``\\uXXXX`` is the same character to every JSON reader, so the
    data is unchanged.
    """
    return _JSON_UNSAFE.sub(_json_escape, encoded)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells a character past the BMP as a UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


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
