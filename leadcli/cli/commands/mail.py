"""The ``mail`` command: one-to-one e-mail from a template, drafted or sent, and logged."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from leadcli.cli import options
from leadcli.cli.options import FormatOption, OutputFormat
from leadcli.cli.output import emit, render_table, say, write_object
from leadcli.cli.shared import rescoring
from leadcli.cli.state import state

app = typer.Typer()

#: Messages shown before a terminal asks whether to send.
PREVIEW = 3


def _summary_line(summary: dict[str, Any]) -> str:
    if summary["dry_run"]:
        line = f"Would send {summary['would_send']}, skip {summary['skipped']}."
    else:
        line = (
            f"Sent {summary['sent']}, drafted {summary['drafted']}, "
            f"skipped {summary['skipped']}, failed {summary['failed']}."
        )
    for label, key in (("Skipped", "skipped_reasons"), ("Failed", "failed_reasons")):
        if summary[key]:
            line += f" {label}: " + ", ".join(f"{r} {n}" for r, n in summary[key].items()) + "."
    return line


def _preview(planned: list[Any]) -> None:
    """The first messages as they would go, on stderr (control characters made visible)."""
    shown = [p for p in planned if p.message is not None][:PREVIEW]
    for one in shown:
        msg = one.message
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        say(f"To: {msg['To']}\nSubject: {msg['Subject']}\n\n{text.rstrip()}\n" + "-" * 40)


def _transport(mode: str, folder: Path | None, config: Any, sender: Any) -> Any:
    from leadcli.outreach import transports

    if mode == "draft":
        assert folder is not None
        return transports.MaildirDrafts(folder)
    if mode == "eml":
        assert folder is not None
        return transports.EmlFiles(folder)
    return transports.from_config(config, sender.email)


def _mode(send: bool, draft: Path | None, eml: Path | None, dry_run: bool) -> str | None:
    chosen = [m for m, on in (("send", send), ("draft", draft), ("eml", eml)) if on]
    if len(chosen) > 1:
        raise typer.BadParameter("choose one of --send, --draft DIR and --eml DIR")
    if dry_run:
        return "dry-run"
    return chosen[0] if chosen else None


def _batches(
    ctx: typer.Context, template: str | None, ids: list[str], due: bool
) -> list[tuple[Any, list[int]]]:
    """(template, lead ids) to run: the one given, or each due step's template."""
    from leadcli.engagement.due import window
    from leadcli.outreach import run
    from leadcli.outreach.templates import load

    app_state = state(ctx)
    if due:
        if template or ids:
            raise typer.BadParameter("--due takes no TEMPLATE or ids: each due step names one")
        store = app_state.store(create=False)
        steps = run.due_steps(store, window(app_state.config()).horizon)
        return [(load(name), lead_ids) for name, lead_ids in steps.items()]
    if not template or not ids:
        raise typer.BadParameter("give a TEMPLATE and lead ids (or - to read ids from stdin)")
    return [(load(template), options.read_ids(ids))]


def _ask_to_send(planned: list) -> str:
    """On a terminal with no mode given: preview, then send only on a yes (exit 2 in a
    script, which must say what it wants)."""
    if not options.stdin_is_interactive():
        say("Error: mail in a script needs --send, --draft DIR, --eml DIR or --dry-run.")
        raise typer.Exit(2)
    _preview(planned)
    going = sum(1 for p in planned if p.message is not None)
    if not going or not typer.confirm(f"Send {going} messages?", default=False, err=True):
        say("Nothing sent.")
        raise typer.Exit(1 if going else 0)
    return "send"


def _print_summary(summary: dict, fmt: OutputFormat, fields: tuple[str, ...]) -> None:
    if fmt is OutputFormat.json:
        write_object(summary, sys.stdout)
    elif fmt is not OutputFormat.table:
        emit(summary["results"], fmt, columns=list(fields))
    elif summary["results"]:
        render_table(
            (
                [r["lead_id"], r["email"], r["outcome"], r["reason"] or r["subject"]]
                for r in summary["results"]
            ),
            ["Lead", "Email", "Outcome", "Reason / subject"],
            justify_right=("Lead",),
            no_wrap=("Lead", "Outcome"),
            keep_whole=("Email",),
        )
    say(_summary_line(summary))


@app.command()
def mail(
    ctx: typer.Context,
    template: Annotated[
        str | None,
        typer.Argument(
            metavar="TEMPLATE",
            help="A template file, or a name in templates/ beside the config.",
            show_default=False,
        ),
    ] = None,
    ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="ID...", help="Lead ids, or - to read them from stdin."),
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Send through mail.sendmail or SMTP.")
    ] = False,
    draft: Annotated[
        Path | None,
        typer.Option("--draft", metavar="DIR", help="Write each message into this Maildir (new/)."),
    ] = None,
    eml: Annotated[
        Path | None, typer.Option("--eml", metavar="DIR", help="Write each message as DIR/*.eml.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would go; send and log nothing.")
    ] = False,
    due: Annotated[
        bool, typer.Option("--due", help="Mail every due cadence step that names a template.")
    ] = False,
    again: Annotated[
        bool, typer.Option("--again", help="Also leads this template already went to today.")
    ] = False,
    include_customers: Annotated[
        bool, typer.Option("--include-customers", help="Customers too (never lost leads).")
    ] = False,
    log_drafts: Annotated[
        bool, typer.Option("--log-drafts", help="Log drafts as e-mail activities too.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Mail leads one by one from a template, drafted or sent, each logged as a touch.

    Do-not-contact, suppressed (forgotten), lost and customer leads and leads without a
    valid e-mail are skipped and counted; a template goes to a lead once a day (--again to
    repeat). Each sent message is an outbound e-mail activity (first contact, cadence step)
    with a Message-ID kept, so a reply captured later finds the lead. On a terminal it
    previews and asks; a script gives --send, --draft DIR, --eml DIR or --dry-run.
    -f json prints one object: sent, drafted, skipped, failed, their reasons and results.

    Example: leadcli list --stage lead -q | leadcli mail intro - --draft ~/Mail/Drafts
    """
    from leadcli.identity.evidence import Lists
    from leadcli.outreach import run
    from leadcli.outreach.compose import Sender

    mode = _mode(send, draft, eml, dry_run)
    batches = _batches(ctx, template, ids or [], due)
    app_state = state(ctx)
    config = app_state.config()
    sender = Sender.from_config(config)
    drafts = mode in ("draft", "eml")
    opts = run.Options(
        include_customers=include_customers,
        again=again,
        log=log_drafts if drafts else True,
        per_minute=config["mail.per_minute"] if mode == "send" else 0,
        lists=Lists.from_config(config),
    )
    store = app_state.store(create=False)
    planned = [
        one
        for tmpl, lead_ids in batches
        for one in run.plan(store, tmpl, lead_ids, sender, opts, drafts=drafts)
    ]
    if mode is None:
        mode = _ask_to_send(planned)
    transport = None if mode == "dry-run" else _transport(mode, draft or eml, config, sender)
    results = run.execute(store, planned, transport, opts, transaction=lambda: rescoring(ctx))
    summary = run.summarise(results, dry_run=mode == "dry-run")
    _print_summary(summary, fmt, run.RESULT_FIELDS)
    if summary["failed"]:
        raise typer.Exit(1)
