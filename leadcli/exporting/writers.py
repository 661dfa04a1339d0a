"""Records as JSON, JSON Lines, CSV and TSV: the one copy ``list -f`` and ``export`` share.

Exact for programs, safe for people: CSV cells a spreadsheet would run as a formula are
neutralised (and ``import`` restores them), controls that ``json.dumps`` leaves raw are
escaped, and a list cell (tags) that a plain join would make ambiguous is written as a JSON
array, so that every tag comes back exactly when the file is imported.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from leadcli.text.safe_text import json_safe, neutralise_formula, visible

#: Characters that make a joined list cell ambiguous to read back.
_LIST_UNSAFE = (",", ";")


def list_cell(values: Sequence[Any]) -> str:
    """``a,b`` when that reads back as the same items; else a JSON array (``["a;b","c"]``)."""
    items = [str(v) for v in values]
    if any(
        any(mark in item for mark in _LIST_UNSAFE) or item.startswith("[") or item != item.strip()
        for item in items
    ):
        return json.dumps(items, ensure_ascii=False)
    return ",".join(items)


def scalar(value: Any) -> str:
    """A value as a CSV cell, exact (before formula neutralising)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return list_cell(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def flat_row(record: dict[str, Any], columns: Sequence[str]) -> list[str]:
    """A record as CSV cells; custom fields become columns of their own."""
    custom = record.get("custom") or {}
    cells = []
    for column in columns:
        value = record[column] if column in record else custom.get(column)
        cells.append(neutralise_formula(scalar(value)))
    return cells


def write_json_array(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Stream a JSON array, one record per line, without holding them all; return the count."""
    out.write("[")
    count = 0
    for record in records:
        out.write("\n" if not count else ",\n")
        out.write(json_safe(json.dumps(record, ensure_ascii=False)))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_object(obj: Any, out: TextIO) -> None:
    out.write(json_safe(json.dumps(obj, ensure_ascii=False, indent=2)) + "\n")


def write_jsonl(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(json_safe(json.dumps(record, ensure_ascii=False)) + "\n")
        count += 1
    return count


def write_delimited(
    records: Iterable[dict[str, Any]],
    columns: Sequence[str],
    out: TextIO,
    *,
    tsv: bool = False,
) -> int:
    """CSV (RFC 4180, CRLF) or TSV; formulas neutralised, everything else exact; return the
    count.

    When ``out`` is a terminal, control characters are shown as escapes instead, so that
    data cannot drive the terminal; written to a file or a program, the bytes are exact.
    """
    escape = out.isatty()
    writer = csv.writer(
        out,
        dialect="excel-tab" if tsv else "excel",
        lineterminator="\n" if tsv else "\r\n",
    )
    # Column names are data too: custom fields are named by imported headers.
    header = [neutralise_formula(c) for c in columns]
    writer.writerow([visible(c) for c in header] if escape else header)
    count = 0
    for record in records:
        cells = flat_row(record, columns)
        writer.writerow([visible(c) for c in cells] if escape else cells)
        count += 1
    return count
