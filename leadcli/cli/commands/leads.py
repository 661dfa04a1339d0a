"""Lead commands: ``add``, ``list``, ``show``, ``edit`` and ``stages``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from leadcli.cli.commands.scoring import rescore_touched
from leadcli.cli.options import (
    MAX_INT,
    FormatOption,
    LeadId,
    OutputFormat,
    OwnerFilter,
    SourceFilter,
    StageFilter,
    TagFilter,
    stage_list,
)
from leadcli.cli.output import emit, make_console, render_table, say, time_cell, write_object
from leadcli.cli.state import state

app = typer.Typer()

# One alias per settable field, shared by `add` and `edit`.
FirstName = Annotated[str | None, typer.Option("--first-name", help="Given name.")]
LastName = Annotated[str | None, typer.Option("--last-name", help="Family name.")]
Email = Annotated[
    str | None, typer.Option("--email", help="Email; stored trimmed and lower-cased.")
]
Phone = Annotated[
    str | None,
    typer.Option("--phone", help="Phone; stored as E.164 (see contacts.phone_region)."),
]
Company = Annotated[str | None, typer.Option("--company", help="Company or organisation.")]
Title = Annotated[str | None, typer.Option("--title", help="Job title.")]
Website = Annotated[str | None, typer.Option("--website", help="Website.")]
City = Annotated[str | None, typer.Option("--city", help="City.")]
Country = Annotated[str | None, typer.Option("--country", help="Country.")]
Source = Annotated[
    str | None, typer.Option("--source", help="Where the lead came from (web, referral ...).")
]
Owner = Annotated[str | None, typer.Option("--owner", help="Who works this lead.")]
Value = Annotated[
    str | None, typer.Option("--value", help="Expected deal value, e.g. 12000 or 12,000.50.")
]
Notes = Annotated[str | None, typer.Option("--notes", help="Free text.")]
ExternalId = Annotated[
    str | None, typer.Option("--external-id", help="The lead's id in another CRM.")
]
DoNotContact = Annotated[
    bool | None,
    typer.Option(
        "--do-not-contact/--contact-ok",
        help="The person opted out of contact (or opted back in).",
        show_default=False,
    ),
]
CustomFields = Annotated[
    list[str] | None,
    typer.Option(
        "--field",
        metavar="NAME=VALUE",
        help="A custom field (repeatable); an empty VALUE removes it in `edit`.",
    ),
]

#: Table columns of `list`: header, and how to get the cell from a record.
LIST_COLUMNS: list[tuple[str, Any]] = [
    ("ID", lambda r: r["id"]),
    ("Name", lambda r: " ".join(p for p in (r["first_name"], r["last_name"]) if p)),
    ("Company", lambda r: r["company"]),
    ("Email", lambda r: r["email"]),
    ("Phone", lambda r: r["phone"]),
    ("Stage", lambda r: r["stage"]),
    ("Score", lambda r: " ".join(str(p) for p in (r["score"], r["rating"]) if p is not None)),
    ("Source", lambda r: r["source"]),
    ("Follow-up", lambda r: time_cell(r["next_follow_up_at"])),
]
DEFAULT_TABLE_LIMIT = 100
OPTIONAL_COLUMNS = ("Phone", "Score", "Source", "Follow-up")


def _given_fields(params: dict[str, Any]) -> dict[str, Any]:
    """The settable fields among a command's parameters that the user passed (None: not)."""
    from leadcli.leads.records import SETTABLE_FIELDS

    return {
        name: value
        for name, value in params.items()
        if name in SETTABLE_FIELDS and name != "tags" and value is not None
    }


def _parse_custom(pairs: list[str] | None) -> dict[str, str | None]:
    custom: dict[str, str | None] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter("use NAME=VALUE", param_hint="--field")
        custom[name.strip()] = value.strip() or None
    return custom


