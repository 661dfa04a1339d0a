"""Reading lead files: CSV / TSV (any common delimiter) / JSON / JSON Lines / vCard.

Encodings: a byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE); without one the file
is read as UTF-8 if its start decodes as UTF-8, else as Windows-1252 (what Excel writes), with
a notice. Rows come out as ``(line, cells)`` where ``line`` is the line the record starts on,
so a rejected row can be found in the original file.

Input is read once and streamed: any input (a file, stdin, a pipe, a FIFO, ``<(...)``) is
hashed as it is read (``Table.sha256``), so nothing has to open it twice. CSV rows come out as
they are read. JSON rows need the union of every object's keys first, so a JSON or JSON Lines
input is read twice: a regular file is simply opened again; anything else is copied to a
temporary file on the first pass. Either way memory stays flat (JSON arrays are parsed
element by element). The file opened is closed when its rows are exhausted or the table is
closed (``with open_table(...) as table``).

Nothing here changes process-wide state: CSV fields longer than Python's ``csv`` limit
(128 KiB by default) are rejected rows unless the caller raises it (the CLI does, to
``FIELD_SIZE_LIMIT``, for the length of an import).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
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

#: The ``csv`` field-size limit an import wants: 200 KB notes are normal; 64 MB is a sane
#: ceiling. Process-wide, so set by the application (the CLI), never by this library.
FIELD_SIZE_LIMIT = 64 * 1024 * 1024
#: Characters a JSON array is read in at a time.
JSON_CHUNK = 1 << 16


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
    #: The SHA-256 (hex) of every byte of the input, complete once the rows are exhausted.
    sha256: Callable[[], str] = lambda: ""
    #: Closes what the table opened (idempotent); the rows do it themselves when exhausted.
    close: Callable[[], None] = lambda: None

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Hashing(io.RawIOBase):
    """A byte stream that hashes what is read through it, and copies it to ``spool`` while
    one is set: the one read of an input that cannot be read twice."""

    def __init__(self, inner: IO[bytes], *, hashing: bool = True) -> None:
        self.inner = inner
        self.hashing = hashing
        self.digest = hashlib.sha256()
        self.spool: IO[bytes] | None = None
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        if not data:
            return 0
        size = len(data)
        buffer[:size] = data
        if self.hashing:
            self.digest.update(data)
        self.count += size
        if self.spool is not None:
            self.spool.write(data)
        return size


def is_regular_file(name: str) -> bool:
    """Whether ``name`` is a regular file: one that can be read twice (not ``-``, a pipe,
    a FIFO, ``/dev/stdin`` or a shell's ``<(...)``)."""
    if name == "-":
        return False
    try:
        return stat.S_ISREG(os.stat(name).st_mode)
    except (OSError, ValueError):
        return False


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


def _json_lines(lines: Iterator[str]) -> Iterator[tuple[int, Any]]:
    """A JSON Lines text as (line number, value); a line that is not JSON is its text (a row
    that will be rejected)."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError:
                yield number, line.rstrip("\r\n")


def _json_values(text: IO[str], name: str) -> Iterator[tuple[int, Any]]:
    """A JSON text (an array of objects, or one object) as (element number, value), parsed
    element by element from chunks: memory holds one element, never the whole array."""
    decoder = json.JSONDecoder()
    buffer, position, ended = "", 0, False

    def fill() -> bool:
        """Read more; False at the end of the input."""
        nonlocal buffer, position, ended
        if ended:
            return False
        chunk = text.read(JSON_CHUNK)
        buffer = buffer[position:] + chunk
        position = 0
        ended = not chunk
        return bool(chunk)

    def skip_space() -> str:
        """The next character that is not white space ("" at the end)."""
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n":
                position += 1
            if position < len(buffer):
                return buffer[position]
            if not fill():
                return ""

    def value() -> Any:
        """The JSON value at ``position``: complete only when followed by more text or the
        end, since a number at the end of the buffer may go on in the next chunk."""
        nonlocal position
        while True:
            skip_space()  # raw_decode takes no white space before the value
            try:
                parsed, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError as exc:
                if fill():
                    continue
                raise ReadError(f"{name} is not valid JSON: {exc.msg}") from None
            if end < len(buffer) or not fill():
                position = end
                return parsed

    first = skip_space()
    if first == "":
        return
    if first == "{":
        yield 1, value()
        if skip_space():
            raise ReadError(f"{name} is not valid JSON: extra data after the object")
        return
    if first != "[":
        raise ReadError(f"{name}: a JSON import is an array of objects")
    position += 1
    number = 0
    if skip_space() == "]":
        position += 1
    else:
        while True:
            number += 1
            yield number, value()
            after = skip_space()
            position += 1
            if after == "]":
                break
            if after != ",":
                raise ReadError(f"{name} is not valid JSON: expected , or ] after element {number}")
    if skip_space():
        raise ReadError(f"{name} is not valid JSON: extra data after the array")


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


def _json_header(values: Iterator[tuple[int, Any]]) -> list[str]:
    """The union of the objects' keys, in first-seen order."""
    header: dict[str, None] = {}
    for _, obj in values:
        if isinstance(obj, dict):
            header.update(dict.fromkeys(str(k) for k in obj))
    return list(header)


def _json_rows(
    values: Iterator[tuple[int, Any]], names: list[str]
) -> Iterator[tuple[int, list[str]]]:
    for line, obj in values:
        if isinstance(obj, dict):
            yield line, [_cell(obj.get(k)) for k in names]
        else:
            yield line, [_cell(obj)]  # wrong width: rejected as not an object


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
    hash_input: bool = True,
) -> Table:
    """Open ``source`` (a path, or ``-`` for stdin) as a table, reading it once.

    The caller exhausts the rows or closes the table (it is a context manager); either
    closes the file this opened. Stdin is never closed. ``hash_input=False`` skips the
    hash (``Table.sha256`` is then empty) for a caller that hashed a regular file itself.
    """
    name = str(source)
    regular = is_regular_file(name)
    opened: list[IO[Any]] = []

    def close() -> None:
        while opened:
            with contextlib.suppress(OSError):
                opened.pop().close()

    try:
        if name == "-":
            inner: IO[bytes] = stdin or sys.stdin.buffer
        else:
            try:
                inner = open(source, "rb")  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise ReadError.unopenable(name, exc) from None
            opened.append(inner)
        size = os.fstat(inner.fileno()).st_size if regular else 0
        return _open(
            name, inner, size, regular, input_format, encoding, delimiter, opened, close, hash_input
        )
    except BaseException:
        close()
        raise


