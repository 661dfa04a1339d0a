"""Times: stored as UTC RFC 3339 strings, shown in local time.

Every timestamp in the database is ``YYYY-MM-DDTHH:MM:SSZ`` so that text order is time order
and SQL can compare them without parsing. ``LEADCLI_NOW`` pins "now" (RFC 3339 or any form
dateutil reads) so tests and reproductions can move the clock without patching.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

STORE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: The years leadcli keeps. Outside them a date is a typo or junk from a file, and near
#: datetime's own limits (year 1, 9999) time-zone shifts and calendar arithmetic overflow.
MIN_YEAR, MAX_YEAR = 1900, 9998
_OUTSIDE = f"is outside the years leadcli keeps ({MIN_YEAR} to {MAX_YEAR})"


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
    """The stored text form of a datetime (``isoformat`` pads the year to four digits on every
    platform, which ``strftime("%Y")`` does not)."""
    return to_utc(value).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def check_range(value: datetime) -> datetime:
    """``value`` itself, or ValueError when its year is outside MIN_YEAR..MAX_YEAR."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(_OUTSIDE)
    return value


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
        parsed = date_parser.parse(text, default=default)
    except (ValueError, OverflowError) as exc:
        raise ValueError("not a date or time leadcli understands") from exc
    return check_range(parsed)


def to_local_display(text: str | None) -> str:
    """A stored timestamp as a short local time for tables (``2026-11-22 14:05``)."""
    if not text:
        return ""
    try:
        return from_store(text).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text


_UNITS = {
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "wk": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "mo": "months",
    "month": "months",
    "months": "months",
    "y": "years",
    "yr": "years",
    "year": "years",
    "years": "years",
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _quarter_start(year: int, quarter: int) -> datetime:
    return datetime(year, 3 * (quarter - 1) + 1, 1)


def parse_when(text: str, *, now_: datetime | None = None) -> datetime:
    """A date/time as people write it (see ``_parse_when``), within the years leadcli keeps;
    raises ValueError otherwise."""
    try:
        return check_range(_parse_when(text, now_=now_))
    except OverflowError:  # "in 99999 years"
        raise ValueError(_OUTSIDE) from None


def _parse_when(text: str, *, now_: datetime | None = None) -> datetime:
    """A date/time as people write it, absolute or relative; naive results are local time.

    Besides anything dateutil reads ("2026-09-01", "Dec 1 14:00"), this understands:
    "now", "today", "tomorrow", "yesterday" (each optionally with a time: "tomorrow 9am");
    "in 3 days", "in 2 months", "3 days ago"; short forms "3d", "2w", "6h", "3mo";
    "next monday", "next week|month|quarter|year"; "this quarter"; "Q3" or "Q3 2027"
    (a quarter means its first day; a past quarter of this year means next year's);
    "end of month|quarter|year". Raises ValueError otherwise.
    """
    import re

    from dateutil.relativedelta import relativedelta

    current = (now_ or now()).astimezone().replace(tzinfo=None, microsecond=0)
    today = current.replace(hour=0, minute=0, second=0)
    phrase = " ".join(text.strip().lower().split())
    if not phrase:
        raise ValueError("empty date")

    def with_time(day: datetime, rest: str) -> datetime:
        if not rest:
            return day
        clock = parse_datetime(rest, now_=now_)
        return day.replace(hour=clock.hour, minute=clock.minute, second=clock.second)

    if phrase == "now":
        return current
    for word, offset in (("today", 0), ("tomorrow", 1), ("yesterday", -1)):
        if phrase == word or phrase.startswith(word + " "):
            rest = phrase[len(word) :].strip().removeprefix("at ").strip()
            return with_time(today + relativedelta(days=offset), rest)

    match = re.fullmatch(r"(?:in\s+)?(\d+)\s*([a-z]+)(\s+ago)?", phrase)
    if match and match.group(2) in _UNITS:
        amount = int(match.group(1)) * (-1 if match.group(3) else 1)
        unit = _UNITS[match.group(2)]
        base = current if unit in ("minutes", "hours") else today
        return base + relativedelta(**{unit: amount})

    match = re.fullmatch(r"(next|this)\s+(\w+)", phrase)
    if match:
        which, what = match.groups()
        step = 1 if which == "next" else 0
        if what in _WEEKDAYS:
            days_ahead = (_WEEKDAYS.index(what) - today.weekday()) % 7 or 7
            return today + relativedelta(days=days_ahead)
        if what == "week":
            monday = today - relativedelta(days=today.weekday())
            return monday + relativedelta(weeks=step)
        if what == "month":
            return today.replace(day=1) + relativedelta(months=step)
        if what == "quarter":
            start = _quarter_start(today.year, (today.month - 1) // 3 + 1)
            return start + relativedelta(months=3 * step)
        if what == "year":
            return datetime(today.year + step, 1, 1)

    match = re.fullmatch(r"q([1-4])(?:\s+(\d{4}))?", phrase)
    if match:
        quarter = int(match.group(1))
        year = int(match.group(2)) if match.group(2) else today.year
        start = _quarter_start(year, quarter)
        if not match.group(2) and start + relativedelta(months=3) <= today:
            start = _quarter_start(year + 1, quarter)
        return start

    match = re.fullmatch(r"end of (?:the )?(month|quarter|year)", phrase)
    if match:
        what = match.group(1)
        if what == "month":
            return today.replace(day=1) + relativedelta(months=1, days=-1)
        if what == "quarter":
            start = _quarter_start(today.year, (today.month - 1) // 3 + 1)
            return start + relativedelta(months=3, days=-1)
        return datetime(today.year, 12, 31)

    return parse_datetime(text, now_=now_)
