"""Follow-up commands: ``log``, ``followup``, ``due``, ``cadence``, ``enroll``, ``unenroll``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from leadcli.cli.commands.scoring import rescore_touched
from leadcli.cli.options import (
    MAX_INT,
    FormatOption,
    LeadId,
    LeadIds,
    OutputFormat,
    OwnerFilter,
    SourceFilter,
    StageFilter,
    TagFilter,
    parse_id,
    stage_list,
)
from leadcli.cli.output import emit, render_table, say, time_cell, write_object
from leadcli.cli.state import state

app = typer.Typer()

#: A follow-up given as a day without a time ("tomorrow", "3d") is at this local hour.
FOLLOW_UP_HOUR = 9


def _when(text: str, option: str, *, day_time: int | None = None) -> datetime:
    """Parse WHEN; with ``day_time``, a day given without a time ("tomorrow", "3d") means
    that hour, since a follow-up at midnight is nobody's plan."""
    import re

    from leadcli.text import dates

    try:
        when = dates.parse_when(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
    explicit_time = re.search(
        r"\d:\d|\d\s*(am|pm)\b|midnight|noon|\d+\s*(h|hours?|min)", text.lower()
    )
    if day_time is not None and when.hour == when.minute == 0 and not explicit_time:
        when = when.replace(hour=day_time)
    return when


def _name(item: dict[str, Any]) -> str:
    name = " ".join(p for p in (item.get("first_name"), item.get("last_name")) if p)
    company = item.get("company")
    return f"{name}, {company}" if name and company else name or company or ""


@app.command("log")
def log_cmd(
    ctx: typer.Context,
    lead_id: LeadId,
    kind: Annotated[str, typer.Argument(help="call, email, meeting, sms, message or note.")],
    note: Annotated[str | None, typer.Argument(help="What happened.")] = None,
    inbound: Annotated[
        bool, typer.Option("--inbound", help="The lead reached out (ends cadences).")
    ] = False,
    at: Annotated[str | None, typer.Option("--at", help="When, if not now.")] = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="e.g. connected, voicemail, no answer.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Log a touch with a lead. The first outbound one sets first_contacted_at.

    Example: leadcli log 42 call "left a voicemail" --outcome voicemail
    """
    from leadcli.engagement.activities import KINDS, log

    if kind.lower() not in KINDS:
        raise typer.BadParameter(f"use one of {', '.join(KINDS)}", param_hint="KIND")
    when = _when(at, "--at") if at else None
    result = log(
        state(ctx).store(),
        lead_id,
        kind.lower(),
        note,
        inbound=inbound,
        at=when,
        outcome=outcome,
    )
    rescore_touched(ctx, [lead_id])
    if fmt is not OutputFormat.table:
        if fmt is OutputFormat.json:
            write_object(result, sys.stdout)
        else:
            emit([result], fmt, columns=list(result))
        return
    message = f"Logged {'inbound' if inbound else 'outbound'} {kind} for lead {lead_id}."
    if result["completed_steps"]:
        message += f" Completed {', '.join(result['completed_steps'])}."
    if result["ended_enrolments"]:
        message += " The lead replied: its cadence ended."
    say(message)


class DefaultToAdd(TyperGroup):
    """``followup 42 tomorrow`` means ``followup add 42 tomorrow``: the common case needs no
    verb, and ``done``, ``snooze`` and ``list`` still work."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


followup_app = typer.Typer(cls=DefaultToAdd, no_args_is_help=True)
app.add_typer(
    followup_app,
    name="followup",
    help="Schedule follow-ups: `followup ID WHEN [NOTE]`; also done, snooze, list.\n\n"
    "Example: leadcli followup 42 'tomorrow 9am' 'send the proposal'",
)


@followup_app.command("add")
def followup_add(
    ctx: typer.Context,
    lead_id: LeadId,
    when: Annotated[
        str,
        typer.Argument(
            help="'tomorrow 9am', 'in 3 days', 3d, 2w, 'next monday', '2026-12-01 14:00'."
        ),
    ],
    note: Annotated[str | None, typer.Argument(help="What to do.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Schedule a follow-up (the verb is optional: `followup ID WHEN`).

    Example: leadcli followup 42 3d "call about the proposal"
    """
    from leadcli.engagement import followups

    result = followups.add(
        state(ctx).store(), lead_id, _when(when, "WHEN", day_time=FOLLOW_UP_HOUR), note
    )
    if fmt is OutputFormat.table:
        say(f"Follow-up for lead {lead_id} on {time_cell(result['due_at'])}.")
    elif fmt is OutputFormat.json:
        write_object(result, sys.stdout)
    else:
        emit([result], fmt, columns=list(result))


@followup_app.command("done")
def followup_done(
    ctx: typer.Context,
    lead_ids: LeadIds,
) -> None:
    """Mark the leads' open follow-ups done.

    Example: leadcli followup done 42 43
    """
    from leadcli.engagement import followups

    count = followups.done(state(ctx).store(), lead_ids)
    say(f"{count} follow-up{'s' if count != 1 else ''} done.")


@followup_app.command("snooze")
def followup_snooze(
    ctx: typer.Context,
    lead_id: LeadId,
    when: Annotated[str, typer.Argument(help="The new time, e.g. 'next monday' or 2d.")],
) -> None:
    """Move a lead's next follow-up to a later time.

    Example: leadcli followup snooze 42 "next monday 10am"
    """
    from leadcli.engagement import followups

    result = followups.snooze(
        state(ctx).store(), lead_id, _when(when, "WHEN", day_time=FOLLOW_UP_HOUR)
    )
    say(f"Lead {lead_id}: follow-up moved to {time_cell(result['due_at'])}.")


def _export_ics(items: list[dict[str, Any]], path: Path) -> None:
    from leadcli.exporting.calendar import write_ics

    count = write_ics(items, path)
    say(f"Wrote {count} event{'s' if count != 1 else ''} to {path}.")


IcsOption = Annotated[
    Path | None,
    typer.Option("--ics", metavar="FILE", help="Also write them as an iCalendar (.ics) file."),
]


@followup_app.command("list")
def followup_list(
    ctx: typer.Context,
    lead_id: Annotated[
        int | None, typer.Option("--lead", max=MAX_INT, help="Only this lead's.")
    ] = None,
    ics: IcsOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List open follow-ups, soonest first.

    Example: leadcli followup list --ics ~/followups.ics
    """
    from leadcli.engagement import followups

    items = followups.open_followups(state(ctx).store(), lead_id)
    if ics:
        _export_ics(items, ics)
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
    ]
    if fmt is not OutputFormat.table:
        emit(items, fmt, columns=columns)
        return
    if not items:
        say("No open follow-ups.")
        return
    render_table(
        ([time_cell(i["due_at"]), i["lead_id"], _name(i), i["phone"], i["note"]] for i in items),
        ["Due", "ID", "Lead", "Phone", "Note"],
        justify_right=("ID",),
        no_wrap=("Due", "ID", "Phone"),
    )


DUE_TABLE_LIMIT = 50
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
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            max=MAX_INT,
            show_default=False,
            help=f"At most this many (0: all). Default: all, or {DUE_TABLE_LIMIT} in a table.",
        ),
    ] = None,
    ics: IcsOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """What to do today, most urgent first: for a person, or for cron each morning.

    Lists overdue and today's follow-ups, cadence steps due, new leads not contacted within
    the speed-to-lead SLA, and leads gone quiet. When nothing is due it prints nothing at all
    and exits 0, so cron sends no mail. --ics writes every follow-up and cadence step due,
    one event each, whatever --limit or the table shows.

    Example: leadcli due --days 7 --owner sam
    """
    from leadcli.engagement.due import COUNT_CAP, due_items
    from leadcli.leads.records import LeadQuery

    app_state = state(ctx)
    table = fmt is OutputFormat.table
    effective = (DUE_TABLE_LIMIT if table else None) if limit is None else limit or None
    query = LeadQuery(
        stages=stage_list(stage), owners=owner or [], sources=source or [], tags=tag or []
    )
    items, total = due_items(
        app_state.store(), app_state.config(), query, days=days, limit=effective
    )
    if ics:
        # The calendar gets every follow-up and cadence step due, whatever the table or
        # --limit shows (and none of the new or quiet leads, which have no time of their own).
        calendar, _ = due_items(
            app_state.store(), app_state.config(), query, days=days, kinds=CALENDAR_KINDS
        )
        _export_ics(calendar, ics)
    if not table:
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
                _name(i),
                i["phone"] or i["email"],
                i["detail"],
            ]
            for i in items
        ),
        ["Urgency", "Due", "What", "ID", "Lead", "Contact", "Note"],
        title=f"Due: {_more_than(total, COUNT_CAP)} item{'s' if total != 1 else ''}",
        justify_right=("Urgency", "ID"),
        no_wrap=("Urgency", "Due", "ID"),
    )
    if total > len(items):
        more = _more_than(total - len(items), COUNT_CAP - len(items))
        say(f"{more} more; use --limit 0 to see all.")


