"""Times: stored as UTC RFC 3339 strings, shown in local time.

Every timestamp in the database is ``YYYY-MM-DDTHH:MM:SSZ`` so that text order is time order
and SQL can compare them without parsing. ``LEADCLI_NOW`` pins "now" (RFC 3339 or any form
dateutil reads) so tests and reproductions can move the clock without patching; every phrase
("friday", "Dec 1 14:00", "in 2 hours") is read against it.

Local time is the zone ``TZ`` names (else ``/etc/localtime``), read with ``zoneinfo``: every
conversion uses the zone's rules *for that instant*, never the offset in force now, so a
follow-up set in summer for a winter evening comes due at that evening's local time. A local
time that does not exist (the spring-forward gap) is refused with the gap named; one that
happens twice (the autumn fall-back) means its first occurrence, and the caller is told so.
"""

from __future__ import annotations

import contextlib
import os
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import NamedTuple

STORE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: The years leadcli keeps. Outside them a date is a typo or junk from a file, and near
#: datetime's own limits (year 1, 9999) time-zone shifts and calendar arithmetic overflow.
MIN_YEAR, MAX_YEAR = 1900, 9998
_OUTSIDE = f"is outside the years leadcli keeps ({MIN_YEAR} to {MAX_YEAR})"


class NonexistentTime(ValueError):
    """A local wall-clock time that the zone skips (clocks moved forward over it)."""


class Resolved(NamedTuple):
    """A local time placed on the time line: the UTC instant, and a notice for people when
    the local time was ambiguous (it happens twice; the first is taken)."""

    utc: datetime
    notice: str | None


_ZONES: dict[str, tzinfo] = {}


def local_zone() -> tzinfo:
    """The local time zone with its full rules: ``TZ`` (a name, ``:name`` or a zone file),
    else ``/etc/localtime``, else UTC. Cached per ``TZ`` value (tests change it)."""
    key = os.environ.get("TZ", "")
    zone = _ZONES.get(key)
    if zone is None:
        zone = _ZONES[key] = _load_zone(key)
    return zone


def _load_zone(key: str) -> tzinfo:
    import zoneinfo

    name = key.removeprefix(":")
    try:
        if not name:
            with open("/etc/localtime", "rb") as handle:
                return zoneinfo.ZoneInfo.from_file(handle, key="localtime")
        if name.startswith("/"):
            with open(name, "rb") as handle:
                return zoneinfo.ZoneInfo.from_file(handle, key=name)
        return zoneinfo.ZoneInfo(name)
    except (OSError, ValueError, zoneinfo.ZoneInfoNotFoundError):
        # A POSIX rule string ("EST5EDT,M3.2.0,M11.1.0") or no zone data: the C library's
        # current offset is the best there is.
        return datetime.now().astimezone().tzinfo or UTC


def zone_name() -> str:
    zone = local_zone()
    return str(getattr(zone, "key", None) or zone)


def resolve_local(value: datetime) -> Resolved:
    """Place a naive local wall-clock time on the time line (aware values pass through).

    Raises NonexistentTime for a time inside a spring-forward gap, naming the gap; an
    ambiguous time (inside a fall-back overlap) takes its first occurrence, with a notice.
    """
    if value.tzinfo is not None:
        return Resolved(value.astimezone(UTC).replace(microsecond=0), None)
    zone = local_zone()
    first = value.replace(tzinfo=zone, fold=0)
    second = value.replace(tzinfo=zone, fold=1)
    before, after = first.utcoffset(), second.utcoffset()
    utc = first.astimezone(UTC)
    if before == after:
        return Resolved(utc.replace(microsecond=0), None)
    shown = value.strftime("%Y-%m-%d %H:%M")
    if utc.astimezone(zone).replace(tzinfo=None) != value:
        # In a gap fold=0 reads the time with the offset before the change; the gap is the
        # local hour(s) between the change and that offset's reading of it.
        assert before is not None and after is not None
        jump = abs(after - before)
        raise NonexistentTime(
            f"{shown} does not exist in {zone_name()}: the clocks jump forward "
            f"{_duration(jump)} that night; choose a time outside the gap, "
            f"e.g. {(value + jump).strftime('%H:%M')}"
        )
    return Resolved(
        utc.replace(microsecond=0),
        f"{shown} happens twice in {zone_name()} (the clocks go back); "
        f"taking the first, {_offset(before)}",
    )


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}"


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def local_start_of_day(day: date) -> datetime:
    """The UTC instant a local day begins (when midnight is skipped, the gap's end)."""
    return datetime(day.year, day.month, day.day).replace(tzinfo=local_zone()).astimezone(UTC)


