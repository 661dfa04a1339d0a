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
#: A free-text column (names, notes) is not wrapped narrower than this.
FREE_TEXT_MIN = 8
#: Characters between two columns in our tables (padding and the separator).
COLUMN_GAP = 3


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


def cell_text(value: Any) -> str:
    """A value as table text: control characters made visible, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(visible(str(v)) for v in value)
    return visible(str(value))


def safe_cell(value: Any) -> Any:
    """Rich renderable for untrusted data: a Text, so ``[bold]`` stays literal."""
    from rich.text import Text

    return Text(cell_text(value))


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


def render_table(
    rows: Iterable[Sequence[Any]],
    headers: Sequence[str],
    *,
    title: str | None = None,
    console: Console | None = None,
    justify_right: Sequence[str] = (),
    no_wrap: Sequence[str] = (),
    keep_whole: Sequence[str] = (),
) -> None:
    """Draw rows of values as a table; columns named in ``no_wrap`` are never folded
    (ids, phones, dates), the others fold to fit the width.

    Columns named in ``keep_whole`` (e-mail addresses, phone numbers) are also never
    shortened: they get the width of their longest value, and the free-text columns wrap
    to make room. In a cron mail (width 100) an address broken across lines cannot be
    copied or clicked.
    """
    from rich import box
    from rich.table import Table

    console = console or make_console()
    cells = [[safe_cell(v) for v in row] for row in rows]
    table = Table(
        title=visible(title) if title else None,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        title_justify="left",
        title_style="bold",
    )
    # The narrowest each column may get: whole values for kept and no-wrap columns, a few
    # characters (or its header) for free text, which wraps to make room.
    minimums = []
    for index, header in enumerate(headers):
        longest = max((row[index].cell_len for row in cells), default=0)
        if header in keep_whole or header in no_wrap:
            minimums.append(max(longest, len(header)))
        else:
            minimums.append(min(max(longest, len(header)), max(len(header), FREE_TEXT_MIN)))
        table.add_column(
            header,
            justify="right" if header in justify_right else "left",
            overflow="fold",
            no_wrap=header in keep_whole or header in no_wrap,
            min_width=minimums[-1] if header in keep_whole or header in no_wrap else None,
        )
    for row in cells:
        table.add_row(*row)
    # When even that is wider than the console, the table grows past it rather than break
    # an address: a long line in a mail scrolls, a broken address cannot be used.
    needed = sum(minimums) + COLUMN_GAP * max(len(headers) - 1, 0)
    if needed <= console.width:
        console.print(table)
        return
    width = console.width
    console.width = needed
    try:
        console.print(table)
    finally:
        console.width = width
