"""``leadcli import FILE...``, ``import list``, ``import undo BATCH`` and ``imports`` (an alias)."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadcli.cli.options import (
    MAX_INT,
    FormatOption,
    InputFormat,
    OnDuplicate,
    OutputFormat,
    parse_stage,
)
from leadcli.cli.output import emit, render_table, say, time_cell, write_object
from leadcli.cli.shared import (
    DefaultVerbCommand,
    before_bulk_change,
    default_group,
    default_scorer,
    rescoring,
)
from leadcli.cli.state import state
from leadcli.errors import LeadcliError

if TYPE_CHECKING:
    from leadcli.importing.loader import ImportSummary

app = typer.Typer()


import_app = typer.Typer(cls=default_group("files", help_is_default=True))
app.add_typer(
    import_app,
    name="import",
    help="Import leads from CSV, TSV, JSON, JSON Lines or vCard files (or - for stdin).\n\n"
    "`import list` lists the batches, `import undo BATCH` removes what a batch created.\n\n"
    "Example: leadcli import leads.csv --source webinar --tag 2026-q4",
)


@import_app.command("files", cls=DefaultVerbCommand)
def import_files(
    ctx: typer.Context,
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help="Files, or - for stdin.")],
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            "--input-format",
            case_sensitive=False,
            help="The file's format (default: guessed from its name or content). tsv is "
            "leadcli's own: one record a line, \\t \\n \\\\ escaped, no quotes.",
            show_default=False,
        ),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="e.g. cp1252 (default: detected).")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="The CSV delimiter (default: sniffed).")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", metavar="COLUMN=FIELD", help="Map a column to a field (repeatable)."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="A TOML file: \\[map] COLUMN = FIELD.")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Phone region (default: contacts.phone_region).")
    ] = None,
    keep_invalid: Annotated[
        bool, typer.Option("--keep-invalid", help="Import invalid emails flagged, not rejected.")
    ] = False,
    on_duplicate: Annotated[
        OnDuplicate,
        typer.Option(
            "--on-duplicate",
            case_sensitive=False,
            help="merge (fill empty fields), skip or update.",
        ),
    ] = OnDuplicate.merge,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="Where rejected rows go (default: beside the file)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Do everything but commit; show the mapping.")
    ] = False,
    source: Annotated[
        str | None, typer.Option("--source", help="Source for rows that have none.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Tag every row (repeatable).")
    ] = None,
    again: Annotated[
        bool,
        typer.Option(
            "--again", help="Import even bytes already imported with the same mapping and options."
        ),
    ] = False,
    system: Annotated[
        str | None,
        typer.Option(
            "--system",
            help="The system the file's external ids come from (default: the detected "
            "layout: salesforce, hubspot, pipedrive, zoho). The same id from two systems "
            "is two people.",
        ),
    ] = None,
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage",
            help="Stage of rows the file gives none for (no stage column, or an empty cell).",
        ),
    ] = None,
    closed_if_not_converted: Annotated[
        bool,
        typer.Option(
            "--closed-if-not-converted",
            help="The file is closed history (every row decided): a row its converted "
            "column (Converted, IsConverted) says was not converted is imported as lost, "
            "whatever its status.",
        ),
    ] = False,
    allow_suppressed: Annotated[
        bool,
        typer.Option(
            "--allow-suppressed",
            help="Import rows of people erased with `forget` (they came back by their own "
            "choice) and lift their suppression; otherwise such rows count as suppressed.",
        ),
    ] = False,
    locale: Annotated[
        str | None,
        typer.Option(
            "--locale",
            help="How numbers and dates are read when every cell of their column fits two "
            "readings (1.500 alone: 1500 in de_DE, 1.5 in en_US), e.g. de_DE (default: "
            "import.locale, else LC_ALL / LC_NUMERIC / LANG). A column whose cells decide "
            "(1.500,00 beside 2.750) is read as they say; the summary names each reading.",
        ),
    ] = None,
    day_first: Annotated[
        bool | None,
        typer.Option(
            "--day-first/--month-first",
            help="Dates such as 03/11/2026 in a column where no day is above 12: 3 November "
            "(day first) or 11 March (default: as the locale writes dates).",
            show_default=False,
        ),
    ] = None,
    report_cells: Annotated[
        Path | None,
        typer.Option(
            "--report-cells",
            metavar="FILE",
            help="Write a CSV of the cells that could not be read as their field (line, "
            "column, cell, why); they are kept as custom fields either way. One file at a "
            "time.",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Import lead files: every row is imported, merged, counted as a duplicate, rejected or
    suppressed (a person erased with `forget`).

    Columns are recognised from web forms and Salesforce, HubSpot, Pipedrive and Zoho
    exports; others are kept as custom fields. Rejected rows go to a CSV (with line and
    reason) that can be fixed and imported again. Each file is one transaction and one batch.

    Also: `leadcli import list` lists the import batches; `leadcli import undo BATCH` removes
    the leads a batch created.

    Example: leadcli import leads.csv --source webinar --tag 2026-q4
    """
    from leadcli.cli.process_settings import import_settings
    from leadcli.identity.evidence import Lists
    from leadcli.importing.loader import (
        ImportOptions,
        check_readable,
        combined_summary,
    )
    from leadcli.text.contacts import normalise_phone

    if delimiter is not None and len(delimiter.encode("unicode_escape").decode()) > 2:
        delimiter = delimiter.encode().decode("unicode_escape")  # allow '\t'
    if delimiter is not None and len(delimiter) != 1:
        raise typer.BadParameter("one character, e.g. ';' or '\\t'", param_hint="--delimiter")
    if files.count("-") > 1:
        raise typer.BadParameter("stdin (-) can be read once", param_hint="FILE...")
    app_state = state(ctx)
    if region is not None:  # the configured region was checked when the config was read
        region = region.upper()
        try:
            normalise_phone("+14155550100", region)
        except ValueError:
            raise typer.BadParameter(
                "a two-letter country code such as US or GB", param_hint="--region"
            ) from None
    else:
        region = app_state.config()["contacts.phone_region"]
    if locale is not None:
        from leadcli.text.numbers import check_locale

        try:
            locale = check_locale(locale)
        except ValueError:
            raise typer.BadParameter(
                "a locale such as de_DE or en_US", param_hint="--locale"
            ) from None
    else:
        locale = app_state.config()["import.locale"] or None
    if report_cells is not None and len(files) > 1:
        raise typer.BadParameter("one file at a time", param_hint="--report-cells")
    options = ImportOptions(
        input_format=str(input_format.value) if input_format else None,
        encoding=encoding,
        delimiter=delimiter,
        maps=map_ or [],
        mapping_file=mapping,
        region=region,
        keep_invalid=keep_invalid,
        on_duplicate=str(on_duplicate.value),
        rejects=rejects,
        dry_run=dry_run,
        source=source,
        tags=[t for value in tag or [] for t in value.split(",") if t.strip()],
        again=again,
        system=system,
        lists=Lists.from_config(app_state.config()),
        stage=parse_stage(stage) if stage is not None else None,
        closed_if_not_converted=closed_if_not_converted,
        allow_suppressed=allow_suppressed,
        locale=locale,
        day_first=day_first,
        report_cells=report_cells,
        matching=app_state.matching_rules(),
    )
    check_readable(files)
    store = app_state.store(create=True)
    if not dry_run:
        options = replace(options, scorer=default_scorer(app_state))
    results: list[ImportSummary] = []
    for path in files:
        try:
            with import_settings():
                summary = _run(store, path, replace(options, parallel=_use_worker(path)))
        except LeadcliError as exc:
            if not results:
                raise
            done = ", ".join(f"{Path(s.file).name} as batch {s.batch}" for s in results)
            raise LeadcliError(f"{exc}; already imported: {done}", hint=exc.hint) from None
        for notice in summary.notices:
            say(notice)
        results.append(summary)
    summaries = [s.as_dict() for s in results]
    if fmt is OutputFormat.json:
        write_object(summaries[0] if len(results) == 1 else combined_summary(results), sys.stdout)
        return
    from leadcli.importing.loader import COUNTS

    columns = [
        "file",
        *COUNTS,
        "rejects_file",
        "batch",
        "already_imported_as",
        "dry_run",
    ]
    if fmt is not OutputFormat.table:
        emit(summaries, fmt, columns=columns)
        return
    if dry_run:
        for s in summaries:
            render_table(
                ([column, target] for column, target in s["mapping"].items()),
                ["Column", "Field"],
                title=f"{s['file']}: mapping (dry run, nothing written)",
            )
    render_table(
        (
            [
                Path(s["file"]).name,
                s["rows"],
                s["imported"],
                s["updated"],
                s["duplicates"],
                s["rejected"],
                s["suppressed"],
                s["batch"]
                or (
                    "already #" + str(s["already_imported_as"]) if s["already_imported_as"] else ""
                ),
            ]
            for s in summaries
        ),
        ["File", "Rows", "Imported", "Updated", "Duplicates", "Rejected", "Suppressed", "Batch"],
        justify_right=("Rows", "Imported", "Updated", "Duplicates", "Rejected", "Suppressed"),
    )
    for s in summaries:
        for seen in s["interpretations"]:
            n = seen["cells"]
            say(f"{s['file']}: {seen['column']}: {seen['reading']}, {n} cell{'s' * (n != 1)}.")
        if s["unread"]:
            where = (
                f"listed in {s['cells_report']}"
                if s["cells_report"]
                else "--report-cells FILE lists them"
            )
            say(
                f"{s['unread']} cells of {s['file']} could not be read as their field: kept "
                f"as custom fields ({where})."
            )
        if s["rejects_file"]:
            say(f"Rejected rows of {s['file']} are in {s['rejects_file']}.")
        if s["suppressed"]:
            say(
                f"{s['suppressed']} row{'s' if s['suppressed'] != 1 else ''} of {s['file']} "
                "are people erased with `forget`: left out (--allow-suppressed if they came "
                "back by their own choice)."
            )
        if s["cleaned"]:
            say(
                f"{s['cleaned']} cells of {s['file']} held control or invisible characters "
                "(escape sequences, zero-width or bidi-override characters): they were "
                "dropped."
            )
        if s["possible_duplicates"]:
            say(
                f"{s['possible_duplicates']} new leads of {s['file']} share a phone or an "
                "e-mail with a lead and look like that person, without the evidence: kept "
                "apart, listed by `leadcli dedupe`."
            )


