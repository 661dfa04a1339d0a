"""TSV's one-record-a-line escaping, shared by the writer (``exporting``) and the reader
(``importing``) so that what leadcli writes it reads back exactly.

A tab, newline, carriage return or backslash inside a field is written ``\\t``, ``\\n``,
``\\r``, ``\\\\`` (the "linear TSV" convention of PostgreSQL's COPY and MySQL), so every record
is one line and ``cut -f1`` or ``awk -F'\\t'`` see whole fields.
"""

from __future__ import annotations

import re

_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPES = {v: k for k, v in _ESCAPES.items()}
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPED = re.compile(r"\\[\\tnr]")


def escape(cell: str) -> str:
    """A cell as TSV text on one line."""
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group()], cell)


def unescape(cell: str) -> str:
    """Undo ``escape`` exactly. A backslash before any other character is kept as it is, so
    a path such as ``C:\\Users`` in another program's TSV survives."""
    if "\\" not in cell:
        return cell
    return _ESCAPED.sub(lambda m: _UNESCAPES[m.group()], cell)
