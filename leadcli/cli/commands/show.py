"""``leadcli show``: one lead, every field, its activities, follow-ups, stages and history."""

from __future__ import annotations

import sys
from typing import Any

import typer

from leadcli.cli.options import (
    FormatOption,
    LeadId,
    OutputFormat,
)
from leadcli.cli.output import emit, make_console, render_table, time_cell, write_object
from leadcli.cli.state import state

app = typer.Typer()


def _history_line(event: dict[str, Any]) -> str:
    """One event as a short line: `edited: title 'CTO' → 'CEO'`."""
    from leadcli.cli.output import cell_text
    from leadcli.leads.history import field_changes

    parts = []
    for name, old, new in field_changes(event["changes"]):
        if event["event"] == "created":
            parts.append(f"{name}={cell_text(new)}")
        else:
            parts.append(f"{name}: {cell_text(old) or '∅'} → {cell_text(new) or '∅'}")
    text = "; ".join(parts)
    if event.get("reason"):
        text += f" ({cell_text(event['reason'], lines=True)})"
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

    store = state(ctx).store(create=False)
    record = get_lead(store, lead_id)
    with store.read() as conn:
        record["stage_timeline"] = stage_timeline(conn, lead_id)
        record["activities"] = activities.for_lead(conn, lead_id)
        record["follow_ups"] = [
            {k: f[k] for k in ("id", "due_at", "note")}
            # The lead's own card shows them all; its do_not_contact and stage say why
            # lists leave some out.
            for f in followups.open_followups(store, lead_id, include_held=True)
        ]
        record["cadences"] = cadences.enrolments_for(conn, lead_id)
    if fmt is OutputFormat.json:
        write_object(record, sys.stdout)
        return
    if fmt is not OutputFormat.table:
        from leadcli.exporting.leads import all_columns

        emit([record], fmt, columns=all_columns(store))
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
            no_wrap=("Due",),
            lines=("Note",),
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
            no_wrap=("When",),
            lines=("Note",),
        )
    console.print()
    render_table(
        ([s["stage"], time_cell(s["entered_at"]), s["reason"]] for s in record["stage_timeline"]),
        ["Stage", "Entered", "Why"],
        title="Stages",
        console=console,
        no_wrap=("Entered",),
    )
    if record["history"]:
        console.print()
        render_table(
            ([time_cell(e["at"]), e["event"], _history_line(e)] for e in record["history"]),
            ["When", "Event", "Change"],
            title="History",
            console=console,
            no_wrap=("When",),
            lines=("Change",),
        )
