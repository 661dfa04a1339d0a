"""Rendering results: Rich tables for people; JSON, JSON Lines, CSV and TSV for scripts
(written by ``leadcli.exporting.writers``, which has no Rich in it).

Every cell of lead data passes through ``leadcli.text.safe_text``: tables show control characters
as visible escapes and never interpret Rich markup (cells are ``Text`` objects, not strings
Rich would parse); CSV/TSV neutralise spreadsheet formulas. Rich is imported only when a
table is drawn, since scripts asking for JSON should not pay for it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from leadcli.cli.options import OutputFormat
from leadcli.exporting import writers
from leadcli.text import dates
from leadcli.text.safe_text import visible

if TYPE_CHECKING:
    from rich.console import Console

NON_TTY_WIDTH = 100
#: A word in free text longer than this (a URL in a note) may fold; shorter ones never do.
FREE_TEXT_WORD_MAX = 30
#: Characters between two columns in our tables (padding and the separator).
COLUMN_GAP = 3


# An amount, a count or a phone number as a table shows it: digits with separators.
_WHOLE_VALUE = re.compile(r"^[+(]?[0-9][0-9 (),./:-]*$")


def _plain_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def make_console(file: TextIO | None = None) -> Console:
    """A Console that follows the contract: no colour off a TTY or with NO_COLOR; width from
    COLUMNS, else the terminal's, else 100 (cron mail is read in a wide window)."""
    from rich.console import Console

    file = file or sys.stdout
    is_tty = file.isatty()
    width: int | None = None
    columns = os.environ.get("COLUMNS", "")
    if _plain_number(columns) and int(columns) > 0:
        width = int(columns)
    elif not is_tty:
        width = NON_TTY_WIDTH
    # Rich reads COLUMNS / LINES itself and int()s anything str.isdigit() accepts ("²"):
    # it sees them only when they are plain numbers.
    environ = {
        k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES") or _plain_number(v)
    }
    return Console(
        file=file,
        width=width,
        _environ=environ,
        no_color=not is_tty or "NO_COLOR" in os.environ,
        color_system="auto" if is_tty else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )


def say(message: str) -> None:
    """A message for people, on stderr. It may quote paths, file names or names from a
    configuration: control characters are shown, never sent to the terminal."""
    sys.stderr.write("\n".join(visible(line) for line in message.split("\n")) + "\n")


@contextlib.contextmanager
def progress(label: str, unit: str) -> Iterator[Callable[[int, int], None] | None]:
    """A ``(done, total)`` callback drawing a bar on stderr while stderr is a terminal; None
    off one (cron, scripts), so stdout carries only records. Drawn when called, never by a
    refresh thread (an import forks, and a fork must not copy running threads)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        console=Console(stderr=True),
        transient=True,
        auto_refresh=False,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

        yield update


def cell_text(value: Any, *, lines: bool = False) -> str:
    """A value as table text: control characters made visible, lists joined.

    With ``lines`` a line break in the text stays a line break (each line is made visible
    on its own): a note or a mail body reads as written, and a cell's lines are drawn by
    Rich inside the cell, never sent to the terminal as they came.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(visible(str(v)) for v in value)
    if lines:
        return "\n".join(visible(line) for line in str(value).split("\n"))
    return visible(str(value))


def safe_cell(value: Any, *, lines: bool = False) -> Any:
    """Rich renderable for untrusted data: a Text, so ``[bold]`` stays literal."""
    from rich.text import Text

    return Text(cell_text(value, lines=lines))


def time_cell(value: str | None) -> str:
    return dates.to_local_display(value)


# --------------------------------------------------------------------------- scripts
# The writers live in leadcli.exporting.writers (no Rich there); these names stay importable
# from here for the command modules.
write_object = writers.write_object
flat_row = writers.flat_row


def emit(
    records: Iterable[dict[str, Any]],
    fmt: OutputFormat,
    *,
    columns: Sequence[str],
    out: TextIO | None = None,
) -> None:
    """Write records in a script format (everything except ``table``)."""
    writers.write_records(records, str(fmt), columns=columns, out=out or sys.stdout)


