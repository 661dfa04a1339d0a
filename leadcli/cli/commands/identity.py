"""Identity commands: ``dedupe`` (likely duplicates, and merging them) and ``merge``."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from leadcli.cli import options
from leadcli.cli.options import (
    FormatOption,
    OutputFormat,
    effective_limit,
    limit_option,
    read_ids,
)
from leadcli.cli.output import emit, progress, render_table, say
from leadcli.cli.shared import before_bulk_change, rescoring
from leadcli.cli.state import state
from leadcli.exporting.writers import write_object

app = typer.Typer()

PAIR_COLUMNS = ("ids", "score", "reasons")


class Prefer(StrEnum):
    """Whose value stays where two leads both have one."""

    keep = "keep"
    other = "other"


TABLE_LIMIT = 100
PairLimit = limit_option(TABLE_LIMIT, " pairs, best first")


def _rules(path: Path | None) -> Any:
    from leadcli.identity import matcher
    from leadcli.storage.paths import resolve_config_path

    return matcher.load_rules(path, config_path=resolve_config_path())


def _lists(ctx: typer.Context) -> Any:
    """The placeholders and role addresses in force (config, else the shipped lists)."""
    from leadcli.identity.evidence import Lists

    return Lists.from_config(state(ctx).config())


def _name(record: dict[str, Any]) -> str:
    return " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)


def _pair_rows(store: Any, pairs: list[dict[str, Any]]) -> list[list[Any]]:
    from leadcli.leads.records import LeadQuery, iter_leads

    ids = sorted({i for pair in pairs for i in pair["ids"]})
    marks = ", ".join("?" * len(ids))
    query = LeadQuery(extra_where=[(f"leads.id IN ({marks})", tuple(ids))])
    leads = {r["id"]: r for r in iter_leads(store, query)}  # one query for the whole table
    rows = []
    for pair in pairs:
        a, b = (leads[i] for i in pair["ids"])
        rows.append(
            [
                f"{a['id']} / {b['id']}",
                f"{pair['score']:.2f}",
                f"{_name(a)} / {_name(b)}",
                f"{a['email'] or ''} / {b['email'] or ''}",
                ", ".join(pair["reasons"]),
            ]
        )
    return rows


@app.command()
def dedupe(
    ctx: typer.Context,
    compare: Annotated[
        list[str] | None,
        typer.Option(
            "--compare",
            metavar="FIELD",
            help="Also compare this custom field, named as the column it was imported under "
            "(repeatable).",
        ),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            metavar="FILE",
            help="Matching rules (TOML). Default: matching.toml in the config folder, else the "
            "built-in rules.",
        ),
    ] = None,
    min_score: Annotated[
        float | None,
        typer.Option(
            "--min-score",
            min=0.0,
            max=1.0,
            help="Only pairs scoring at least this (0-1). Default: the rules' threshold.",
            show_default=False,
        ),
    ] = None,
    merge: Annotated[
        bool,
        typer.Option(
            "--merge",
            help="Merge the pairs: on a terminal, asks pair by pair; in a script needs --yes. "
            "The database is backed up first (backup.keep = 0: not).",
        ),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="With --merge: merge every pair shown, keeping the lower id."
        ),
    ] = False,
    limit: PairLimit = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Find likely duplicate leads: names, company, e-mail, phone, city and chosen fields.

    Pairs come best first with a score (0-1, the probability that they are one person) and
    the reasons. -f json prints one object per pair: ids (lower first), score, reasons.

    Example: leadcli dedupe --compare postcode --min-score 0.9 -f json
    """
    if merge and not yes and not options.stdin_is_interactive():
        say("Error: dedupe --merge in a script needs --yes (and usually --min-score).")
        raise typer.Exit(2)
    store = state(ctx).store()
    matching_rules = _rules(rules)
    pairs, stats = _find(store, matching_rules, compare or [], min_score, _lists(ctx))
    found = len(pairs)
    table = fmt is OutputFormat.table and not merge
    shown = effective_limit(limit, table=table, table_default=TABLE_LIMIT)
    if shown is not None:
        pairs = pairs[:shown]
    if merge:
        if yes:  # unattended: only pairs at the bar, never a low recorded one
            bar = matching_rules.threshold if min_score is None else min_score
            pairs = [p for p in pairs if p["score"] >= bar]
        backup = before_bulk_change(ctx, "dedupe") if pairs else None
        done = _merge_pairs(ctx, store, pairs, ask=not yes, lists=_lists(ctx), backup=backup)
        if fmt is not OutputFormat.table:
            emit(done, fmt, columns=("merge", "kept", "merged", "score"))
        return
    if fmt is not OutputFormat.table:
        emit(pairs, fmt, columns=PAIR_COLUMNS)
    else:
        if pairs:
            render_table(
                _pair_rows(store, pairs),
                ["IDs", "Score", "Names", "Emails", "Reasons"],
                justify_right=("Score",),
                no_wrap=("IDs", "Score"),
            )
        more = (
            f"; showing the best {len(pairs)} (--limit N, 0 for all)" if found > len(pairs) else ""
        )
        say(
            f"{found} likely duplicate pair{'s' if found != 1 else ''} among "
            f"{stats['leads']:,} leads ({stats['compared']:,} pairs compared){more}."
        )


