"""Validation and normalisation of contact details: emails, phones, amounts.

email-validator and phonenumbers are imported on first use, not at import time: together they
cost ~0.1 s of start-up that ``list`` and ``--help`` must not pay.
Each function raises ``ValueError`` with a reason that never repeats the value (reasons end up
in error lines and logs; see ``leadcli.errors``).
"""

from __future__ import annotations

import re
from functools import lru_cache


def normalise_email(raw: str) -> str:
    """Trimmed, lower-cased and syntax-checked (no DNS look-up)."""
    from email_validator import EmailNotValidError, validate_email

    text = raw.strip()
    if not text:
        raise ValueError("is empty")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("is not a valid email address") from None
    return result.normalized.lower()


@lru_cache(maxsize=8)
def _check_region(region: str) -> str:
    import phonenumbers

    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r}")
    return region


def normalise_phone(raw: str, region: str = "US") -> str:
    """E.164 (``+14155550100``); numbers without a country code are read in ``region``."""
    import phonenumbers

    text = raw.strip()
    if not text:
        raise ValueError("is empty")
    try:
        number = phonenumbers.parse(text, _check_region(region))
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("is not a possible phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_amount(raw: str) -> float:
    """A money amount as people write it: ``12000``, ``12,000``, ``$12,000.50``,
    ``12.000,50 €``. The rule is ``text.numbers``' (one place); kept here for its callers."""
    from leadcli.text.numbers import parse_amount as read

    return read(raw)


# Fast paths for bulk import: the shapes almost every real address and number has, checked
# with a regular expression (~0.5 µs) instead of the libraries (~20-40 µs). Anything else, and
# anything the fast path is unsure of, goes to the library, which stays the judge. They take a
# whole column of trimmed cells: a million-row import calls them once per chunk, not per cell.
_FAST_EMAIL = re.compile(
    r"(?=.{1,254}\Z)(?=[^@]{1,64}@)"  # the length limits: the address, its local part
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?!(?:arpa|invalid|local|localhost|onion|test|internal|home|lan|corp|example)$)"
    r"[A-Za-z]{2,24}"
)


def fast_emails(cells: list[str]) -> list[str | None]:
    """Each trimmed cell's normalised address when it has a common, certainly valid shape;
    else None (for an empty cell too)."""
    match = _FAST_EMAIL.fullmatch
    return [cell.lower() if match(cell) else None for cell in cells]


_NANP = re.compile(r"(?:\+?1[ .-]?)?\(?([2-9]\d\d)\)?[ .-]?([2-9]\d\d)[ .-]?(\d{4})")


def fast_phones(cells: list[str], region: str) -> list[str | None]:
    """E.164 for each trimmed cell holding a plain North American number, in a North American
    region; else None (for an empty cell too)."""
    if region not in ("US", "CA"):
        return [None] * len(cells)
    match = _NANP.fullmatch
    return [f"+1{m[1]}{m[2]}{m[3]}" if (m := match(cell)) else None for cell in cells]
