"""Web-form notifications: the labelled fields in their body, plain text or an HTML table.

Labels are read with the import's column synonyms (``importing.mapping.guess``), so "Full
name", "E-mail", "Organisation" and "Comments" mean here what they mean in a CSV header. A
body is a form only when it holds a labelled e-mail and at least one other known field: an
inquiry whose signature says "Phone: ..." stays an inquiry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
#: Elements whose content a mail reader never shows.
_UNSHOWN = frozenset(("script", "style", "head", "title", "template"))
#: Elements without an end tag: never open, so never pushed on the stack.
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
#: What a start tag implicitly ends (HTML's optional end tags), looked for only inside the
#: element that holds it (a list item of an outer list is not ended by a nested one's): a
#: new paragraph, list item, row or cell ends the one before, and so ends its hiding.
_TABLE = frozenset({"table", "tbody", "thead", "tfoot"})
_ROOT = frozenset({"html", "body", "td", "th", "table", "caption", "template"})
_ENDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "li": (frozenset({"li"}), _ROOT | {"ul", "ol"}),
    "dt": (frozenset({"dt", "dd"}), _ROOT | {"dl"}),
    "dd": (frozenset({"dt", "dd"}), _ROOT | {"dl"}),
    "tr": (frozenset({"tr"}), _TABLE),
    "td": (frozenset({"td", "th"}), _TABLE | {"tr"}),
    "th": (frozenset({"td", "th"}), _TABLE | {"tr"}),
    "option": (frozenset({"option"}), frozenset({"select"})),
}
#: Block starts that end an open paragraph (``<p>`` inside ``<p>`` is two paragraphs).
_ENDS_P = frozenset(_BLOCKS - {"br", "tr", "li", "tbody", "thead", "dt", "dd"})
_P = frozenset({"p"})

#: Inline style that hides an element in mail readers: display:none, visibility:hidden,
#: Outlook's mso-hide:all, and the preheader tricks (opacity 0, font-size 0, a zero height
#: or width with overflow hidden). Checked on the style attribute with comments removed.
_HIDING = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)"
    r"|mso-hide\s*:\s*all|opacity\s*:\s*0*\.?0*(?:%|\s*(?:!important)?\s*(?:;|$))"
    r"|font-size\s*:\s*0*\.?0*(?:px|pt|em|rem|%)?\s*(?:!important)?\s*(?:;|$))",
    re.IGNORECASE,
)
_ZERO_BOX = re.compile(
    r"(?:^|;)\s*(?:max-)?(?:height|width)\s*:\s*0*\.?0*(?:px|pt|em|rem|%)?\s*(?:!important)?"
    r"\s*(?:;|$)",
    re.IGNORECASE,
)
_OVERFLOW_HIDDEN = re.compile(r"(?:^|;)\s*overflow\s*:\s*hidden", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def _hiding_style(style: str) -> bool:
    style = _CSS_COMMENT.sub("", style)
    if _HIDING.search(style):
        return True
    return bool(_OVERFLOW_HIDDEN.search(style) and _ZERO_BOX.search(style))


@dataclass(frozen=True)
class _Rule:
    """A ``<style>`` rule that hides what it selects: ``.preheader``, ``span.hide``, ``#x``."""

    tag: str
    classes: frozenset[str]
    ids: frozenset[str]


_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_SIMPLE_SELECTOR = re.compile(r"([a-z][a-z0-9]*)?((?:[.#][\w-]+)+)", re.IGNORECASE)
_SELECTOR_PART = re.compile(r"([.#])([\w-]+)")


def _style_rules(html: str) -> tuple[_Rule, ...]:
    """The hiding rules of the body's style sheets, as mail readers that honour ``<style>``
    (Gmail, Apple Mail, Outlook) apply them to preheaders. Only top-level rules with simple
    selectors count: an ``@media`` block hides on some screens only, and a descendant
    selector is not worth a CSS engine here."""
    rules: list[_Rule] = []
    for sheet in _STYLE_BLOCK.findall(html):
        sheet = _CSS_COMMENT.sub("", sheet)
        depth, start, selector = 0, 0, ""
        for match in re.finditer(r"[{}]", sheet):
            if match.group() == "{":
                if depth == 0:
                    selector = sheet[start : match.start()].strip()
                    start = match.end()
                depth += 1
            elif depth:
                depth -= 1
                if depth == 0:
                    body, start = sheet[start : match.start()], match.end()
                    if not selector.startswith("@") and _hiding_style(body):
                        rules.extend(_rules_of(selector))
    return tuple(rules)