def _find(store: Any, rules: Any, compare: list[str], min_score: float | None, lists: Any) -> Any:
    """find_duplicates, with a progress bar on a terminal (stderr) and nothing otherwise."""
    from leadcli.identity.dedupe import find_duplicates

    with progress("comparing", "pairs") as update:
        return find_duplicates(
            store, rules, compare=compare, min_score=min_score, progress=update, lists=lists
        )


def _merge_pairs(
    ctx: typer.Context,
    store: Any,
    pairs: list[dict[str, Any]],
    *,
    ask: bool,
    lists: Any,
    backup: Any = None,
) -> list[dict[str, Any]]:
    """Merge pairs one by one, best first. A lead merged away earlier is stood for by the
    lead it went into, so a chain (1 ~ 2, 2 ~ 3) ends as one lead; a pair whose two sides
    are already one is skipped. Returns ``{"merge", "kept", "merged", "score"}`` per merge.
    ``backup`` (``before_bulk_change``) is taken by the first merge that passes its checks:
    none when every pair is skipped."""
    from leadcli.errors import NotFound
    from leadcli.identity.merge import merge_leads

    into: dict[int, int] = {}

    def current(lead_id: int) -> int:
        while lead_id in into:
            lead_id = into[lead_id]
        return lead_id

    done: list[dict[str, Any]] = []
    for pair in pairs:
        ends = sorted({current(i) for i in pair["ids"]})
        if len(ends) < 2:  # already one lead
            continue
        a, b = ends
        keep, other = a, b
        if ask:
            row = _pair_rows(store, [{**pair, "ids": [a, b]}])
            render_table(row, ["IDs", "Score", "Names", "Emails", "Reasons"])
            answer = (
                typer.prompt("Keep [l]eft, keep [r]ight, [s]kip, [q]uit", default="s", err=True)
                .strip()
                .lower()[:1]
            )
            if answer == "q":
                break
            if answer not in ("l", "r"):
                continue
            if answer == "r":
                keep, other = b, a
        try:
            with rescoring(ctx) as touched:
                result = merge_leads(store, keep, [other], lists=lists, before_write=backup)
                touched([keep])
        except NotFound:
            continue
        into[other] = keep
        done.append(
            {"merge": result["merge"], "kept": keep, "merged": [other], "score": pair["score"]}
        )
        say(f"Merged lead {other} into {keep} (merge {result['merge']}).")
    say(f"{len(done)} merge{'s' if len(done) != 1 else ''} done.")
    return done


