"""Option types shared by many commands, defined once."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from leadcli.pipeline.stages import STAGES


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"


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


def parse_stage(value: str) -> str:
    """Option callback helper: our stage names, case-insensitive; exit 2 on anything else."""
    stage = value.strip().lower()
    if stage not in STAGES:
        raise typer.BadParameter(f"{value!r} is not a stage; use one of {', '.join(STAGES)}")
    return stage


def stage_list(values: list[str] | None) -> list[str]:
    return [parse_stage(v) for v in values or []]


# Lead filters shared by `list` and `due`, so they read and behave the same everywhere.
StageFilter = Annotated[
    list[str] | None, typer.Option("--stage", "-s", help="Only these stages (repeatable).")
]
SourceFilter = Annotated[
    list[str] | None, typer.Option("--source", help="Only these sources (repeatable).")
]
TagFilter = Annotated[
    list[str] | None, typer.Option("--tag", "-t", help="Only leads with every such tag.")
]
OwnerFilter = Annotated[
    list[str] | None, typer.Option("--owner", help="Only these owners (repeatable).")
]
