"""Turning rows of cells into lead values, or into reasons to reject them.

Validation is the same as ``add``'s (email-validator, phonenumbers in the row's region: its
``Country`` cell's, else the import's), through fast paths for the common shapes, and the
field rules of ``leads.validation`` (a value ``add`` refuses rejects the row, with add's
reason). Differences an import needs: a phone that is not a valid number in its region is kept
as written and counted (the contract stores E.164 "where it can be parsed"; never another
country's format), a bad amount or date is kept as a custom field rather than losing the
row, and cells that leadcli's own CSV export guarded against spreadsheet formulas (a leading
``'``) are restored.

Rows are converted a chunk at a time, column by column: a million-row import spends most of
its Python time here, and one list comprehension over a column costs a fraction of a loop
that dispatches on every cell's field. Rows needing more than the common path (an address the
fast path cannot judge, a full name to split, custom columns) take it for that cell or row.

Numbers and dates are read per column without a second pass over the file. Most cells read
one way only (``1.500,00``, ``25/12/2025``, ISO 8601, an Excel serial) and are converted at
once; each says which style its column is written in, and the chunk counts that in its
``Evidence``. The few that read two ways (``1.500``, ``03/11/2026``) are converted the
fallback way (``--locale``, ``--day-first`` / ``--month-first``) and their other reading is
kept in ``Chunk.ambiguous``. Both travel with the chunk (through the worker's pipe for a big
file); once every row is in, the loader sums the evidence, decides each column, and rewrites
only the ambiguous cells of a column decided against the fallback (one executemany UPDATE,
then a rescore of those leads only). Cells no reading fits stay custom fields and are listed
in ``Chunk.unread``. An ambiguous date one of whose readings is in the future is read the
other way, without counting as evidence.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from leadcli.errors import LeadcliError
from leadcli.identity.evidence import DEFAULT_LISTS, Lists, is_placeholder
from leadcli.leads import validation
from leadcli.leads.records import CONTACT_FIELDS, TEXT_FIELDS
from leadcli.pipeline.stages import CLOSED_STAGES, FIRST_STAGE, Status, rank, read_status
from leadcli.text import dates
from leadcli.text.contacts import (
    fast_emails,
    fast_phones,
    normalise_email,
    phone_cell,
)
from leadcli.text.numbers import COMMA, POINT, readings
from leadcli.text.safe_text import (
    FORMULA_GUARD,
    may_need_stripping,
    restore_formula,
    strip_controls,
)

_TRUE = {"1", "true", "yes", "y", "t", "x"}
#: Fields whose cell is taken as written (trimmed).
_PLAIN_TEXT = frozenset(TEXT_FIELDS) - {"email", "phone"}
#: Targets whose placeholder cells are missing values.
_PLACEHOLDER_FIELDS = frozenset(
    {*TEXT_FIELDS, "name", "email", "phone"} - {"notes", "source", "owner"}
)
_IDENTITY = ("first_name", "last_name", "email", "phone", "company", "external_id")
#: The lost reason of a lead a not-converted flag closed, when the file gives none: what the
#: file says, no more (it does not say why).
NOT_CONVERTED = "not converted"
#: The lead fields a row can fill, in the order ``Chunk.columns`` holds them.
LEAD_FIELDS: tuple[str, ...] = (
    *CONTACT_FIELDS,
    "value",
    "notes",
    "external_id",
    "do_not_contact",
    "other_emails",
    "other_phones",
    "external_system",
)
#: What follows the lead fields in ``Chunk.columns``.
EXTRA_COLUMNS: tuple[str, ...] = (
    "stage",
    "created_at",
    "closed_at",
    "lost_reason",
    "custom",
    "first_contacted_at",
    "reach",
    "contact_unknown",
)


class Reject(Exception):
    """A row is not imported; the message is its reason in the rejects file."""


def split_tags(cell: str) -> list[str]:
    """A tags cell: a JSON array of strings (what leadcli writes when a tag holds ``,`` or
    ``;``, so any tag comes back exactly), else tags separated by ``,`` or ``;``."""
    if cell.startswith("[") and cell.endswith("]"):
        try:
            parsed = json.loads(cell)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(t, str | int | float) for t in parsed):
            # numbers too (a JSON file's "Tags": [2024, "vip"]); true/false are not tags
            return [str(t) for t in parsed if not isinstance(t, bool)]
    return cell.replace(";", ",").split(",")


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
def _iso_stamp(text: str) -> str | None:
    """A stored timestamp for an ISO 8601 cell (what CRMs export; it always wins), read
    directly; None for any other cell. Files repeat dates a lot: cached."""
    try:
        return dates.to_store(dates.check_range(datetime.fromisoformat(text)))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _date_readings(text: str) -> tuple[str | None, str | None, str]:
    """(the stamp read day first, read month first, what the cell says of the order): see
    ``dates.date_readings``. Files repeat dates a lot: cached."""
    day, month, kind = dates.date_readings(text)
    return _stamp(day), _stamp(month), kind


def _stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    try:
        return dates.to_store(value)
    except ValueError:  # a local time the clocks skipped: not a time, kept as written
        return None


@dataclass
class Evidence:
    """What a column's cells said of how they are written (summed over chunks, across the
    worker's pipe): cells that read one way only, by style, and cells read at all."""

    field: str
    #: Numbers: cells only a decimal comma reads, only a decimal point; dates: cells only
    #: day first reads, only month first.
    first: int = 0
    second: int = 0
    ambiguous: int = 0
    read: int = 0
    #: Dates: Excel serial numbers read as dates.
    serials: int = 0

    def add(self, other: Evidence) -> None:
        self.first += other.first
        self.second += other.second
        self.ambiguous += other.ambiguous
        self.read += other.read
        self.serials += other.serials


