"""Follow-ups as an iCalendar file (RFC 5545), for any calendar app.

The ``icalendar`` package writes the file (line folding, escaping, UTC times are its job);
it is imported here only, when a file is asked for. RFC 5545 allows no control character in
text but tab (a newline is written ``\\n``), and calendar apps show what they get: data goes
through ``strip_controls`` first, as it would on input.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from leadcli import __version__
from leadcli.text import dates
from leadcli.text.safe_text import strip_controls

EVENT_MINUTES = 15


def _who(item: dict[str, Any]) -> str:
    name = " ".join(p for p in (item.get("first_name"), item.get("last_name")) if p)
    company = item.get("company")
    if name and company:
        return f"{name} ({company})"
    return name or company or f"lead {item['lead_id']}"


def _held(item: dict[str, Any]) -> str:
    """A mark in front of a follow-up the lead cannot be contacted about (``followup list
    --all``), so the calendar does not invite a call the person refused."""
    held = item.get("held")
    return f"[{held}] " if held else ""


def uid(item: dict[str, Any]) -> str:
    """The event's UID, stable and distinct per kind of item, whichever command exports it:
    ``followup-<follow-up id>@leadcli`` (a ``due`` item of kind follow_up, whose ``ref_id`` is
    the follow-up's id, or a ``followup list`` record, whose ``id`` is), and
    ``cadence-<enrolment id>-<step number>@leadcli`` for a cadence step (``ref_id`` is the
    enrolment's id, ``step`` the step's number, 1 for the first)."""
    kind = item.get("kind", "follow_up")
    if kind == "cadence":
        return f"cadence-{item['ref_id']}-{item['step']}@leadcli"
    if kind == "follow_up":
        ref = item["ref_id"] if "ref_id" in item else item["id"]
        return f"followup-{ref}@leadcli"
    raise ValueError(f"no calendar event for a {kind} item")


def write_ics(items: Iterable[dict[str, Any]], path: Path) -> int:
    """Write one event per item (keys: lead_id, due_at, kind/ref_id/step or id, note/detail,
    names); returns how many. UIDs are stable (see ``uid``), so re-exporting updates events
    instead of adding."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", f"-//leadcli//leadcli {__version__}//EN")
    calendar.add("version", "2.0")
    stamp = dates.now()
    count = 0
    for item in items:
        start = dates.from_store(item["due_at"])
        event = Event()
        event.add("uid", uid(item))
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=EVENT_MINUTES))
        event.add("summary", strip_controls(f"{_held(item)}Follow up: {_who(item)}"))
        lines = [item.get("note") or item.get("detail") or ""]
        lines += [f"{k}: {item[k]}" for k in ("email", "phone") if item.get(k)]
        lines.append(f"leadcli show {item['lead_id']}")
        event.add("description", strip_controls("\n".join(line for line in lines if line)))
        calendar.add_component(event)
        count += 1
    path.write_bytes(calendar.to_ical())
    return count
