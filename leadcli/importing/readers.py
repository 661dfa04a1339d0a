"""Reading lead files: CSV / TSV (any common delimiter) / JSON / JSON Lines / vCard.

Encodings: a byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE); without one the file
is read as UTF-8 if its start decodes as UTF-8, else as Windows-1252 (what Excel writes), with
a notice. Rows come out as ``(line, cells)`` where ``line`` is the line the record starts on,
so a rejected row can be found in the original file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from leadcli.errors import LeadcliError
from leadcli.importing.vcard import HEADER as VCARD_HEADER
from leadcli.importing.vcard import looks_like_vcard, vcard_rows
from leadcli.text import tsv
from leadcli.text.safe_text import restore_formula

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 1 << 20
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
INPUT_FORMATS = ("csv", "tsv", "json", "jsonl", "vcf")

csv.field_size_limit(64 * 1024 * 1024)  # 200 KB notes are normal; 64 MB is a sane ceiling


class ReadError(LeadcliError):
    """The file cannot be read as a table at all (as opposed to one bad row)."""

    @classmethod
    def unopenable(cls, name: str, exc: OSError) -> ReadError:
        return cls(f"cannot read {name}: {exc.strerror}")


@dataclass
class Table:
    """A file opened for reading: what was detected, the header and a stream of rows."""

    name: str
    input_format: str
    encoding: str
    delimiter: str | None
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    notices: list[str] = field(default_factory=list)
    byte_count: int = 0
    bytes_read: Any = None  # a callable giving bytes consumed so far, for progress


def _decodes_cleanly(data: bytes, encoding: str, unit: int) -> bool:
    data = data[: len(data) - len(data) % unit]
    try:
        return "\x00" not in data.decode(encoding)
    except UnicodeDecodeError:
        return False


def detect_encoding(sample: bytes) -> tuple[str, int, str | None]:
    """(encoding, BOM length, notice) for the start of a file.

    Some Java tools (Salesforce Data Loader among them) write UTF-32 text after a two-byte
    UTF-16 mark; such a file decodes as UTF-16 full of NULs, so the UTF-32 readings are tried
    too and the one that decodes cleanly wins.
    """
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            if encoding.startswith("utf-16"):
                for candidate, unit in ((encoding, 2), ("utf-32-be", 4), ("utf-32-le", 4)):
                    if _decodes_cleanly(sample[len(bom) :], candidate, unit):
                        return candidate, len(bom), None
            return encoding, len(bom), None
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the sample's end is fine
    except UnicodeDecodeError:
        return "cp1252", 0, "not UTF-8: read as Windows-1252 (use --encoding to choose)"
    return "utf-8", 0, None


def sniff_delimiter(first_line: str) -> str:
    """The delimiter that splits the header line into the most columns (outside quotes)."""
    best, best_count = ",", 0
    for delimiter in DELIMITERS:
        try:
            count = len(next(csv.reader([first_line], delimiter=delimiter)))
        except (csv.Error, StopIteration):
            continue
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _guess_format(name: str, text_start: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".vcf", ".vcard") or looks_like_vcard(text_start):
        return "vcf"
    if suffix in (".json", ".jsonl", ".ndjson", ".tsv", ".csv", ".tab", ".txt"):
        return {".ndjson": "jsonl", ".tab": "tsv", ".txt": "csv"}.get(suffix, suffix[1:])
    stripped = text_start.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        return "jsonl"
    return "csv"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _flatten_custom(obj: Any) -> Any:
    """A leadcli JSON record's ``custom`` object as columns of their own, as in its CSV, so
    custom fields come back as custom fields (a name the record already has stays there)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("custom"), dict):
        return obj
    custom = obj["custom"]
    flat = {k: v for k, v in obj.items() if k != "custom"}
    flat.update({k: v for k, v in custom.items() if k not in flat})
    rest = {k: v for k, v in custom.items() if k in obj and k != "custom"}
    if rest:
        flat["custom"] = rest
    return flat