def _open(
    name: str,
    inner: IO[bytes],
    size: int,
    regular: bool,
    input_format: str | None,
    encoding: str | None,
    delimiter: str | None,
    opened: list[IO[Any]],
    close: Callable[[], None],
    hash_input: bool,
) -> Table:
    # A pipe gives what it has: each read takes what is there (read1), so rows stream as they
    # arrive instead of waiting for a full buffer.
    read1 = getattr(inner, "read1", None)
    hashing = _Hashing(_ReadOne(read1) if read1 else inner, hashing=hash_input)  # type: ignore[arg-type]
    buffered = io.BufferedReader(hashing, buffer_size=SAMPLE_BYTES)
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
    start = sample[bom_length:].decode(encoding, errors="ignore")
    fmt = input_format or _guess_format(name, start)
    if fmt not in INPUT_FORMATS:
        raise ReadError(f"unknown input format {fmt!r}; use one of {', '.join(INPUT_FORMATS)}")

    def sha256() -> str:
        return hashing.digest.hexdigest() if hash_input else ""

    def decoded(lines: Iterator[Any]) -> Iterator[Any]:
        try:
            yield from lines
        except UnicodeDecodeError:
            raise ReadError(
                f"{name} is not valid {encoding} past its start",
                hint="give its encoding with --encoding (e.g. cp1252 or latin-1)",
            ) from None

    def closing(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        try:
            yield from rows
        finally:
            close()

    if fmt in ("json", "jsonl"):
        # The header is every object's keys: a first pass reads them (and hashes the input);
        # a second pass gives the rows, from the file again or from the copy of the input.
        if not regular:
            spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
            opened.append(spool)
            spool.write(buffered.peek(1))  # what the sample read, nothing consumed yet
            hashing.spool = spool
        buffered.read(bom_length)
        text = io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="")

        def values(text: IO[str]) -> Iterator[tuple[int, Any]]:
            found = (
                _json_lines(decoded(iter(text)))
                if fmt == "jsonl"
                else decoded(_json_values(text, name))
            )
            return ((line, _flatten_custom(obj)) for line, obj in found)

        header = _json_header(values(text))
        total = hashing.count
        if regular:
            again = open(name, "rb")  # noqa: SIM115 - closed by close()
            opened.append(again)
        else:
            hashing.spool = None
            again = spool
        again.seek(bom_length)
        second = io.TextIOWrapper(again, encoding=encoding, errors="strict", newline="")
        opened.append(second)  # held until closed: a wrapper freed while open warns

        def consumed() -> int:
            try:
                return again.tell()
            except (OSError, ValueError):  # closed once the rows are done
                return total

        rows = closing(_json_rows(values(second), header))
        return Table(
            name, fmt, encoding, None, header, rows, notices, total, consumed, sha256, close
        )

    buffered.read(bom_length)
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="")
    if fmt == "vcf":
        # Cards are small: vobject reads them one at a time from the stream.
        return Table(
            name,
            fmt,
            encoding,
            None,
            list(VCARD_HEADER),
            closing(vcard_rows(decoded(iter(text)))),
            notices,
            size,
            lambda: hashing.count,
            sha256,
            close,
        )
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
        closing(rows()),
        notices,
        size,
        lambda: hashing.count,
        sha256,
        close,
    )


class _ReadOne:
    """Adapts ``read1`` (one read of what is there) to the ``read`` ``_Hashing`` calls."""

    def __init__(self, read1: Callable[[int], bytes]) -> None:
        self.read = read1
