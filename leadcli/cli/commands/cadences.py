"""``leadcli cadence list | show``, ``enroll`` and ``unenroll``: nurture cadences."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadcli.cli.options import FormatOption, LeadIdsOrStdin, OutputFormat, read_ids
from leadcli.cli.output import emit, render_table, say
from leadcli.cli.state import state

app = typer.Typer()

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
