"""Records written for scripts: JSON, JSON Lines, CSV and TSV, streamed, exact and safe.

No Rich and no Typer here, so ``leadcli export`` and the commands share one writer per format.
What they promise (see the CLI contract): every field, exact values; CSV cells a spreadsheet
would run as formulas are neutralised; TSV is one record a line (tab, newline, carriage return
and backslash inside a field are written ``\\t``, ``\\n``, ``\\r``, ``\\\\``), so ``cut`` and
``awk`` work; control characters never reach a terminal raw: JSON escapes them (``\\u001b``,
the same value to a JSON reader), CSV and TSV drop them (see ``text/safe_text.py``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

from leadcli.text.safe_text import json_safe, neutralise_formula, strip_controls, visible
from leadcli.text.tsv import escape as tsv_escape

#: Characters that make a joined list cell ambiguous to read back.
_LIST_UNSAFE = (",", ";")


def list_cell(values: Sequence[Any]) -> str:
    """``a,b`` when that reads back as the same items; else a JSON array (``["a;b","c"]``).

    Scripts reading ``list -f csv`` keep the plain form for ordinary tags; a tag holding
    ``,`` or ``;`` (or starting with ``[``) would be split or misread, so then the whole
    cell is JSON, which ``import`` recognises (``importing.rows.split_tags``).
    """
    items = [str(v) for v in values]
    if any(
        any(mark in item for mark in _LIST_UNSAFE) or item.startswith("[") or item != item.strip()
        for item in items
    ):
        return json.dumps(items, ensure_ascii=False)
    return ",".join(items)


#: The formats the writers here produce (``table`` is the CLI's own, drawn with Rich).
SCRIPT_FORMATS = ("json", "jsonl", "csv", "tsv")


def scalar(value: Any) -> str:
    """A value as a CSV/TSV cell: exact (lists comma-joined or JSON, see ``list_cell``;
    objects as JSON)."""
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


def flat_row(
    record: dict[str, Any], columns: Sequence[str], text: Callable[[str], str] = str
) -> list[str]:
    """A record as delimited cells, formulas neutralised; custom fields become columns.
    ``text`` (e.g. ``strip_controls``) is applied before the formula check, since dropping a
    character can bring a ``=`` to the front."""
    custom = record.get("custom") or {}
    cells = []
    for column in columns:
        value = record[column] if column in record else custom.get(column)
        cells.append(neutralise_formula(text(scalar(value))))
    return cells


def write_json_array(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    """Stream a JSON array, one record per line, without holding them all."""
    out.write("[")
    first = True
    for record in records:
        out.write("\n" if first else ",\n")
        out.write(json_safe(json.dumps(record, ensure_ascii=False)))
        first = False
    out.write("\n]\n" if not first else "]\n")


def write_object(obj: Any, out: TextIO) -> None:
    """One JSON value, indented for people reading a script's output."""
    out.write(json_safe(json.dumps(obj, ensure_ascii=False, indent=2)) + "\n")


def write_jsonl(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    for record in records:
        out.write(json_safe(json.dumps(record, ensure_ascii=False)) + "\n")


def write_tsv(records: Iterable[dict[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    """TSV, one record a line (``leadcli.text.tsv`` escapes, header included). Control and
    invisible characters are dropped as an import drops them (``strip_controls``), so piping
    to ``head`` is safe and a re-import reads the same values; on a terminal they are shown
    as escapes instead."""
    tty = out.isatty()
    text = str if tty else strip_controls
    shown = visible if tty else str

    def line(cells: Iterable[str]) -> str:
        return "\t".join(shown(tsv_escape(c)) for c in cells) + "\n"

    out.write(line(neutralise_formula(text(c)) for c in columns))
    for record in records:
        out.write(line(flat_row(record, columns, text)))


def write_csv(records: Iterable[dict[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    """CSV (RFC 4180, CRLF); formulas neutralised, everything else exact but control and
    invisible characters.

    CSV has no escape for them, and ``leadcli list -f csv | head`` hands the bytes to a
    terminal: piped, they are dropped as an import drops them (``strip_controls``), so a
    re-import reads back what an import of the original stored; on a terminal they are shown
    as escapes instead (tab and newline included), for a person to see.
    """
    tty = out.isatty()
    text = str if tty else strip_controls
    writer = csv.writer(out, dialect="excel", lineterminator="\r\n")
    # Column names are data too: custom fields are named by imported headers.
    header = [neutralise_formula(text(c)) for c in columns]
    writer.writerow([visible(c) for c in header] if tty else header)
    for record in records:
        cells = flat_row(record, columns, text)
        writer.writerow([visible(c) for c in cells] if tty else cells)


def write_records(
    records: Iterable[dict[str, Any]], fmt: str, *, columns: Sequence[str], out: TextIO
) -> None:
    """Write records in one of ``SCRIPT_FORMATS`` (``columns`` orders CSV and TSV)."""
    if fmt == "json":
        write_json_array(records, out)
    elif fmt == "jsonl":
        write_jsonl(records, out)
    elif fmt == "csv":
        write_csv(records, columns, out)
    elif fmt == "tsv":
        write_tsv(records, columns, out)
    else:
        raise ValueError(f"not a script format: {fmt!r}")


def _mutt_field(value: Any) -> str:
    """One field of a mutt query line: tabs and line breaks would start another field or
    line, so every run of white space is one space; control characters are dropped."""
    return " ".join(strip_controls(str(value or "")).split())


def write_mutt_query(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    """Leads as mutt's ``query_command`` reads them (and khard prints them): a first line
    mutt shows as a message, then ``address<TAB>name<TAB>other`` a lead with an e-mail."""
    lines = []
    for record in records:
        if not record.get("email"):
            continue
        name = " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)
        other = ", ".join(p for p in (record.get("company"), record.get("stage")) if p)
        lines.append("\t".join(_mutt_field(v) for v in (record["email"], name, other)) + "\n")
    out.write(f"leadcli: {len(lines)} lead{'s' if len(lines) != 1 else ''}\n")
    out.writelines(lines)