def _split_tags(values: list[str] | None) -> list[str]:
    """`--tag a --tag b` and `--tag a,b` mean the same: tags never contain commas."""
    return [part for value in values or [] for part in value.split(",")]


def _columns(store: Any) -> list[str]:
    from leadcli.leads.records import RECORD_FIELDS, custom_field_names

    return [f for f in RECORD_FIELDS if f != "custom"] + custom_field_names(store)


@app.command()
def add(
    ctx: typer.Context,
    first_name: FirstName = None,
    last_name: LastName = None,
    email: Email = None,
    phone: Phone = None,
    company: Company = None,
    title: Title = None,
    website: Website = None,
    city: City = None,
    country: Country = None,
    source: Source = None,
    owner: Owner = None,
    value: Value = None,
    notes: Notes = None,
    external_id: ExternalId = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="A tag (repeatable, or comma-separated).")
    ] = None,
    do_not_contact: DoNotContact = None,
    field: CustomFields = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add a lead and print its id (or the whole record with -f json).

    Example: leadcli add --first-name Ana --last-name Silva --email ana@acme.com --tag webinar
    """
    from leadcli.leads.records import add_lead, get_lead

    app_state = state(ctx)
    values = _given_fields(locals())
    custom = {k: v for k, v in _parse_custom(field).items() if v is not None}
    region = app_state.config()["contacts.phone_region"]
    store = app_state.store()
    lead_id = add_lead(store, values, tags=_split_tags(tag), custom=custom, phone_region=region)
    rescore_touched(ctx, [lead_id])
    if fmt is OutputFormat.table:
        typer.echo(str(lead_id))
        return
    record = get_lead(store, lead_id, with_history=False)
    if fmt is OutputFormat.json:
        write_object(record, sys.stdout)
    else:
        emit([record], fmt, columns=_columns(store))


@app.command("list")
def list_leads(
    ctx: typer.Context,
    stage: StageFilter = None,
    source: SourceFilter = None,
    tag: TagFilter = None,
    rating: Annotated[
        list[str] | None, typer.Option("--rating", help="Only hot, warm or cold (repeatable).")
    ] = None,
    min_score: Annotated[
        int | None, typer.Option("--min-score", min=0, max=100, help="Only scores at least this.")
    ] = None,
    owner: OwnerFilter = None,
    search: Annotated[
        str | None,
        typer.Option("--search", "-q", help="Words to find in names, company, email, notes."),
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            help="id, created, updated, name, company, score, value, stage or follow-up; "
            "prefix - to reverse (e.g. -score).",
        ),
    ] = "id",
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            max=MAX_INT,
            help=f"At most this many (0: all). Default: all, or {DEFAULT_TABLE_LIMIT} in a table.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List leads, filtered and sorted.

    Example: leadcli list --stage mql --tag webinar --sort -score -f csv > mql.csv
    """
    from leadcli.leads.records import SORT_KEYS, LeadQuery, iter_leads

    ratings = [r.lower() for r in rating or []]
    bad = [r for r in ratings if r not in ("hot", "warm", "cold")]
    if bad:
        raise typer.BadParameter("use hot, warm or cold", param_hint="--rating")
    if sort.lstrip("-") not in SORT_KEYS:
        raise typer.BadParameter(f"use one of {', '.join(SORT_KEYS)}", param_hint="--sort")
    table = fmt is OutputFormat.table
    effective_limit = (DEFAULT_TABLE_LIMIT if table else None) if limit is None else limit or None
    query = LeadQuery(
        stages=stage_list(stage),
        sources=source or [],
        tags=_split_tags(tag),
        ratings=ratings,
        owners=owner or [],
        min_score=min_score,
        search=search,
        sort=sort,
        # one more than shown, to know whether to say there are more
        limit=effective_limit + 1 if table and effective_limit else effective_limit,
    )
    store = state(ctx).store()
    if not table:
        emit(iter_leads(store, query), fmt, columns=_columns(store))
        return
    records = list(iter_leads(store, query))
    more = effective_limit is not None and len(records) > effective_limit
    records = records[:effective_limit] if effective_limit else records
    if not records:
        say("No leads match.")
        return
    # Columns that are empty for every lead shown only take width from the others.
    columns = [
        (header, get)
        for header, get in LIST_COLUMNS
        if header not in OPTIONAL_COLUMNS or any(get(r) for r in records)
    ]
    render_table(
        ([get(r) for _, get in columns] for r in records),
        [header for header, _ in columns],
        justify_right=("ID", "Score"),
        no_wrap=("ID", "Phone", "Stage", "Score", "Follow-up"),
    )
    if more:
        say(
            f"Showing the first {effective_limit}; use --limit N (0 for all) to see more.",
        )


