"""Follow-ups as an iCalendar file (RFC 5545), for any calendar app.

The ``icalendar`` package writes the file (line folding, escaping, UTC times are its job);
it is imported here only, when a file is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from leadcli import __version__, dates

EVENT_MINUTES = 15


def _who(item: dict[str, Any]) -> str:
    name = " ".join(p for p in (item.get("first_name"), item.get("last_name")) if p)
    company = item.get("company")
    if name and company:
        return f"{name} ({company})"
    return name or company or f"lead {item['lead_id']}"


def write_ics(items: Iterable[dict[str, Any]], path: Path, *, uid_prefix: str) -> int:
    """Write one event per item (keys: lead_id, due_at, ref_id or id, note/detail, names);
    returns how many. UIDs are stable, so re-exporting updates events instead of adding."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", f"-//leadcli//leadcli {__version__}//EN")
    calendar.add("version", "2.0")
    stamp = dates.now()
    count = 0
    for item in items:
        start = dates.from_store(item["due_at"])
        event = Event()
        ref = item.get("ref_id") or item.get("id") or item["lead_id"]
        event.add("uid", f"{uid_prefix}-{ref}@leadcli")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=EVENT_MINUTES))
        event.add("summary", f"Follow up: {_who(item)}")
        lines = [item.get("note") or item.get("detail") or ""]
        lines += [f"{k}: {item[k]}" for k in ("email", "phone") if item.get(k)]
        lines.append(f"leadcli show {item['lead_id']}")
        event.add("description", "\n".join(line for line in lines if line))
        calendar.add_component(event)
        count += 1
    path.write_bytes(calendar.to_ical())
    return count