def _use_worker(path: str) -> bool:
    """A big regular file converts its rows in a forked worker, where forking is safe and a
    second core is free: this command's choice, not the library's."""
    from leadcli.importing.readers import is_regular_file
    from leadcli.importing.worker import PARALLEL_MIN_BYTES, can_fork

    return is_regular_file(path) and Path(path).stat().st_size >= PARALLEL_MIN_BYTES and can_fork()


def _run(store: Any, path: str, options: Any) -> Any:
    from leadcli.importing.loader import import_file

    if not sys.stderr.isatty():
        return import_file(store, path, options)
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from leadcli.importing.readers import is_regular_file

    size = Path(path).stat().st_size if is_regular_file(path) else None
    start = time.monotonic()
    with Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows, {task.fields[rate]:,.0f} rows/s"),
        console=Console(stderr=True),
        transient=True,
        # Drawn when the import reports progress, not by a refresh thread: a big import forks
        # a worker, and a fork must not copy a process that has other threads running.
        auto_refresh=False,
    ) as bar:
        task = bar.add_task("import", total=size, rows=0, rate=0)

        def update(done: int, rows: int) -> None:
            rate = rows / max(time.monotonic() - start, 1e-3)
            bar.update(task, completed=done, rows=rows, rate=rate, refresh=True)

        return import_file(store, path, options, progress=update)