def _objects_to_rows(
    objects: Iterator[tuple[int, Any]],
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """JSON objects to a header (union of keys, in first-seen order) and rows.

    The union needs every object first; JSON arrays are loaded whole anyway and JSON Lines
    files of leads are small enough. A non-object line becomes a row that is rejected.
    """
    items = [(line, _flatten_custom(obj)) for line, obj in objects]
    header: dict[str, None] = {}
    for _, obj in items:
        if isinstance(obj, dict):
            header.update(dict.fromkeys(str(k) for k in obj))
    names = list(header)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for line, obj in items:
            if isinstance(obj, dict):
                yield line, [_cell(obj.get(k)) for k in names]
            else:
                yield line, [_cell(obj)]  # wrong width: rejected as not an object

    return names, rows()


class _Unescaped:
    """A csv reader whose cells are TSV-unescaped (``leadcli.text.tsv``); keeps ``line_num``."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    @property
    def line_num(self) -> int:
        return int(self._reader.line_num)

    def __iter__(self) -> _Unescaped:
        return self

    def __next__(self) -> list[str]:
        return [tsv.unescape(cell) for cell in next(self._reader)]


def open_table(
    source: str | Path,
    *,
    input_format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    stdin: IO[bytes] | None = None,
) -> Table:
    """Open ``source`` (a path, or ``-`` for stdin) as a table."""
    name = str(source)
    if name == "-":
        raw: IO[bytes] = stdin or sys.stdin.buffer
        size = 0
    else:
        try:
            raw = open(source, "rb")  # noqa: SIM115 - closed when the rows are consumed
            size = Path(source).stat().st_size
        except OSError as exc:
            raise ReadError.unopenable(name, exc) from None
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    sample = buffered.peek(SAMPLE_BYTES)[:SAMPLE_BYTES]
    notices = []
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ReadError(f"unknown encoding {encoding!r}") from None
        bom_length = next(
            (
                len(b)
                for b, e in _BOMS
                if sample.startswith(b) and codecs.lookup(e).name == codecs.lookup(encoding).name
            ),
            0,
        )
    else:
        encoding, bom_length, notice = detect_encoding(sample)
        if notice:
            notices.append(f"{name}: {notice}")
    buffered.read(bom_length)
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="")
    start = sample[bom_length:].decode(encoding, errors="ignore")
    fmt = input_format or _guess_format(name, start)
    if fmt not in INPUT_FORMATS:
        raise ReadError(f"unknown input format {fmt!r}; use one of {', '.join(INPUT_FORMATS)}")

    def consumed() -> int:
        try:
            return buffered.tell()
        except (OSError, ValueError):  # stdin cannot tell; a finished file may be closed
            return size

    def decoded(lines: Iterator[str]) -> Iterator[str]:
        try:
            yield from lines
        except UnicodeDecodeError:
            raise ReadError(
                f"{name} is not valid {encoding} past its start",
                hint="give its encoding with --encoding (e.g. cp1252 or latin-1)",
            ) from None

    if fmt == "json":
        try:
            data = json.loads("".join(decoded(iter(text))) or "[]")
        except json.JSONDecodeError as exc:
            raise ReadError(f"{name} is not valid JSON (line {exc.lineno}): {exc.msg}") from None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise ReadError(f"{name}: a JSON import is an array of objects")
        header, rows = _objects_to_rows(iter([(i + 1, obj) for i, obj in enumerate(data)]))
        return Table(name, fmt, encoding, None, header, rows, notices, size, consumed)
    if fmt == "vcf":
        rows = vcard_rows(decoded(iter(text)))
        return Table(name, fmt, encoding, None, list(VCARD_HEADER), rows, notices, size, consumed)
    if fmt == "jsonl":

        def parsed() -> Iterator[tuple[int, Any]]:
            for number, line in enumerate(decoded(iter(text)), start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except json.JSONDecodeError:
                        yield number, line.rstrip("\r\n")  # rejected: not an object

        header, rows = _objects_to_rows(parsed())
        return Table(name, fmt, encoding, None, header, rows, notices, size, consumed)

    if delimiter is None:
        first_line = start.split("\n", 1)[0]
        delimiter = "\t" if fmt == "tsv" else sniff_delimiter(first_line)
    # TSV is one record a line with backslash escapes (what `list -f tsv` writes), no quotes;
    # tab-separated text with CSV quoting is read with --input-format csv --delimiter '\t'.
    linear_tsv = delimiter == "\t" and input_format != "csv"
    reader = csv.reader(
        decoded(iter(text)),
        delimiter=delimiter,
        strict=False,
        **({"quoting": csv.QUOTE_NONE} if linear_tsv else {}),
    )
    if linear_tsv:
        reader = _Unescaped(reader)
    try:
        # Headers leadcli wrote carry the same guard against formulas as its cells.
        header = [restore_formula(name) for name in next(reader)]
    except StopIteration:
        header = []
    except csv.Error as exc:
        raise ReadError(f"{name}: the header cannot be read as CSV ({exc})") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a NUL byte: reject the record, go on
                yield line, [f"\x00unreadable: {exc}"]
                line = reader.line_num + 1
                continue
            if cells:  # blank lines are not rows
                yield line, cells
            line = reader.line_num + 1

    return Table(
        name,
        "tsv" if delimiter == "\t" else "csv",
        encoding,
        delimiter,
        header,
        rows(),
        notices,
        size,
        consumed,
    )
