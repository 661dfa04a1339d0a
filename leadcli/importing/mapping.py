"""What each column of an import means: built-in synonyms for web forms and other CRMs'
exports (Salesforce, HubSpot, Pipedrive, Zoho), overridden by ``--map`` and ``--mapping``.

The words, in English, German, French, Spanish, Italian, Dutch and Portuguese, are data:
``synonyms.toml``. Matching ignores case, accents, spaces and punctuation ("E-mail",
"email", "EMAIL ADDRESS", "Téléphone" ...).
A column that maps to nothing is kept as a custom field under its own name.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from leadcli.errors import InvalidValue
from leadcli.leads.records import IDENTITY_FIELDS, RECORD_FIELDS, SETTABLE_FIELDS

#: Targets beyond the lead fields: a full name to split, the stage or an outcome, dates,
#: and "ignore" to drop a column.
SPECIAL_TARGETS = (
    "name",
    "stage",
    "converted",
    "created_at",
    "closed_at",
    "first_contacted_at",
    "lost_reason",
    "ignore",
    "custom",
    "other_emails",
    "other_phones",
    "external_system",
)
#: Where a second column for a contact field goes: kept on the lead, never dropped.
_FURTHER = {"email": "other_emails", "phone": "other_phones"}
TARGETS = (*SETTABLE_FIELDS, *SPECIAL_TARGETS)

#: The words of every language, as data: ``synonyms.toml`` (shipped with the package), one
#: table per target, one list per language, with the collisions it settles in its comments.
SYNONYMS_FILE = Path(__file__).with_name("synonyms.toml")


def normalise_header(name: str) -> str:
    """``"Person - Name"`` → ``personname``, ``"Téléphone"`` → ``telephone``: case, accents,
    spaces and punctuation do not matter."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in decomposed if not unicodedata.combining(c)))


@dataclass(frozen=True)
class Paired:
    """A word that means ``means`` beside a column for ``beside``, else ``alone``."""

    beside: str
    means: str
    alone: str


@cache
def _synonyms() -> tuple[dict[str, str], dict[str, Paired]]:
    """The header words, normalised, to their targets, and the paired words. Read once, on
    the first header guessed."""
    data = tomllib.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))
    paired = {
        normalise_header(word): Paired(p["beside"], p["means"], p["alone"])
        for word, p in data.pop("paired", {}).items()
    }
    lookup: dict[str, str] = {}
    for target, languages in data.items():
        for words in languages.values():
            for word in words:
                lookup[normalise_header(word)] = target
    return lookup, paired


# Pipedrive prefixes ("Person - Name", "Organization - Name", "Deal - Value"): strip and retry.
_PREFIXES = ("person", "organization", "organisation", "deal", "lead", "contact")
_PREFIX_TARGETS = {"organizationname": "company", "organisationname": "company"}


def guess(header: str, present: frozenset[str] | set[str] = frozenset()) -> str | None:
    """The target a header names, in any of the languages of ``synonyms.toml``; ``present``
    holds the targets of the file's other columns, which decide a paired word (French
    ``Nom`` beside ``Prénom`` is the last name, alone the whole name)."""
    lookup, paired = _synonyms()
    key = normalise_header(header)
    if key in _PREFIX_TARGETS:
        return _PREFIX_TARGETS[key]
    for candidate in (key, *(key[len(p) :] for p in _PREFIXES if key.startswith(p))):
        if candidate in lookup:
            return lookup[candidate]
        if candidate in paired:
            word = paired[candidate]
            return (
                word.means if word.beside in present and word.means not in present else word.alone
            )
    return None