def _rules_of(selectors: str) -> list[_Rule]:
    rules = []
    for selector in selectors.split(","):
        match = _SIMPLE_SELECTOR.fullmatch(selector.strip())
        if match:
            parts = _SELECTOR_PART.findall(match.group(2))
            rules.append(
                _Rule(
                    (match.group(1) or "").lower(),
                    frozenset(name for kind, name in parts if kind == "."),
                    frozenset(name for kind, name in parts if kind == "#"),
                )
            )
    return rules


def _hides(tag: str, attrs: list[tuple[str, str | None]], rules: tuple[_Rule, ...]) -> bool:
    """Whether an element is hidden from the reader: the ``hidden`` attribute,
    ``aria-hidden="true"`` (how preheaders are marked), a hiding inline style, or a hiding
    ``<style>`` rule that selects it."""
    classes: set[str] = set()
    ids: set[str] = set()
    for name, value in attrs:
        if name == "hidden":
            return True
        if name == "aria-hidden" and (value or "").strip().lower() == "true":
            return True
        if name == "style" and value and _hiding_style(value):
            return True
        if name == "class" and value:
            classes.update(value.split())
        elif name == "id" and value:
            ids.add(value.strip())
    return any(
        (not rule.tag or rule.tag == tag) and rule.classes <= classes and rule.ids <= ids
        for rule in rules
        if classes or ids
    )


class _HtmlText(HTMLParser):
    """Text of an HTML body as a mail reader shows it, with line breaks where blocks end,
    and the table rows. Hidden elements (``_hides``), ``<head>``, ``<style>``, ``<script>``
    and comments give no text and no rows or cells: an open-element stack says whether
    the text at hand is inside one, ending elements as HTML's optional end tags do."""

    def __init__(self, rules: tuple[_Rule, ...] = ()) -> None:
        super().__init__(convert_charrefs=True)
        self._rules = rules
        self.parts: list[str] = []
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._open: list[tuple[str, bool]] = []  # (tag, hidden: this one or an ancestor)

    def _hidden(self) -> bool:
        return bool(self._open) and self._open[-1][1]

    def _close_to(self, index: int) -> None:
        """End the open elements from ``index`` up, as their end tags would."""
        while len(self._open) > index:
            tag, hidden = self._open.pop()
            self._ended(tag, hidden)

    def _end_open(self, tags: frozenset[str], scope: frozenset[str]) -> None:
        """End the innermost open element named in ``tags``, unless ``scope`` comes first."""
        for index in range(len(self._open) - 1, -1, -1):
            tag = self._open[index][0]
            if tag in tags:
                self._close_to(index)
                return
            if tag in scope:
                return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._open:
            if tag in _ENDS:
                self._end_open(*_ENDS[tag])
            if tag in _ENDS_P:
                self._end_open(_P, _ROOT)
        hidden = self._hidden() or tag in _UNSHOWN or _hides(tag, attrs, self._rules)
        if tag not in _VOID:
            self._open.append((tag, hidden))
        if hidden:
            return
        if tag == "tr":
            self._row = []
        elif tag in _CELLS:
            self._cell = []
        if tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in _CELLS:
            self.parts.append("\t")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:  # <div/> is a start tag in HTML, but XHTML mail means it
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                self._close_to(index)
                return
        # An end tag with nothing open to end: a stray </p> or </br> still breaks the line.
        if tag in _BLOCKS and not self._hidden():
            self.parts.append("\n")

    def _ended(self, tag: str, hidden: bool) -> None:
        if hidden:
            return
        if tag in _CELLS and self._cell is not None:
            if self._row is not None:
                self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._hidden():
            return
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _parse_html(html: str) -> _HtmlText:
    parser = _HtmlText(_style_rules(html) if "<style" in html.lower() else ())
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup: what was read so far counts
        pass
    parser._close_to(0)  # a row or cell left open at the end still counts
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
