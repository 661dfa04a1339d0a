"""Leads as vCard contacts (``export --vcf``), for phone and desktop address books.

vCard 3.0 (RFC 2426): it is the version every address book reads, Apple Contacts, Google
Contacts, Outlook, Android and Thunderbird alike, while several still import 4.0 (RFC 6350)
poorly or not at all. ``vobject`` writes it: escaping (``,`` ``;`` ``\\``, newlines), line
folding at 75 octets and CRLF line ends are its job. It is imported only here, when a file is
asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

from leadcli.text.safe_text import strip_controls


def _clean(value: Any) -> Any:
    """vCard text allows no control characters (vobject writes them raw): dropped, as on
    input, also from data stored before leadcli cleaned its input."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _card(record: dict[str, Any]) -> Any:
    import vobject

    record = {key: _clean(value) for key, value in record.items()}

    card = vobject.vCard()
    first, last = record.get("first_name") or "", record.get("last_name") or ""
    card.add("n").value = vobject.vcard.Name(family=last, given=first)
    full = " ".join(p for p in (first, last) if p) or record.get("company") or ""
    if not full:
        full = record.get("email") or record.get("phone") or f"lead {record['id']}"
    card.add("fn").value = full
    if record.get("company"):
        card.add("org").value = [record["company"]]
    if record.get("title"):
        card.add("title").value = record["title"]
    emails = [record.get("email"), *(record.get("other_emails") or [])]
    for number, email in enumerate(e for e in emails if e):
        line = card.add("email")
        line.value = email
        line.type_paramlist = ["INTERNET", "PREF"] if number == 0 else ["INTERNET"]
    phones = [record.get("phone"), *(record.get("other_phones") or [])]
    for number, phone in enumerate(p for p in phones if p):
        line = card.add("tel")
        line.value = phone
        line.type_paramlist = ["VOICE", "PREF"] if number == 0 else ["VOICE"]
    if any(record.get(f) for f in ("street", "city", "region", "postal_code", "country")):
        card.add("adr").value = vobject.vcard.Address(
            street=record.get("street") or "",
            city=record.get("city") or "",
            region=record.get("region") or "",
            code=record.get("postal_code") or "",
            country=record.get("country") or "",
        )
    if record.get("website"):
        card.add("url").value = record["website"]
    if record.get("notes"):
        card.add("note").value = record["notes"]
    if record.get("tags"):
        card.add("categories").value = list(record["tags"])
    # A stable UID: re-importing the file into an address book updates, not duplicates.
    card.add("uid").value = f"lead-{record['id']}@leadcli"
    return card


def write_vcards(records: Iterable[dict[str, Any]], out: BinaryIO) -> int:
    """Write one vCard 3.0 per lead as UTF-8; return how many."""
    count = 0
    for record in records:
        text = _card(record).serialize()
        out.write(text.encode("utf-8"))
        count += 1
    return count
