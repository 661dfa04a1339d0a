"""Qualification and stage commands: ``qualify``, ``advance`` and ``history``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from leadcli.cli import options
from leadcli.cli.options import (
    FormatOption,
    LeadId,
    LeadIdsOrStdin,
    OutputFormat,
    Stage,
    read_ids,
)
from leadcli.cli.output import emit, render_table, say, time_cell, write_object
from leadcli.cli.shared import rescoring
from leadcli.cli.state import state
from leadcli.errors import LeadcliError
from leadcli.text.safe_text import visible

app = typer.Typer()


def _complete_reason(incomplete: str) -> list[str]:
    from leadcli.pipeline.transitions import COMMON_LOST_REASONS

    return [r for r in COMMON_LOST_REASONS if r.startswith(incomplete.lower())]


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    days, rest = divmod(seconds, 86400)
    hours = rest // 3600
    if days:
        return f"{days}d {hours}h" if days < 7 and hours else f"{days}d"
    minutes = rest % 3600 // 60
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def _ask(answers: dict[str, Any], config: Any) -> tuple[dict[str, Any], str | None]:
    """The four questions on a terminal, each showing the current answer as its default.
    Enter keeps the current answer, or no answer: only answers typed are returned."""
    from leadcli.pipeline import qualification as q

    parsers = {
        "budget": ("Budget (an amount, or yes/no/unknown)", q.parse_budget),
        "authority": (f"Authority ({'/'.join(q.AUTHORITY_LEVELS)})", q.parse_authority),
        "need": ("Need (yes/no/unknown, optionally 'yes: why')", q.parse_need),
        "timeline": (
            "Timeline (a date, or 'in 3 months', 'next quarter', 'Q3')",
            lambda t: q.parse_timeline(t, horizon_days=config["qualify.timeline_horizon_days"]),
        ),
    }
    given: dict[str, Any] = {}
    for criterion, (question, parse) in parsers.items():
        current = answers.get(criterion)
        # Shown on the terminal: an answer's text is lead data, so never raw control bytes.
        default = visible(current.summary()) if current else ""
        while True:
            text = typer.prompt(question, default=default, show_default=bool(default), err=True)
            if text.strip() == default:
                break  # Enter (or the same text): nothing to record
            try:
                given[criterion] = parse(text)
                break
            except LeadcliError as exc:  # say why, ask again
                say(f"  {exc}")
    evidence = typer.prompt("Evidence note (optional)", default="", err=True).strip() or None
    return given, evidence


@app.command()
def qualify(
    ctx: typer.Context,
    ids: LeadIdsOrStdin,
    budget: Annotated[
        str | None, typer.Option("--budget", help="An amount (20000), or yes / no / unknown.")
    ] = None,
    authority: Annotated[
        str | None,
        typer.Option("--authority", help="decision-maker, influencer, user, none or unknown."),
    ] = None,
    need: Annotated[
        str | None,
        typer.Option("--need", help="yes / no / unknown, with text after a colon: 'yes: why'."),
    ] = None,
    timeline: Annotated[
        str | None,
        typer.Option(
            "--timeline", help="When they buy: 2026-09-01, 'in 3 months', 'next quarter', Q3."
        ),
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="The evidence: who said what, where.")
    ] = None,
    no_advance: Annotated[
        bool, typer.Option("--no-advance", help="Record the answers only; change no stage.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record BANT answers (budget, authority, need, timeline) and apply the rules.

    Enough criteria met (qualify.sql_min_criteria, default 3 of 4) makes the lead sql; at
    least one makes it mql. Leads only move forward, and closed leads do not move. With no
    flags, for one lead on a terminal, it asks the four questions; in a script it never
    prompts. Several ids (or - for ids on stdin) get the same answers, all or none.

    Example: leadcli qualify 42 --budget 20000 --authority decision-maker --timeline Q3
    """
    from leadcli.pipeline import qualification as q

    app_state = state(ctx)
    config = app_state.config()
    horizon = config["qualify.timeline_horizon_days"]
    given: dict[str, Any] = {}
    if budget is not None:
        given["budget"] = q.parse_budget(budget)
    if authority is not None:
        given["authority"] = q.parse_authority(authority)
    if need is not None:
        given["need"] = q.parse_need(need)
    if timeline is not None:
        given["timeline"] = q.parse_timeline(timeline, horizon_days=horizon)
    lead_ids = read_ids(ids)
    if not lead_ids:
        say("No lead ids given; nothing to record.")
        return
    store = app_state.store()
    if not given and note is None:
        if not options.stdin_is_interactive() or len(lead_ids) > 1 or "-" in ids:
            from leadcli.errors import InvalidValue

            raise InvalidValue(
                "qualify",
                "nothing to record",
                hint="give --budget, --authority, --need or "
                "--timeline (questions are asked only for one lead on a terminal)",
            )
        from leadcli.leads.records import get_lead

        get_lead(store, lead_ids[0], with_history=False)  # a missing id fails before questions
        given, note = _ask(q.answers_for(store, lead_ids[0]), config)
    results = []
    with rescoring(ctx) as touched:  # several leads: all of them or none
        for lead_id in lead_ids:
            results.append(
                q.qualify(
                    store,
                    lead_id,
                    given,
                    note=note,
                    advance=not no_advance,
                    sql_min_criteria=config["qualify.sql_min_criteria"],
                    mql_min_score=config["qualify.mql_min_score"],
                )
            )
        touched(lead_ids)
    summaries = [_qualify_summary(i, r) for i, r in zip(lead_ids, results, strict=True)]
    if fmt is OutputFormat.json:
        # `qualify 42 -f json` prints one object; several ids (or -) print an array.
        single = len(ids) == 1 and ids[0] != "-"
        write_object(summaries[0] if single else summaries, sys.stdout)
        return
    if fmt is not OutputFormat.table:
        emit(
            [
                {"id": s["id"], "criterion": c, **v}
                for s in summaries
                for c, v in s["answers"].items()
            ],
            fmt,
            columns=["id", "criterion", "answer", "detail", "met"],
        )
        return
    for lead_id, result in zip(lead_ids, results, strict=True):
        render_table(
            (
                [
                    c,
                    a.summary() if (a := result.answers.get(c)) else "",
                    "yes" if a and a.met else "no",
                ]
                for c in q.CRITERIA
            ),
            ["Criterion", "Answer", "Met"],
            title=f"Lead {lead_id}: {result.met} of 4 BANT criteria met",
        )
        # The table is the result; what happened to the stage is a message for the person.
        change = result.stage_change
        if change:
            message = f"Lead {lead_id}: {change.old} → {change.new} ({change.reason})."
        elif result.conclusion and no_advance:
            message = (
                f"Lead {lead_id}: the rules say {result.conclusion}; not moved (--no-advance)."
            )
        else:
            message = f"Lead {lead_id}: stage unchanged."
        say(message)


