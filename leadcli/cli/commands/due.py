"""``leadcli due``: what to do today, for a person, for cron and for scripts."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from leadcli.cli.options import (
    OutputFormat,
    OwnerFilter,
    SourceFilter,
    StageFilter,
    TagFilter,
    effective_limit,
    limit_option,
    split_commas,
    stage_list,
)
from leadcli.cli.output import emit, render_table, say, time_cell, write_object
from leadcli.cli.shared import IcsOption, display_name, export_ics
from leadcli.cli.state import state

app = typer.Typer()

#: ``due``'s formats: every script format, and ``line``, one plain line an item for cron mail.
DueFormat = StrEnum(  # type: ignore[misc]
    "DueFormat", {**{f.value: f.value for f in OutputFormat}, "line": "line"}
)
#: ``--exit-status``'s code when nothing is due: not 1, which is every error's (a missing
#: database must never read as "nothing to do today"), as grep and diff keep "no match" (1)
#: apart from trouble (2); 3 as ``systemctl is-active`` says "inactive".
NOTHING_DUE = 3

DUE_TABLE_LIMIT = 50
DueLimit = limit_option(DUE_TABLE_LIMIT)
#: The due items that are events at a time of their own.
CALENDAR_KINDS = ("follow_up", "cadence")


def _more_than(count: int, cap: int) -> str:
    """A count that ``due_items`` knows exactly up to a cap, and past it only as "more"."""
    return f"more than {cap}" if count > cap else str(count)


_LABELS = {
    "follow_up": "follow-up",
    "cadence": "cadence",
    "new_lead": "new lead",
    "stale": "gone quiet",
}


@app.command()
def due(
    ctx: typer.Context,
    days: Annotated[
        int,
        typer.Option("--days", min=0, max=36500, help="Also what is due this many days ahead."),
    ] = 0,
    owner: OwnerFilter = None,
    stage: StageFilter = None,
    source: SourceFilter = None,
    tag: TagFilter = None,
    limit: DueLimit = None,
    every_new_lead: Annotated[
        bool,
        typer.Option(
            "--all",
            help="List every new lead not contacted yet, not only the first "
            "followup.new_lead_limit (default 20).",
        ),
    ] = False,
    ics: IcsOption = None,
    exit_status: Annotated[
        bool,
        typer.Option(
            "--exit-status",
            help=f"Exit 0 when something is due, {NOTHING_DUE} when nothing is (1 stays an "
            "error), for `if leadcli due --exit-status -f line; then ...`.",
        ),
    ] = False,
    fmt: Annotated[
        DueFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="table for people (the default, also under cron); line: one plain line an "
            "item, for mail; json, jsonl, csv or tsv for scripts: every field, stable.",
        ),
    ] = DueFormat.table,
) -> None:
    """What to do today, most urgent first: for a person, or for cron each morning.

    Lists overdue and today's follow-ups, cadence steps due, new leads not contacted within
    the speed-to-lead SLA, and leads gone quiet. When nothing is due it prints nothing at all
    and exits 0 (3 with --exit-status), so cron sends no mail. --ics writes every follow-up
    and cadence step due, one event each, whatever --limit or the table shows. At most
    followup.new_lead_limit new leads are listed (the most urgent), then one line says how
    many more wait, so an import of old leads never floods the morning mail; --all lists
    them all. In JSON the list is {"items": [...], "more_new_leads": N}.

    Example: leadcli due --days 7 --owner sam; in cron: leadcli due -f line --exit-status
    """
    from leadcli.engagement.due import COUNT_CAP, due_items, due_list
    from leadcli.leads.records import LeadQuery

    app_state = state(ctx)
    line = fmt is DueFormat.line
    fmt = OutputFormat.table if line else OutputFormat(fmt.value)
    table = fmt is OutputFormat.table
    effective = effective_limit(limit, table=table, table_default=DUE_TABLE_LIMIT)
    query = LeadQuery(
        stages=stage_list(stage), owners=owner or [], sources=source or [], tags=split_commas(tag)
    )
    new_limit = None if every_new_lead else app_state.config()["followup.new_lead_limit"]
    due = due_list(
        app_state.store(create=False),
        app_state.config(),
        query,
        days=days,
        limit=effective,
        new_lead_limit=new_limit,
    )
    items, total = due.items, due.total
    shown_new = sum(1 for i in items if i["kind"] == "new_lead")
    # New leads held back by the new-lead limit (not those a --limit cut, counted below).
    held = new_limit is not None and shown_new >= new_limit
    more_new = max(0, due.new_leads - shown_new) if held else 0
    held_line = (
        f"{_more_than(more_new, COUNT_CAP - shown_new)} more new lead"
        f"{'s' if more_new != 1 else ''} not contacted yet; `leadcli due --all` lists them."
        if more_new
        else None
    )
    if ics:
        # The calendar gets every follow-up and cadence step due, whatever the table or
        # --limit shows (and none of the new or quiet leads, which have no time of their own).
        calendar, _ = due_items(
            app_state.store(), app_state.config(), query, days=days, kinds=CALENDAR_KINDS
        )
        export_ics(calendar, ics)
    if fmt is OutputFormat.json:
        # An object, not a bare list: a script must see that new leads were held back.
        write_object({"items": items, "more_new_leads": more_new}, sys.stdout)
    elif line:
        _print_lines(items, total - len(items) - more_new, held_line)
    elif not table:
        if held_line:
            say(held_line)
        emit(
            items,
            fmt,
            columns=[
                "kind",
                "lead_id",
                "ref_id",
                "due_at",
                "urgency",
                "detail",
                "first_name",
                "last_name",
                "company",
                "email",
                "phone",
                "stage",
                "score",
                "owner",
                "step",
            ],
        )
    elif items:  # nothing due: no output at all, so cron mails nothing
        _print_table(items, total, more_new, held_line)
    if exit_status and not items:
        raise typer.Exit(NOTHING_DUE)


def _line(item: dict[str, Any]) -> str:
    """One item as one line of plain text: every value made safe and on this one line."""
    from leadcli.cli.output import cell_text

    parts = [
        time_cell(item["due_at"]),
        _LABELS[item["kind"]],
        f"#{item['lead_id']}",
        display_name(item),
        item["phone"] or item["email"] or "",
        item["detail"] or "",
    ]
    return "  ".join(" ".join(cell_text(p).split()) for p in parts if p)


def _print_lines(items: list[dict[str, Any]], beyond: int, held_line: str | None) -> None:
    """``-f line``: no table to wrap at any width, so a mail reader shows each item whole."""
    from leadcli.engagement.due import COUNT_CAP

    for item in items:
        sys.stdout.write(_line(item) + "\n")
    if beyond > 0:
        sys.stdout.write(
            f"{_more_than(beyond, COUNT_CAP - len(items))} more; use --limit 0 to see all.\n"
        )
    if held_line:
        sys.stdout.write(held_line + "\n")


def _print_table(
    items: list[dict[str, Any]], total: int, more_new: int, held_line: str | None
) -> None:
    from leadcli.engagement.due import COUNT_CAP

    render_table(
        (
            [
                f"{i['urgency']:.1f}",
                time_cell(i["due_at"]),
                _LABELS[i["kind"]],
                i["lead_id"],
                display_name(i),
                i["phone"] or i["email"],
                i["detail"],
            ]
            for i in items
        ),
        ["Urgency", "Due", "What", "ID", "Lead", "Contact", "Note"],
        title=f"Due: {_more_than(total, COUNT_CAP)} item{'s' if total != 1 else ''}",
        justify_right=("Urgency", "ID"),
        no_wrap=("Urgency", "Due", "What", "ID"),
        keep_whole=("Contact",),
    )
    beyond = total - len(items) - more_new  # items the --limit cut, new leads apart
    if beyond > 0:
        say(f"{_more_than(beyond, COUNT_CAP - len(items))} more; use --limit 0 to see all.")
    if held_line:
        say(held_line)