@import_app.command("undo")
def import_undo(
    ctx: typer.Context,
    batch: Annotated[
        int,
        typer.Argument(metavar="BATCH", max=MAX_INT, help="A batch id from `leadcli import list`."),
    ],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Remove the leads an import batch created, keeping any changed since.

    The database is backed up first (see `leadcli backup`; backup.keep = 0 turns it off).

    Example: leadcli import undo 3
    """
    from leadcli.importing.undo import undo_batch

    backup = before_bulk_change(ctx, "import-undo")
    with rescoring(ctx) as touched:
        result = undo_batch(state(ctx).store(), batch, before_write=backup)
        touched(result.restored)  # their merged values taken back
    record = {"batch": batch, "removed": result.removed, "kept": result.kept}
    if fmt is OutputFormat.json:
        write_object(record, sys.stdout)
        return
    if fmt is not OutputFormat.table:
        # One record, the same keys as -f json; lists of ids comma-joined in csv / tsv.
        emit([record], fmt, columns=list(record))
        return
    say(f"Batch {batch}: removed {len(result.removed)} leads.")
    if result.kept:
        say(
            f"Kept {len(result.kept)} changed since the import: "
            + ", ".join(map(str, result.kept[:50]))
            + (" ..." if len(result.kept) > 50 else ""),
        )


@import_app.command("list")
def import_list(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """List import batches: file, time, counts, and whether undone (also `leadcli imports`).

    Example: leadcli import list -f json
    """
    from leadcli.importing.loader import list_batches

    batches = list_batches(state(ctx).store(create=False))
    if fmt is not OutputFormat.table:
        emit(batches, fmt, columns=list(batches[0]) if batches else ["id"])
        return
    if not batches:
        say("No imports yet.")
        return
    render_table(
        (
            [
                b["id"],
                b["file_name"],
                time_cell(b["imported_at"]),
                b["rows"],
                b["imported"],
                b["updated"],
                b["duplicates"],
                b["rejected"],
                "undone" if b["undone_at"] else "",
            ]
            for b in batches
        ),
        ["Batch", "File", "When", "Rows", "Imported", "Updated", "Dupl.", "Rejected", ""],
        justify_right=("Batch", "Rows", "Imported", "Updated", "Dupl.", "Rejected"),
    )


@app.command("imports")
def imports(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """List import batches, as `leadcli import list` does.

    Example: leadcli imports -f json
    """
    import_list(ctx, fmt)