def to_local(value: datetime) -> datetime:
    """An instant as a naive local wall-clock time (naive input is already local)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(local_zone()).replace(tzinfo=None)


def now() -> datetime:
    """The current time in UTC, or the pinned ``LEADCLI_NOW`` when set."""
    pinned = os.environ.get("LEADCLI_NOW")
    if pinned:
        try:  # the usual ISO form, without importing dateutil (start-up of timed runs)
            value = check_range(datetime.fromisoformat(pinned.strip()))
        except ValueError:
            value = parse_datetime(pinned, now_=datetime.now(UTC))
        if value.tzinfo is None:  # a pinned clock in a skipped hour reads as after the gap
            value = value.replace(tzinfo=local_zone(), fold=0)
        return value.astimezone(UTC).replace(microsecond=0)
    return datetime.now(UTC).replace(microsecond=0)


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are local wall-clock times (what a person types); see resolve_local."""
    return resolve_local(value).utc


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


def parse_datetime(text: str, *, now_: datetime | None = None, dayfirst: bool = False) -> datetime:
    """Parse an absolute date/time a person or a file wrote; raise ValueError if unreadable.

    dateutil is imported here, not at module level: most commands never parse a date and
    start-up time matters for cron and shell loops.
    """
    from dateutil import parser as date_parser

    text = text.strip()
    if not text:
        raise ValueError("empty date")
    # The day the text leaves out ("Dec 1 14:00" has no year; "friday" no date) is taken
    # from the pinned clock, so LEADCLI_NOW moves every phrase.
    default = to_local(now_ or now()).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        parsed = date_parser.parse(text, default=default, dayfirst=dayfirst)
    except (ValueError, OverflowError) as exc:
        raise ValueError("not a date or time leadcli understands") from exc
    return check_range(parsed)


#: A date written with numbers, day and month in either order: ``03/11/2026 14:05``,
#: ``3.11.26``, ``03-11-2026`` (the year last; a year first is ISO's order, always Y-M-D).
_NUMERIC_DATE = None
#: Excel's serial day numbers, 1900 system: day 1 is 1900-01-01 and Excel counts a
#: 29 February 1900 that never was (day 60), so from day 61 on day N is 1899-12-30 + N.
#: Only five digits, optionally with a time as a fraction (10000 = 1927-05-18 ...
#: 99999 = 2173-10-14): a four-digit cell is a year, not a day of 1900.
_EXCEL_EPOCH = datetime(1899, 12, 30)


def excel_serial(text: str) -> datetime | None:
    """The naive local time an Excel serial number (``46330``, ``46330.5``) stands for; None
    for any other text."""
    whole, _, fraction = text.partition(".")
    if len(whole) != 5 or not whole.isdigit() or (fraction and not fraction.isdigit()):
        return None
    seconds = round(float("0." + (fraction or "0")) * 86400)
    return _EXCEL_EPOCH + timedelta(days=int(whole), seconds=seconds)


def date_readings(text: str) -> tuple[datetime | None, datetime | None, str]:
    """A date cell read day first and month first, and what its shape says of the order:
    ``day`` (``25/12/2025``: only day first reads it), ``month`` (``12/25/2025``), ``both``
    (``03/11/2026``: two dates), ``serial`` (an Excel serial number), ``other`` (one reading:
    words, a year first, ``04/04``). A reading that is not a date is None.

    ISO 8601 is read before this by the caller (it always wins)."""
    import re

    global _NUMERIC_DATE
    if _NUMERIC_DATE is None:
        _NUMERIC_DATE = re.compile(r"\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")
    serial = excel_serial(text.strip())
    if serial is not None:
        try:
            return check_range(serial), check_range(serial), "serial"
        except ValueError:
            return None, None, "serial"
    shape = _NUMERIC_DATE.match(text)
    if shape is None:
        try:
            parsed = parse_datetime(text)
        except ValueError:
            return None, None, "other"
        return parsed, parsed, "other"
    first, second = int(shape[1]), int(shape[3])
    kind = "day" if first > 12 else "month" if second > 12 else "both"
    if kind == "both" and first == second:
        kind = "other"
    day = month = None
    if kind != "month":
        with contextlib.suppress(ValueError):
            day = parse_datetime(text, dayfirst=True)
    if kind == "other":
        return day, day, kind
    if kind != "day":
        with contextlib.suppress(ValueError):
            month = parse_datetime(text, dayfirst=False)
    return day, month, kind