@dataclass
class Chunk:
    """Converted rows: ``columns`` holds one list per output column (``fields`` then
    ``EXTRA_COLUMNS``), aligned with ``lines``; ``tags`` are ``(line, tag)`` pairs."""

    lines: list[int]
    columns: list[list[Any]]
    tags: list[tuple[int, str]] = field(default_factory=list)
    rejects: list[tuple[int, list[str], str]] = field(default_factory=list)
    #: Status words no CRM layout we know uses, by column: kept as custom fields, and named
    #: in a notice.
    unknown_statuses: set[tuple[str, str]] = field(default_factory=set)
    #: Cells that lost control or invisible characters (``safe_text.strip_controls``).
    cleaned: int = 0
    #: By column name: what its number or date cells said of their style.
    evidence: dict[str, Evidence] = field(default_factory=dict)
    #: Cells read the converter's fallback way that the other way reads differently:
    #: ``(line, column, the other reading)``, for the loader to apply if the column decides
    #: so (``importing.loader``).
    ambiguous: list[tuple[int, str, Any]] = field(default_factory=list)
    #: Cells of kept rows that could not be read and were kept as custom fields:
    #: ``(line, column, cell, why)``.
    unread: list[tuple[int, str, str, str]] = field(default_factory=list)
    #: Phone cells (main and further numbers) that are no valid number in their row's region,
    #: kept as written.
    phones_kept: int = 0


