"""Capturing messages into the database: new leads, activities of known people, skips with
their reasons, failures that leave nothing behind, and a second run that changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadcli.capture import mailboxes
from leadcli.capture.capture import Settings, capture, summarise
from leadcli.capture.mailboxes import RawMessage
from leadcli.config import load
from leadcli.engagement import cadences
from leadcli.engagement.due import due_items
from leadcli.leads.records import add_lead, get_lead
from tests.capture.mail import (
    AUTO_REPLY,
    HTML_FORM,
    INQUIRY,
    NEWSLETTER,
    NO_REPLY,
    REPLY,
    TEXT_FORM,
    eml,
    maildir,
    mbox,
)
from tests.conftest import REPO

CADENCES = REPO / "examples" / "cadences.toml"


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-25T12:00:00Z")


def run(store, *messages: bytes, settings: Settings | None = None, dry_run: bool = False):
    raws = [RawMessage(f"m{n}", data) for n, data in enumerate(messages)]
    return summarise(capture(store, raws, settings or Settings(), dry_run=dry_run), dry_run=dry_run)


def _counts(summary) -> tuple[int, int, int, int]:
    return summary["created"], summary["matched"], summary["skipped"], summary["failed"]


def test_a_direct_inquiry_becomes_a_lead_dated_by_its_message(store) -> None:
    summary = run(store, INQUIRY)
    assert _counts(summary) == (1, 0, 0, 0)
    lead = get_lead(store, summary["lead_ids"][0])
    assert (lead["first_name"], lead["last_name"], lead["email"]) == (
        "Ana",
        "Silva",
        "ana.silva@acme.example",
    )
    # Date: Tue, 24 Nov 2026 09:12:00 +0100
    assert lead["created_at"] == "2026-11-24T08:12:00Z"
    assert lead["source"] == "email"
    assert lead["first_contacted_at"] is None
    [activity] = store.conn.execute("SELECT kind, inbound, at, note FROM activities").fetchall()
    assert (activity["kind"], activity["inbound"], activity["at"]) == (
        "email",
        1,
        "2026-11-24T08:12:00Z",
    )
    assert activity["note"].startswith("Help with our data migration\n\nHello,")
    assert "+1 415 555 0100" not in activity["note"]  # the signature is trimmed


def test_a_captured_lead_is_due_as_not_yet_contacted(store) -> None:
    lead_id = run(store, INQUIRY)["lead_ids"][0]
    items, _total = due_items(store, load())
    mine = [(i["kind"], i["detail"], i["due_at"]) for i in items if i["lead_id"] == lead_id]
    # Speed to lead counts from when Ana wrote (08:12 UTC), not from the capture.
    assert mine == [("new_lead", "not contacted yet", "2026-11-24T09:12:00Z")]


def test_form_notifications_make_the_lead_from_their_fields(store) -> None:
    summary = run(store, TEXT_FORM, HTML_FORM)
    assert _counts(summary) == (2, 0, 0, 0)
    bruno, chloe = (get_lead(store, i) for i in summary["lead_ids"])
    assert (bruno["first_name"], bruno["email"], bruno["phone"], bruno["company"]) == (
        "Bruno",
        "bruno.stone@globex.example",
        "+14155550142",
        "Globex",
    )
    assert bruno["source"] == "web form"
    assert chloe["created_at"] == "2026-11-24T16:05:00Z"  # 11:05 -0500
    notes = [r[0] for r in store.conn.execute("SELECT note FROM activities ORDER BY id")]
    assert "Please call in the afternoon." in notes[0]
    assert "audit package" in notes[1]


def test_a_form_with_a_bad_address_takes_reply_to(store) -> None:
    form = TEXT_FORM.replace(b"E-mail: bruno.stone@globex.example", b"E-mail: bruno at globex")
    summary = run(store, form)
    assert get_lead(store, summary["lead_ids"][0])["email"] == "bruno.stone@globex.example"


def test_sources_are_configured_by_sender_address_or_domain(store) -> None:
    settings = Settings(sources={"@forms.example": "website", "ana.silva@acme.example": "referral"})
    summary = run(store, TEXT_FORM, INQUIRY, settings=settings)
    assert [get_lead(store, i)["source"] for i in summary["lead_ids"]] == ["website", "referral"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (AUTO_REPLY, "auto-reply"),
        (NEWSLETTER, "bulk or list mail"),
        (NO_REPLY, "no-reply sender"),
        (eml(headers={"Auto-Submitted": "auto-generated"}), "automated (Auto-Submitted)"),
        (eml(headers={"Precedence": "junk"}), "bulk or list mail"),
        (eml(sender="MAILER-DAEMON@mx.example"), "bounce report"),
        (
            eml(content_type='multipart/report; report-type=delivery-status; boundary="b"'),
            "bounce report",
        ),
        (eml(sender="Me <me@consulting.example>"), "own address"),
        (eml(sender="a@x.example, b@y.example"), "no usable sender address"),
    ],
)
def test_what_is_not_a_lead_is_skipped_with_its_reason(store, message, reason) -> None:
    settings = Settings(own_addresses=("@consulting.example",))
    summary = run(store, message, settings=settings)
    assert _counts(summary) == (0, 0, 1, 0)
    assert summary["skipped_reasons"] == {reason: 1}
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0


def test_a_form_mailed_from_your_own_domain_is_judged_by_its_fields(store) -> None:
    settings = Settings(own_addresses=("@forms.example", "me@consulting.example"))
    assert run(store, TEXT_FORM, settings=settings)["created"] == 1
    mine = TEXT_FORM.replace(b"bruno.stone@globex.example", b"me@consulting.example").replace(
        b"<form-1@", b"<form-test@"
    )
    assert run(store, mine, settings=settings)["skipped_reasons"] == {"own address": 1}


def test_auto_submitted_no_is_a_person(store) -> None:
    assert run(store, eml(headers={"Auto-Submitted": "no"}))["created"] == 1


def test_a_reply_from_a_known_lead_is_an_activity_that_ends_its_cadence(store, monkeypatch) -> None:
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-20T12:00:00Z")
    lead_id = add_lead(store, {"first_name": "Ana", "email": "ana.silva@acme.example"})
    cadences.enroll(store, [lead_id], cadences.get("intro", CADENCES))
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-25T12:00:00Z")
    summary = run(store, REPLY)
    assert _counts(summary) == (0, 1, 0, 0)
    assert summary["lead_ids"] == [lead_id]
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 1
    note, inbound = store.conn.execute("SELECT note, inbound FROM activities").fetchone()
    assert inbound == 1
    assert note == "Re: our call\n\nYes, Thursday works."
    ended = store.conn.execute("SELECT ended_at, end_reason FROM enrolments").fetchone()
    assert ended["end_reason"] == "replied" and ended["ended_at"] == "2026-11-25T08:00:00Z"


def test_a_shared_phone_with_another_name_is_a_new_lead_and_no_possible_duplicate(store) -> None:
    other = add_lead(store, {"first_name": "Grace", "last_name": "Kim", "phone": "+14155550142"})
    summary = run(store, TEXT_FORM)
    assert _counts(summary) == (1, 0, 0, 0)
    assert summary["lead_ids"][0] != other
    # Bruno Stone at Grace Kim's switchboard is someone else: nothing for `dedupe` to review.
    assert store.conn.execute("SELECT count(*) FROM possible_duplicates").fetchone()[0] == 0
    assert "possible duplicate" not in (summary["results"][0]["reason"] or "")


def test_a_shared_phone_and_name_with_another_email_is_a_possible_duplicate(store) -> None:
    other = add_lead(
        store,
        {
            "first_name": "Bruno",
            "last_name": "Stone",
            "email": "bruno@stone-family.example",
            "phone": "+14155550142",
        },
    )
    summary = run(store, TEXT_FORM)
    assert _counts(summary) == (1, 0, 0, 0)
    new = summary["lead_ids"][0]
    pair = store.conn.execute(
        "SELECT lead_id, other_id, reason FROM possible_duplicates"
    ).fetchone()
    assert tuple(pair) == (other, new, "phone")
    assert "possible duplicate" in summary["results"][0]["reason"]
    from leadcli.identity.dedupe import possible_duplicates

    assert possible_duplicates(store) == [(other, new, "recorded by capture: shared phone")]


def test_the_same_message_twice_changes_nothing(store) -> None:
    first = run(store, INQUIRY, TEXT_FORM)
    before = [tuple(r) for r in store.conn.execute("SELECT * FROM activities")]
    again = run(store, INQUIRY, TEXT_FORM, INQUIRY)
    assert _counts(again) == (0, 0, 3, 0)
    assert again["skipped_reasons"] == {"already captured": 3}
    assert [r["lead_id"] for r in again["results"]] == [
        first["lead_ids"][0],
        first["lead_ids"][1],
        first["lead_ids"][0],
    ]
    assert [tuple(r) for r in store.conn.execute("SELECT * FROM activities")] == before
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 2


def test_a_message_without_message_id_is_captured_once(store) -> None:
    message = eml(message_id=None)
    assert run(store, message)["created"] == 1
    assert run(store, message)["skipped_reasons"] == {"already captured": 1}


def test_a_message_without_a_date_is_dated_now_and_says_so(store) -> None:
    summary = run(store, eml(date=None))
    assert get_lead(store, summary["lead_ids"][0])["created_at"] == "2026-11-25T12:00:00Z"
    assert summary["results"][0]["reason"] == "no usable Date: now used"


def test_a_failing_message_leaves_nothing_and_the_run_goes_on(store) -> None:
    bad_form = TEXT_FORM.replace(
        b"E-mail: bruno.stone@globex.example", b"E-mail: not-an-address"
    ).replace(b"Reply-To: bruno.stone@globex.example\n", b"")
    summary = run(store, bad_form, b"\n\nno headers", INQUIRY)
    assert _counts(summary) == (1, 0, 0, 2)
    assert [r["outcome"] for r in summary["results"]] == ["failed", "failed", "created"]
    assert "not-an-address" not in summary["results"][0]["reason"]
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 1
    assert store.conn.execute("SELECT count(*) FROM captured_messages").fetchone()[0] == 1


def test_a_failure_after_the_lead_is_written_rolls_that_message_back(store, monkeypatch) -> None:
    from leadcli.engagement import activities
    from leadcli.errors import InvalidValue

    def broken(*args, **kwargs):
        raise InvalidValue("at", "is broken for this test")

    monkeypatch.setattr(activities, "log", broken)
    summary = run(store, INQUIRY)
    assert _counts(summary) == (0, 0, 0, 1)
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM history").fetchone()[0] == 0


def test_a_suppressed_person_is_reported_and_not_captured(store) -> None:
    from leadcli.privacy import suppression

    with store.write() as conn:
        suppression.add(conn, [("email", "ana.silva@acme.example")])
    summary = run(store, INQUIRY, TEXT_FORM)
    assert summary["skipped_reasons"] == {"suppressed": 1}
    assert summary["created"] == 1
    emails = [r[0] for r in store.conn.execute("SELECT email FROM leads")]
    assert emails == ["bruno.stone@globex.example"]


def test_a_dry_run_reports_the_same_and_writes_nothing(store) -> None:
    add_lead(store, {"first_name": "Ana", "email": "ana.silva@acme.example"})
    dry = run(store, TEXT_FORM, REPLY, REPLY, NO_REPLY, dry_run=True)
    assert _counts(dry) == (1, 1, 2, 0)
    assert dry["dry_run"] is True
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 1
    assert store.conn.execute("SELECT count(*) FROM activities").fetchone()[0] == 0
    real = run(store, TEXT_FORM, REPLY, REPLY, NO_REPLY)
    assert _counts(real) == _counts(dry)


def test_an_mbox_of_several_messages_in_small_batches(store, tmp_path: Path) -> None:
    path = mbox(tmp_path / "inbox.mbox", [INQUIRY, TEXT_FORM, AUTO_REPLY, HTML_FORM, REPLY])
    results = list(capture(store, mailboxes.read_path(path), Settings(), batch_size=2))
    summary = summarise(results)
    assert summary["messages"] == 5
    assert _counts(summary) == (3, 1, 1, 0)  # the reply is Ana's, captured just before
    assert [r["place"] for r in results] == [f"{path}#{n}" for n in range(1, 6)]


def test_a_maildir_new_and_cur(store, tmp_path: Path) -> None:
    path = maildir(tmp_path / "Mail", [INQUIRY, TEXT_FORM, NO_REPLY])
    summary = summarise(capture(store, mailboxes.read_path(path), Settings()))
    assert _counts(summary) == (2, 0, 1, 0)
    assert summarise(capture(store, mailboxes.read_path(path), Settings()))["skipped"] == 3


def test_a_folder_that_is_not_a_maildir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(mailboxes.MailboxError):
        list(mailboxes.read_path(tmp_path))


def test_a_form_phone_that_does_not_parse_is_kept_in_the_note(store) -> None:
    form = TEXT_FORM.replace(b"Phone: (415) 555-0142", b"Phone: call me after 5")
    summary = run(store, form)
    lead = get_lead(store, summary["lead_ids"][0])
    assert lead["phone"] is None
    note = store.conn.execute("SELECT note FROM activities").fetchone()[0]
    assert note.endswith("Phone (as written): call me after 5")


def test_prose_from_lines_in_an_mbox_do_not_cut_the_message(store, tmp_path: Path) -> None:
    from tests.capture.test_mailboxes import PROSE, _unescaped_mbox

    path = _unescaped_mbox(tmp_path / "inbox", [PROSE, TEXT_FORM])
    summary = summarise(capture(store, mailboxes.read_path(path), Settings()))
    assert _counts(summary) == (2, 0, 0, 0)
    note = store.conn.execute("SELECT note FROM activities ORDER BY id").fetchone()[0]
    assert "From what I understand, you migrate CRMs." in note
    assert "(that line was pasted from my mail client)" in note


def test_the_same_message_with_lf_and_crlf_is_captured_once(store) -> None:
    message = eml(message_id=None)
    summary = run(store, message, message.replace(b"\n", b"\r\n"))
    assert _counts(summary) == (1, 0, 1, 0)
    assert summary["skipped_reasons"] == {"already captured": 1}
    assert run(store, message.replace(b"\n", b"\r\n"))["skipped_reasons"] == {"already captured": 1}


def test_mail_captured_before_the_content_key_is_not_captured_again(store, tmp_path) -> None:
    """Databases keep the keys leadcli gave before: a hash of the bytes as Python's mailbox
    cut them (unescaped ">From ", and only up to the first prose "From " line)."""
    import hashlib
    import mailbox

    from tests.capture.test_mailboxes import _unescaped_mbox

    prose = eml(message_id=None, body="Hi,\n\nFrom what I know, yes.\n>From here\n")
    quoted = eml(message_id=None, sender="Bo <bo@b.example>", body="A\n>From B\n")
    path = _unescaped_mbox(tmp_path / "inbox", [prose, quoted])
    single = tmp_path / "one.eml"
    single.write_bytes(eml(message_id=None, sender="Cy <cy@c.example>").replace(b"\n", b"\r\n"))
    old = [mailbox.mbox(path).get_bytes(k) for k in (0, 2)] + [single.read_bytes()]
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO captured_messages (key, lead_id, outcome, captured_at) "
            "VALUES (?, NULL, 'created', '2026-11-24T00:00:00Z')",
            [("sha256:" + hashlib.sha256(data).hexdigest(),) for data in old],
        )
    messages = [*mailboxes.read_path(path), *mailboxes.read_path(single)]
    summary = summarise(capture(store, messages, Settings()))
    assert summary["skipped_reasons"] == {"already captured": 3}


def test_text_hidden_in_an_html_only_message_is_not_in_the_note(store) -> None:
    from tests.capture.test_forms import HIDDEN

    summary = run(store, eml(content_type="text/html; charset=utf-8", body=HIDDEN))
    note = store.conn.execute("SELECT note FROM activities").fetchone()[0]
    assert note == "Help with our data migration\n\nHello there\n\nShown"
    assert summary["created"] == 1


def test_a_hidden_form_row_fills_no_field_of_the_lead(store) -> None:
    form = HTML_FORM.replace(
        b"<tr><th>Company</th>",
        b'<tr style="display:none"><th>Phone</th><td>+1 415 555 0199</td></tr>'
        b'<tr><th>Company</th><td style="display:none">Evil Corp</td>',
    )
    lead = get_lead(store, run(store, form)["lead_ids"][0])
    assert (lead["phone"], lead["company"]) == (None, "Initech")