def locale_day_first(locale: str) -> bool:
    """Whether ``locale`` writes the day before the month (babel's short date pattern:
    ``M/d/yy`` in en_US is month first, ``dd.MM.yy`` in de_DE day first)."""
    from babel.dates import get_date_format

    pattern = get_date_format("short", locale=locale).pattern
    day, month = pattern.find("d"), pattern.find("M")
    return not (0 <= month < day)


def to_local_display(text: str | None) -> str:
    """A stored timestamp as a short local time for tables (``2026-11-22 14:05``)."""
    if not text:
        return ""
    try:
        return to_local(from_store(text)).strftime("%Y-%m-%d %H:%M")
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


#: A follow-up given as a day without a time ("tomorrow", "3d") is at this local hour.
FOLLOW_UP_HOUR = 9
#: Words that give a time of day: with one of them, midnight was meant, not a bare day.
_EXPLICIT_TIME = re.compile(r"\d:\d|\d\s*(am|pm)\b|midnight|noon|tonight|\d+\s*(h|hours?|min)")


def parse_planned(text: str, *, day_time: int | None = None) -> Resolved:
    """WHEN as people write it, placed on the time line (``resolve_local``). With
    ``day_time``, a day given without a time ("tomorrow", "3d") means that local hour, since
    a follow-up at midnight is nobody's plan; "midnight" or "0:00" said outright stays.
    Raises ValueError (NonexistentTime in a spring-forward gap)."""
    when = parse_when(text)
    bare_day = when.hour == when.minute == 0 and not _EXPLICIT_TIME.search(text.lower())
    if day_time is not None and bare_day:
        when = when.replace(hour=day_time)
    return resolve_local(when)


_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "a couple of": 2}
_SHORT_DAYS = {d[:3]: d for d in _WEEKDAYS} | {
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
}


def _weekday(word: str) -> int | None:
    """Monday = 0 for "monday", "mon", "thurs" ...; None for other words."""
    word = _SHORT_DAYS.get(word, word)
    return _WEEKDAYS.index(word) if word in _WEEKDAYS else None


def _clock(text: str, now_: datetime | None) -> tuple[int, int, int]:
    """(hour, minute, second) for "9am", "3:30 pm", "14:00", "noon", "midnight"."""
    text = text.strip().removeprefix("at ").strip()
    if text == "noon":
        return 12, 0, 0
    if text == "midnight":
        return 0, 0, 0
    import re

    if not re.fullmatch(r"[0-9:.\s]+(?:[ap]\.?m\.?)?", text):
        raise ValueError("not a time of day leadcli understands (try 9am, 14:30, noon)")
    clock = parse_datetime(text, now_=now_)
    return clock.hour, clock.minute, clock.second


