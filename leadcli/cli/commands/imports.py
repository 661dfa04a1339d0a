"""``leadcli import FILE...``, ``leadcli import undo BATCH`` and ``leadcli imports``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from leadcli.cli.options import MAX_INT, FormatOption, OutputFormat, parse_stage
from leadcli.cli.output import emit, render_table, say, time_cell, write_object
from leadcli.cli.state import state
from leadcli.errors import LeadcliError

if TYPE_CHECKING:
    from leadcli.importing.loader import ImportSummary

app = typer.Typer()


class FilesByDefault(TyperGroup):
    """``import a.csv b.csv`` imports files; ``import undo 3`` undoes batch 3. A file that is
    really named ``undo`` can be given as ``./undo``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["files", *args]
        return super().parse_args(ctx, args)


import_app = typer.Typer(cls=FilesByDefault)
app.add_typer(
    import_app,
    name="import",
    help="Import leads from CSV, TSV, JSON or JSON Lines files (or - for stdin); "
    "`import undo BATCH` removes what a batch created.\n\n"
    "Example: leadcli import leads.csv --source webinar --tag 2026-q4",
)


@import_app.command("files")
def import_files(
    ctx: typer.Context,
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help="Files, or - for stdin.")],
    input_format: Annotated[
        str | None,
        typer.Option("--input-format", help="csv, tsv, json or jsonl (default: guessed)."),
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
        Path | None, typer.Option("--mapping", help="A TOML file: [map] COLUMN = FIELD.")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Phone region (default: contacts.phone_region).")
    ] = None,
    keep_invalid: Annotated[
        bool, typer.Option("--keep-invalid", help="Import invalid emails flagged, not rejected.")
    ] = False,
    on_duplicate: Annotated[
        str, typer.Option("--on-duplicate", help="merge (fill empty fields), skip or update.")
    ] = "merge",
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
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage",
            help="Stage of rows the file gives none for (no stage column, or an empty cell).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Import lead files: every row is imported, merged, counted as a duplicate or rejected.

    Columns are recognised from web forms and Salesforce, HubSpot, Pipedrive and Zoho
    exports; others are kept as custom fields. Rejected rows go to a CSV (with line and
    reason) that can be fixed and imported again. Each file is one transaction and one batch.

    Example: leadcli import leads.csv --source webinar --tag 2026-q4
    """
    from leadcli.importing.loader import (
        ON_DUPLICATE,
        ImportOptions,
        check_readable,
        combined_summary,
    )
    from leadcli.text.contacts import normalise_phone

    if on_duplicate not in ON_DUPLICATE:
        raise typer.BadParameter(f"use {', '.join(ON_DUPLICATE)}", param_hint="--on-duplicate")
    if delimiter is not None and len(delimiter.encode("unicode_escape").decode()) > 2:
        delimiter = delimiter.encode().decode("unicode_escape")  # allow '\t'
    if delimiter is not None and len(delimiter) != 1:
        raise typer.BadParameter("one character, e.g. ';' or '\\t'", param_hint="--delimiter")
    if files.count("-") > 1:
        raise typer.BadParameter("stdin (-) can be read once", param_hint="FILE...")
    app_state = state(ctx)
    region = (region or app_state.config()["contacts.phone_region"]).upper()
    try:
        normalise_phone("+14155550100", region)
    except ValueError:
        raise typer.BadParameter(
            "a two-letter country code such as US or GB", param_hint="--region"
        ) from None
    options = ImportOptions(
        input_format=input_format,
        encoding=encoding,
        delimiter=delimiter,
        maps=map_ or [],
        mapping_file=mapping,
        region=region,
        keep_invalid=keep_invalid,
        on_duplicate=on_duplicate,
        rejects=rejects,
        dry_run=dry_run,
        source=source,
        tags=[t for value in tag or [] for t in value.split(",") if t.strip()],
        stage=parse_stage(stage) if stage is not None else None,
    )
    check_readable(files)
    store = app_state.store()
    results: list[ImportSummary] = []
    for path in files:
        try:
            summary = _run(store, path, options)
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
    columns = [
        "file",
        "rows",
        "imported",
        "updated",
        "duplicates",
        "rejected",
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
                s["batch"]
                or (
                    "already #" + str(s["already_imported_as"]) if s["already_imported_as"] else ""
                ),
            ]
            for s in summaries
        ),
        ["File", "Rows", "Imported", "Updated", "Duplicates", "Rejected", "Batch"],
        justify_right=("Rows", "Imported", "Updated", "Duplicates", "Rejected"),
    )
    for s in summaries:
        if s["rejects_file"]:
            say(f"Rejected rows of {s['file']} are in {s['rejects_file']}.")


def _run(store: Any, path: str, options: Any) -> Any:
    from leadcli.importing.loader import import_file

    if not sys.stderr.isatty():
        return import_file(store, path, options)
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    size = Path(path).stat().st_size if path != "-" and Path(path).exists() else None
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
        typer.Argument(metavar="BATCH", max=MAX_INT, help="A batch id from `leadcli imports`."),
    ],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Remove the leads an import batch created, keeping any changed since.

    Example: leadcli import undo 3
    """
    from leadcli.importing.loader import undo_batch

    result = undo_batch(state(ctx).store(), batch)
    if fmt is OutputFormat.json:
        write_object({"batch": batch, "removed": result.removed, "kept": result.kept}, sys.stdout)
        return
    say(f"Batch {batch}: removed {len(result.removed)} leads.")
    if result.kept:
        say(
            f"Kept {len(result.kept)} changed since the import: "
            + ", ".join(map(str, result.kept[:50]))
            + (" ..." if len(result.kept) > 50 else ""),
        )


@app.command("imports")
def imports(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """List import batches: file, time, counts, and whether undone.

    Example: leadcli imports -f json
    """
    from leadcli.importing.loader import list_batches

    batches = list_batches(state(ctx).store())
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
