"""Lead commands: ``add``, ``list``, ``edit`` and ``stages`` (``show`` has its own module)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from leadcli.cli.options import (
    FormatOption,
    IdsOnly,
    LeadIdsOrStdin,
    MinScoreFilter,
    OutputFormat,
    OwnerFilter,
    RatingFilter,
    SearchFilter,
    SortKey,
    SourceFilter,
    Stage,
    StageFilter,
    TagFilter,
    effective_limit,
    lead_query,
    limit_option,
    read_ids,
    split_commas,
)
from leadcli.cli.output import emit, render_table, say, time_cell, write_object
from leadcli.cli.shared import rescoring
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
Street = Annotated[str | None, typer.Option("--street", help="Street address.")]
City = Annotated[str | None, typer.Option("--city", help="City.")]
PostalCode = Annotated[str | None, typer.Option("--postal-code", help="Postal or ZIP code.")]
Region = Annotated[str | None, typer.Option("--region", help="State, province or region.")]
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
AllowDuplicate = Annotated[
    bool,
    typer.Option(
        "--allow-duplicate",
        help="Add the lead even though another lead has this exact e-mail (a second deal "
        "with the same person); otherwise adding it fails naming that lead.",
    ),
]
EntryStage = Annotated[
    Stage | None,
    typer.Option(
        "--stage",
        case_sensitive=False,
        help="Enter the lead at this stage (a past lead), recorded in its history.",
    ),
]
Created = Annotated[
    str | None,
    typer.Option(
        "--created",
        metavar="WHEN",
        help="When the lead first came in (2026-03-01, '3 weeks ago'); default now.",
    ),
]

DEFAULT_TABLE_LIMIT = 100
ListLimit = limit_option(DEFAULT_TABLE_LIMIT)
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


_split_tags = split_commas


def _columns(store: Any) -> list[str]:
    from leadcli.exporting.leads import all_columns

    return all_columns(store)


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
    street: Street = None,
    city: City = None,
    postal_code: PostalCode = None,
    region: Region = None,
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
    allow_suppressed: Annotated[
        bool,
        typer.Option(
            "--allow-suppressed",
            help="Add a person erased with `forget` who came back by their own choice (lifts "
            "their suppression); otherwise adding them fails.",
        ),
    ] = False,
    allow_duplicate: AllowDuplicate = False,
    stage: EntryStage = None,
    created: Created = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add a lead and print its id (or the whole record with -f json).

    An e-mail another lead already has is refused (that lead's id is named) unless
    --allow-duplicate; a likely duplicate by name or phone is added with a warning. --stage
    and --created enter a lead from the past, its history dated as given.

    Example: leadcli add --first-name Ana --last-name Silva --email ana@acme.com --tag webinar
    """
    from leadcli.leads.records import add_lead, get_lead
    from leadcli.text.dates import to_store

    app_state = state(ctx)
    values = _given_fields(locals())
    custom = {k: v for k, v in _parse_custom(field).items() if v is not None}
    region = app_state.config()["contacts.phone_region"]
    created_at = _created(created, stage)
    store = app_state.store(create=True)
    if not allow_duplicate:
        _refuse_same_email(store, values.get("email"), app_state.config())
    with rescoring(ctx) as touched:
        lead_id = add_lead(
            store,
            values,
            tags=_split_tags(tag),
            custom=custom,
            phone_region=region,
            created_at=None if created_at is None else to_store(created_at),
            allow_suppressed=allow_suppressed,
        )
        touched([lead_id])
    if stage is not None and stage.value != "prospect":
        from leadcli.pipeline.transitions import advance

        with rescoring(ctx) as touched:
            advance(store, [lead_id], to=stage.value, at=created_at)
            touched([lead_id])
    _warn_if_duplicate(store, lead_id, app_state.config())
    if fmt is OutputFormat.table:
        typer.echo(str(lead_id))
        return
    record = get_lead(store, lead_id, with_history=False)
    if fmt is OutputFormat.json:
        write_object(record, sys.stdout)
    else:
        emit([record], fmt, columns=_columns(store))


def _created(text: str | None, stage: Any) -> Any:
    """``--created`` as a UTC instant, not in the future (a lead cannot come in tomorrow);
    and ``--stage lost`` refused, since a lost lead needs its reason (both before any write)."""
    if stage is not None and stage.value == "lost":
        raise typer.BadParameter(
            "a lost lead needs its reason: add it, then `leadcli advance ID --lost --reason ...`",
            param_hint="--stage",
        )
    if text is None:
        return None
    from leadcli.cli.shared import when_option
    from leadcli.text import dates

    when = when_option(text, "--created")
    if when > dates.now():
        raise typer.BadParameter(
            "is in the future; a lead comes in now or earlier", param_hint="--created"
        )
    return when


def _refuse_same_email(store: Any, email: str | None, config: Any) -> None:
    """Refuse a lead whose e-mail another lead has (``identity.dedupe.lead_with_email``
    says which), naming that lead, never its data."""
    if not email:
        return
    from leadcli.identity.dedupe import lead_with_email
    from leadcli.identity.evidence import Lists

    other = lead_with_email(store, email, Lists.from_config(config))
    if other is not None:
        from leadcli.errors import LeadcliError

        raise LeadcliError(
            f"lead {other} already has this e-mail; nothing was added",
            hint=f"`leadcli show {other}`, or --allow-duplicate to add another lead anyway",
        )


