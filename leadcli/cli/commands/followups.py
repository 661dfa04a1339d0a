"""Follow-up commands: ``log``, ``followup``, ``due``, ``cadence``, ``enroll``, ``unenroll``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from leadcli.cli.commands.scoring import rescoring
from leadcli.cli.options import (
    MAX_INT,
    ActivityKind,
    FormatOption,
    LeadIdsOrStdin,
    OutputFormat,
    OwnerFilter,
    SourceFilter,
    StageFilter,
    TagFilter,
    effective_limit,
    limit_option,
    read_ids,
    split_commas,
    stage_list,
)
from leadcli.cli.output import emit, render_table, say, time_cell, write_object
from leadcli.cli.state import state

app = typer.Typer()

#: A follow-up given as a day without a time ("tomorrow", "3d") is at this local hour.
FOLLOW_UP_HOUR = 9


def _when(text: str, option: str, *, day_time: int | None = None) -> datetime:
    """Parse WHEN into a UTC instant; with ``day_time``, a day given without a time
    ("tomorrow", "3d") means that hour, since a follow-up at midnight is nobody's plan.

    A local time the clocks skip is refused naming the gap; one that happens twice takes
    the first and says so on stderr."""
    import re

    from leadcli.text import dates

    try:
        when = dates.parse_when(text)
        explicit_time = re.search(
            r"\d:\d|\d\s*(am|pm)\b|midnight|noon|tonight|\d+\s*(h|hours?|min)", text.lower()
        )
        if day_time is not None and when.hour == when.minute == 0 and not explicit_time:
            when = when.replace(hour=day_time)
        resolved = dates.resolve_local(when)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
    if resolved.notice:
        say(f"Note: {resolved.notice}.")
    return resolved.utc


def _name(item: dict[str, Any]) -> str:
    name = " ".join(p for p in (item.get("first_name"), item.get("last_name")) if p)
    company = item.get("company")
    return f"{name}, {company}" if name and company else name or company or ""


#: What `log --outcome` suggests on Tab; any other words are accepted too.
COMMON_OUTCOMES = ("connected", "voicemail", "no answer", "wrong number", "replied", "bounced")

LeadOrStdin = Annotated[
    str, typer.Argument(metavar="ID", help="A lead id, or - to read lead ids from stdin.")
]


def _complete_outcome(incomplete: str) -> list[str]:
    return [o for o in COMMON_OUTCOMES if o.startswith(incomplete.lower())]


def _write(records: list[dict[str, Any]], fmt: OutputFormat, columns: list[str], one: bool) -> None:
    """Records in a script format; with ``one`` (one id typed, not -), -f json prints the
    object itself, as these commands always did, and an array otherwise."""
    if fmt is OutputFormat.json:
        write_object(records[0] if one and len(records) == 1 else records, sys.stdout)
    else:
        emit(records, fmt, columns=columns)


@app.command("log")
def log_cmd(
    ctx: typer.Context,
    lead: LeadOrStdin,
    kind: Annotated[ActivityKind, typer.Argument(case_sensitive=False, help="What kind of touch.")],
    note: Annotated[str | None, typer.Argument(help="What happened.")] = None,
    inbound: Annotated[
        bool, typer.Option("--inbound", help="The lead reached out (ends cadences).")
    ] = False,
    at: Annotated[str | None, typer.Option("--at", help="When, if not now.")] = None,
    outcome: Annotated[
        str | None,
        typer.Option(
            "--outcome",
            help="Free text, e.g. connected, voicemail, no answer.",
            autocompletion=_complete_outcome,
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Log a touch with a lead (or with every lead whose id is on stdin, given -: all or
    none). The first outbound one sets first_contacted_at.

    Example: leadcli list --stage mql -q | leadcli log - email "webinar invite"
    """
    from leadcli.engagement.activities import log_many

    when = _when(at, "--at") if at else None
    lead_ids = read_ids([lead], "ID (a whole number, or - to read ids from stdin)")
    if not lead_ids:
        say("No lead ids on stdin; nothing logged.")
        return
    with rescoring(ctx) as touched:
        results = log_many(
            state(ctx).store(),
            lead_ids,
            str(kind.value),
            note,
            inbound=inbound,
            at=when,
            outcome=outcome,
        )
        touched(lead_ids)
    if fmt is not OutputFormat.table:
        _write(results, fmt, list(results[0]), one=lead != "-")
        return
    direction = "inbound" if inbound else "outbound"
    if len(results) > 1:
        say(f"Logged {direction} {kind.value} for {len(results)} leads.")
    else:
        message = f"Logged {direction} {kind.value} for lead {lead_ids[0]}."
        if results[0]["completed_steps"]:
            message += f" Completed {', '.join(results[0]['completed_steps'])}."
        if results[0]["ended_enrolments"]:
            message += " The lead replied: its cadence ended."
        say(message)


