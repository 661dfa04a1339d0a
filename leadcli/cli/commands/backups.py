"""``leadcli backup [PATH]``, ``backup list``, ``restore PATH`` and ``doctor`` (the automatic
backup every bulk command hands its core operation, ``before_bulk_change``, is in
``cli.shared``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from leadcli.cli import options
from leadcli.cli.options import FormatOption, OutputFormat
from leadcli.cli.output import emit, render_table, say, write_object
from leadcli.cli.shared import DefaultVerbCommand, before_bulk_change, default_group
from leadcli.cli.state import state

app = typer.Typer()

backup_app = typer.Typer(cls=default_group("take", if_no_args=True, help_is_default=True))
app.add_typer(
    backup_app,
    name="backup",
    help="Copy the database, safely while other commands write.\n\n"
    "`backup list` lists the backups in the backup folder.\n\n"
    "Automatic backups are also taken before import undo, merge, dedupe --merge, forget, "
    "restore and schema upgrades (the newest backup.keep stay; 0 turns them off).\n\n"
    "Example: leadcli backup; leadcli backup ~/safe/leads-2026-11.db; leadcli backup list",
)

BACKUP_COLUMNS = ("path", "taken_at", "reason", "bytes")


@backup_app.command("take", cls=DefaultVerbCommand)
def backup_take(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="[PATH]",
            help="Where to write the copy (replaced if it exists). Default: a new file in "
            "the backup folder beside the database.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Copy the database, safely while other commands write.

    Without PATH the copy goes to the backup folder (`backup list` shows it; it is never
    removed automatically). A copy written elsewhere is yours to keep safe: `forget` erases a
    person only from the database and the backup folder.

    Example: leadcli backup ~/safe/leads-2026-11.db
    """
    from leadcli.privacy.backups import backup_to, take_backup

    store = state(ctx).store(create=False)
    backup = take_backup(store) if path is None else backup_to(store, path)
    if fmt is OutputFormat.table:
        say(f"Backed up to {backup.path}")
        sys.stdout.write(f"{backup.path}\n")
    elif fmt is OutputFormat.json:
        write_object(backup.as_dict(), sys.stdout)
    else:
        emit([backup.as_dict()], fmt, columns=BACKUP_COLUMNS)


@backup_app.command("list")
def backup_list(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """List the backups in the backup folder, oldest first.

    Example: leadcli backup list -f json
    """
    from leadcli.privacy.backups import list_backups
    from leadcli.storage.paths import backup_dir, resolve_db_path

    db = resolve_db_path(state(ctx).db_path)
    records = [b.as_dict() for b in list_backups(db)]
    if fmt is not OutputFormat.table:
        emit(records, fmt, columns=BACKUP_COLUMNS)
    else:
        if records:
            render_table(
                ([r["taken_at"], r["reason"], f"{r['bytes']:,}", r["path"]] for r in records),
                ["Taken (UTC)", "Reason", "Bytes", "Path"],
                justify_right=("Bytes",),
                no_wrap=("Taken (UTC)", "Path"),
            )
        say(f"{len(records)} backup{'s' if len(records) != 1 else ''} in {backup_dir(db)}.")


@app.command()
def restore(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A backup file.")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask (needed in a script).")
    ] = False,
) -> None:
    """Replace the database with a backup; the current database is backed up first.

    On a terminal it asks; a script needs --yes. Other leadcli commands running meanwhile
    see the database before or after, never half of it.

    Example: leadcli restore ~/.local/share/leadcli/backups/leads-20261124T101500000000Z-merge.db
    """
    from leadcli.privacy.backups import check_backup_file
    from leadcli.privacy.backups import restore as restore_backup

    store = state(ctx).store(create=True)
    check_backup_file(path)  # before asking: a wrong file is said at once
    if not yes:
        if not options.stdin_is_interactive():
            say("Error: restore in a script needs --yes.")
            raise typer.Exit(2)
        if not typer.confirm(f"Replace {store.path} with {path}?", default=False, err=True):
            say("Nothing restored.")
            raise typer.Exit(1)
    before = restore_backup(store, path, checked=True)
    say(f"Restored {path}; the database as it was is in {before.path}")


@app.command()
def doctor(
    ctx: typer.Context,
    fmt: FormatOption = OutputFormat.table,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="First rebuild the counts kept for reports (lead_cells, stage_stay_totals) "
            "from the leads where they differ, after an automatic backup; says what changed.",
        ),
    ] = False,
) -> None:
    """Check the database and say what to do about each finding.

    It checks integrity, foreign keys, schema version, permissions, WAL size, backups,
    orphan rows, the suppression list and the counts kept for reports.

    Exits 0 when healthy (warnings allowed), 1 when a problem needs fixing. It only reads,
    unless --repair is given: then the kept counts that differ from a fresh count of the
    leads are rebuilt in one transaction first (nothing is written, and no backup taken,
    when none differs), and the checks run on the result.

    Example: leadcli doctor -f json; leadcli doctor --repair
    """
    from leadcli.errors import LeadcliError
    from leadcli.privacy.doctor import PROBLEM, Finding, examine, healthy
    from leadcli.storage.paths import resolve_db_path

    app_state = state(ctx)
    db = resolve_db_path(app_state.db_path)
    extra: list[Finding] = []
    keep: int | None
    try:
        keep = app_state.config()["backup.keep"]
    except LeadcliError as exc:
        keep = None
        extra.append(Finding("configuration", PROBLEM, str(exc), exc.hint or ""))
    repaired = _repair(ctx) if repair else None
    findings = extra + examine(db, keep=keep)
    records = [f.as_dict() for f in findings]
    if fmt is OutputFormat.json:
        report: dict[str, Any] = {"healthy": healthy(findings), "findings": records}
        if repaired is not None:
            report["repaired"] = repaired
        write_object(report, sys.stdout)
    elif fmt is not OutputFormat.table:
        emit(records, fmt, columns=("check", "status", "detail", "fix"))
    else:
        render_table(
            ([f.check, f.status, f.detail, f.fix] for f in findings),
            ["Check", "Status", "Detail", "What to do"],
            no_wrap=("Check", "Status"),
        )
        problems = sum(f.status == PROBLEM for f in findings)
        say("Healthy." if not problems else f"{problems} problem{'s' if problems > 1 else ''}.")
    if not healthy(findings):
        raise typer.Exit(1)


def _repair(ctx: typer.Context) -> list[dict[str, Any]]:
    """``doctor --repair``: the kept counts rebuilt where they differ, said on stderr."""
    from leadcli.privacy.doctor import repair

    store = state(ctx).store()
    backup = before_bulk_change(ctx, "repair")
    changes = repair(store, None if backup is None else lambda: backup(store))
    for change in changes:
        if change["rebuilt"]:
            say(
                f"Rebuilt {change['table']} from a fresh count: {change['wrong']} wrong, "
                f"{change['missing']} missing, {change['extra']} extra rows mended."
            )
        else:
            say(f"{change['table']} equals a fresh count: nothing to repair.")
    return changes