def _qualify_summary(lead_id: int, result: Any) -> dict[str, Any]:
    change = result.stage_change
    return {
        "id": lead_id,
        "answers": {
            c: {"answer": a.answer, "detail": a.detail, "met": a.met}
            for c, a in result.answers.items()
        },
        "met": result.met,
        "conclusion": result.conclusion,
        "stage_change": [change.old, change.new] if change else None,
    }


@app.command()
def advance(
    ctx: typer.Context,
    ids: LeadIdsOrStdin,
    to: Annotated[
        Stage | None,
        typer.Option(
            "--to",
            case_sensitive=False,
            help="Move to this stage (skips and moves back are recorded).",
        ),
    ] = None,
    lost: Annotated[bool, typer.Option("--lost", help="Close as lost (needs --reason).")] = False,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason", help="Why it was lost (free text).", autocompletion=_complete_reason
        ),
    ] = None,
    value: Annotated[
        str | None,
        typer.Option("--value", help="Deal value, when moving to opportunity or customer."),
    ] = None,
    reopen: Annotated[
        bool, typer.Option("--reopen", help="Reopen a closed lead (to --to, or where it was).")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option("--at", help="When it happened, for history from elsewhere (back-dates)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Move leads to their next stage, or --to any stage; close as --lost; --reopen.

    All the leads move or none: an unknown id or a move that is not allowed (such as advancing
    a closed lead without --reopen) changes nothing and exits 1 naming the lead.

    Example: leadcli list --stage mql -q | leadcli advance - --to sql
    """
    from leadcli.pipeline.transitions import advance as do_advance
    from leadcli.text import dates
    from leadcli.text.numbers import parse_amount

    lead_ids = read_ids(ids)
    if not lead_ids:
        say("No lead ids given; nothing moved.")
        return
    target = str(to.value) if to else None
    amount = None
    if value is not None:
        try:
            amount = parse_amount(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--value") from None
    when = None
    if at is not None:
        try:
            resolved = dates.resolve_local(dates.parse_when(at))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--at") from None
        when = resolved.utc
        if resolved.notice:
            say(f"Note: {resolved.notice}.")
    with rescoring(ctx) as touched:
        changes = do_advance(
            state(ctx).store(),
            lead_ids,
            to=target,
            lost=lost,
            reason=reason,
            value=amount,
            reopen=reopen,
            at=when,
        )
        touched(lead_ids)
    records = [
        {"id": c.lead_id, "from": c.old, "to": c.new, "at": c.at, "reason": c.reason}
        for c in changes
    ]
    if fmt is OutputFormat.table:
        render_table(
            ([r["id"], r["from"], r["to"], time_cell(r["at"]), r["reason"]] for r in records),
            ["ID", "From", "To", "When", "Why"],
            justify_right=("ID",),
        )
    else:
        emit(records, fmt, columns=["id", "from", "to", "at", "reason"])


@app.command("history")
def history_cmd(
    ctx: typer.Context,
    lead_id: LeadId,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A lead's stage timeline: when it entered each stage, why, and how long it stayed.

    Example: leadcli history 42
    """
    from leadcli.pipeline.transitions import stage_timeline

    store = state(ctx).store(create=False)
    with store.read() as conn:
        timeline = stage_timeline(conn, lead_id)
    if fmt is not OutputFormat.table:
        emit(timeline, fmt, columns=["stage", "entered_at", "left_at", "seconds", "reason"])
        return
    render_table(
        (
            [
                s["stage"],
                time_cell(s["entered_at"]),
                time_cell(s["left_at"]),
                _duration(s["seconds"]),
                s["reason"],
            ]
            for s in timeline
        ),
        ["Stage", "Entered", "Left", "Time in stage", "Why"],
        title=f"Lead {lead_id}: stage history",
    )
