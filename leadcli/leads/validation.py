"""The field rules, once: what value each lead field may hold once it is parsed.

Every writer applies them: ``add`` / ``edit`` and capture (through
``records.normalise_fields``), ``import`` (a row breaking one is a reject with this reason,
never a stored value), ``advance --value`` and ``merge`` (the values a merge writes). So a
value ``add`` refuses can never come in by another door: an imported ``Amount -5`` once
lowered the pipeline total that ``add --value -1`` guarded.

Parsing (what ``€3.400`` or ``1,500.00`` means) is not here: it is ``text.contacts``' (and
the import's column reading); these rules judge the number or text that parsing made.
Reasons never repeat the value (they end up in error lines and rejects files).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadcli.errors import InvalidValue


@dataclass(frozen=True)
class Rule:
    """Bounds of a number, or the longest text, a field takes."""

    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None


#: The largest deal value: a trillion, with cents, is 14 significant digits, within what a
#: float (the column's type, and what reports sum) keeps exactly; anything larger is a typo
#: or a unit mix-up (cents read as units, a phone number in the amount column).
MAX_VALUE = 1e12
#: Short text fields: far above any CRM's limit (Salesforce's longest name field is 255
#: characters), so no real export is refused, while a cell that swallowed a whole record
#: (a missing quote in a CSV file) is.
_SHORT = 1_000

RULES: dict[str, Rule] = {
    "value": Rule(minimum=0, maximum=MAX_VALUE),
    **{
        name: Rule(max_length=_SHORT)
        for name in (
            "first_name",
            "last_name",
            "company",
            "title",
            "city",
            "region",
            "postal_code",
            "country",
            "source",
            "owner",
        )
    },
    "street": Rule(max_length=2_000),
    # Browsers and servers stop at about 2,000 characters of URL (the sitemaps protocol says
    # 2,048).
    "website": Rule(max_length=2_048),
    # Other CRMs' ids are 18 characters (Salesforce) to 36 (a UUID); 255 is every system's.
    "external_id": Rule(max_length=255),
    # Notes of 200 KB are normal (long e-mail threads pasted in); a megabyte is not a note.
    "notes": Rule(max_length=1_000_000),
}


def _number_text(limit: float) -> str:
    return f"{limit:,.0f}" if limit == int(limit) else f"{limit:,}"


def problem(name: str, value: Any) -> str | None:
    """Why ``value`` breaks the rule of field ``name`` (``"must not be negative"``), or None
    when it keeps it; None and fields without a rule always keep it."""
    rule = RULES.get(name)
    if rule is None or value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isnan(value) or math.isinf(value):
            return "must be a finite number"
        if rule.minimum is not None and value < rule.minimum:
            return (
                "must not be negative"
                if rule.minimum == 0
                else f"must be at least {_number_text(rule.minimum)}"
            )
        if rule.maximum is not None and value > rule.maximum:
            return f"must be at most {_number_text(rule.maximum)}"
    elif isinstance(value, str) and rule.max_length is not None and len(value) > rule.max_length:
        return f"must be at most {rule.max_length:,} characters"
    return None


def check(name: str, value: Any) -> None:
    """Raise ``InvalidValue`` naming the field when ``value`` breaks its rule."""
    reason = problem(name, value)
    if reason is not None:
        raise InvalidValue(name, reason)


def check_all(values: Mapping[str, Any]) -> None:
    """``check`` for every field of ``values``, in their order: the first broken rule."""
    for name, value in values.items():
        check(name, value)
