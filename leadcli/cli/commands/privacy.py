"""Privacy commands: ``forget`` (erase a person, and keep them from coming back)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from leadcli.cli import options
from leadcli.cli.options import FormatOption, OutputFormat
from leadcli.cli.output import emit, say
from leadcli.cli.shared import before_bulk_change
from leadcli.cli.state import state

app = typer.Typer()


@app.command()
def forget(
    ctx: typer.Context,
    who: Annotated[
        str,
        typer.Argument(
            metavar="ID|EMAIL|PHONE",
            help="The lead's id, or an e-mail or phone of the person.",
            show_default=False,
        ),
    ],
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Erase without asking (needed in a script)."),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Erase a person for good, and keep them from coming back.

    Their leads go with everything attached, their history and every copy of their values
    (merge journals, search index, message keys, automatic backups, rejects files); their
    e-mail and phone stay only as keyed hashes on a suppression list, so an import or `add`
    does not bring them back.

    An e-mail erases every lead holding it (a personal address is one person); a phone or a
    role address held by several leads is refused and the ids are listed. Leads merged into
    the person's are erased with it. History keeps one `erased` event per lead, without data.

    Example: leadcli forget ana@acme.com --yes -f json
    """
    from leadcli.errors import LeadcliError
    from leadcli.identity.evidence import Lists
    from leadcli.privacy.erasure import find_person
    from leadcli.privacy.erasure import forget as erase_person

    app_state = state(ctx)
    config = app_state.config()
    region = config["contacts.phone_region"]
    lists = Lists.from_config(config)
    if not yes and not options.stdin_is_interactive():
        say("Error: forget in a script needs --yes (erasing cannot be undone).")
        raise typer.Exit(2)
    store = app_state.store(create=False)
    with store.read() as conn:
        person = find_person(conn, who, region=region, lists=lists)
    if not yes:
        merged = len(person.ids) - len(person.live)
        also = f" and {merged} record(s) merged into them" if merged else ""
        leads = ", ".join(str(i) for i in person.live)
        question = (
            f"Erase lead{'s' if len(person.live) != 1 else ''} {leads}{also} for good? "
            "This cannot be undone."
        )
        if not typer.confirm(question, default=False, err=True):
            say("Nothing erased.")
            raise typer.Exit(1)
    # The automatic backup before a bulk change: taken once the person is found under the
    # write lock, it is then purged of them with every other backup.
    backup = before_bulk_change(ctx, "forget")
    result = erase_person(store, person, region=region, lists=lists, before_write=backup)
    report = result.as_dict()
    if fmt is OutputFormat.json:
        from leadcli.exporting.writers import write_object

        write_object(report, sys.stdout)
    elif fmt is not OutputFormat.table:
        emit([_flat(report)], fmt, columns=list(_flat(report)))
    else:
        _print(report)
    if not result.compacted:
        say(
            "Warning: another program has the database open, so it could not be compacted: "
            "the person is erased, but old copies of their pages stay in the file until "
            f"`sqlite3 {store.path} 'VACUUM; PRAGMA wal_checkpoint(TRUNCATE)'` runs after it "
            "closes."
        )
    for path in result.rejects_to_check:
        say(f"Check {path} (a rejects file of their import, not found): delete their rows.")
    if result.backups_failed:
        raise LeadcliError(
            f"{len(result.backups_failed)} automatic backup(s) could not be purged: "
            + ", ".join(result.backups_failed),
            hint="delete them, or restore nothing from them",
        )


def _flat(report: dict[str, Any]) -> dict[str, Any]:
    counts = report["counts"]
    return {
        "erased": " ".join(str(i) for i in report["erased"]),
        "merged_records": report["merged_records"],
        "history": counts["history"],
        "activities": counts["activities"],
        "followups": counts["followups"],
        "suppressed": report["suppressed"],
        "backups_purged": len(report["backups_purged"]),
        "rejects_scrubbed": len(report["rejects_scrubbed"]),
        "rejects_to_check": len(report["rejects_to_check"]),
    }


def _print(report: dict[str, Any]) -> None:
    counts = report["counts"]
    leads = report["leads"]
    lines = [
        f"Erased lead{'s' if leads != 1 else ''} {', '.join(str(i) for i in report['erased'])}"
        + (f" and {report['merged_records']} merged into them" if report["merged_records"] else "")
        + f": {counts['history']} history rows, {counts['activities']} activities, "
        f"{counts['followups']} follow-ups, {counts['merges']} merge journals.",
        f"Suppressed {report['suppressed']} e-mail/phone value(s): imports and `add` will "
        "not bring them back.",
    ]
    if report["backups_purged"]:
        lines.append(f"Purged from {len(report['backups_purged'])} automatic backup(s).")
    for path in report["rejects_scrubbed"]:
        lines.append(f"Removed their rows from {path}.")
    typer.echo("\n".join(lines))
