"""vCard files (``.vcf``) as rows for import: one row per card, vCard 2.1, 3.0 and 4.0.

``vobject`` parses each card: folded lines, escapes, quoted-printable and charset parameters
(what phones export as 2.1) are its job. Cards are parsed one at a time, so a card that cannot
be read becomes a rejected row (with the line it starts on) and the others still import. The
columns carry names the import already maps (``Email``, ``Postal Code`` ...); further e-mails
and phones (as JSON arrays) go to ``other_emails`` / ``other_phones``, a department or a
birthday to custom fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

#: The columns of a vCard import, in order.
HEADER = [
    "First Name",
    "Last Name",
    "Full Name",
    "Email",
    "Other Emails",
    "Phone",
    "Other Phones",
    "Company",
    "Department",
    "Title",
    "Website",
    "Street",
    "City",
    "Region",
    "Postal Code",
    "Country",
    "Notes",
    "Tags",
    "Birthday",
]

_BEGIN = re.compile(r"^BEGIN:VCARD\s*$", re.IGNORECASE)
_END = re.compile(r"^END:VCARD\s*$", re.IGNORECASE)


def looks_like_vcard(text_start: str) -> bool:
    return text_start.lstrip("\ufeff \t\r\n")[:11].upper() == "BEGIN:VCARD"


def _text(value: Any) -> str:
    """A property value as one line of text (vobject gives lists for multi-part values)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value if _text(v))
    return str(value).strip()


def _uri(value: str, scheme: str) -> str:
    return value[len(scheme) :] if value.lower().startswith(scheme) else value


def _preferred(lines: list[Any]) -> list[Any]:
    """Lines with a PREF type (3.0) or PREF=1 (4.0) first; otherwise file order."""

    def pref(line: Any) -> int:
        types = ",".join(line.params.get("TYPE", [])).lower().split(",")
        return 0 if "pref" in types or line.params.get("PREF") else 1

    return sorted(lines, key=pref)


#: Single-text properties read from their raw lines (see ``_raw_lines``).
_RAW = ("fn", "note", "title", "url", "email", "tel", "bday")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unescape(value: str) -> str:
    r"""RFC 2426/6350 text escapes: ``\n`` a newline, ``\,`` ``\;`` ``\\`` the character."""
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _raw_lines(text: str) -> dict[str, list[Any]]:
    """The card's text properties as content lines whose value is not yet unescaped.

    vobject's own decoding of a text value keeps only what precedes the first unescaped
    comma, and address books (Google's among them) write commas in notes unescaped: so these
    are read from vobject's content lines (unfolded, quoted-printable and charset decoded)
    and unescaped here, where a bare comma is just a comma.
    """
    import io

    from vobject import base

    lines: dict[str, list[Any]] = {}
    for logical, number in base.getLogicalLines(io.StringIO(text), True):
        line = base.textLineToContentLine(logical, number)
        name = line.name.lower()
        if name in _RAW and isinstance(line.value, str):
            line.value = _unescape(line.value)
            lines.setdefault(name, []).append(line)
    return lines


def card_row(card: Any, raw: dict[str, list[Any]]) -> list[str]:
    """One parsed card (structured values) and its raw text lines as cells in ``HEADER``
    order."""
    contents = {**card.contents, **raw}
    first = last = ""
    if "n" in contents:
        name = contents["n"][0].value
        first = _text(getattr(name, "given", ""))
        last = _text(getattr(name, "family", ""))
    full = _text(contents["fn"][0].value) if "fn" in contents else ""
    emails = [_uri(_text(line.value), "mailto:") for line in _preferred(contents.get("email", []))]
    phones = [_uri(_text(line.value), "tel:") for line in _preferred(contents.get("tel", []))]
    emails = [e for e in emails if e]
    phones = [p for p in phones if p]
    company = department = ""
    if "org" in contents:
        org = contents["org"][0].value
        parts = [_text(p) for p in (org if isinstance(org, list) else [org])]
        company = parts[0] if parts else ""
        department = " ".join(p for p in parts[1:] if p)
    street = city = region = code = country = ""
    if "adr" in contents:
        adr = _preferred(contents["adr"])[0].value
        street = "\n".join(
            p for p in (_text(getattr(adr, f, "")) for f in ("box", "extended", "street")) if p
        )
        city = _text(getattr(adr, "city", ""))
        region = _text(getattr(adr, "region", ""))
        code = _text(getattr(adr, "code", ""))
        country = _text(getattr(adr, "country", ""))
    tags: list[str] = []
    for line in contents.get("categories", []):
        value = line.value
        tags.extend(_text(v) for v in (value if isinstance(value, list) else [value]))
    tags = [t for t in tags if t]

    def one(key: str) -> str:
        return _text(contents[key][0].value) if key in contents else ""

    return [
        first,
        last,
        full if not (first or last) else "",
        emails[0] if emails else "",
        json.dumps(emails[1:], ensure_ascii=False) if emails[1:] else "",
        phones[0] if phones else "",
        json.dumps(phones[1:], ensure_ascii=False) if phones[1:] else "",
        company,
        department,
        one("title"),
        one("url"),
        street,
        city,
        region,
        code,
        country,
        "\n".join(_text(line.value) for line in contents.get("note", [])),
        # A JSON array, so a category holding "," or ";" stays one tag (see rows.split_tags).
        json.dumps(tags, ensure_ascii=False) if tags else "",
        one("bday"),
    ]


def _cards(lines: Iterator[str]) -> Iterator[tuple[int, str]]:
    """Each card's text and the line it starts on; text outside cards is skipped."""
    start, block = 0, []
    for number, line in enumerate(lines, start=1):
        if not block:
            if _BEGIN.match(line):
                start, block = number, [line]
            continue
        block.append(line)
        if _END.match(line):
            yield start, "".join(block)
            block = []
    if block:  # no END:VCARD: still offered, vobject says what is wrong
        yield start, "".join(block)


def vcard_rows(lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` for each card; a card that cannot be read is a row to reject."""
    import vobject

    for line, text in _cards(lines):
        try:
            card = vobject.readOne(text, allowQP=True)
            if card.name != "VCARD":
                raise ValueError("not a vCard")
            cells = card_row(card, _raw_lines(text))
        except Exception as exc:  # vobject raises several kinds: the card is rejected
            reason = str(exc).split("\n", 1)[0][:80] or exc.__class__.__name__
            yield line, [f"\x00unreadable: not a readable vCard ({reason})"]
            continue
        yield line, cells
