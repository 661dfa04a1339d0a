"""Validation and normalisation of contact details: emails and phones (amounts: text.numbers).

email-validator and phonenumbers are imported on first use, not at import time: together they
cost ~0.1 s of start-up that ``list`` and ``--help`` must not pay.
Each function raises ``ValueError`` with a reason that never repeats the value (reasons end up
in error lines and logs; see ``leadcli.errors``).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache


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


def normalise_phone(raw: str, region: str = "US", *, valid_only: bool = True) -> str:
    """E.164 (``+14155550100``); numbers without a country code are read in ``region``.

    A number that is not valid there (``06 12 34 56 78`` read as American) is refused rather
    than written as ``+10612345678``, an E.164 that names another country's nonexistent
    line. ``valid_only=False`` takes any possible number: for finding what an older version
    stored, never for storing."""
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
    if valid_only and not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number for its country (give it with +code)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1 << 16)
def phone_cell(cell: str, region: str) -> str | None:
    """A trimmed import cell's E.164 in ``region``, or None when it is not a valid number
    there (the import keeps it as written). Files repeat numbers (switchboards, placeholders):
    cached by (cell, region)."""
    try:
        return normalise_phone(cell, region)
    except ValueError:
        return None


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


_KINDS = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


def _valid_pattern(regions: list[str]) -> re.Pattern[str]:
    """The national numbers phonenumbers calls valid in any of ``regions``, as one pattern
    made from its own metadata: a number fitting a region's general pattern and one of its
    number types (``is_valid_number``'s test)."""
    import phonenumbers

    alternatives = []
    for region in regions:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        # dict.fromkeys: a region's mobile and fixed-line patterns are often one pattern
        types = list(
            dict.fromkeys(
                f"(?:{desc.national_number_pattern})"
                for desc in (getattr(meta, kind) for kind in _KINDS)
                if desc is not None and desc.national_number_pattern
            )
        )
        if types:
            general = meta.general_desc.national_number_pattern
            alternatives.append(rf"(?=(?:{general})\Z)(?:{'|'.join(types)})\Z")
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


@cache
def _nanp_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Valid ten-digit numbers in the US or Canada (almost every valid one a North American
    file holds); the area codes of the other +1 regions (Jamaica's 876, Puerto Rico's 787
    ..., their metadata's leading digits, which is how phonenumbers tells them apart); and
    the numbers valid there. A North American shape valid in none is valid nowhere: +1 is
    theirs alone."""
    import phonenumbers

    others = [r for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1] if r not in ("US", "CA")]
    leading = [phonenumbers.PhoneMetadata.metadata_for_region(r).leading_digits for r in others]
    return (
        _valid_pattern(["US", "CA"]),
        re.compile("|".join(f"(?:{d})" for d in leading if d)),
        _valid_pattern(others),
    )


def fast_phones(cells: list[str], region: str) -> list[str | bool | None]:
    """For each trimmed cell, in a North American region: E.164 for a plain North American
    number that is valid, ``False`` for one of that shape that is valid in no +1 region (kept
    as written); else None (the library judges it; an empty cell too). phonenumbers' own
    patterns decide, so the library and this path agree (a test checks it)."""
    if region not in ("US", "CA"):
        return [None] * len(cells)
    match = _NANP.fullmatch
    main, leading, others = _nanp_patterns()
    valid, other_region, other_valid = main.match, leading.match, others.match
    out: list[str | bool | None] = []
    append = out.append
    for cell in cells:
        m = match(cell)
        if m is None:
            append(None)
            continue
        digits = m[1] + m[2] + m[3]
        if valid(digits) or (other_region(digits) and other_valid(digits)):
            append("+1" + digits)
        else:
            append(False)
    return out
