"""``leadcli followup``: schedule follow-ups (the verb ``add`` optional), ``done``, ``snooze``,
``list``."""

from __future__ import annotations

from typing import Annotated

import typer

from leadcli.cli.options import (
    MAX_INT,
    FormatOption,
    OutputFormat,
    OwnerFilter,
    SourceFilter,
    StageFilter,
    TagFilter,
    read_ids,
    split_commas,
    stage_list,
)
from leadcli.cli.output import emit, render_table, say, time_cell
from leadcli.cli.shared import (
    IcsOption,
    LeadOrStdin,
    default_group,
    display_name,
    export_ics,
    when_option,
    write_records,
)
from leadcli.cli.state import state
from leadcli.text.dates import FOLLOW_UP_HOUR

app = typer.Typer()

followup_app = typer.Typer(cls=default_group("add"), no_args_is_help=True)
app.add_typer(
    followup_app,
    name="followup",
    help="Schedule follow-ups: `followup ID WHEN [NOTE]`; also done, snooze, list.\n\n"
    "Example: leadcli followup 42 'tomorrow 9am' 'send the proposal'",
)


FOLLOWUP_COLUMNS = ["id", "lead_id", "due_at", "note"]


@followup_app.command("add")
def followup_add(
    ctx: typer.Context,
    lead: LeadOrStdin,
    when: Annotated[
        str,
        typer.Argument(
            help="'tomorrow 9am', 'in 3 days', 3d, 2w, 'next monday', '2026-12-01 14:00'."
        ),
    ],
    note: Annotated[str | None, typer.Argument(help="What to do.")] = None,
    past: Annotated[
        bool, typer.Option("--past", help="Allow a time already past (recording one late).")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Schedule a follow-up (the verb is optional: `followup ID WHEN`); with - for ID, one
    for every lead whose id is on stdin (all or none).

    Example: leadcli followup 42 3d "call about the proposal"
    """
    from leadcli.engagement import followups

    due_at = when_option(when, "WHEN", day_time=FOLLOW_UP_HOUR)
    lead_ids = read_ids([lead], "ID (a whole number, or - to read ids from stdin)")
    if not lead_ids:
        say("No lead ids on stdin; nothing scheduled.")
        return
    store = state(ctx).store()
    with store.write():  # several leads: all of them or none
        results = [followups.add(store, i, due_at, note, past=past) for i in lead_ids]
    if fmt is not OutputFormat.table:
        write_records(results, fmt, FOLLOWUP_COLUMNS, one=lead != "-")
        return
    who = f"lead {lead_ids[0]}" if len(results) == 1 else f"{len(results)} leads"
    say(f"Follow-up for {who} on {time_cell(results[0]['due_at'])}.")


FollowupIds = Annotated[
    list[int] | None,
    typer.Option(
        "--id",
        max=MAX_INT,
        help="A follow-up's id, as `followup list` shows it (repeatable).",
    ),
]


@followup_app.command("done")
def followup_done(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ID...]", help="Lead ids, or - to read them from stdin."),
    ] = None,
    followup_id: FollowupIds = None,
    all_open: Annotated[
        bool, typer.Option("--all", help="Close every open follow-up of these leads.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Mark follow-ups done: each lead's next one (the one `due` shows), every open one with
    --all, or exactly the follow-ups named with --id. All of them or none.

    Example: leadcli followup done 42 43; leadcli followup done --id 7
    """
    from leadcli.engagement import followups

    lead_ids = read_ids(ids or [])
    if not lead_ids and not followup_id:
        if ids:  # `-` with nothing on stdin
            say("No lead ids on stdin; nothing done.")
            return
        raise typer.BadParameter("give lead ids, or --id FOLLOWUP", param_hint="ID...")
    closed = followups.done(
        state(ctx).store(), lead_ids, followup_ids=followup_id or [], all_open=all_open
    )
    if fmt is not OutputFormat.table:
        emit(closed, fmt, columns=[*FOLLOWUP_COLUMNS, "done_at"])
        return
    count = len(closed)
    say(f"{count} follow-up{'s' if count != 1 else ''} done.")


@followup_app.command("snooze")
def followup_snooze(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="[ID...] WHEN",
            help="Lead ids (or - for ids on stdin), then the new time, e.g. 'next monday' or "
            "2d. With --id, only WHEN.",
        ),
    ],
    followup_id: FollowupIds = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Move each lead's next follow-up, or the follow-ups named with --id, to a later time.

    Example: leadcli followup snooze 42 "next monday 10am"; leadcli followup snooze --id 7 2d
    """
    from leadcli.engagement import followups

    *id_args, when = args
    if not id_args and not followup_id:
        raise typer.BadParameter(
            "give lead ids (or --id FOLLOWUP), then WHEN", param_hint="[ID...] WHEN"
        )
    lead_ids = read_ids(id_args)
    if not lead_ids and not followup_id:
        say("No lead ids on stdin; nothing snoozed.")
        return
    moved = followups.snooze(
        state(ctx).store(),
        lead_ids,
        when_option(when, "WHEN", day_time=FOLLOW_UP_HOUR),
        followup_ids=followup_id or [],
    )
    if fmt is not OutputFormat.table:
        emit(moved, fmt, columns=FOLLOWUP_COLUMNS)
        return
    for item in moved:
        say(f"Lead {item['lead_id']}: follow-up {item['id']} moved to {time_cell(item['due_at'])}.")


@followup_app.command("list")
def followup_list(
    ctx: typer.Context,
    lead_id: Annotated[
        int | None, typer.Option("--lead", max=MAX_INT, help="Only this lead's.")
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            min=0,
            max=36500,
            help="Only those due by the end of the day this many days ahead (0: today), "
            "overdue included. Default: all.",
            show_default=False,
        ),
    ] = None,
    owner: OwnerFilter = None,
    stage: StageFilter = None,
    source: SourceFilter = None,
    tag: TagFilter = None,
    ics: IcsOption = None,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also those of leads who are do-not-contact or lost, marked (column "
            "`held`; in the calendar, in front of the title).",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List open follow-ups, soonest first, with their ids (for `followup done --id`).

    Takes the filters `due` takes. Follow-ups of leads who are do-not-contact or lost are
    left out, from the calendar too, unless --all.

    Example: leadcli followup list --days 7 --owner sam --ics ~/followups.ics
    """
    from leadcli.engagement import followups
    from leadcli.leads.records import LeadQuery

    app_state = state(ctx)
    until = None
    if days is not None:
        from leadcli.engagement.due import window

        until = window(app_state.config(), days).horizon
    query = LeadQuery(
        stages=stage_list(stage),
        owners=owner or [],
        sources=source or [],
        tags=split_commas(tag),
    )
    items = followups.open_followups(
        app_state.store(create=False), lead_id, query=query, until=until, include_held=show_all
    )
    if ics:
        export_ics(items, ics)
    columns = [
        "id",
        "lead_id",
        "due_at",
        "note",
        "first_name",
        "last_name",
        "company",
        "email",
        "phone",
        "held",
    ]
    if fmt is not OutputFormat.table:
        emit(items, fmt, columns=columns)
        return
    if not items:
        say("No open follow-ups.")
        return
    held = ["Held"] if show_all else []
    render_table(
        (
            [i["id"], time_cell(i["due_at"]), i["lead_id"], display_name(i), i["phone"], i["note"]]
            + ([i["held"] or ""] if show_all else [])
            for i in items
        ),
        ["#", "Due", "Lead", "Name", "Phone", "Note", *held],
        justify_right=("#", "Lead"),
        no_wrap=("#", "Due", "Lead"),
        keep_whole=("Phone",),
    )