def _parse_when(text: str, *, now_: datetime | None = None) -> datetime:
    """A date/time as people write it, absolute or relative. Calendar phrases give a naive
    local time (placed on the time line later, by ``to_utc``, with the zone's rules for that
    day); phrases in minutes and hours are a span of real time from now and give UTC.

    Besides anything dateutil reads ("2026-09-01", "Dec 1 14:00"), this understands:
    "now", "today", "tomorrow", "yesterday", "tonight", "noon", "midnight" (the coming one);
    a weekday ("friday", "fri", "next friday": the coming one, never today) -- each with an
    optional time: "tomorrow 9am", "next monday at 9:30", "friday noon";
    "in 3 days", "in a week", "in an hour", "3 days ago", "a week ago"; short forms "3d",
    "2w", "6h", "3mo"; "next week|month|quarter|year"; "this quarter"; "Q3" or "Q3 2027" (a
    quarter means its first day; a past quarter of this year means next year's); "end of
    month|quarter|year". Raises ValueError otherwise.
    """
    import re

    from dateutil.relativedelta import relativedelta

    instant = (now_ or now()).astimezone(UTC).replace(microsecond=0)
    current = to_local(instant)
    today = current.replace(hour=0, minute=0, second=0)
    phrase = " ".join(text.strip().lower().split())
    if not phrase:
        raise ValueError("empty date")

    def with_time(day: datetime, rest: str) -> datetime:
        rest = rest.strip().removeprefix("at ").strip()
        if not rest:
            return day
        hour, minute, second = _clock(rest, now_)
        return day.replace(hour=hour, minute=minute, second=second)

    if phrase == "now":
        return instant
    if phrase in ("noon", "midday"):
        return today.replace(hour=12)
    if phrase == "midnight":  # the coming one: tonight's, which begins tomorrow
        return today + relativedelta(days=1)
    if phrase == "tonight":
        return today.replace(hour=20)
    for word, offset in (("today", 0), ("tomorrow", 1), ("yesterday", -1)):
        if phrase == word or phrase.startswith(word + " "):
            return with_time(today + relativedelta(days=offset), phrase[len(word) :])

    for words, number in _NUMBER_WORDS.items():
        phrase = re.sub(rf"^(in\s+)?{words}\s+(?=[a-z])", rf"\g<1>{number} ", phrase)
    match = re.fullmatch(r"(?:in\s+)?(\d+)\s*([a-z]+)(\s+ago)?(?:\s+(.+))?", phrase)
    if match and match.group(2) in _UNITS:
        amount = int(match.group(1)) * (-1 if match.group(3) else 1)
        unit = _UNITS[match.group(2)]
        if unit in ("minutes", "hours"):  # real elapsed time, whatever the clocks do
            if match.group(4):
                raise ValueError("a time of day goes with days, not with hours or minutes")
            return instant + timedelta(**{unit: amount})
        # "in 3 days at 15:00": a calendar day, then the wall-clock time on it.
        return with_time(today + relativedelta(**{unit: amount}), match.group(4) or "")

    # A weekday, alone or after "next", "this" or "on", with an optional time.
    match = re.fullmatch(r"(?:(next|this|on)\s+)?([a-z]+)\.?(?:\s+(.*))?", phrase)
    if match and _weekday(match.group(2)) is not None:
        day = _weekday(match.group(2))
        assert day is not None
        ahead = (day - today.weekday()) % 7
        if match.group(1) == "next" and ahead == 0:
            ahead = 7
        return with_time(today + relativedelta(days=ahead), match.group(3) or "")

    match = re.fullmatch(r"(next|this)\s+(\w+)", phrase)
    if match:
        which, what = match.groups()
        step = 1 if which == "next" else 0
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

    return parse_datetime(text, now_=instant)


# SQL over stored times (text in STORE_FORMAT), for set-based queries.


def span_sql(start: str, end: str) -> str:
    """SQL for the whole seconds from the stored time ``start`` to ``end``, never negative
    (a touch logged before the lead's creation counts as immediate): lead times, response
    times and stays in a stage are all measured so, and the indexes and ``stage_stays``
    that keep them hold exactly this (``storage.migrations.m014_reports``)."""
    return f"max(0, CAST(round((julianday({end}) - julianday({start})) * 86400) AS INTEGER))"


def epoch_sql(expr: str) -> str:
    """SQL for a stored time as whole seconds since 1970: ``unixepoch`` where SQLite has it
    (3.38+), the same integer by ``strftime`` before (three times the cost of a date read).
    Integers add up exactly, however many are summed."""
    import sqlite3

    return EPOCH_SQL[sqlite3.sqlite_version_info >= (3, 38)].format(expr)


#: ``epoch_sql``'s two forms: before SQLite 3.38 (False) and from it (True).
EPOCH_SQL = {False: "CAST(strftime('%s', {0}) AS INTEGER)", True: "unixepoch({0})"}
