"""Times across time zones with daylight saving, and the phrases people type.

Each zone's rules for the instant in question decide, never today's offset: the reproductions
of issue 14 (a follow-up on the night the clocks go back missing from `due --days 1`; "in 2
hours" across the spring-forward hour stored an hour off; a skipped time stored silently).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leadcli.text import dates

ZONES = ("America/New_York", "Europe/Lisbon", "Australia/Lord_Howe")


@contextmanager
def in_zone(name: str) -> Iterator[None]:
    """Local time is ``name`` for leadcli and for the C library alike (``tzset``)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture
def zone():
    with contextlib.ExitStack() as stack:
        yield lambda name: stack.enter_context(in_zone(name))


# ---------------------------------------------------------------- reproductions


def test_followup_on_the_night_clocks_go_back_is_due_within_one_day(cli, zone, monkeypatch):
    zone("America/New_York")
    monkeypatch.setenv("LEADCLI_NOW", "2026-10-31T16:00:00Z")
    assert cli("add", "--first-name", "Ana").exit_code == 0
    cli("log", "1", "call")
    assert cli("followup", "1", "2026-11-01 23:30", "late call").exit_code == 0
    # 23:30 EST on 1 November is 04:30 UTC on the 2nd, past the end computed with EDT.
    [item] = json.loads(cli("due", "--days", "1", "-f", "json").stdout)["items"]
    assert item["due_at"] == "2026-11-02T04:30:00Z"


def test_in_two_hours_across_spring_forward_is_two_real_hours(zone):
    zone("Europe/Lisbon")
    now = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    assert dates.to_store(dates.parse_when("in 2 hours", now_=now)) == "2026-03-29T01:30:00Z"


def test_a_skipped_local_time_is_an_error_naming_the_gap(cli, zone, monkeypatch):
    zone("Europe/Lisbon")
    monkeypatch.setenv("LEADCLI_NOW", "2026-03-20T10:00:00Z")
    cli("add", "--first-name", "Ana")
    result = cli("followup", "1", "2026-03-29 01:30")
    assert result.exit_code == 2
    assert "does not exist in Europe/Lisbon" in result.stderr
    assert "jump forward 1:00" in result.stderr
    assert json.loads(cli("followup", "list", "-f", "json").stdout) == []


def test_an_ambiguous_local_time_takes_the_first_and_says_so(cli, zone, monkeypatch):
    zone("Europe/Lisbon")
    monkeypatch.setenv("LEADCLI_NOW", "2026-10-20T10:00:00Z")
    cli("add", "--first-name", "Ana")
    result = cli("followup", "1", "2026-10-25 01:30", "-f", "json")
    assert result.exit_code == 0
    assert "happens twice" in result.stderr
    # The first 01:30 is still summer time (UTC+1).
    assert json.loads(result.stdout)["due_at"] == "2026-10-25T00:30:00Z"


