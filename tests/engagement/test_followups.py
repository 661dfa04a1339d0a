"""Activities, follow-ups, the due list, iCalendar export and cadences."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

NOW = "2026-11-22T12:00:00Z"


@pytest.fixture
def at(monkeypatch):
    """Move leadcli's clock: at("2026-11-22T12:00:00Z")."""

    def move(when: str) -> None:
        monkeypatch.setenv("LEADCLI_NOW", when)

    move(NOW)
    return move


def add(cli, *args: str) -> int:
    result = cli("add", *args)
    assert result.exit_code == 0, result.stderr
    return int(result.stdout)


def due_json(cli, *args: str) -> list[dict]:
    result = cli("due", "-f", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["items"]


def test_the_morning_due_list(cli, at):
    at("2026-11-20T08:00:00Z")
    yesterday = add(cli, "--first-name", "Yara")
    today = add(cli, "--first-name", "Tom")
    week = add(cli, "--first-name", "Wes")
    dnc = add(cli, "--first-name", "Dee", "--do-not-contact")
    for lead in (yesterday, today, week, dnc):
        cli("log", str(lead), "email", "first touch")
    at("2026-11-22T10:00:00Z")
    new = add(cli, "--first-name", "Nia")
    at(NOW)
    assert cli("followup", str(yesterday), "2026-11-21 10:00", "overdue", "--past").exit_code == 0
    assert cli("followup", str(today), "today 15:00").exit_code == 0
    assert cli("followup", "add", str(week), "2026-11-27 10:00").exit_code == 0
    assert cli("followup", str(dnc), "2026-11-20 10:00", "never shown", "--past").exit_code == 0

    items = due_json(cli)
    assert [(i["lead_id"], i["kind"]) for i in items] == [
        (new, "new_lead"),
        (yesterday, "follow_up"),
        (today, "follow_up"),
    ]
    urgencies = [i["urgency"] for i in items]
    assert urgencies == sorted(urgencies, reverse=True)
    table = cli("due")
    assert "Yara" in table.stdout and "Nia" in table.stdout and "Dee" not in table.stdout

    ahead = due_json(cli, "--days", "7")
    assert {i["lead_id"] for i in ahead} == {new, yesterday, today, week}

    assert cli("followup", "done", str(yesterday), str(today), str(week)).exit_code == 0
    assert cli("log", str(new), "call", "intro call").exit_code == 0
    quiet = cli("due")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert cli("due", "--days", "7").stdout == ""


def test_log_sets_contact_times(cli, at):
    lead = add(cli, "--first-name", "Ana")
    at("2026-11-22T13:00:00Z")
    cli("log", str(lead), "email", "--inbound")
    card = json.loads(cli("show", str(lead), "-f", "json").stdout)
    assert card["first_contacted_at"] is None  # an inbound touch is not our contact
    assert card["last_activity_at"] == "2026-11-22T13:00:00Z"
    cli("log", str(lead), "call", "--at", "2026-11-22 12:30", "--outcome", "voicemail")
    card = json.loads(cli("show", str(lead), "-f", "json").stdout)
    assert card["first_contacted_at"] is not None
    assert card["last_activity_at"] == "2026-11-22T13:00:00Z"  # an older touch keeps the latest
    assert [(a["kind"], a["inbound"], a["outcome"]) for a in card["activities"]] == [
        ("call", False, "voicemail"),
        ("email", True, None),
    ]
    assert cli("log", str(lead), "fax").exit_code == 2
    assert cli("log", "999", "call").exit_code == 1


def test_followup_phrases_snooze_and_next_follow_up(cli, at):
    lead = add(cli, "--first-name", "Ana")
    for phrase in ("tomorrow 9am", "in 3 days", "3d", "2w", "next monday", "2026-12-01 14:00"):
        assert cli("followup", str(lead), phrase).exit_code == 0, phrase
    assert cli("followup", str(lead), "when pigs fly").exit_code == 2
    card = json.loads(cli("show", str(lead), "-f", "json").stdout)
    earliest = min(f["due_at"] for f in card["follow_ups"])
    assert card["next_follow_up_at"] == earliest
    assert cli("followup", "snooze", str(lead), "2027-01-05").exit_code == 0
    card = json.loads(cli("show", str(lead), "-f", "json").stdout)
    due = sorted(f["due_at"] for f in card["follow_ups"])
    assert due[-1] == "2027-01-05T09:00:00Z"  # a day without a time means 9:00
    assert card["next_follow_up_at"] == due[0]
    listed = json.loads(cli("followup", "list", "-f", "json").stdout)
    assert len(listed) == 6 and listed == sorted(listed, key=lambda f: f["due_at"])
    # `done ID` closes the lead's next follow-up only (the one `due` shows) ...
    assert cli("followup", "done", str(lead)).exit_code == 0
    card = json.loads(cli("show", str(lead), "-f", "json").stdout)
    assert [f["id"] for f in card["follow_ups"]] == [f["id"] for f in listed[1:]]
    assert card["next_follow_up_at"] == listed[1]["due_at"]
    # ... and --all every open one.
    assert cli("followup", "done", str(lead), "--all").exit_code == 0
    card = json.loads(cli("show", str(lead), "-f", "json").stdout)
    assert card["next_follow_up_at"] is None and card["follow_ups"] == []


def test_stale_leads_and_speed_to_lead_sla(cli, at, isolated_env):
    at("2026-10-01T09:00:00Z")
    quiet = add(cli, "--first-name", "Quinn")
    cli("log", str(quiet), "call")
    at("2026-11-22T11:30:00Z")
    fresh = add(cli, "--first-name", "Fresh")
    at(NOW)  # Fresh is 30 minutes old: inside the 60-minute SLA
    assert [(i["lead_id"], i["kind"]) for i in due_json(cli)] == [(quiet, "stale")]
    cli("config", "set", "followup.speed_to_lead_minutes", "15")
    assert {i["lead_id"] for i in due_json(cli)} == {quiet, fresh}
    cli("advance", str(quiet), "--lost", "--reason", "no budget")
    assert {i["lead_id"] for i in due_json(cli)} == {fresh}


def test_due_forgets_no_uncontacted_lead(cli, at):
    """An uncontacted lead past the SLA is listed however old it is, and a follow-up only
    hides it when that follow-up is itself in the list."""
    at("2026-09-01T09:00:00Z")
    old = add(cli, "--first-name", "Old")
    far = add(cli, "--first-name", "Far")
    near = add(cli, "--first-name", "Near")
    quiet = add(cli, "--first-name", "Quiet")
    cli("log", str(quiet), "call")
    at(NOW)
    cli("followup", str(far), "2026-12-20 10:00", "weeks away")
    cli("followup", str(near), "2026-11-22 15:00", "today")
    cli("followup", str(quiet), "2026-12-20 10:00", "scheduled")
    assert {(i["lead_id"], i["kind"]) for i in due_json(cli)} == {
        (old, "new_lead"),
        (far, "new_lead"),
        (near, "follow_up"),
    }
    ahead = {(i["lead_id"], i["kind"]) for i in due_json(cli, "--days", "30")}
    assert ahead == {(old, "new_lead"), (far, "follow_up"), (near, "follow_up"),
                     (quiet, "follow_up")}  # fmt: skip
    cli("followup", "done", str(quiet))
    assert (quiet, "stale") in {(i["lead_id"], i["kind"]) for i in due_json(cli)}


def test_due_counts_a_huge_list_only_up_to_a_cap(cli, at, monkeypatch):
    from leadcli.engagement import due

    monkeypatch.setattr(due, "COUNT_CAP", 3)
    for n in range(6):
        add(cli, "--first-name", f"P{n}")
    at("2026-11-23T12:00:00Z")
    assert len(due_json(cli)) == 6  # the list itself is never capped
    result = cli("due", "-n", "2")
    assert "Due: more than 3 items" in result.stdout
    assert "more than 1 more" in result.stderr


def test_due_filters_and_limit(cli, at):
    at("2026-11-20T09:00:00Z")
    a = add(cli, "--first-name", "A", "--owner", "sam")
    b = add(cli, "--first-name", "B", "--owner", "kim")
    for lead in (a, b):
        cli("log", str(lead), "call")
        cli("followup", str(lead), "2026-11-21 09:00", "--past")
    at(NOW)
    assert [i["lead_id"] for i in due_json(cli, "--owner", "sam")] == [a]
    assert due_json(cli, "--stage", "sql") == []
    limited = cli("due", "--limit", "1")
    assert "1 more" in limited.stderr


def test_ics_parses_with_icalendar(cli, at, tmp_path: Path):
    import icalendar

    lead = add(cli, "--first-name", "Ana", "--company", "Acme", "--email", "ana@acme.com")
    cli("followup", str(lead), "2026-11-22 15:30", "send the proposal")
    cli("followup", str(lead), "2026-11-21 09:00", "overdue call", "--past")
    path = tmp_path / "due.ics"
    result = cli("due", "--ics", str(path))
    assert result.exit_code == 0 and "Wrote 2 events" in result.stderr
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [e.decoded("dtstart").isoformat() for e in events] == [
        "2026-11-21T09:00:00+00:00",
        "2026-11-22T15:30:00+00:00",
    ]
    assert all("Ana (Acme)" in str(e["summary"]) for e in events)
    assert "send the proposal" in str(events[1]["description"])
    assert f"leadcli show {lead}" in str(events[1]["description"])
    again = tmp_path / "list.ics"
    cli("followup", "list", "--ics", str(again))
    assert len(icalendar.Calendar.from_ical(again.read_bytes()).walk("VEVENT")) == 2


def _uids(path: Path) -> list[str]:
    import icalendar

    return sorted(
        str(e["uid"]) for e in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    )


def test_ics_uids_are_distinct_per_kind_and_the_same_in_both_exports(cli, at, tmp_path: Path):
    """Follow-up 1 and enrolment 1 must not share a UID; `due --ics` and
    `followup list --ics` must give a follow-up the same one."""
    lead = add(cli, "--first-name", "Ana")
    cli("followup", str(lead), "2026-11-21 09:00", "overdue call", "--past")
    assert cli("enroll", str(lead), "intro", "--file", CADENCE_FILE).exit_code == 0
    due_ics, list_ics = tmp_path / "due.ics", tmp_path / "list.ics"
    assert cli("due", "--ics", str(due_ics)).exit_code == 0
    assert cli("followup", "list", "--ics", str(list_ics)).exit_code == 0
    assert _uids(due_ics) == ["cadence-1-1@leadcli", "followup-1@leadcli"]
    assert _uids(list_ics) == ["followup-1@leadcli"]
    cli("log", str(lead), "email", "sent intro")  # step 1 done; step 2 is a new event
    at("2026-11-25T12:00:00Z")
    cli("due", "--ics", str(due_ics))
    assert _uids(due_ics) == ["cadence-1-2@leadcli", "followup-1@leadcli"]


def test_due_ics_holds_everything_due_not_only_the_table(cli, at, tmp_path: Path):
    leads = [add(cli, "--first-name", f"P{n}") for n in range(55)]
    for lead in leads:
        cli("followup", str(lead), "2026-11-21 09:00", "--past")
    path = tmp_path / "due.ics"
    table = cli("due", "--ics", str(path))
    assert table.exit_code == 0 and "5 more" in table.stderr
    assert len(_uids(path)) == 55
    assert cli("due", "-n", "3", "-f", "json", "--ics", str(path)).exit_code == 0
    assert len(_uids(path)) == 55


CADENCE_FILE = str(REPO / "examples" / "cadences.toml")


def test_cadence_steps_come_due_day_by_day(cli, at):
    assert "intro" in cli("cadence", "list", "--file", CADENCE_FILE).stdout
    steps = json.loads(cli("cadence", "show", "intro", "--file", CADENCE_FILE, "-f", "json").stdout)
    assert [(s["day"], s["kind"]) for s in steps] == [(0, "email"), (3, "call"), (7, "email")]
    lead = add(cli, "--first-name", "Ana")
    cli("log", str(lead), "note", "met at expo")  # a note is not a contact
    assert cli("enroll", str(lead), "intro", "--file", CADENCE_FILE).exit_code == 0

    def cadence_items() -> list[str]:
        return [i["detail"] for i in due_json(cli) if i["kind"] == "cadence"]

    assert cadence_items() == ["intro step 1: email (intro)"]
    cli("log", str(lead), "email", "sent intro")
    assert cadence_items() == []
    at("2026-11-24T12:00:00Z")
    assert cadence_items() == []  # day 2: nothing yet
    at("2026-11-25T12:00:00Z")
    assert cadence_items() == ["intro step 2: call"]
    cli("log", str(lead), "call")
    at("2026-11-29T12:00:00Z")
    assert cadence_items() == ["intro step 3: email (case study)"]
    cli("log", str(lead), "email")
    card = json.loads(cli("show", str(lead), "-f", "json").stdout)
    assert card["cadences"][0]["end_reason"] == "completed"


def test_inbound_reply_closing_and_dnc_end_enrolments(cli, at):
    leads = [add(cli, "--first-name", n) for n in ("Rae", "Cole", "Dan")]
    assert cli("enroll", *map(str, leads), "intro", "--file", CADENCE_FILE).exit_code == 0
    assert len([i for i in due_json(cli) if i["kind"] == "cadence"]) == 3
    result = cli("log", str(leads[0]), "email", "interested!", "--inbound")
    assert "cadence ended" in result.stderr and result.stdout == ""
    cli("advance", str(leads[1]), "--lost", "--reason", "not a fit")
    cli("edit", str(leads[2]), "--do-not-contact")
    assert [i for i in due_json(cli) if i["kind"] == "cadence"] == []
    reasons = [
        json.loads(cli("show", str(i), "-f", "json").stdout)["cadences"][0]["end_reason"]
        for i in leads
    ]
    assert reasons == ["replied", "closed (lost)", "do not contact"]


def test_enroll_errors(cli, at):
    lead = add(cli, "--first-name", "Ana")
    assert cli("enroll", str(lead), "nope", "--file", CADENCE_FILE).exit_code == 1
    assert cli("enroll", "intro").exit_code == 2
    cli("enroll", str(lead), "intro", "--file", CADENCE_FILE)
    again = cli("enroll", str(lead), "intro", "--file", CADENCE_FILE)
    assert again.exit_code == 1 and "already" in again.stderr
    assert cli("unenroll", str(lead)).exit_code == 0
    assert cli("enroll", str(lead), "intro", "--file", CADENCE_FILE).exit_code == 0


@pytest.mark.parametrize("bad", ["²", "١٢", "4²", "x"])
def test_ids_are_ascii_digits_or_a_usage_error(cli, bad):
    lead = add(cli, "--first-name", "Ana")
    for args in (
        ["advance", bad],
        ["advance", str(lead), bad],
        ["enroll", bad, "intro", "--file", CADENCE_FILE],
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "whole numbers" in result.stderr and "internal error" not in result.stderr
    # A bad line on stdin is bad input, not a usage error: exit 1, naming the line.
    result = cli("advance", "-", input=f"{lead}\n{bad}\n")
    assert result.exit_code == 1, result.stderr
    assert "line 2 of stdin is not a lead id" in result.stderr
    assert json.loads(cli("show", str(lead), "-f", "json").stdout)["stage"] == "prospect"


def test_unknown_lead_is_not_found_and_no_enrolment_says_so(cli, at):
    lead = add(cli, "--first-name", "Ana")
    for args in (
        ["unenroll", "999"],
        ["unenroll", str(lead), "999"],
        ["followup", "list", "--lead", "999"],
    ):
        result = cli(*args)
        assert result.exit_code == 1 and "no lead with id 999" in result.stderr, args
        assert result.stdout == ""
    none = cli("unenroll", str(lead))
    assert none.exit_code == 0 and none.stdout == ""
    assert f"Lead {lead} is not enrolled" in none.stderr
    cli("enroll", str(lead), "intro", "--file", CADENCE_FILE)
    assert "Ended 1 enrolment." in cli("unenroll", str(lead), str(lead)).stderr


def test_snooze_to_the_past_is_refused(cli, at):
    lead = add(cli, "--first-name", "Ana")
    cli("followup", str(lead), "2026-11-25 10:00")
    for past in ("2020-01-01", "2026-11-22 11:59"):
        result = cli("followup", "snooze", str(lead), past)
        assert result.exit_code == 1 and "past" in result.stderr, past
    [follow_up] = json.loads(cli("followup", "list", "-f", "json").stdout)
    assert follow_up["due_at"] == "2026-11-25T10:00:00Z"
    assert cli("followup", "snooze", str(lead), "2026-11-22 12:30").exit_code == 0


def test_confirmations_go_to_stderr_records_to_stdout(cli, at):
    lead = add(cli, "--first-name", "Ana")
    logged = cli("log", str(lead), "call", "intro")
    assert logged.stdout == "" and "Logged outbound call" in logged.stderr
    added = cli("followup", str(lead), "3d")
    assert added.stdout == "" and f"Follow-up for lead {lead}" in added.stderr
    record = json.loads(cli("followup", str(lead), "4d", "-f", "json").stdout)
    assert record["lead_id"] == lead
    record = json.loads(cli("log", str(lead), "email", "-f", "json").stdout)
    assert "completed_steps" in record


def test_qualify_timeline_sets_a_follow_up(cli, at):
    lead = add(cli, "--first-name", "Ana")
    cli("qualify", str(lead), "--timeline", "2027-01-15")
    [follow_up] = json.loads(cli("show", str(lead), "-f", "json").stdout)["follow_ups"]
    assert follow_up["due_at"].startswith("2027-01-15")
    assert "BANT timeline" in follow_up["note"]


def test_due_from_cron_prints_nothing_when_quiet(tmp_path: Path):
    """The shipped cron script against an empty database: no output, exit 0. Against a path
    with no database at all (a typo in LEADCLI_DB) it fails with one line, which cron mails,
    rather than creating an empty database and saying nothing for ever."""
    from leadcli.storage.store import connect

    env = {
        **os.environ,
        "LEADCLI_DB": str(tmp_path / "cron.db"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(REPO / "examples" / "cron" / "leadcli-due-mail")],
            capture_output=True,
            text=True,
            env=env,
        )

    missing = run()
    assert (missing.returncode, missing.stdout) == (1, "")
    assert "cron.db" in missing.stderr and len(missing.stderr.splitlines()) == 1
    assert not (tmp_path / "cron.db").exists()
    connect(tmp_path / "cron.db").close()
    result = run()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("score_weight", [4.0, 0.0, -4.0])
def test_limited_due_list_is_the_head_of_the_full_one(store, monkeypatch, score_weight):
    """Ranking part by part (top N of each; old new leads stage by stage in score order)
    must give the same top N as ranking all."""
    from datetime import UTC, datetime, timedelta

    from leadcli import config
    from leadcli.engagement import activities, followups
    from leadcli.engagement.due import due_items
    from leadcli.leads.records import add_lead
    from leadcli.pipeline.stages import OPEN_STAGES

    monkeypatch.setenv("LEADCLI_NOW", "2026-09-01T09:00:00Z")
    ids = [add_lead(store, {"first_name": f"P{n}"}) for n in range(60)]
    for lead_id in ids[:25]:
        activities.log(store, lead_id, "call")
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-10T09:00:00Z")
    ids += [add_lead(store, {"first_name": f"R{n}"}) for n in range(10)]  # recent, uncontacted
    with store.write() as conn:
        for n, lead_id in enumerate(ids):
            score = None if n % 7 == 3 else n * 4 % 101 // 10 * 10  # ties, and unscored
            stage = OPEN_STAGES[n % len(OPEN_STAGES)]
            conn.execute(
                "UPDATE leads SET score = ?, stage = ? WHERE id = ?", (score, stage, lead_id)
            )
    monkeypatch.setenv("LEADCLI_NOW", NOW)
    for n, lead_id in enumerate(ids[::3]):
        followups.add(
            store, lead_id, datetime(2026, 11, 22, tzinfo=UTC) - timedelta(days=n), past=True
        )
    followups.add(store, ids[40], datetime(2027, 1, 5, tzinfo=UTC))  # beyond the window
    loaded = config.load()
    cfg = config.Config({**loaded.values, "urgency.score": score_weight}, loaded.path)
    everything, total = due_items(store, cfg)
    assert total == len(everything) > 10
    assert {i["kind"] for i in everything} == {"follow_up", "stale", "new_lead"}
    new = {i["lead_id"] for i in everything if i["kind"] == "new_lead"}
    assert ids[40] in new and ids[-5] in new  # a far follow-up hides nothing; recent
    # Leads past `lead` (mql, sql, opportunity) were worked: never "not contacted yet".
    assert not any(
        i["stage"] not in ("prospect", "lead") for i in everything if i["kind"] == "new_lead"
    )
    for cap in (1, 3):
        capped, _ = due_items(store, cfg, new_lead_limit=cap)
        kept = [i for i in everything if i["kind"] == "new_lead"][:cap]
        assert [(i["kind"], i["lead_id"]) for i in capped] == [
            (i["kind"], i["lead_id"]) for i in everything if i["kind"] != "new_lead" or i in kept
        ]
    for limit in (1, 5, 10, 20, 40):
        head, counted = due_items(store, cfg, limit=limit)
        assert counted == total
        assert [(i["kind"], i["lead_id"]) for i in head] == [
            (i["kind"], i["lead_id"]) for i in everything[:limit]
        ]


def test_a_lead_who_only_wrote_to_us_is_new_not_quiet(cli, at):
    """An inbound touch is activity but not contact: weeks later the lead is still waiting for
    a first answer, listed once, as a new lead, not also as gone quiet."""
    at("2026-10-01T09:00:00Z")
    lead = add(cli, "--first-name", "Asker")
    cli("log", str(lead), "email", "asked for pricing", "--inbound")
    at(NOW)
    assert [(i["lead_id"], i["kind"]) for i in due_json(cli)] == [(lead, "new_lead")]


def test_followup_list_and_its_calendar_leave_out_do_not_contact_and_lost_leads(
    cli, at, tmp_path: Path
):
    """A follow-up left from before an opt-out or a loss must not prompt a call: gone from
    `followup list` and its calendar as from `due`; `--all` shows them, marked. A customer's
    follow-up stays (looking after customers is the work)."""
    from icalendar import Calendar

    keep, opted, lost, customer = (add(cli, "--first-name", n) for n in ("K", "O", "L", "C"))
    for lead in (keep, opted, lost, customer):
        assert cli("followup", str(lead), "tomorrow 9am", "call").exit_code == 0
    assert cli("edit", str(opted), "--do-not-contact").exit_code == 0
    assert cli("advance", str(lost), "--lost", "--reason", "budget").exit_code == 0
    assert cli("advance", str(customer), "--to", "customer").exit_code == 0

    def listed(*args: str) -> dict[int, str | None]:
        result = cli("followup", "list", "-f", "json", *args)
        assert result.exit_code == 0, result.stderr
        return {i["lead_id"]: i["held"] for i in json.loads(result.stdout)}

    assert listed() == {keep: None, customer: None}
    assert listed("--all") == {keep: None, customer: None, opted: "do not contact", lost: "lost"}
    table = cli("followup", "list", "--all").stdout
    assert "Held" in table and "do not contact" in table

    def titles(*args: str) -> list[str]:
        path = tmp_path / "f.ics"
        assert cli("followup", "list", "--ics", str(path), *args).exit_code == 0
        calendar = Calendar.from_ical(path.read_bytes())
        return sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT"))

    assert titles() == ["Follow up: C", "Follow up: K"]
    assert titles("--all") == [
        "Follow up: C",
        "Follow up: K",
        "[do not contact] Follow up: O",
        "[lost] Follow up: L",
    ]
    assert {i["lead_id"] for i in due_json(cli, "--days", "1")} <= {keep}
