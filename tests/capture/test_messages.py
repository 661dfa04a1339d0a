"""Reading one message: strict addresses, the Date in UTC, the key, the trimmed text."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcli.capture.messages import UnreadableMessage, parse, parse_address, trim_reply
from tests.capture.mail import HTML_FORM, INQUIRY, eml


def test_a_message_gives_its_sender_date_in_utc_key_and_subject() -> None:
    message = parse(INQUIRY)
    assert message.sender is not None
    assert (message.sender.name, message.sender.email) == ("Ana Silva", "ana.silva@acme.example")
    assert message.date == datetime(2026, 11, 24, 8, 12, tzinfo=UTC)
    assert message.key == "<inquiry-1@acme.example>"
    assert message.subject == "Help with our data migration"


def test_encoded_display_names_and_subjects_are_decoded() -> None:
    message = parse(
        eml(
            sender="=?utf-8?q?Chlo=C3=A9_Dubois?= <chloe@initech.example>",
            subject="=?utf-8?q?Caf=C3=A9?=",
        )
    )
    assert message.sender is not None and message.sender.name == "Chloé Dubois"
    assert message.subject == "Café"


def test_raw_utf8_headers_are_read_as_text() -> None:
    message = parse(eml(sender="Eva Müller <eva.müller@hooli.example>", subject="Grüße"))
    assert message.sender is not None
    assert (message.sender.name, message.sender.email) == ("Eva Müller", "eva.müller@hooli.example")
    assert message.subject == "Grüße"


@pytest.mark.parametrize(
    "header",
    [
        "alice@example.org)<bob@example.org>",  # CVE-2023-27043's confusion
        "a@x.example, b@y.example",  # two people
        "no address here",
        "",
        "<@>",
    ],
)
def test_an_ambiguous_or_broken_sender_names_nobody(header: str) -> None:
    assert parse_address(header) is None


def test_a_quoted_at_in_the_display_name_is_still_one_address() -> None:
    address = parse_address('"ana@home" <ana@work.example>')
    assert address is not None and address.email == "ana@work.example"


def test_a_message_without_message_id_is_keyed_by_its_content() -> None:
    one, other = eml(message_id=None), eml(message_id=None, body="Another text\n")
    assert parse(one).key.startswith("sha256:")
    assert parse(one).key == parse(one).key
    assert parse(one).key != parse(other).key


def test_a_missing_or_broken_date_is_none() -> None:
    assert parse(eml(date=None)).date is None
    assert parse(eml(date="yesterday-ish")).date is None


def test_an_html_only_body_is_read_as_text_without_its_style() -> None:
    message = parse(HTML_FORM)
    assert "Chloé Dubois" in message.text
    assert "color" not in message.text
    assert message.html is not None


def test_bytes_without_headers_are_unreadable() -> None:
    with pytest.raises(UnreadableMessage):
        parse(b"\n\njust a body")


def test_trimming_keeps_what_the_person_wrote_now() -> None:
    text = "Yes, Thursday works.\n\nOn Tue, 24 Nov 2026, Me <me@x.example> wrote:\n> Shall we?\n"
    assert trim_reply(text) == "Yes, Thursday works."
    assert trim_reply("Call me.\n-- \nAna\n+1 415 555 0100") == "Call me."
    assert trim_reply("Hi\n\n-----Original Message-----\nFrom: x") == "Hi"


@given(st.binary(max_size=400))
def test_any_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    with contextlib.suppress(UnreadableMessage):
        parse(data)


@given(st.text(max_size=80))
def test_any_header_gives_at_most_one_well_formed_address(header: str) -> None:
    address = parse_address(header)
    if address is not None:
        assert address.email.count("@") == 1
        assert not any(c.isspace() for c in address.email)


def test_a_multipart_message_gives_its_plain_text_and_its_html() -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Ana Silva <ana.silva@acme.example>"
    msg["Subject"] = "Hello"
    msg.set_content("Plain words.\n")
    msg.add_alternative("<p>HTML <b>words</b>.</p>", subtype="html")
    message = parse(msg.as_bytes())
    assert message.text.strip() == "Plain words."
    assert message.html is not None and "<b>words</b>" in message.html


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def test_without_message_id_the_key_is_the_content_not_the_bytes() -> None:
    message = eml(message_id=None, subject="A subject long enough to be folded")
    twins = [
        _crlf(message),
        message.replace(b"\n", b"\r"),
        message.replace(b"Hello,\n", b"Hello,   \n") + b"\n\n",  # trailing space, blank lines
        message.replace(b"Subject: A subject long", b"SUBJECT: A subject\n  long"),  # folded
        message.replace(b"MIME-Version", b"Status: RO\nX-Mozilla-Status: 0001\nMIME-Version"),
    ]
    key = parse(message).key
    assert key.startswith("sha256:")
    assert [parse(twin).key for twin in twins] == [key] * len(twins)
    assert parse(message.replace(b"Could we", b"Can we")).key != key
    assert parse(message.replace(b"Subject: A", b"Subject: The")).key != key


@given(st.lists(st.text(max_size=20), max_size=6))
def test_any_body_keys_the_same_with_lf_and_crlf(lines: list[str]) -> None:
    message = eml(message_id=None, body="\n".join(lines).replace("\r", ""))
    assert parse(message).key == parse(_crlf(message)).key
