"""``export``: leads as CSV, JSON, JSON Lines or vCard, to stdout or atomically to a file."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from leadcli.cli.options import (
    MinScoreFilter,
    OwnerFilter,
    RatingFilter,
    SearchFilter,
    SourceFilter,
    StageFilter,
    TagFilter,
    lead_query,
)
from leadcli.cli.output import say
from leadcli.cli.state import state

app = typer.Typer()


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


@app.command()
def export(
    ctx: typer.Context,
    stage: StageFilter = None,
    source: SourceFilter = None,
    tag: TagFilter = None,
    rating: RatingFilter = None,
    min_score: MinScoreFilter = None,
    owner: OwnerFilter = None,
    search: SearchFilter = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="csv (re-importable, safe in a spreadsheet), json or jsonl.",
        ),
    ] = ExportFormat.csv,
    vcf: Annotated[
        bool,
        typer.Option("--vcf", help="vCard 3.0 contacts for address books instead of -f."),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to FILE (owner-only, replaced whole or not at all); default stdout.",
            dir_okay=False,
        ),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            metavar="A,B,...",
            help="Only these fields or custom fields, in this order (csv, json, jsonl).",
        ),
    ] = None,
    for_outreach: Annotated[
        bool,
        typer.Option(
            "--for-outreach",
            help="Leave out leads who opted out of contact (do_not_contact). Lost leads stay; "
            "narrow with --stage.",
        ),
    ] = False,
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject",
            metavar="EMAIL",
            help="Everything held about the person with this e-mail (fields, custom fields, "
            "tags, BANT, activities, follow-ups, history, import batches) as one JSON "
            "document, for a subject access request. Takes no filters.",
        ),
    ] = None,
) -> None:
    """Export leads with every field and custom field; `import` reads the file back.

    Filters are those of `list`. The CSV neutralises spreadsheet formulas as `list -f csv`
    does; tags holding , or ; are written as a JSON array so they come back exactly.
    `--subject EMAIL` writes instead one JSON document of everything held about that person.

    Example: leadcli export --stage customer -o customers.csv
    """
    from leadcli.exporting import leads as exporting

    if subject is not None:
        given = [stage, source, tag, rating, min_score, owner, search, columns]
        if vcf or for_outreach or any(v not in (None, []) for v in given):
            raise typer.BadParameter(
                "exports one person's data: it takes no filters, --columns, --vcf or "
                "--for-outreach",
                param_hint="--subject",
            )
        _export_subject(ctx, subject, output)
        return

    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if vcf and wanted:
        raise typer.BadParameter("a vCard has its own fields", param_hint="--columns")
    query = lead_query(
        stage=stage,
        source=source,
        tag=tag,
        rating=rating,
        owner=owner,
        min_score=min_score,
        search=search,
    )
    if for_outreach:
        query = exporting.outreach_query(query)
    store = state(ctx).store(create=False)
    if vcf:
        from leadcli.exporting.vcard import write_vcards

        records = exporting.export_records(store, query)
        if output is None and sys.stdout.isatty():
            # On a terminal, control characters in the data are shown, never sent.
            import io

            from leadcli.text.safe_text import visible

            buffer = io.BytesIO()
            count = write_vcards(records, buffer)
            text = buffer.getvalue().decode("utf-8")
            sys.stdout.write("\r\n".join(visible(line) for line in text.split("\r\n")))
        elif output is None:
            count = write_vcards(records, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            with exporting.atomic_output(output, binary=True) as handle:
                count = write_vcards(records, handle)
    else:
        from leadcli.errors import InvalidValue

        try:
            chosen = exporting.choose_columns(store, wanted)
        except InvalidValue as exc:
            raise typer.BadParameter(exc.reason, param_hint="--columns") from None
        records = exporting.export_records(store, query, chosen if wanted else None)
        if output is None:
            count = exporting.write_records(records, fmt.value, chosen, sys.stdout)
        else:
            with exporting.atomic_output(output) as handle:
                count = exporting.write_records(records, fmt.value, chosen, handle)
    if output is not None:
        say(f"Exported {count} lead{'s' if count != 1 else ''} to {output}.")


def _export_subject(ctx: typer.Context, email: str, output: Path | None) -> None:
    """``export --subject``: one JSON document, to stdout or an owner-only file."""
    from leadcli.exporting import leads as exporting
    from leadcli.exporting.writers import write_object
    from leadcli.privacy.subject import subject_document

    document = subject_document(state(ctx).store(create=False), email)
    if output is None:
        write_object(document, sys.stdout)
    else:
        with exporting.atomic_output(output) as handle:
            write_object(document, handle)
    count = len(document["leads"])
    if not count:
        suppressed = " (it is suppressed)" if document["suppressed"] else ""
        say(f"No lead holds that address{suppressed}.")
    elif output is not None:
        say(f"Exported everything held on {count} lead{'s' if count != 1 else ''} to {output}.")
