"""``leadcli log``: a touch with a lead (call, e-mail, meeting ...)."""

from __future__ import annotations

from typing import Annotated

import typer

from leadcli.cli.options import ActivityKind, FormatOption, OutputFormat, read_ids
from leadcli.cli.output import say
from leadcli.cli.shared import LeadOrStdin, rescoring, when_option, write_records
from leadcli.cli.state import state

app = typer.Typer()

#: What `log --outcome` suggests on Tab; any other words are accepted too.
COMMON_OUTCOMES = ("connected", "voicemail", "no answer", "wrong number", "replied", "bounced")


def _complete_outcome(incomplete: str) -> list[str]:
    return [o for o in COMMON_OUTCOMES if o.startswith(incomplete.lower())]


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

    when = when_option(at, "--at") if at else None
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
        write_records(results, fmt, list(results[0]), one=lead != "-")
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
