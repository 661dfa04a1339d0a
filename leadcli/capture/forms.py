"""Web-form notifications: the labelled fields in their body, plain text or an HTML table.

Labels are read with the import's column synonyms (``importing.mapping.guess``), so "Full
name", "E-mail", "Organisation" and "Comments" mean here what they mean in a CSV header. A
body is a form only when it holds a labelled e-mail and at least one other known field: an
inquiry whose signature says "Phone: ..." stays an inquiry.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: The lead fields a form may fill (``notes`` is the person's message).
FORM_FIELDS = (
    "first_name",
    "last_name",
    "name",
    "email",
    "phone",
    "company",
    "title",
    "website",
    "city",
    "country",
    "notes",
)
#: Longest label read: a sentence with a colon in it is not a label.
MAX_LABEL = 40

#: Label separators: the colon and its full-width form, which CJK forms use.
_COLONS = ":\uff1a"
_LABEL_LINE = re.compile(
    rf"^\s*[*_]*([^\W\d][\w .'()/&-]{{0,{MAX_LABEL}}}?)[*_]*\s*[{_COLONS}]\s*(.*)$"
)

_BLOCKS = frozenset(
    {"p", "div", "br", "tr", "li", "table", "tbody", "thead", "ul", "ol", "dl", "dt", "dd"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "section"}
)
_CELLS = frozenset(("td", "th"))
_HIDDEN = frozenset(("script", "style", "head", "title"))


class _HtmlText(HTMLParser):
    """Text of an HTML body with line breaks where blocks end, and the table rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "tr":
            self._row = []
        elif tag in _CELLS:
            self._cell = []
        if tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in _CELLS:
            self.parts.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _CELLS and self._cell is not None:
            if self._row is not None:
                self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _parse_html(html: str) -> _HtmlText:
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup: what was read so far counts
        pass
    return parser


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: one line per block, runs of blank lines squeezed."""
    text = "".join(_parse_html(html).parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _target(label: str) -> str | None:
    from leadcli.importing.mapping import guess

    target = guess(label.strip())
    return target if target in FORM_FIELDS else None


def _text_pairs(text: str) -> list[tuple[str, str]]:
    """``Label: value`` lines; lines after a known label without one of their own continue
    its value (a multi-line message), up to the next label."""
    pairs: list[tuple[str, str]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        match = _LABEL_LINE.match(line)
        if match and _target(match.group(1)):
            pairs.append((match.group(1), match.group(2).strip()))
        elif pairs and line.strip():
            label, value = pairs[-1]
            pairs[-1] = (label, f"{value}\n{line.strip()}" if value else line.strip())
    return pairs


def _html_pairs(html: str) -> list[tuple[str, str]]:
    """Table rows of a label cell and a value cell (``<th>Name</th><td>Ana</td>``)."""
    pairs = []
    for row in _parse_html(html).rows:
        cells = [c for c in row if c]
        if len(cells) == 2:
            label = cells[0].rstrip(_COLONS).strip()
            if _target(label):
                pairs.append((label, cells[1]))
    return pairs


def extract(text: str, html: str | None = None) -> dict[str, str] | None:
    """The lead fields of a form notification (``first_name``, ``email``, ``notes`` ...;
    a full ``name`` split into first and last), or None when the body is not a form.
    The first value of a field wins; empty values count as absent."""
    pairs = _html_pairs(html) if html else []
    if len(pairs) < 2:
        pairs = _text_pairs(text)
    fields: dict[str, str] = {}
    for label, value in pairs:
        target = _target(label)
        value = value.strip()
        if target and value and target not in fields:
            fields[target] = value
    if "email" not in fields or len(fields) < 2:
        return None
    if "name" in fields:
        from leadcli.importing.rows import split_name

        full = " ".join(fields.pop("name").split())
        first, last = split_name(full)
        fields.setdefault("first_name", first or "")
        fields.setdefault("last_name", last or "")
    return {k: v for k, v in fields.items() if v}
