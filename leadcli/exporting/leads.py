"""Leads written out for other programs and for leadcli itself: every field and custom field,
as CSV, JSON or JSON Lines, to stdout or atomically to a file.

A full export is leadcli's own interchange format: ``import`` reads it back with no flags
(its header says it is a leadcli export), closed dates, lost reasons, stages, custom fields
and tags holding any character included.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from leadcli.errors import InvalidValue
from leadcli.exporting import writers
from leadcli.leads.records import RECORD_FIELDS, LeadQuery, custom_field_names, iter_leads
from leadcli.storage.store import Store

EXPORT_FORMATS = ("csv", "json", "jsonl")


def all_columns(store: Store) -> list[str]:
    """Every column of a full CSV export: the record's fields, then each custom field."""
    return [f for f in RECORD_FIELDS if f != "custom"] + custom_field_names(store)


def choose_columns(store: Store, wanted: Sequence[str] | None) -> list[str]:
    """``--columns``: the named fields or custom fields, in the order given; unknown names
    are an error listing the ones there are."""
    available = all_columns(store)
    if not wanted:
        return available
    known = set(available)
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise InvalidValue(
            "columns",
            f"{len(unknown)} unknown; use field names such as "
            f"{', '.join(f for f in RECORD_FIELDS if f != 'custom')} or a custom field's name",
        )
    return list(dict.fromkeys(wanted))


def outreach_query(query: LeadQuery) -> LeadQuery:
    """``--for-outreach``: the same filters without the leads who opted out of contact.

    Lost leads stay: winning them back is outreach too, and ``--stage`` narrows the list.
    """
    query.extra_where.append(("leads.do_not_contact = 0", ()))
    return query


def export_records(
    store: Store, query: LeadQuery, columns: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """The leads as records, streamed; with ``columns``, only those keys (custom fields
    chosen by name become keys of their own)."""
    records = iter_leads(store, query)
    if columns is None:
        yield from records
        return
    for record in records:
        custom = record["custom"]
        yield {c: record[c] if c in record else custom.get(c) for c in columns}


def write_records(
    records: Iterator[dict[str, Any]], fmt: str, columns: Sequence[str], out: TextIO
) -> int:
    """Write in ``fmt`` (csv, json or jsonl) with the writers ``list -f`` uses; return how
    many records."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidValue("format", f"use one of {', '.join(EXPORT_FORMATS)}")
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for record in records:
            count += 1
            yield record

    writers.write_records(counted(), fmt, columns=columns, out=out)
    return count


@contextlib.contextmanager
def atomic_output(path: Path, *, binary: bool = False) -> Iterator[Any]:
    """A file at ``path`` that appears whole or not at all, readable by its owner only.

    Written to a temporary file beside it (created 0600, so the data is never readable by
    others, even for a moment) and renamed over ``path`` once complete and flushed to disk.
    If anything fails, the temporary file is removed and ``path`` is untouched.
    """
    folder = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        mode = "wb" if binary else "w"
        kwargs: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
