"""Turning one row of cells into lead values, or into a reason to reject it.

Validation is the same as ``add``'s (email-validator, phonenumbers in the region), through
fast paths for the common shapes. Differences an import needs: an unparseable phone is kept
as written (the contract stores E.164 "where it can be parsed"), a bad amount or date is kept
as a custom field rather than losing the row, and cells that leadcli's own CSV export guarded
against spreadsheet formulas (a leading ``'``) are restored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from leadcli import dates
from leadcli.contacts import (
    fast_email,
    fast_phone,
    normalise_email,
    normalise_phone,
    parse_amount,
)
from leadcli.leads import TEXT_FIELDS
from leadcli.safe_text import FORMULA_GUARD, restore_formula
from leadcli.stages import normalise_stage

_TRUE = {"1", "true", "yes", "y", "t", "x"}
#: Fields whose cell is taken as written (trimmed).
_PLAIN_TEXT = frozenset(TEXT_FIELDS) - {"email", "phone"}
_IDENTITY = ("first_name", "last_name", "email", "phone", "company", "external_id")


class Reject(Exception):
    """This row is not imported; the message is its reason in the rejects file."""


@dataclass
class LeadRow:
    line: int
    values: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    custom: dict[str, str] = field(default_factory=dict)
    stage: str = "prospect"
    created_at: str | None = None
    closed_at: str | None = None


def split_name(full: str) -> tuple[str | None, str | None]:
    """``Ana Silva`` → (Ana, Silva); ``Silva, Ana`` → (Ana, Silva); ``Cher`` → (Cher, None)."""
    if "," in full:
        last, _, first = full.partition(",")
        return first.strip() or None, last.strip() or None
    parts = full.split()
    if len(parts) == 1:
        return parts[0], None
    return " ".join(parts[:-1]), parts[-1]


@lru_cache(maxsize=4096)
def _date(text: str) -> str | None:
    """A stored timestamp for a date cell. ISO 8601 (what CRMs export) is read directly;
    dateutil, ~100 times slower, reads the rest. Files repeat dates a lot: cached."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = dates.parse_datetime(text)
        except ValueError:
            return None
    return dates.to_store(parsed)


class RowConverter:
    def __init__(
        self,
        header: list[str],
        targets: list[str],
        *,
        region: str = "US",
        keep_invalid: bool = False,
        source: str | None = None,
        tags: list[str] | None = None,
    ) -> None:
        self.header = header
        self.targets = targets
        self.width = len(header)
        self.region = region
        self.keep_invalid = keep_invalid
        self.source = source
        self.tags = tags or []
        self.now = dates.now_text()
        # Excel leaves empty columns at the end of the header: they hold nothing.
        while self.width and not header[self.width - 1].strip():
            self.width -= 1
        self.plan = [(i, header[i], targets[i]) for i in range(self.width)]
        # A status column holds a handful of words over a million rows: read each once.
        self._stages: dict[str, str | None] = {}

    def convert(self, line: int, cells: list[str]) -> LeadRow:
        if len(cells) != self.width and any(c.strip() for c in cells[self.width :]):
            raise Reject(f"row has {len(cells)} fields, the header has {self.width}")
        if len(cells) < self.width:
            if len(cells) == 1 and cells[0].startswith("\x00unreadable"):
                raise Reject(cells[0][1:])
            raise Reject(f"row has {len(cells)} fields, the header has {self.width}")
        row = LeadRow(line, {})
        values = row.values
        full_name = None
        converted: bool | None = None
        status: tuple[str, str] | None = None
        for index, column, target in self.plan:
            text = cells[index].strip()
            if not text:
                continue
            if text[0] == FORMULA_GUARD:
                text = restore_formula(text)
            if target in _PLAIN_TEXT:
                values[target] = text
            elif target == "email":
                values["email"] = self._email(text, row)
            elif target == "phone":
                values["phone"] = fast_phone(text, self.region) or self._phone(text)
            elif target == "name":
                full_name = text
            elif target == "tags":
                row.tags.extend(t.strip() for t in text.replace(";", ",").split(","))
            elif target == "do_not_contact":
                if text.lower() in _TRUE:
                    values["do_not_contact"] = 1
            elif target == "value":
                try:
                    values["value"] = parse_amount(text)
                except ValueError:
                    row.custom[column] = text
            elif target == "stage":
                try:
                    stage = self._stages[text]
                except KeyError:
                    stage = self._stages[text] = normalise_stage(text)
                if stage is None:
                    row.custom[column] = text
                else:
                    row.stage, status = stage, (column, text)
            elif target == "converted":
                converted = text.lower() in _TRUE
            elif target in ("created_at", "closed_at"):
                stamp = _date(text)
                if stamp is None or stamp > self.now:
                    row.custom[column] = text
                else:
                    setattr(row, target, stamp)
            elif target == "custom":
                row.custom[column] = text
            # "ignore": dropped on purpose
        # A converted flag (Salesforce IsConverted, x-education Converted) is the system's
        # record and outranks a status column both ways; a status it contradicts is kept.
        if converted:
            row.stage = "customer"
        elif converted is False and row.stage == "customer":
            row.stage = "lead"
            if status:
                row.custom[status[0]] = status[1]
        if full_name and not (values.get("first_name") or values.get("last_name")):
            first, last = split_name(full_name)
            if first:
                values["first_name"] = first
            if last:
                values["last_name"] = last
        if not any(values.get(f) for f in _IDENTITY):
            raise Reject("no name, email, phone, company or external id")
        if self.source and not values.get("source"):
            values["source"] = self.source
        row.tags.extend(self.tags)
        return row

    def _email(self, text: str, row: LeadRow) -> str | None:
        fast = fast_email(text)
        if fast:
            return fast
        try:
            return normalise_email(text)
        except ValueError:
            if not self.keep_invalid:
                raise Reject("email: not a valid address") from None
            row.custom["invalid email"] = text
            row.tags.append("invalid-contact")
            return None

    def _phone(self, text: str) -> str:
        try:
            return normalise_phone(text, self.region)
        except ValueError:
            return text  # kept as written: a number we cannot parse is still a number


def custom_json(custom: dict[str, str]) -> str | None:
    return json.dumps(custom, ensure_ascii=False) if custom else None