class DefaultToAdd(TyperGroup):
    """``followup 42 tomorrow`` means ``followup add 42 tomorrow`` (and ``followup - ...``
    reads the ids from stdin): the common case needs no verb; ``done``, ``snooze`` and
    ``list`` still work."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and (args[0] == "-" or args[0][:1] != "-"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


followup_app = typer.Typer(cls=DefaultToAdd, no_args_is_help=True)
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

    due_at = _when(when, "WHEN", day_time=FOLLOW_UP_HOUR)
    lead_ids = read_ids([lead], "ID (a whole number, or - to read ids from stdin)")
    if not lead_ids:
        say("No lead ids on stdin; nothing scheduled.")
        return
    store = state(ctx).store()
    with store.write():  # several leads: all of them or none
        results = [followups.add(store, i, due_at, note, past=past) for i in lead_ids]
    if fmt is not OutputFormat.table:
        _write(results, fmt, FOLLOWUP_COLUMNS, one=lead != "-")
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
        _when(when, "WHEN", day_time=FOLLOW_UP_HOUR),
        followup_ids=followup_id or [],
    )
    if fmt is not OutputFormat.table:
        emit(moved, fmt, columns=FOLLOWUP_COLUMNS)
        return
    for item in moved:
        say(f"Lead {item['lead_id']}: follow-up {item['id']} moved to {time_cell(item['due_at'])}.")


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
            [i["id"], time_cell(i["due_at"]), i["lead_id"], _name(i), i["phone"], i["note"]]
            + ([i["held"] or ""] if show_all else [])
            for i in items
        ),
        ["#", "Due", "Lead", "Name", "Phone", "Note", *held],
        justify_right=("#", "Lead"),
        no_wrap=("#", "Due", "Lead"),
        keep_whole=("Phone",),
    )


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
        _export_ics(calendar, ics)
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
                _name(i),
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


def _complete_cadence(incomplete: str) -> list[str]:
    from leadcli.engagement import cadences
    from leadcli.errors import LeadcliError

    try:
        names = list(cadences.load())
    except LeadcliError:
        return []
    return [n for n in names if n.startswith(incomplete)]


ENROLMENT_COLUMNS = ["lead_id", "cadence", "enrolment_id"]


@app.command()
def enroll(
    ctx: typer.Context,
    ids: LeadIdsOrStdin,
    cadence: Annotated[
        str | None,
        typer.Option(
            "--cadence",
            "-c",
            help="The cadence's name (the old form `enroll ID... CADENCE` works too).",
            autocompletion=_complete_cadence,
            show_default=False,
        ),
    ] = None,
    file: CadenceFile = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Enroll leads in a nurture cadence (all or none); its steps then come up in `due`.

    Example: leadcli enroll 42 43 --cadence intro
    """
    from leadcli.engagement import cadences

    if cadence is None:
        # The form before --cadence: ids, then the cadence's name last.
        if len(ids) < 2 or ids[-1] == "-" or ids[-1].strip().isdigit():
            raise typer.BadParameter("give the cadence with --cadence NAME", param_hint="--cadence")
        ids, cadence = ids[:-1], ids[-1]
    lead_ids = read_ids(ids)
    if not lead_ids:
        say("No lead ids given; nobody enrolled.")
        return
    found = cadences.get(cadence, file)
    enrolment_ids = cadences.enroll(state(ctx).store(), lead_ids, found)
    if fmt is not OutputFormat.table:
        records = [
            {"lead_id": lead_id, "cadence": found.name, "enrolment_id": enrolment_id}
            for lead_id, enrolment_id in zip(dict.fromkeys(lead_ids), enrolment_ids, strict=True)
        ]
        emit(records, fmt, columns=ENROLMENT_COLUMNS)
        return
    count = len(enrolment_ids)
    say(f"Enrolled {count} lead{'s' if count != 1 else ''} in {found.name}.")


@app.command()
def unenroll(
    ctx: typer.Context,
    ids: LeadIdsOrStdin,
    cadence: Annotated[
        str | None,
        typer.Option(
            "--cadence",
            "-c",
            help="Only this cadence (default: every cadence).",
            autocompletion=_complete_cadence,
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """End leads' cadence enrolments (all or none).

    Example: leadcli unenroll 42 --cadence intro
    """
    from leadcli.engagement import cadences

    lead_ids = read_ids(ids)
    if not lead_ids:
        say("No lead ids given; nothing to end.")
        return
    ended = cadences.unenroll(state(ctx).store(), lead_ids, cadence)
    if fmt is not OutputFormat.table:
        emit(
            [{"lead_id": i, "cadence": cadence, "ended": n} for i, n in ended.items()],
            fmt,
            columns=["lead_id", "cadence", "ended"],
        )
        return
    count = sum(ended.values())
    if count == 0:
        which = f"in cadence {cadence!r} " if cadence else ""
        whom = f"Lead {lead_ids[0]} is" if len(ended) == 1 else "None of these leads is"
        say(f"{whom} not enrolled {which}at the moment; nothing to end.")
        return
    say(f"Ended {count} enrolment{'s' if count != 1 else ''}.")
