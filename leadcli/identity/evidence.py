"""Evidence that two records are one person, and values that are no evidence at all.

The contract: two rows or leads are one person only on evidence. This module is that rule,
written once, over plain values (dicts with the lead's field names), so that import, `dedupe`,
`merge`, `add` and the capture to come all decide alike:

- the same personal e-mail is the same person;
- a role or shared address (``info@``, ``sales@`` ...; ``identity.role_addresses``) only
  together with compatible names;
- the same external id *from the same system* is the same person;
- a shared phone only together with compatible names, and never against two different
  personal e-mails (two people at one switchboard);
- placeholder values (``0000000000``, ``test@test.com``, ``n/a`` ...;
  ``identity.placeholders``) are missing values, never evidence.

What is not evidence but looks like it (a shared phone or role address with other names, an
external id from another system) makes a *possible* duplicate: both records are kept and the
pair is left for `dedupe`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from leadcli.storage.literals import sql_text

#: Local parts of addresses that a team, not a person, reads (``identity.role_addresses``).
ROLE_ADDRESSES: tuple[str, ...] = (
    "admin",
    "billing",
    "contact",
    "enquiries",
    "hello",
    "help",
    "hr",
    "info",
    "inquiries",
    "jobs",
    "mail",
    "marketing",
    "no-reply",
    "noreply",
    "office",
    "reception",
    "sales",
    "service",
    "support",
    "team",
)

#: Values people type into forms when they have none (``identity.placeholders``). Compared
#: without case and spacing; phones by their digits (see ``is_placeholder``).
PLACEHOLDERS: tuple[str, ...] = (
    "-",
    "--",
    ".",
    "?",
    "n/a",
    "na",
    "none",
    "null",
    "nil",
    "unknown",
    "select",
    "--select--",
    "tbd",
    "xxx",
    "nan",
    "#n/a",
    "not available",
    "not applicable",
    "not provided",
    "0000000000",
    "1234567890",
    "555-555-5555",
    "test@test.com",
    "test@example.com",
    "none@none.com",
    "noemail@noemail.com",
    "no@email.com",
    "email@email.com",
    "a@a.com",
)

#: The config keys that replace the lists above.
ROLE_ADDRESSES_KEY = "identity.role_addresses"
PLACEHOLDERS_KEY = "identity.placeholders"

#: Jaro-Winkler similarity (0-1) at or above which two first names are one spelt two ways
#: (Jon / John 0.93, Katherine / Katharine 0.96, Eric / Erik 0.88; not Alice / Alina 0.81).
FIRST_NAME_SIMILARITY = 0.88

#: Verdicts of ``judge``.
SAME = "same"
POSSIBLE = "possible"
DIFFERENT = "different"


@dataclass(frozen=True)
class Lists:
    """The role addresses and placeholders in force (the shipped ones or the config's)."""

    role_addresses: frozenset[str]
    placeholders: frozenset[str]
    #: Placeholder phones by their digits (a form's ``555-555-5555`` is ``+15555555555``).
    placeholder_digits: frozenset[str]

    @classmethod
    def of(
        cls,
        role_addresses: Iterable[str] = ROLE_ADDRESSES,
        placeholders: Iterable[str] = PLACEHOLDERS,
    ) -> Lists:
        roles = frozenset(r.strip().lower().rstrip("@") for r in role_addresses if r.strip())
        words = frozenset(_squash(p) for p in placeholders if p.strip())
        digits = frozenset(_digits(p) for p in words if _PHONE_LIKE.fullmatch(p))
        return cls(roles, words, digits)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Lists:
        """The lists a config holds (``identity.role_addresses``, ``identity.placeholders``),
        the shipped ones where it holds none."""
        if config is None:
            return DEFAULT_LISTS
        try:
            roles = config[ROLE_ADDRESSES_KEY]
        except KeyError:
            roles = ROLE_ADDRESSES
        try:
            holders = config[PLACEHOLDERS_KEY]
        except KeyError:
            holders = PLACEHOLDERS
        return cls.of(_words(roles), _words(holders))


#: A placeholder written like a phone number: compared with phones by its digits.
_PHONE_LIKE = re.compile(r"[+(]?\d[\d\s().-]{5,}\d")


def _words(value: str | Iterable[str]) -> Iterable[str]:
    """A config value as words: a comma-separated text (as defaults are shown) or a list."""
    return value.split(",") if isinstance(value, str) else value


def _squash(text: str) -> str:
    return " ".join(text.strip().lower().split())


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


DEFAULT_LISTS = Lists.of()


def is_placeholder(field: str, value: Any, lists: Lists = DEFAULT_LISTS) -> bool:
    """Whether ``value`` of ``field`` stands for "nothing" (so it is a missing value).

    Any field: a listed word (``n/a``, ``-``, ``unknown`` ...), without case or spacing.
    E-mail: a listed address. Phone: a listed number by its digits (with or without the
    country code: ``+1 000 000 0000``), or one digit repeated (``1111111111``).
    """
    if value is None:
        return False
    text = _squash(str(value))
    if not text:
        return False
    if text in lists.placeholders:
        return True
    if field == "phone":
        digits = _digits(text)
        if not digits:
            return False
        if len(set(digits)) == 1 and len(digits) >= 5:
            return True
        return any(
            digits == d or (digits.endswith(d) and len(digits) - len(d) <= 3)
            for d in lists.placeholder_digits
        )
    return False


def is_role_address(email: str | None, lists: Lists = DEFAULT_LISTS) -> bool:
    """Whether ``email`` is a team's address (``info@``, ``sales+eu@`` ...), not a person's."""
    if not email or "@" not in email:
        return False
    local = email.split("@", 1)[0].strip().lower()
    return local in lists.role_addresses or local.split("+", 1)[0] in lists.role_addresses


def is_personal_email(email: str | None, lists: Lists = DEFAULT_LISTS) -> bool:
    """An address that names one person: present, not a placeholder, not a role address."""
    if not email:
        return False
    return not is_placeholder("email", email, lists) and not is_role_address(email, lists)


_PUNCTUATION = re.compile(r"[^\w\s]")


@lru_cache(maxsize=65536)
def normalise_name(name: str | None) -> str:
    """A name as a key: no case, accents, punctuation or extra spacing
    (``"  O'Brien-Núñez "`` → ``"obrien nunez"``; hyphens and dots part words)."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("-", " ").replace(".", " ")
    return " ".join(_PUNCTUATION.sub("", text).split())


def _first_names_agree(a: str, b: str) -> bool:
    if a == b:
        return True
    # An initial of the other: "J" / "John", "J R" / "John Robert".
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    from rapidfuzz.distance import JaroWinkler

    return JaroWinkler.similarity(a, b) >= FIRST_NAME_SIMILARITY


def compatible_names(
    first_a: str | None, last_a: str | None, first_b: str | None, last_b: str | None
) -> bool:
    """Whether two names can be one person's: the same last name (after
    ``normalise_name``), and first names equal, an initial of each other, or a close spelling
    (Jaro-Winkler ≥ ``FIRST_NAME_SIMILARITY``). Two records without any name, or where only
    one has a first name, are not compatible: a missing name is no evidence."""
    la, lb = normalise_name(last_a), normalise_name(last_b)
    fa, fb = normalise_name(first_a), normalise_name(first_b)
    if la != lb:
        return False
    if not fa or not fb:
        # "Smith" and "Smith": the same last name alone is not enough, nor a lone first name.
        return False
    return _first_names_agree(fa, fb)


@dataclass(frozen=True)
class Verdict:
    """What the evidence says about two records, and on which field (``email``, ``phone``,
    ``external_id``; ``None`` when nothing is shared)."""

    outcome: str  # SAME, POSSIBLE or DIFFERENT
    reason: str | None = None

    @property
    def same(self) -> bool:
        return self.outcome == SAME


def _value(record: Mapping[str, Any], field: str, lists: Lists) -> Any:
    value = record.get(field)
    if value in (None, "") or is_placeholder(field, value, lists):
        return None
    if field in ("email", "external_id"):
        return str(value).strip().lower() if field == "email" else str(value).strip()
    return value


def judge(a: Mapping[str, Any], b: Mapping[str, Any], lists: Lists = DEFAULT_LISTS) -> Verdict:
    """The evidence rule: are records ``a`` and ``b`` (dicts with ``first_name``,
    ``last_name``, ``email``, ``phone``, ``external_id``, ``external_system``) one person?

    ``SAME`` on: the same personal e-mail; the same role address with compatible names; the
    same external id from the same system (an id from no named system matches only another
    from no named system); the same phone with compatible names, unless each has a personal
    e-mail and they differ. ``POSSIBLE`` where a key is shared without that (a switchboard
    with other names, a role address, an id from another system). ``DIFFERENT`` otherwise.
    Placeholders count as missing. Phones are compared as stored (E.164 where parseable).
    """
    email_a, email_b = _value(a, "email", lists), _value(b, "email", lists)
    names = None  # computed once, when needed

    def names_agree() -> bool:
        nonlocal names
        if names is None:
            names = compatible_names(
                a.get("first_name"), a.get("last_name"), b.get("first_name"), b.get("last_name")
            )
        return names

    possible: str | None = None
    if email_a and email_a == email_b:
        if not is_role_address(email_a, lists) or names_agree():
            return Verdict(SAME, "email")
        possible = "email"
    id_a, id_b = _value(a, "external_id", lists), _value(b, "external_id", lists)
    if id_a and id_a == id_b:
        if (a.get("external_system") or None) == (b.get("external_system") or None):
            return Verdict(SAME, "external_id")
        possible = possible or "external_id"
    phone_a, phone_b = _value(a, "phone", lists), _value(b, "phone", lists)
    if phone_a and phone_a == phone_b:
        two_people = (
            is_personal_email(email_a, lists)
            and is_personal_email(email_b, lists)
            and email_a != email_b
        )
        if not two_people and names_agree():
            return Verdict(SAME, "phone")
        possible = possible or "phone"
    return Verdict(POSSIBLE, possible) if possible else Verdict(DIFFERENT)


def role_address_sql(column: str, lists: Lists = DEFAULT_LISTS) -> str:
    """SQL true when ``column`` (a stored, lower-cased e-mail) is a role address: the same
    test as ``is_role_address``, for set-based paths. The list is written in as literals
    (quotes doubled), so the statement needs no parameters."""
    if not lists.role_addresses:
        return "0"
    local = f"substr({column}, 1, instr({column}, '@') - 1)"
    plus = (
        f"CASE WHEN instr({local}, '+') THEN substr({local}, 1, instr({local}, '+') - 1) "
        f"ELSE {local} END"
    )
    items = ", ".join(sql_text(r) for r in sorted(lists.role_addresses))
    return f"({column} IS NOT NULL AND ({local} IN ({items}) OR {plus} IN ({items})))"