def _history_line(event: dict[str, Any]) -> str:
    """One event as a short line: `edited: title 'CTO' → 'CEO'`."""
    from leadcli.cli.output import cell_text

    parts = []
    for name, (old, new) in event["changes"].items():
        if event["event"] == "created":
            parts.append(f"{name}={cell_text(new)}")
        else:
            parts.append(f"{name}: {cell_text(old) or '∅'} → {cell_text(new) or '∅'}")
    text = "; ".join(parts)
    if event.get("reason"):
        text += f" ({cell_text(event['reason'])})"
    return text


@app.command()
def show(
    ctx: typer.Context,
    lead_id: LeadId,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show one lead: every field, custom fields, tags and its history.

    Example: leadcli show 42
    """
    from leadcli.engagement import activities, cadences, followups
    from leadcli.leads.records import RECORD_FIELDS, get_lead
    from leadcli.pipeline.transitions import stage_timeline

    store = state(ctx).store()
    record = get_lead(store, lead_id)
    with store.read() as conn:
        record["stage_timeline"] = stage_timeline(conn, lead_id)
        record["activities"] = activities.for_lead(conn, lead_id)
        record["follow_ups"] = [
            {k: f[k] for k in ("id", "due_at", "note")}
            for f in followups.open_followups(store, lead_id)
        ]
        record["cadences"] = cadences.enrolments_for(conn, lead_id)
    if fmt is OutputFormat.json:
        write_object(record, sys.stdout)
        return
    if fmt is not OutputFormat.table:
        emit([record], fmt, columns=_columns(store))
        return

    from rich.table import Table

    from leadcli.cli.output import safe_cell

    console = make_console()
    name = " ".join(p for p in (record["first_name"], record["last_name"]) if p)
    card = Table.grid(padding=(0, 2))
    card.add_column(style="bold")
    card.add_column(overflow="fold")
    time_fields = {f for f in RECORD_FIELDS if f.endswith("_at")}
    for field_name in RECORD_FIELDS:
        value = record[field_name]
        if field_name in ("custom", "bant") or value in (None, [], {}, ""):
            continue
        if field_name in time_fields:
            value = time_cell(value)
        card.add_row(field_name, safe_cell(value))
    for key, value in sorted(record["custom"].items()):
        card.add_row(safe_cell(key), safe_cell(value))
    from rich.text import Text

    console.print(Text(f"Lead {record['id']}", style="bold"), Text(" "), safe_cell(name or ""))
    console.print(card)
    if record["bant"]:
        console.print()
        render_table(
            (
                [
                    c,
                    a["answer"] if a["detail"] is None else f"{a['answer']}: {a['detail']}",
                    a["met"],
                    time_cell(a["at"]),
                ]
                for c, a in sorted(record["bant"].items())
            ),
            ["Criterion", "Answer", "Met", "Answered"],
            title="BANT",
            console=console,
        )
    if record["follow_ups"]:
        console.print()
        render_table(
            ([time_cell(f["due_at"]), f["note"]] for f in record["follow_ups"]),
            ["Due", "Note"],
            title="Follow-ups",
            console=console,
        )
    if record["cadences"]:
        console.print()
        render_table(
            (
                [
                    c["cadence"],
                    f"{min(c['step'], c['steps'])} of {c['steps']}",
                    time_cell(c["next_due_at"]),
                    c["end_reason"] or "active",
                ]
                for c in record["cadences"]
            ),
            ["Cadence", "Step", "Next due", "Status"],
            title="Cadences",
            console=console,
        )
    if record["activities"]:
        console.print()
        render_table(
            (
                [
                    time_cell(a["at"]),
                    a["kind"],
                    "in" if a["inbound"] else "out",
                    a["outcome"],
                    a["note"],
                ]
                for a in record["activities"]
            ),
            ["When", "Kind", "Dir", "Outcome", "Note"],
            title="Activities",
            console=console,
        )
    console.print()
    render_table(
        ([s["stage"], time_cell(s["entered_at"]), s["reason"]] for s in record["stage_timeline"]),
        ["Stage", "Entered", "Why"],
        title="Stages",
        console=console,
    )
    if record["history"]:
        console.print()
        render_table(
            ([time_cell(e["at"]), e["event"], _history_line(e)] for e in record["history"]),
            ["When", "Event", "Change"],
            title="History",
            console=console,
        )


@app.command()
def edit(
    ctx: typer.Context,
    lead_id: LeadId,
    first_name: FirstName = None,
    last_name: LastName = None,
    email: Email = None,
    phone: Phone = None,
    company: Company = None,
    title: Title = None,
    website: Website = None,
    city: City = None,
    country: Country = None,
    source: Source = None,
    owner: Owner = None,
    value: Value = None,
    notes: Notes = None,
    external_id: ExternalId = None,
    do_not_contact: DoNotContact = None,
    add_tag: Annotated[
        list[str] | None, typer.Option("--add-tag", help="Add a tag (repeatable).")
    ] = None,
    remove_tag: Annotated[
        list[str] | None, typer.Option("--remove-tag", help="Remove a tag (repeatable).")
    ] = None,
    field: CustomFields = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change a lead's fields or tags; an empty value ("") clears a field.

    Prints what changed; the change is kept in the lead's history.

    Example: leadcli edit 42 --title CTO --add-tag vip --remove-tag cold-list
    """
    from leadcli.leads.records import edit_lead, get_lead

    app_state = state(ctx)
    values = _given_fields(locals())
    store = app_state.store()
    changes = edit_lead(
        store,
        lead_id,
        values,
        add_tags=_split_tags(add_tag),
        remove_tags=_split_tags(remove_tag),
        custom=_parse_custom(field),
        phone_region=app_state.config()["contacts.phone_region"],
    )
    if changes:
        rescore_touched(ctx, [lead_id])
    if fmt is not OutputFormat.table:
        record = get_lead(store, lead_id, with_history=False)
        if fmt is OutputFormat.json:
            write_object(record, sys.stdout)
        else:
            emit([record], fmt, columns=_columns(store))
        return
    if not changes:
        say(f"Lead {lead_id}: nothing to change.")
        return
    render_table(
        ([name, old, new] for name, (old, new) in changes.items()),
        ["Field", "Was", "Now"],
        title=f"Lead {lead_id} changed",
    )


@app.command()
def stages(fmt: FormatOption = OutputFormat.table) -> None:
    """List the stages in funnel order.

    Example: leadcli stages -f json
    """
    from leadcli.pipeline.stages import DESCRIPTIONS, STAGES, is_closed

    records = [
        {"order": i, "stage": s, "closed": is_closed(s), "meaning": DESCRIPTIONS[s]}
        for i, s in enumerate(STAGES, start=1)
    ]
    if fmt is OutputFormat.table:
        render_table(
            ([r["order"], r["stage"], r["closed"], r["meaning"]] for r in records),
            ["#", "Stage", "Closed", "Meaning"],
        )
    else:
        emit(records, fmt, columns=["order", "stage", "closed", "meaning"])