class RowConverter:
    """Converts chunks of one file's rows, given what each column maps to."""

    def __init__(
        self,
        header: list[str],
        targets: list[str],
        *,
        region: str = "US",
        keep_invalid: bool = False,
        source: str | None = None,
        tags: list[str] | None = None,
        system: str | None = None,
        lists: Lists = DEFAULT_LISTS,
        placeholders_missing: bool = True,
        own_export: bool = False,
        stage: str | None = None,
        closed_if_not_converted: bool = False,
        decimal: str = POINT,
        day_first: bool = False,
    ) -> None:
        self.region = region
        #: ``import --closed-if-not-converted``: the file is closed history (every row
        #: decided), so a not-converted flag is a lost lead whatever the status says.
        self.closed_if_not_converted = closed_if_not_converted
        #: How an ambiguous cell is read until its column is decided (``1.500``, ``03/11``):
        #: the locale's way, or --day-first / --month-first.
        self.decimal = decimal
        self.day_first = day_first
        #: leadcli's own export read back: its stages are its own, not a CRM's word that a
        #: lead was worked, so they say nothing of a first contact.
        self.own_export = own_export
        self.system = system  # as the loader decided it (normalised)
        self.lists = lists
        # Placeholders as forms write them: checked against a column's set of cells at once
        # (a few variants of case: an exact set lookup is what a million-row column affords).
        # Not in leadcli's own export: its values were accepted by this program already.
        words = lists.placeholders if placeholders_missing else frozenset()
        self.placeholder_cells = frozenset(
            v for w in words for v in (w, w.upper(), w.title(), w.capitalize())
        )
        digits = {*lists.placeholder_digits, *(str(d) * 10 for d in range(10))}
        if not placeholders_missing:
            digits = set()
        self.placeholder_phones = self.placeholder_cells | {
            f"{p}{d}" for d in digits for p in ("+", "+1", "")
        }
        self.keep_invalid = keep_invalid
        self.source = source
        #: ``import --stage``: the stage of rows the file gives none for.
        self.stage = stage or "prospect"
        #: A default stage past ``lead`` says the rows were worked, as such a status does.
        given = read_status(self.stage)
        self.stage_contacted = bool(given and given.contacted)
        self.tags = [t.strip() for t in tags or [] if t.strip()]
        self.now = dates.now_text()
        # Excel leaves empty columns at the end of the header: they hold nothing.
        self.width = len(header)
        while self.width and not header[self.width - 1].strip():
            self.width -= 1
        # A column's name keys its custom field: cleaned as its cells are.
        self.plan = [(i, strip_controls(header[i]), targets[i]) for i in range(self.width)]
        mapped = {t for _, _, t in self.plan}
        if "name" in mapped:
            mapped |= {"first_name", "last_name"}
        if source:
            mapped.add("source")
        if "stage" in mapped:  # a status such as "Do Not Contact" or "Unsubscribed" opts out
            mapped.add("do_not_contact")
        if self.system and "external_id" in mapped:
            mapped.add("external_system")
        if closed_if_not_converted and "converted" not in mapped:
            raise LeadcliError(
                "--closed-if-not-converted needs a converted column (Converted, IsConverted); "
                "this file has none",
                hint="map one with --map COLUMN=converted, or leave the option out",
            )
        #: The lead fields this file can fill: only these are bound when inserting.
        self.fields = [f for f in LEAD_FIELDS if f in mapped]
        # A status column holds a handful of words over a million rows: read each once.
        self._stages: dict[str, Status | None] = {}

    # ------------------------------------------------------------------ the chunk

    def convert(self, rows: list[tuple[int, list[str]]]) -> Chunk:
        """Convert ``(line, cells)`` rows; rejected rows come back in ``Chunk.rejects``."""
        good, rejects = _by_shape(rows, self.width)
        n = len(good)
        values: dict[str, list[Any]] = {}
        # By row, only for the rows that have some (most have none).
        custom: defaultdict[int, dict[str, str]] = defaultdict(dict)
        bad: dict[int, str] = {}
        tags: defaultdict[int, list[str]] = defaultdict(list)
        stage: list[str] = [self.stage] * n
        contacted: list[bool] = [False] * n
        unknown: set[tuple[str, str]] = set()
        status: list[tuple[str, str] | None] = [None] * n
        converted: list[bool | None] = []  # a flag per row, when a column says
        created: list[str | None] = [None] * n
        closed: list[str | None] = [None] * n
        first_touch: list[str | None] = [None] * n
        lost_reason: list[str | None] = [None] * n
        lost_column = ""
        full_name: list[str] | None = None
        phone_col: list[str] | None = None
        further: list[tuple[str, list[str]]] = []
        cleaned = 0
        evidence: dict[str, Evidence] = {}
        ambiguous: list[tuple[int, str, Any]] = []
        unread: list[tuple[int, str, str, str]] = []
        cells_by_column = list(zip(*(cells for _, cells in good), strict=True)) if n else []
        for index, column, target in self.plan:
            if not n or target == "ignore":
                continue
            col, changed = _clean(cells_by_column[index])
            cleaned += changed
            if target in _PLACEHOLDER_FIELDS and not self.placeholder_cells.isdisjoint(col):
                # A placeholder is a missing value in a lead field (custom fields are kept
                # as written: they are the user's own, and nothing matches on them here).
                col = ["" if c in self.placeholder_cells else c for c in col]
            if target in _PLAIN_TEXT:
                values[target] = [c or None for c in col]
                _check_lengths(target, col, bad)
            elif target in ("other_emails", "other_phones"):
                further.append((target, col))
            elif target == "external_system":
                values[target] = [c.lower() or None for c in col]
            elif target == "email":
                values["email"] = self._emails(col, bad, custom, tags)
            elif target == "phone":
                phone_col = col  # read once the row's country is known
            elif target == "name":
                full_name = col
            elif target == "tags":
                for i, c in enumerate(col):
                    if c:
                        tags[i].extend(split_tags(c))
            elif target == "do_not_contact":
                # Every opt-out column counts (opted out of email, or of calls): any one holds.
                opted = [1 if c.lower() in _TRUE else None for c in col]
                before = values.get("do_not_contact")
                values["do_not_contact"] = (
                    opted
                    if before is None
                    else [a or b for a, b in zip(before, opted, strict=True)]
                )
            elif target == "value":
                values["value"] = self._amounts(
                    col, column, custom, evidence, ambiguous, unread, bad
                )
            elif target == "stage":
                opted: list[int | None] = [None] * n
                for i, c in enumerate(col):
                    if c:
                        found = self._stage(c)
                        if found is None:
                            custom[i][column] = c
                            unknown.add((column, c))
                            continue
                        if found.stage is not None:
                            stage[i], status[i] = found.stage, (column, c)
                        if found.do_not_contact:
                            opted[i] = 1
                            custom[i][column] = c  # the status word itself is not lost
                        contacted[i] = contacted[i] or found.contacted
                before = values.get("do_not_contact")
                values["do_not_contact"] = (
                    opted
                    if before is None
                    else [a or b for a, b in zip(before, opted, strict=True)]
                )
            elif target == "lost_reason":
                lost_reason = [c or None for c in col]
                lost_column = column
            elif target == "converted":
                converted = [c.lower() in _TRUE if c else None for c in col]
            elif target in ("created_at", "closed_at", "first_contacted_at"):
                stamps = {"created_at": created, "closed_at": closed}.get(target, first_touch)
                self._dates(col, column, target, stamps, custom, evidence, ambiguous, unread)
            elif target == "custom":
                for i, c in enumerate(col):
                    if c:
                        custom[i][column] = c
        if self.stage_contacted:
            contacted = [c or s is None for c, s in zip(contacted, status, strict=True)]
        # A converted flag (Salesforce IsConverted, x-education Converted) is the system's
        # record and outranks a status column both ways; a status it contradicts is kept.
        # Not converted on a closed row (the status, or --stage, says closed; or the file is
        # closed history) is a lost lead: closed, and not won. Salesforce's "Closed -
        # Converted" with IsConverted false is such a row: the status says someone closed
        # it, the system says no conversion happened, so it is lost, not reopened.
        for i, flag in enumerate(converted):
            if flag:
                stage[i] = "customer"
            elif flag is False and (self.closed_if_not_converted or stage[i] in CLOSED_STAGES):
                if stage[i] == "customer" and status[i]:
                    column, text = status[i]  # type: ignore[misc]
                    custom[i][column] = text
                if stage[i] != "lost":
                    stage[i] = "lost"
                    lost_reason[i] = lost_reason[i] or NOT_CONVERTED
        if full_name is not None:
            self._split_names(full_name, values, n)
        regions = self._regions(values["country"]) if "country" in values else None
        phones_kept = 0
        if phone_col is not None:
            values["phone"], phones_kept = self._phones(phone_col, regions)
        if further:
            phones_kept += self._further(further, values, n, regions)
        if "external_system" in self.fields:
            ids = values.get("external_id", [None] * n)
            systems = values.get("external_system", [None] * n)
            values["external_system"] = [
                (s or self.system) if x else None for x, s in zip(ids, systems, strict=True)
            ]
        identity = [values[f] for f in _IDENTITY if f in values]
        known = list(map(any, zip(*identity, strict=True))) if identity else [False] * n
        if not all(known):
            for i, found in enumerate(known):
                if not found and i not in bad:
                    bad[i] = "no name, email, phone, company or external id"
        if self.source:
            values["source"] = [v or self.source for v in values.get("source", [None] * n)]
        # A row with a close date but no creation date (a file of won deals) was created
        # no later than it closed, not today.
        created_at = [
            c or (closed[i] if stage[i] in CLOSED_STAGES else None) or self.now
            for i, c in enumerate(created)
        ]
        closed_at = [
            max(closed[i] or created_at[i], created_at[i]) if s in CLOSED_STAGES else None
            for i, s in enumerate(stage)
        ]
        # A reason for losing belongs to a lost lead (as `advance --lost` keeps it); on a row
        # the file gives another stage it is kept as a custom field, not lost.
        for i, reason in enumerate(lost_reason):
            if reason is not None and stage[i] != "lost":
                custom[i][lost_column] = reason
                lost_reason[i] = None
        custom_json: list[str | None] = [None] * n
        for i, fields in custom.items():
            if fields:
                custom_json[i] = json.dumps(fields, ensure_ascii=False)
        columns = [values.get(f, [None] * n) for f in self.fields]
        # A first-touch column dates the first contact (not before the lead was created). A
        # worked status ("Working - Contacted") or a stage past `lead` without one says
        # someone contacted the lead at a time the file does not give: `due` does not list
        # it as new, and its response time is unknown (never zero, see reports.response).
        first_contacted = [
            max(t, created_at[i]) if t is not None else None for i, t in enumerate(first_touch)
        ]
        contact_unknown = [
            int(
                first_contacted[i] is None
                and contacted[i]
                and stage[i] != "lost"
                and not self.own_export
            )
            for i in range(n)
        ]
        # A closed row is a move from prospect to its stage (the loader records it in
        # history): how far the lead got (``leads.reach``) is the higher rank of the two.
        reach = [max(rank(FIRST_STAGE), rank(s)) if s in CLOSED_STAGES else None for s in stage]
        columns += [
            stage,
            created_at,
            closed_at,
            lost_reason,
            custom_json,
            first_contacted,
            reach,
            contact_unknown,
        ]
        lines = [line for line, _ in good]
        tag_pairs = []
        if self.tags or tags:
            tag_pairs = [
                (lines[i], t)
                for i in range(n)
                if i not in bad
                for t in (*(t.strip() for t in tags.get(i, ())), *self.tags)
                if t
            ]
        if bad:
            for i in sorted(bad):
                rejects.append((good[i][0], good[i][1], bad[i]))
            keep = [i for i in range(n) if i not in bad]
            lines = [lines[i] for i in keep]
            columns = [[col[i] for i in keep] for col in columns]
        rejects.sort(key=lambda r: r[0])
        kept: list[tuple[int, str, Any]] = []
        for i, c, alt in ambiguous:
            if i in bad:
                continue
            if isinstance(alt, tuple) and alt[1] == "closed_at" and created[i] is None:
                # The creation date was taken from this close date: read again, it moves too.
                alt = (alt[0], "closed_at+created_at")
            kept.append((good[i][0], c, alt))
        return Chunk(
            lines,
            columns,
            tag_pairs,
            rejects,
            unknown,
            cleaned,
            evidence,
            kept,
            [(good[i][0], c, cell, why) for i, c, cell, why in unread if i not in bad],
            phones_kept,
        )

    # ------------------------------------------------------------------ columns

    def _stage(self, text: str) -> Status | None:
        try:
            return self._stages[text]
        except KeyError:
            found = self._stages[text] = read_status(text)
            return found

    def _emails(
        self,
        col: list[str],
        bad: dict[int, str],
        custom: defaultdict[int, dict[str, str]],
        tags: defaultdict[int, list[str]],
    ) -> list[str | None]:
        out = fast_emails(col)
        out, col = _without(out, col, self.placeholder_cells)
        if out.count(None) == col.count(""):
            return out  # every address took the fast path
        for i, c in enumerate(col):
            if c and out[i] is None:
                try:
                    out[i] = normalise_email(c)
                    if out[i] in self.placeholder_cells:
                        out[i] = None
                except ValueError:
                    if not self.keep_invalid:
                        bad.setdefault(i, "email: not a valid address")
                    else:
                        custom[i]["invalid email"] = c
                        tags[i].append("invalid-contact")
        return out

    def _further(
        self,
        columns: list[tuple[str, list[str]]],
        values: dict[str, list[Any]],
        n: int,
        regions: list[str] | None,
    ) -> int:
        """Second e-mail and phone columns (and ``other_emails`` / ``other_phones`` of
        leadcli's own export, lists separated by ``,`` or ``;``) as JSON lists, without the
        main value, placeholders or repeats. An address or number that is not valid is kept
        as written: nothing a row brings is lost. Returns how many numbers were so kept."""
        kept = 0
        found: dict[str, list[list[str]]] = {
            "other_emails": [[] for _ in range(n)],
            "other_phones": [[] for _ in range(n)],
        }
        for target, col in columns:
            field_name = "email" if target == "other_emails" else "phone"
            main = values.get(field_name, [None] * n)
            for i, cell in enumerate(col):
                if not cell:
                    continue
                for part in split_tags(cell):  # a JSON array, as leadcli writes them, or a, b
                    part = part.strip()
                    if not part or is_placeholder(field_name, part, self.lists):
                        continue
                    if field_name == "email":
                        try:
                            value = normalise_email(part)
                        except ValueError:
                            value = part
                    else:
                        region = regions[i] if regions is not None else self.region
                        value = phone_cell(part, region) or part
                        kept += value is part
                    if value != main[i] and value not in found[target][i]:
                        found[target][i].append(value)
        for target, lists in found.items():
            if any(lists):
                values[target] = [json.dumps(x, ensure_ascii=False) if x else None for x in lists]
        return kept

    def _regions(self, countries: list[str | None]) -> list[str] | None:
        """Each row's phone region: its country cell's (a code or a name in any language
        CLDR knows, ``text.countries``), else the import's; None when every row has the
        import's (the common case: nothing per row to do)."""
        from leadcli.text.countries import region_of

        default = self.region
        # A country column holds a few hundred spellings over a million rows: each read once.
        lookup = {c: (region_of(c) or default) if c else default for c in set(countries)}
        if all(r == default for r in lookup.values()):
            return None
        return [lookup[c] for c in countries]

    def _phones(self, col: list[str], regions: list[str] | None) -> tuple[list[str | None], int]:
        """The phone column in E.164, rows grouped by region; and how many cells were kept as
        written (no valid number in their region)."""
        if regions is None:
            return self._phones_in(col, self.region)
        rows_of: defaultdict[str, list[int]] = defaultdict(list)
        for i, region in enumerate(regions):
            rows_of[region].append(i)
        if len(rows_of) == 1:
            return self._phones_in(col, regions[0])
        out: list[str | None] = [None] * len(col)
        kept = 0
        for region, rows in rows_of.items():
            found, k = self._phones_in([col[i] for i in rows], region)
            kept += k
            for i, value in zip(rows, found, strict=True):
                out[i] = value
        return out, kept

    def _phones_in(self, col: list[str], region: str) -> tuple[list[str | None], int]:
        fast = fast_phones(col, region)
        out, col = _without(fast, col, self.placeholder_phones)  # type: ignore[arg-type]
        if out.count(None) == col.count("") and False not in out:
            return out, 0  # every number took the fast path, and was valid
        kept = 0
        for i, c in enumerate(col):
            value = out[i]
            if not c or (value is not None and value is not False):
                continue
            if value is None:
                value = phone_cell(c, region)
            # Not valid in the row's region: kept exactly as written, never another
            # country's E.164 (``06 12 34 56 78`` read as American).
            as_written = value is None or value is False
            out[i] = c if as_written else value
            if self.placeholder_phones and is_placeholder("phone", out[i], self.lists):
                out[i] = None
            elif as_written:
                kept += 1
        return out, kept

    def _amounts(
        self,
        col: list[str],
        column: str,
        custom: defaultdict[int, dict[str, str]],
        evidence: dict[str, Evidence],
        ambiguous: list[tuple[int, str, Any]],
        unread: list[tuple[int, str, str, str]],
        bad: dict[int, str],
    ) -> list[Any]:
        """Each cell's only reading at once; an ambiguous one (``1.500``) the fallback way,
        with its other reading kept for when the column is decided. A cell that is no amount
        is kept as a custom field; an amount the field rule refuses (``Amount -5``) rejects
        its row, as ``add`` refuses it."""
        out: list[Any] = [None] * len(col)
        seen = evidence.setdefault(column, Evidence("value"))
        comma_first = self.decimal == COMMA
        for i, c in enumerate(col):
            if c:
                try:
                    comma, point = readings(c)
                except ValueError:
                    custom[i][column] = c
                    unread.append((i, column, c, "not a number"))
                    continue
                seen.read += 1
                if point is None:
                    seen.first += 1
                    out[i] = comma
                elif comma is None:
                    seen.second += 1
                    out[i] = point
                elif comma == point:
                    out[i] = point
                else:
                    seen.ambiguous += 1
                    out[i], other = (comma, point) if comma_first else (point, comma)
                    ambiguous.append((i, column, other))
        for i, amount in enumerate(out):
            if amount is not None and (reason := validation.problem("value", amount)):
                bad.setdefault(i, f"value: {reason}")
        return out

    def _dates(
        self,
        col: list[str],
        column: str,
        target: str,
        stamps: list[str | None],
        custom: defaultdict[int, dict[str, str]],
        evidence: dict[str, Evidence],
        ambiguous: list[tuple[int, str, Any]],
        unread: list[tuple[int, str, str, str]],
    ) -> None:
        """ISO 8601 and other unambiguous cells at once; ``03/11/2026`` the fallback way,
        its other reading kept for when the column is decided (a reading in the future or
        in a skipped hour is no reading: the other one stands alone)."""
        seen = evidence.setdefault(column, Evidence(target))
        now, day_first = self.now, self.day_first
        unread_before = len(unread)
        for i, c in enumerate(col):
            if not c:
                continue
            stamp = _iso_stamp(c)
            if stamp is None:
                day, month, kind = _date_readings(c)
                if day is not None and day > now:
                    day = None
                if month is not None and month > now:
                    month = None
                if kind == "serial":
                    seen.serials += 1
                elif kind == "day":
                    seen.first += 1
                elif kind == "month":
                    seen.second += 1
                if kind == "both" and day is not None and month is not None:
                    seen.ambiguous += 1
                    stamp, other = (day, month) if day_first else (month, day)
                    ambiguous.append((i, column, (other, target)))
                else:
                    stamp = day or month
            elif stamp > now:
                stamp = None
            if stamp is None:
                custom[i][column] = c
                unread.append((i, column, c, "not a date leadcli reads, or in the future"))
            else:
                stamps[i] = stamp
        seen.read += len(col) - col.count("") - (len(unread) - unread_before)

    @staticmethod
    def _split_names(full: list[str], values: dict[str, list[Any]], n: int) -> None:
        first = values.setdefault("first_name", [None] * n)
        last = values.setdefault("last_name", [None] * n)
        for i, text in enumerate(full):
            if text and not (first[i] or last[i]):
                first[i], last[i] = split_name(text)