def _warn_if_duplicate(store: Any, lead_id: int, config: Any) -> None:
    """Say on stderr which existing lead the new one probably duplicates (it is added
    anyway: `merge` joins them once a person has looked)."""
    from leadcli.identity.dedupe import likely_matches
    from leadcli.identity.evidence import Lists
    from leadcli.identity.matcher import load_rules
    from leadcli.leads.records import get_lead
    from leadcli.storage.paths import resolve_config_path

    rules = load_rules(config_path=resolve_config_path())
    matches = likely_matches(store, lead_id, rules, lists=Lists.from_config(config))
    for match in matches:
        other = get_lead(store, match["id"], with_history=False)
        name = " ".join(p for p in (other["first_name"], other["last_name"]) if p)
        details = ", ".join(str(v) for v in (name, other["email"], other["company"]) if v)
        say(
            f"Warning: lead {lead_id} is probably lead {other['id']} ({details}); "
            f"score {match['score']:.2f}: {', '.join(match['reasons'])}. "
            f"To join them: leadcli merge {other['id']} {lead_id}"
        )


#: ``list``'s formats: every script format, and mutt's ``query_command`` lines.
ListFormat = StrEnum(  # type: ignore[misc]
    "ListFormat", {**{f.value: f.value for f in OutputFormat}, "mutt": "mutt"}
)


@app.command("list")
def list_leads(
    ctx: typer.Context,
    stage: StageFilter = None,
    source: SourceFilter = None,
    tag: TagFilter = None,
    rating: RatingFilter = None,
    min_score: MinScoreFilter = None,
    owner: OwnerFilter = None,
    search: SearchFilter = None,
    sort: Annotated[
        SortKey,
        typer.Option(
            "--sort",
            case_sensitive=False,
            help="The order; a - in front reverses it (e.g. -score).",
        ),
    ] = SortKey["id"],
    limit: ListLimit = None,
    ids_only: IdsOnly = False,
    list_fmt: Annotated[
        ListFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="table for people (the default, also under cron); json, jsonl, csv or tsv "
            "for scripts: every field, stable; mutt for mutt's query_command.",
        ),
    ] = ListFormat.table,
) -> None:
    """List leads, filtered and sorted.

    Example: leadcli list --stage mql --tag webinar --sort -score -f csv > mql.csv
    """
    from leadcli.leads.records import iter_leads

    filters = {
        "stage": stage,
        "source": source,
        "tag": tag,
        "rating": rating,
        "owner": owner,
        "min_score": min_score,
        "search": search,
        "sort": str(sort.value),
    }
    if list_fmt is ListFormat.mutt and not ids_only:
        from leadcli.exporting.writers import write_mutt_query

        query = lead_query(**filters, limit=limit or None)
        write_mutt_query(iter_leads(state(ctx).store(create=False), query), sys.stdout)
        return
    fmt = OutputFormat.table if list_fmt is ListFormat.mutt else OutputFormat(list_fmt.value)

    table = fmt is OutputFormat.table and not ids_only
    shown = effective_limit(limit, table=table, table_default=DEFAULT_TABLE_LIMIT)
    # one more than shown, to know whether to say there are more
    query = lead_query(**filters, limit=shown + 1 if table and shown else shown)
    store = state(ctx).store(create=False)
    if ids_only:
        # Only the id is needed; the records still stream, so a million ids use little memory.
        sys.stdout.writelines(f"{r['id']}\n" for r in iter_leads(store, query))
        return
    if not table:
        emit(iter_leads(store, query), fmt, columns=_columns(store))
        return
    records = list(iter_leads(store, query))
    more = shown is not None and len(records) > shown
    records = records[:shown] if shown else records
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
        no_wrap=("ID", "Stage", "Score", "Follow-up"),
        keep_whole=("Email", "Phone"),
    )
    if more:
        say(
            f"Showing the first {shown}; use --limit N (0 for all) to see more.",
        )


@app.command()
def edit(
    ctx: typer.Context,
    ids: LeadIdsOrStdin,
    first_name: FirstName = None,
    last_name: LastName = None,
    email: Email = None,
    phone: Phone = None,
    company: Company = None,
    title: Title = None,
    website: Website = None,
    street: Street = None,
    city: City = None,
    postal_code: PostalCode = None,
    region: Region = None,
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
    """Change leads' fields or tags; an empty value ("") clears a field.

    Prints what changed; the change is kept in each lead's history. With several ids (or -
    for ids on stdin) all of them change or none does.

    Example: leadcli edit 42 --title CTO --add-tag vip --remove-tag cold-list
    """
    from leadcli.leads.records import edit_lead, get_lead

    app_state = state(ctx)
    values = _given_fields(locals())
    lead_ids = read_ids(ids)
    if not lead_ids:
        say("No lead ids given; nothing to change.")
        return
    store = app_state.store()
    region = app_state.config()["contacts.phone_region"]
    custom = _parse_custom(field)
    all_changes: dict[int, dict[str, Any]] = {}
    with rescoring(ctx) as touched:  # several leads: all of them or none
        for lead_id in lead_ids:
            all_changes[lead_id] = edit_lead(
                store,
                lead_id,
                values,
                add_tags=_split_tags(add_tag),
                remove_tags=_split_tags(remove_tag),
                custom=custom,
                phone_region=region,
            )
        touched(i for i, changed in all_changes.items() if changed)
    if fmt is not OutputFormat.table:
        records = [get_lead(store, i, with_history=False) for i in lead_ids]
        if fmt is OutputFormat.json:
            # `edit 42 -f json` prints the lead; several ids (or -) print an array.
            single = len(ids) == 1 and ids[0] != "-"
            write_object(records[0] if single else records, sys.stdout)
        else:
            emit(records, fmt, columns=_columns(store))
        return
    from leadcli.leads.history import field_changes

    for lead_id, changes in all_changes.items():
        if not changes:
            say(f"Lead {lead_id}: nothing to change.")
            continue
        render_table(
            ([name, old, new] for name, old, new in field_changes(changes)),
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