cadence_app = typer.Typer(no_args_is_help=True)
app.add_typer(
    cadence_app,
    name="cadence",
    help="Nurture cadences: list and show them.\n\n"
    "Example: leadcli cadence show intro --file examples/cadences.toml",
)
CadenceFile = Annotated[
    Path | None,
    typer.Option(
        "--file",
        metavar="FILE",
        help="A cadence TOML file (default: cadences.toml beside the config).",
    ),
]


@cadence_app.command("list")
def cadence_list(file: CadenceFile = None, fmt: FormatOption = OutputFormat.table) -> None:
    """List the cadences defined in the cadence file.

    Example: leadcli cadence list --file examples/cadences.toml
    """
    from leadcli.engagement import cadences

    records = [
        {
            "name": c.name,
            "steps": len(c.steps),
            "days": c.steps[-1].day,
            "description": c.description,
        }
        for c in cadences.load(file).values()
    ]
    if fmt is not OutputFormat.table:
        emit(records, fmt, columns=["name", "steps", "days", "description"])
    elif records:
        render_table(
            ([r["name"], r["steps"], r["days"], r["description"]] for r in records),
            ["Cadence", "Steps", "Days", "Description"],
        )
    else:
        from leadcli.engagement.cadences import default_path

        say(f"No cadences; define them in {file or default_path()}.")


