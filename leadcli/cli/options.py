"""Option types shared by many commands, defined once."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer

from leadcli.errors import LeadcliError
from leadcli.pipeline.stages import STAGES


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"


# Enumerated values as enums: Typer shows the choices in --help and the shell completes them.
# The values are literals here (importing the core modules that own them would slow every
# start); tests/cli/test_cli_commands.py checks that they match the core's lists.
Stage = StrEnum("Stage", {s: s for s in STAGES})  # type: ignore[misc]


class Rating(StrEnum):
    hot = "hot"
    warm = "warm"
    cold = "cold"


class OnDuplicate(StrEnum):
    merge = "merge"
    skip = "skip"
    update = "update"


class InputFormat(StrEnum):
    csv = "csv"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"
    vcf = "vcf"


class ActivityKind(StrEnum):
    call = "call"
    email = "email"
    meeting = "meeting"
    sms = "sms"
    message = "message"
    note = "note"


#: `list --sort`: a key, or the key with - in front for the reverse order.
SORT_KEYS = ("id", "created", "updated", "name", "company", "score", "value", "stage", "follow-up")
SortKey = StrEnum("SortKey", [(k, k) for k in SORT_KEYS] + [(f"-{k}", f"-{k}") for k in SORT_KEYS])  # type: ignore[misc]


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="table for people (the default, also under cron); json, jsonl, csv or tsv for "
        "scripts: every field, stable.",
    ),
]


#: The largest integer SQLite stores: a bigger id or count cannot name anything.
MAX_INT = 2**63 - 1


def parse_id(text: str, param_hint: str = "ID") -> int:
    """A lead id typed by a person: ASCII digits only (``str.isdigit`` also accepts "²",
    which ``int`` refuses); anything else is a usage error (exit 2)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_INT:
        raise typer.BadParameter("ids are whole numbers such as 42", param_hint=param_hint)
    return int(text)


LeadId = Annotated[int, typer.Argument(metavar="ID", max=MAX_INT, help="The lead's id.")]
LeadIds = Annotated[list[int], typer.Argument(metavar="ID...", max=MAX_INT, help="Lead ids.")]
#: Lead ids as typed: whole numbers, or - to read them from stdin (see ``read_ids``).
LeadIdsOrStdin = Annotated[
    list[str],
    typer.Argument(metavar="ID...", help="Lead ids, or - to read them from stdin (one a line)."),
]
STDIN_HINT = "ID... (whole numbers, or - to read them from stdin)"


class BadIdLine(LeadcliError):
    """A line on stdin that is not a lead id: bad input, so exit 1 and nothing written."""


def stdin_is_interactive() -> bool:
    """Whether a person is at the keyboard (prompts are allowed); tests replace this to
    simulate a terminal. Callers go through the module (``options.stdin_is_interactive()``)
    so that one replacement serves every command."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def read_ids(args: Sequence[str], param_hint: str = STDIN_HINT) -> list[int]:
    """Lead ids from the arguments; ``-`` reads more from stdin, one a line.

    Blank lines are ignored and an ``id`` header on the first line is skipped, so
    ``list -q``, ``list -f tsv | cut -f1`` and a hand-written file all work. A bad argument
    is a usage error (exit 2); a bad line on stdin is bad input (exit 1). Either way it is
    found before anything is written. Duplicates are kept once, in their first place.
    """
    ids: list[int] = []
    for arg in args:
        if arg == "-":
            ids.extend(_stdin_ids())
        else:
            ids.append(parse_id(arg, param_hint))
    return list(dict.fromkeys(ids))


def _stdin_ids() -> list[int]:
    ids: list[int] = []
    first = True
    for number, line in enumerate(sys.stdin, start=1):
        text = line.strip()
        if not text:
            continue
        if first and text.lower() == "id":
            first = False
            continue
        first = False
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_INT:
            raise BadIdLine(
                f"line {number} of stdin is not a lead id; nothing was changed",
                hint="give one whole number a line, e.g. from `leadcli list -q`",
            )
        ids.append(int(text))
    return ids


def parse_stage(value: str) -> str:
    """Option callback helper: our stage names, case-insensitive; exit 2 on anything else."""
    stage = value.strip().lower()
    if stage not in STAGES:
        raise typer.BadParameter(f"{value!r} is not a stage; use one of {', '.join(STAGES)}")
    return stage


def stage_list(values: Sequence[str] | None) -> list[str]:
    return [parse_stage(str(v)) for v in values or []]


def split_commas(values: Sequence[str] | None) -> list[str]:
    """`--tag a --tag b` and `--tag a,b` mean the same: tags never contain commas."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


# Lead filters shared by `list`, `due` and `followup list`, so they behave the same everywhere.
IdsOnly = Annotated[
    bool,
    typer.Option(
        "--ids",
        "-q",
        help="Print only the lead ids, one a line (for `leadcli log - ...` and other commands).",
    ),
]
StageFilter = Annotated[
    list[Stage] | None,
    typer.Option("--stage", "-s", case_sensitive=False, help="Only these stages (repeatable)."),
]
SourceFilter = Annotated[
    list[str] | None, typer.Option("--source", help="Only these sources (repeatable).")
]
TagFilter = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", help="Only leads with every such tag (repeatable, or a,b)."),
]
OwnerFilter = Annotated[
    list[str] | None, typer.Option("--owner", help="Only these owners (repeatable).")
]
# ... and by `list` and `export`, which select leads the same way.
RatingFilter = Annotated[
    list[Rating] | None,
    typer.Option("--rating", case_sensitive=False, help="Only these ratings (repeatable)."),
]
MinScoreFilter = Annotated[
    int | None, typer.Option("--min-score", min=0, max=100, help="Only scores at least this.")
]
SearchFilter = Annotated[
    str | None, typer.Option("--search", help="Words to find in names, company, email, notes.")
]


def limit_option(table_default: int, what: str = "") -> Any:
    """The ``--limit`` option type of a listing command: unset lists everything for scripts
    and ``table_default`` rows in a table (see ``effective_limit``)."""
    return Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            max=MAX_INT,
            show_default=False,
            help=f"At most this many{what} (0: all). Default: all, or {table_default} in a table.",
        ),
    ]


def effective_limit(limit: int | None, *, table: bool, table_default: int) -> int | None:
    """How many rows to show: ``--limit`` as given (0: all); unset, the table's default in a
    table and all for scripts."""
    if limit is None:
        return table_default if table else None
    return limit or None


def lead_query(
    *,
    stage: list[Stage] | None,
    source: list[str] | None,
    tag: list[str] | None,
    rating: list[Rating] | None,
    owner: list[str] | None,
    min_score: int | None,
    search: str | None,
    **more: Any,
) -> Any:
    """The ``LeadQuery`` the shared lead filters above select (``more``: sort, limit)."""
    from leadcli.leads.records import LeadQuery

    return LeadQuery(
        stages=stage_list(stage),
        sources=source or [],
        tags=split_commas(tag),
        ratings=[str(r.value) for r in rating or []],
        owners=owner or [],
        min_score=min_score,
        search=search,
        **more,
    )