def test_lord_howe_half_hour_gap():
    with in_zone("Australia/Lord_Howe"), pytest.raises(dates.NonexistentTime, match="0:30"):
        dates.to_utc(datetime(2026, 10, 4, 2, 15))


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        # Pinned: Wednesday 2026-11-18 10:00 UTC.
        ("next monday 9am", "2026-11-23T09:00:00Z"),
        ("next friday 3pm", "2026-11-20T15:00:00Z"),
        ("noon", "2026-11-18T12:00:00Z"),
        ("midnight", "2026-11-19T00:00:00Z"),
        ("in a week", "2026-11-25T09:00:00Z"),
        ("in an hour", "2026-11-18T11:00:00Z"),
        ("friday", "2026-11-20T09:00:00Z"),
        ("mon", "2026-11-23T09:00:00Z"),
        ("thurs at 4:30pm", "2026-11-19T16:30:00Z"),
        ("Dec 1 14:00", "2026-12-01T14:00:00Z"),
        ("tomorrow noon", "2026-11-19T12:00:00Z"),
    ],
)
def test_phrases_follow_the_pinned_clock(cli, monkeypatch, phrase, expected):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-18T10:00:00Z")
    cli("add", "--first-name", "Ana")
    result = cli("followup", "1", phrase, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["due_at"] == expected


def test_pinned_clock_moves_weekday_and_yearless_dates(monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2031-02-03T10:00:00Z")  # a Monday, years away
    assert dates.parse_when("friday").date() == date(2031, 2, 7)
    assert dates.parse_when("mon").date() == date(2031, 2, 3)
    assert dates.parse_when("Dec 1 14:00") == datetime(2031, 12, 1, 14, 0)


@pytest.mark.parametrize("phrase", ["yesterday", "3 days ago", "2026-01-01"])
def test_a_follow_up_in_the_past_needs_past(cli, monkeypatch, phrase):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-18T10:00:00Z")
    cli("add", "--first-name", "Ana")
    refused = cli("followup", "1", phrase)
    assert refused.exit_code == 1
    assert "--past" in refused.stderr
    assert cli("followup", "1", phrase, "--past").exit_code == 0


def test_activity_before_the_lead_existed_is_refused(cli, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-18T10:00:00Z")
    cli("add", "--first-name", "Ana")
    result = cli("log", "1", "call", "--at", "1900-01-01")
    assert result.exit_code == 1
    assert "before the lead was created" in result.stderr
    shown = json.loads(cli("show", "1", "-f", "json").stdout)
    assert shown["first_contacted_at"] is None


# ---------------------------------------------------------------- properties

local_times = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31))


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(ZONES), local=local_times)
def test_a_local_time_round_trips_through_storage(name, local):
    """What is stored for a local time reads back as that local time (gaps excepted)."""
    local = local.replace(microsecond=0)
    with in_zone(name):
        try:
            stored = dates.to_store(local)
        except dates.NonexistentTime:
            # Only a time the zone really skips is refused.
            aware = local.replace(tzinfo=ZoneInfo(name))
            assert aware.astimezone(UTC).astimezone(ZoneInfo(name)).replace(tzinfo=None) != local
            return
        assert dates.to_local(dates.from_store(stored)) == local
        # ... and it is the instant the zone's own rules give for that wall time.
        expected = local.replace(tzinfo=ZoneInfo(name), fold=0).astimezone(UTC)
        assert dates.from_store(stored) == expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(ZONES),
    now_=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    ahead=st.integers(min_value=0, max_value=3 * 24 * 60),
    days=st.integers(min_value=0, max_value=3),
)
def test_due_days_includes_exactly_the_follow_ups_to_the_end_of_the_nth_local_day(
    tmp_path_factory, name, now_, ahead, days
):
    """A follow-up at local time L is in `due --days N` exactly when L's local date is at
    most today + N, across daylight-saving changes and half-hour shifts."""
    from leadcli import config
    from leadcli.engagement import activities, followups
    from leadcli.engagement.due import due_items
    from leadcli.leads.records import add_lead
    from leadcli.storage.store import connect

    zone = ZoneInfo(name)
    now_utc = now_.replace(tzinfo=UTC, microsecond=0)
    local_now = now_utc.astimezone(zone).replace(tzinfo=None)
    target = local_now + timedelta(minutes=ahead)  # a wall-clock time ahead
    with in_zone(name), pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEADCLI_NOW", now_utc.isoformat())
        try:
            when = dates.resolve_local(target).utc
        except dates.NonexistentTime:
            assume(False)
        assume(when >= now_utc)
        store = connect(tmp_path_factory.mktemp("due") / "leads.db")
        try:
            lead = add_lead(store, {"first_name": "Ana"})
            activities.log(store, lead, "call")
            followups.add(store, lead, when)
            items, _ = due_items(store, config.load(), days=days, kinds=("follow_up",))
        finally:
            store.close()
        listed = bool(items)
        assert listed == (target.date() <= local_now.date() + timedelta(days=days))
        if listed:
            shown = dates.to_local(dates.from_store(items[0]["due_at"]))
            assert shown == target.replace(microsecond=0)


_DAY_PHRASES = ("tomorrow", "friday", "next monday", "in 3 days", "in a week", "today")


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(ZONES),
    now_=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    day=st.sampled_from(_DAY_PHRASES),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.sampled_from([0, 15, 30, 45]),
)
def test_a_phrase_with_a_time_is_that_wall_clock_time_in_the_zone(name, now_, day, hour, minute):
    """ "<day> at HH:MM" is HH:MM local on that day, whatever offset is in force now: stored,
    it reads back as that wall time (or is refused when the clocks skip it)."""
    pinned = now_.replace(tzinfo=UTC)
    zone = ZoneInfo(name)
    with in_zone(name):
        when = dates.parse_when(f"{day} at {hour:02d}:{minute:02d}", now_=pinned)
        local_today = pinned.astimezone(zone).date()
        assert when.tzinfo is None and (when.hour, when.minute) == (hour, minute)
        assert when.date() >= local_today
        try:
            stored = dates.to_store(when)
        except dates.NonexistentTime:
            assert when.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).hour != hour
            return
        back = dates.from_store(stored).astimezone(zone)
        assert (back.date(), back.hour, back.minute) == (when.date(), hour, minute)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(ZONES),
    now_=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    hours=st.integers(min_value=1, max_value=72),
)
def test_in_n_hours_is_n_real_hours_in_every_zone(name, now_, hours):
    pinned = now_.replace(tzinfo=UTC, microsecond=0)
    with in_zone(name):
        stored = dates.to_store(dates.parse_when(f"in {hours} hours", now_=pinned))
    assert dates.from_store(stored) - pinned == timedelta(hours=hours)


def test_a_planned_day_without_a_time_is_at_the_follow_up_hour(monkeypatch):
    """A follow-up "tomorrow" is at 9:00 local, not midnight; a time said outright stays."""
    from leadcli.text import dates

    monkeypatch.setenv("LEADCLI_NOW", "2026-12-07T15:00:00Z")
    bare = dates.parse_planned("tomorrow", day_time=dates.FOLLOW_UP_HOUR)
    assert (bare.utc.day, bare.utc.hour, bare.utc.minute) == (8, 9, 0)
    said = dates.parse_planned("tomorrow 0:00", day_time=dates.FOLLOW_UP_HOUR)
    assert (said.utc.day, said.utc.hour) == (8, 0)
    assert dates.parse_planned("tomorrow midnight", day_time=9).utc.hour == 0
    assert dates.parse_planned("tomorrow").utc.hour == 0  # no day_time: the day as written