def _unbreakable(text: str) -> bool:
    """A number, an amount or a phone number written with spaces: one value, never folded."""
    return _WHOLE_VALUE.match(text) is not None


def _column_range(texts: Iterable[str], header: str, whole: bool) -> tuple[int, int]:
    """The narrowest and widest a column may be: whole values for ``whole`` columns; for
    free text the longest word (a line folds between words, never inside one), except
    words longer than FREE_TEXT_WORD_MAX (a URL in a note), which may fold."""
    from rich.cells import cell_len

    narrowest = max((cell_len(w) for w in header.split()), default=0)
    widest = cell_len(header)
    for text in texts:
        for line in text.split("\n"):
            width = cell_len(line)
            widest = max(widest, width)
            if whole or _unbreakable(line):
                narrowest = max(narrowest, width)
                continue
            longest = max((cell_len(w) for w in line.split()), default=0)
            narrowest = max(narrowest, min(longest, FREE_TEXT_WORD_MAX))
    return max(narrowest, 1), max(widest, 1)


def column_widths(ranges: Sequence[tuple[int, int]], room: int) -> list[int]:
    """Each column's width for ``room`` characters of cells: every column whole if they fit;
    else the widest foldable columns give way first, never below their narrowest (so the
    sum exceeds ``room`` when the narrowest do not fit)."""
    widths = [widest for _, widest in ranges]
    excess = sum(widths) - room
    while excess > 0:
        foldable = [i for i, (narrowest, _) in enumerate(ranges) if widths[i] > narrowest]
        if not foldable:
            break
        widest = max(widths[i] for i in foldable)
        at_widest = [i for i in foldable if widths[i] == widest]
        # Down to the next column's width (or the narrowest), all widest columns together.
        floor = max(
            [widths[i] for i in foldable if widths[i] < widest] + [ranges[i][0] for i in at_widest]
        )
        step = min(widest - floor, -(-excess // len(at_widest)))
        for i in at_widest:
            if excess <= 0:
                break
            cut = min(step, widths[i] - ranges[i][0], excess)
            widths[i] -= cut
            excess -= cut
    return widths


def render_table(
    rows: Iterable[Sequence[Any]],
    headers: Sequence[str],
    *,
    title: str | None = None,
    console: Console | None = None,
    justify_right: Sequence[str] = (),
    no_wrap: Sequence[str] = (),
    keep_whole: Sequence[str] = (),
    lines: Sequence[str] = (),
) -> None:
    """Draw rows of values as a table; columns named in ``no_wrap`` or ``keep_whole`` (ids,
    e-mails, phones, dates) are never folded, the others fold between words to fit the
    width. Columns named in ``lines`` (notes, mail bodies) keep their text's line breaks.

    The widths are worked out here, not by Rich, which shrinks a column below its longest
    word and splits names in the middle (``Umbrell`` / ``a``). When even the narrowest
    widths are wider than the console, the table grows past it rather than break a word or
    an address: a long line in a mail scrolls, a broken address cannot be used.
    """
    from rich import box
    from rich.table import Table

    console = console or make_console()
    cells = [[safe_cell(v, lines=headers[i] in lines) for i, v in enumerate(row)] for row in rows]
    ranges = [
        _column_range(
            (row[index].plain for row in cells),
            header,
            whole=header in keep_whole or header in no_wrap,
        )
        for index, header in enumerate(headers)
    ]
    gaps = COLUMN_GAP * max(len(headers) - 1, 0)
    widths = column_widths(ranges, console.width - gaps)
    table = Table(
        title=visible(title) if title else None,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        title_justify="left",
        title_style="bold",
    )
    for header, width in zip(headers, widths, strict=True):
        table.add_column(
            header,
            justify="right" if header in justify_right else "left",
            overflow="fold",
            no_wrap=header in keep_whole or header in no_wrap,
            width=width,
        )
    for row in cells:
        table.add_row(*row)
    needed = sum(widths) + gaps
    if needed <= console.width:
        console.print(table)
        return
    width = console.width
    console.width = needed
    try:
        console.print(table)
    finally:
        console.width = width
