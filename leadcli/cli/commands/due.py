"""``leadcli due``: what to do today, for a person, for cron and for scripts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from leadcli.cli.options import (
    FormatOption,
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
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """What to do today, most urgent first: for a person, or for cron each morning.

    Lists overdue and today's follow-ups, cadence steps due, new leads not contacted within
    the speed-to-lead SLA, and leads gone quiet. When nothing is due it prints nothing at all
    and exits 0, so cron sends no mail. --ics writes every follow-up and cadence step due,
    one event each, whatever --limit or the table shows. At most followup.new_lead_limit
    new leads are listed (the most urgent), then one line says how many more wait, so an
    import of old leads never floods the morning mail; --all lists them all. In JSON the
    list is {"items": [...], "more_new_leads": N}.

    Example: leadcli due --days 7 --owner sam
    """
    from leadcli.engagement.due import COUNT_CAP, due_items, due_list
    from leadcli.leads.records import LeadQuery

    app_state = state(ctx)
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
        return
    if not table:
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
        return
    if not items:
        return  # nothing due: no output at all, so cron mails nothing
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