def parse_overrides(pairs: list[str], mapping_file: Path | None) -> dict[str, str]:
    """``--mapping FILE.toml`` (a ``[map]`` table of column = field) then ``--map`` pairs."""
    overrides: dict[str, str] = {}
    if mapping_file is not None:
        try:
            data = tomllib.loads(mapping_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidValue("mapping", f"cannot read {mapping_file} ({exc})") from None
        except UnicodeDecodeError:
            raise InvalidValue("mapping", f"{mapping_file} is not UTF-8 text") from None
        table = data.get("map", data)
        if not isinstance(table, dict):
            raise InvalidValue(
                "mapping", f"{mapping_file}: [map] must be a table of column = field"
            )
        overrides.update({str(k): str(v) for k, v in table.items()})
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        if not sep or not column.strip():
            raise InvalidValue("map", "use COLUMN=FIELD, e.g. --map 'E-Mail 2=email'")
        overrides[column.strip()] = target.strip()
    for target in overrides.values():
        if target not in TARGETS:
            raise InvalidValue(
                "map", f"unknown field for a column; use one of {', '.join(TARGETS)}"
            )
    return overrides


def is_own_export(header: list[str]) -> bool:
    """Whether a file is leadcli's own export (``list -f csv``, ``export``), by its header."""
    return {"id", "external_id", "created_at", "updated_at"} <= set(header)


#: The columns of leadcli's own exports that import takes back under their own names.
_OWN_EXPORT_FIELDS = {
    *SETTABLE_FIELDS,
    *IDENTITY_FIELDS,
    "stage",
    "created_at",
    "closed_at",
    "first_contacted_at",
    "lost_reason",
}
#: Every other column of a lead record is not taken back: leadcli computes it (score,
#: contact times ...) or, for ``id``, it belongs to the database the file came from.
#: (``custom`` is the custom fields, spread into columns of their own.)
_OWN_EXPORT_ONLY = set(RECORD_FIELDS) - _OWN_EXPORT_FIELDS - {"custom"}


def build(header: list[str], overrides: dict[str, str]) -> list[str]:
    """The target of each column: a field, a special target, or ``custom``.

    The first column for a target wins; later ones are kept as custom fields, except
    opt-out columns, which all count (opted out of email or of calls: do not contact), and
    further e-mail and phone columns, whose values join ``other_emails`` / ``other_phones``.
    """
    by_key = {normalise_header(k): v for k, v in overrides.items()}
    own_export = is_own_export(header)
    # A rejects file leadcli wrote, fixed and imported again: its own trailing `line` and
    # `reason` columns say where the row was and why it failed, not something about a lead.
    filled = [i for i, c in enumerate(header) if c.strip()][-2:]
    rejects_tail = len(header) >= 3 and [header[i] for i in filled] == ["line", "reason"]
    rejects_columns = set(filled) if rejects_tail else set()
    # What the file's columns name, for a paired word (``Nom`` beside ``Prénom``).
    present = {
        t
        for column in header
        if (t := overrides.get(column) or by_key.get(normalise_header(column)) or guess(column))
    }
    taken: set[str] = set()
    targets = []
    for column in header:
        target = overrides.get(column) or by_key.get(normalise_header(column))
        if target is None and own_export:
            # A leadcli export read back: its own field names, then custom fields only (a
            # custom field named "Tags" or "Opt Out" is not the tags or the opt-out). Its id
            # is another database's.
            if column in _OWN_EXPORT_ONLY:
                target = "ignore"
            elif column in _OWN_EXPORT_FIELDS:
                target = column
            else:
                target = "custom"
        if target is None and len(targets) in rejects_columns:
            target = "ignore"
        target = target or guess(column, present)
        if target in _FURTHER and target in taken:
            target = _FURTHER[target]  # a second e-mail or phone column: a further value
        if target in (None, "custom") or (
            target in taken
            and target not in ("do_not_contact", "ignore", "tags", *_FURTHER.values())
        ):
            target = "custom"
        taken.add(target)
        targets.append(target)
    return targets


#: Columns only one CRM's exports carry (normalised as ``normalise_header`` does).
_SYSTEM_MARKS: dict[str, frozenset[str]] = {
    "salesforce": frozenset({"salesforceid", "isconverted", "masterrecordid", "isdeleted"}),
    "hubspot": frozenset({"hubspotid", "lifecyclestage", "contactowner", "hubspotscore"}),
    # Not "Lead Owner": Salesforce's report exports have that column too.
    "zoho": frozenset({"zohoid"}),
}


def detect_system(header: list[str]) -> str | None:
    """The CRM a file was exported from, by its columns (``salesforce``, ``hubspot``,
    ``pipedrive``, ``zoho``), or None. Its external ids are kept with that name, so the same
    id from two systems is never taken for one person."""
    keys = {normalise_header(c) for c in header}
    if any(c.lower().startswith(("person - ", "organization - ", "deal - ")) for c in header):
        return "pipedrive"
    for system, marks in _SYSTEM_MARKS.items():
        if keys & marks:
            return system
    return None