def _merge_table(result: dict[str, Any]) -> None:
    from leadcli.cli.output import cell_text

    verb = "Would merge" if result["dry_run"] else f"Merge {result['merge']}:"
    say(
        f"{verb} lead{'s' if len(result['merged']) > 1 else ''} "
        + ", ".join(str(i) for i in result["merged"])
        + f" into {result['kept']}."
    )
    if result["changes"]:
        render_table(
            (
                [name, cell_text(old), cell_text(new)]
                for name, (old, new) in result["changes"].items()
            ),
            ["Field", "Before", "After"],
            title="Changes to the kept lead",
        )
    if result["conflicts"]:
        render_table(
            ([c["field"], c["kept"], c["other"], c["from"]] for c in result["conflicts"]),
            ["Field", "Kept", "Other", "From lead"],
            title="Conflicts (use --prefer other to take the other values)",
        )
    if not result["dry_run"]:
        say(f"Undo with: leadcli merge undo {result['merge']}")


@app.command(
    context_settings={"allow_interspersed_args": True},
)
def merge(
    ctx: typer.Context,
    ids: Annotated[
        list[str],
        typer.Argument(
            metavar="KEEP OTHER... | undo MERGE",
            help="The lead to keep, then the leads to merge into it; or `undo` and a merge id.",
            show_default=False,
        ),
    ],
    prefer: Annotated[
        Prefer,
        typer.Option(
            "--prefer",
            case_sensitive=False,
            help="keep: where both leads have a value, the kept lead's stays; other: the "
            "other's wins.",
        ),
    ] = Prefer.keep,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what the merge would do; change nothing.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Merge leads into one, or undo a merge (`merge undo ID`).

    The first lead survives: its empty fields are filled from the others, conflicts are
    listed (a second e-mail or phone kept in other_emails / other_phones), tags united,
    activities, follow-ups, BANT answers and enrolments moved, the others' history shown
    with it, the most advanced stage and do-not-contact kept. `merge undo ID` restores the
    leads exactly as they were. The database is backed up first (backup.keep = 0: not).

    Example: leadcli merge 12 57 --dry-run; leadcli merge 12 57; leadcli merge undo 1
    """
    from leadcli.cli.options import parse_id
    from leadcli.identity.merge import merge_leads, undo_merge

    store = state(ctx).store()
    if ids and ids[0] == "undo":
        if len(ids) != 2:
            raise typer.BadParameter("use: leadcli merge undo MERGE_ID", param_hint="MERGE")
        merge_id = parse_id(ids[1], "MERGE")
        if dry_run:
            raise typer.BadParameter("undo has no --dry-run", param_hint="--dry-run")

        result = undo_merge(store, merge_id, before_write=before_bulk_change(ctx, "merge-undo"))
        if fmt is OutputFormat.table:
            say(
                f"Merge {merge_id} undone: leads "
                + ", ".join(str(i) for i in result["restored"])
                + " restored."
            )
        elif fmt is OutputFormat.json:
            write_object(result, sys.stdout)
        else:
            emit([result], fmt, columns=("merge", "restored"))
        return
    if len(ids) < 2:
        raise typer.BadParameter("give the lead to keep and at least one other", param_hint="ID")
    numbers = read_ids(ids, "ID")

    def run(backup: Any = None) -> dict[str, Any]:
        return merge_leads(
            store,
            numbers[0],
            numbers[1:],
            prefer=prefer.value,
            dry_run=dry_run,
            lists=_lists(ctx),
            before_write=backup,
        )

    if dry_run:  # rolled back inside: no transaction around it to commit it
        result = run()
    else:
        backup = before_bulk_change(ctx, "merge")
        with rescoring(ctx) as touched:
            result = run(backup)
            touched([numbers[0]])
    if fmt is OutputFormat.table:
        _merge_table(result)
    elif fmt is OutputFormat.json:
        write_object(result, sys.stdout)
    else:
        emit([result], fmt, columns=("merge", "kept", "merged", "changes", "conflicts", "dry_run"))
