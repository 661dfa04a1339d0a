"""The ``capture`` command: e-mail (files, mboxes, Maildirs, stdin) to leads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from leadcli.cli.options import FormatOption, IdsOnly, OutputFormat
from leadcli.cli.output import emit, render_table, say, write_object
from leadcli.cli.shared import rescoring
from leadcli.cli.state import state

app = typer.Typer()


def _messages(paths: list[str]) -> Any:
    """Every message of every path, in order; ``-`` is one message on stdin."""
    from leadcli.capture import mailboxes

    for path in paths:
        if path == "-":
            yield from mailboxes.read_stream(sys.stdin.buffer)
        else:
            yield from mailboxes.read_path(Path(path))


def _summary_line(summary: dict[str, Any]) -> str:
    verb = "Would capture" if summary["dry_run"] else "Captured"
    line = (
        f"{verb} {summary['messages']} message{'s' if summary['messages'] != 1 else ''}: "
        f"{summary['created']} new lead{'s' if summary['created'] != 1 else ''}, "
        f"{summary['matched']} for existing leads, {summary['skipped']} skipped, "
        f"{summary['failed']} failed."
    )
    if summary["skipped_reasons"]:
        line += " Skipped: " + ", ".join(
            f"{reason} {count}" for reason, count in summary["skipped_reasons"].items()
        )
        line += "."
    return line


@app.command()
def capture(
    ctx: typer.Context,
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...",
            help="An .eml file, an mbox file or a Maildir folder; - reads one message on "
            "stdin (as a mail filter pipes it).",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what capture would do; change nothing.")
    ] = False,
    ids_only: IdsOnly = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Turn e-mail into leads, and replies into touches.

    Inquiries and web-form notifications become leads; replies from known people become
    inbound e-mail activities (ending their cadences).

    A form notification's labelled fields (Name, E-mail, Phone, Company, Message ...) make
    the lead; otherwise the sender does. Automated mail (auto-replies, lists, bulk, bounces),
    no-reply senders and your own addresses (capture.own_addresses) are skipped, each with
    its reason. A lead is dated by the message's Date. Capturing the same message again
    changes nothing (by Message-ID). -f json prints one object: messages, created, matched,
    skipped, skipped_reasons, failed, lead_ids and results; jsonl/csv/tsv print one record
    a message.

    Example: leadcli capture ~/Mail/inquiries/ --dry-run; formail -s leadcli capture - < mbox
    """
    from leadcli.capture.capture import RESULT_FIELDS, Settings, summarise
    from leadcli.capture.capture import capture as run

    if paths.count("-") > 1:
        raise typer.BadParameter("stdin (-) holds one message; give it once", param_hint="PATH")
    from leadcli.capture.mailboxes import check_path

    for path in paths:
        if path != "-":
            check_path(Path(path))
    app_state = state(ctx)
    settings = Settings.from_config(app_state.config(), matching=app_state.matching_rules())
    store = app_state.store(create=True)
    results = run(
        store,
        _messages(paths),
        settings,
        dry_run=dry_run,
        transaction=lambda: rescoring(ctx),
    )
    if fmt in (OutputFormat.jsonl, OutputFormat.csv, OutputFormat.tsv) and not ids_only:
        records: list[dict[str, Any]] = []

        def streamed() -> Any:
            for result in results:
                records.append(result)
                yield result

        emit(streamed(), fmt, columns=RESULT_FIELDS)
        say(_summary_line(summarise(records, dry_run=dry_run)))
        return
    summary = summarise(results, dry_run=dry_run)
    if ids_only:
        sys.stdout.write("".join(f"{i}\n" for i in summary["lead_ids"]))
    elif fmt is OutputFormat.json:
        write_object(summary, sys.stdout)
    elif summary["results"]:
        render_table(
            (
                [r["place"], r["outcome"], r["lead_id"], r["name"], r["email"], r["reason"]]
                for r in summary["results"]
            ),
            ["Message", "Outcome", "Lead", "Name", "Email", "Reason"],
            no_wrap=("Outcome", "Lead"),
            keep_whole=("Email",),
        )
    say(_summary_line(summary))
