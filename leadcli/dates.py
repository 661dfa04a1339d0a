"""Times: stored as UTC RFC 3339 strings, shown in local time.

Every timestamp in the database is ``YYYY-MM-DDTHH:MM:SSZ`` so that text order is time order
and SQL can compare them without parsing. ``LEADCLI_NOW`` pins "now" (RFC 3339 or any form
dateutil reads) so tests and reproductions can move the clock without patching.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

STORE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def now() -> datetime:
    """The current time in UTC, or the pinned ``LEADCLI_NOW`` when set."""
    pinned = os.environ.get("LEADCLI_NOW")
    if pinned:
        return to_utc(parse_datetime(pinned, now_=datetime.now(UTC)))
    return datetime.now(UTC).replace(microsecond=0)


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are local wall-clock times (what a person types)."""
    if value.tzinfo is None:
        value = value.astimezone()  # interpret as local time
    return value.astimezone(UTC).replace(microsecond=0)


def to_store(value: datetime) -> str:
    """The stored text form of a datetime."""
    return to_utc(value).strftime(STORE_FORMAT)


def now_text() -> str:
    return to_store(now())


def from_store(text: str) -> datetime:
    """Parse a stored timestamp (always UTC)."""
    return datetime.strptime(text, STORE_FORMAT).replace(tzinfo=UTC)


def parse_datetime(text: str, *, now_: datetime | None = None) -> datetime:
    """Parse an absolute date/time a person or a file wrote; raise ValueError if unreadable.

    dateutil is imported here, not at module level: most commands never parse a date and
    start-up time matters for cron and shell loops.
    """
    from dateutil import parser as date_parser

    text = text.strip()
    if not text:
        raise ValueError("empty date")
    default = (
        (now_ or datetime.now(UTC))
        .astimezone()
        .replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    )
    try:
        return date_parser.parse(text, default=default)
    except (ValueError, OverflowError) as exc:
        raise ValueError("not a date or time leadcli understands") from exc


def to_local_display(text: str | None) -> str:
    """A stored timestamp as a short local time for tables (``2026-11-22 14:05``)."""
    if not text:
        return ""
    try:
        return from_store(text).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text