@cadence_app.command("show")
def cadence_show(
    name: Annotated[str, typer.Argument(help="The cadence's name.")],
    file: CadenceFile = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show a cadence's steps.

    Example: leadcli cadence show intro
    """
    from leadcli.engagement import cadences

    cadence = cadences.get(name, file)
    records = [
        {"step": n, "day": s.day, "kind": s.kind, "note": s.note}
        for n, s in enumerate(cadence.steps, start=1)
    ]
    if fmt is not OutputFormat.table:
        emit(records, fmt, columns=["step", "day", "kind", "note"])
        return
    render_table(
        ([r["step"], r["day"], r["kind"], r["note"]] for r in records),
        ["Step", "Day", "Kind", "Note"],
        title=f"Cadence {name}",
    )


@app.command()
def enroll(
    ctx: typer.Context,
    args: Annotated[
        list[str], typer.Argument(metavar="ID... CADENCE", help="Lead ids, then the cadence.")
    ],
    file: CadenceFile = None,
) -> None:
    """Enroll leads in a nurture cadence; its steps then come up in `due`.

    Example: leadcli enroll 42 43 intro
    """
    from leadcli.engagement import cadences

    if len(args) < 2:
        raise typer.BadParameter("give lead ids, then the cadence name", param_hint="ID... CADENCE")
    lead_ids = [parse_id(a, "ID... CADENCE") for a in args[:-1]]
    cadence = cadences.get(args[-1], file)
    ids = cadences.enroll(state(ctx).store(), lead_ids, cadence)
    say(f"Enrolled {len(ids)} lead{'s' if len(ids) != 1 else ''} in {cadence.name}.")


@app.command()
def unenroll(
    ctx: typer.Context,
    lead_ids: LeadIds,
    cadence: Annotated[str | None, typer.Option("--cadence", help="Only this cadence.")] = None,
) -> None:
    """End leads' cadence enrolments.

    Example: leadcli unenroll 42
    """
    from leadcli.engagement import cadences

    count = cadences.unenroll(state(ctx).store(), lead_ids, cadence)
    if count == 0:
        which = f"in cadence {cadence!r} " if cadence else ""
        whom = f"Lead {lead_ids[0]} is" if len(set(lead_ids)) == 1 else "None of these leads is"
        say(f"{whom} not enrolled {which}at the moment; nothing to end.")
        return
    say(f"Ended {count} enrolment{'s' if count != 1 else ''}.")