def _check_lengths(name: str, col: list[str], bad: dict[int, str]) -> None:
    """Reject the rows whose cell is longer than the field takes (``validation.RULES``): one
    pass in C over the column's lengths, a loop only when one is too long."""
    rule = validation.RULES.get(name)
    if rule is None or rule.max_length is None or not col:
        return
    if max(map(len, col)) <= rule.max_length:
        return
    for i, c in enumerate(col):
        if (reason := validation.problem(name, c)) is not None:
            bad.setdefault(i, f"{name}: {reason}")


def _without(
    out: list[str | None], col: list[str], placeholders: frozenset[str]
) -> tuple[list[str | None], list[str]]:
    """A converted column with its placeholders taken out (as if the cells were empty)."""
    if placeholders.isdisjoint(out):
        return out, col
    drop = [v in placeholders for v in out]
    return (
        [None if d else v for v, d in zip(out, drop, strict=True)],
        ["" if d else c for c, d in zip(col, drop, strict=True)],
    )


def _by_shape(
    rows: list[tuple[int, list[str]]], width: int
) -> tuple[list[tuple[int, list[str]]], list[tuple[int, list[str], str]]]:
    """Rows as wide as the header (Excel's trailing empty cells cut off), and the rejects:
    ragged rows, with the reason, and rows the CSV reader could not read."""
    good: list[tuple[int, list[str]]] = []
    rejects: list[tuple[int, list[str], str]] = []
    for line, cells in rows:
        if len(cells) == width:
            good.append((line, cells))
        elif len(cells) > width and not any(c.strip() for c in cells[width:]):
            good.append((line, cells[:width]))
        elif len(cells) == 1 and cells[0].startswith("\x00unreadable"):
            rejects.append((line, cells, cells[0][1:]))
        else:
            rejects.append((line, cells, f"row has {len(cells)} fields, the header has {width}"))
    return good, rejects


def _clean(cells: tuple[str, ...]) -> tuple[list[str], int]:
    """A column's cells trimmed, control and invisible characters dropped (the input rule,
    ``safe_text.strip_controls``), with leadcli's own formula guards taken off again; and how
    many cells lost characters."""
    col = [c.strip() for c in cells]
    cleaned = 0
    joined = "\n" + "\n".join(col)
    # One scan of the joined column (newlines are kept, so they cannot trigger it) finds
    # whether any cell holds such a character: almost never, and then only those cells pay.
    if may_need_stripping(joined):
        stripped = [strip_controls(c).strip() for c in col]
        cleaned = sum(a != b for a, b in zip(col, stripped, strict=True))
        if cleaned:
            col = stripped
            joined = "\n" + "\n".join(col)
    # One search of the joined column finds whether any cell may start with the guard.
    if joined.find("\n" + FORMULA_GUARD) != -1:
        col = [restore_formula(c) if c[:1] == FORMULA_GUARD else c for c in col]
    return col, cleaned
