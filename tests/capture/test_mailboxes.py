"""Splitting an mbox where mail programs split it: a From_ line with a sender and an
asctime date after a blank line; prose and pasted envelope lines stay in the body, and
``>From `` lines are unescaped as mboxrd does."""

from __future__ import annotations

import io
import mailbox
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcli.capture import mailboxes
from leadcli.capture.mailboxes import is_from_line, split_mbox
from leadcli.capture.messages import parse
from tests.capture.mail import INQUIRY, eml

PROSE = eml(
    message_id="<prose-1@acme.example>",
    body="Hello,\n\nFrom what I understand, you migrate CRMs.\n\n"
    "From ana.silva@acme.example Tue Nov 24 09:00:00 2026\n"
    "(that line was pasted from my mail client)\n"
    "From: Ana Silva <ana.silva@acme.example>\nSent: Monday\n\nCould we talk?\n",
)


def _unescaped_mbox(path: Path, messages: list[bytes]) -> Path:
    """An mbox whose writer quoted nothing, as some exporters write it."""
    chunks = [
        b"From ana@acme.example Tue Nov 24 10:00:0%d 2026\n" % n + m for n, m in enumerate(messages)
    ]
    path.write_bytes(b"\n".join(c if c.endswith(b"\n") else c + b"\n" for c in chunks))
    return path


def test_prose_and_pasted_lines_beginning_with_from_stay_in_the_body(tmp_path: Path) -> None:
    path = _unescaped_mbox(tmp_path / "inbox", [PROSE, INQUIRY])
    raws = list(mailboxes.read_path(path))
    assert [r.data for r in raws] == [PROSE, INQUIRY]
    assert "Could we talk?" in parse(raws[0].data).text
    # What Python's mailbox makes of the same file: a piece for every "From " line.
    assert len(mailbox.mbox(path)) == 4


def test_from_lines_are_unescaped_as_mboxrd_does(tmp_path: Path) -> None:
    body = "Hello,\n>From here on\n>>From a quote\n> >From not escaped\n>Fromage\n"
    path = tmp_path / "inbox"
    path.write_bytes(b"From MAILER-DAEMON Tue Nov 24 10:00:00 2026\n" + eml(body=body))
    [raw] = mailboxes.read_path(path)
    assert raw.data.endswith(
        b"Hello,\nFrom here on\n>From a quote\n> >From not escaped\n>Fromage\n"
    )
    assert ">From here" not in parse(raw.data).text


@pytest.mark.parametrize(
    "line",
    [
        b"From MAILER-DAEMON Tue Nov 24 10:00:00 2026\n",
        b"From ana@acme.example Tue Nov  4 10:00:00 2026\r\n",
        b"From - Tue Nov 24 10:00:00 2026\n",  # Thunderbird
        b"From 1786@xxx Wed Sep 02 08:55:44 +0000 2020\n",  # Gmail's Takeout
        b"From Sat Jan  3 01:05:34 1996\n",  # qmail, no envelope sender
        b"From ana@acme.example Tue Nov 24 10:00 CET DST 2026 remote from x\n",
    ],
)
def test_from_lines_as_mail_programs_write_them(line: bytes) -> None:
    assert is_from_line(line)


@pytest.mark.parametrize(
    "line",
    [
        b"From what I understand, you are busy.\n",
        b"From ana@acme.example\n",
        b"From: Ana <ana@acme.example>\n",
        b"From ana@acme.example Tue, 24 Nov 2026 10:00:00 +0000\n",
    ],
)
def test_other_lines_beginning_with_from_are_not(line: bytes) -> None:
    assert not is_from_line(line)


def test_a_from_line_not_after_a_blank_line_is_body_text() -> None:
    box = (
        b"From a@b.example Tue Nov 24 10:00:00 2026\nSubject: one\n\nquoted:\n"
        b"From a@b.example Tue Nov 24 09:00:00 2026\nSubject: pasted\n"
    )
    assert [m for m, _ in split_mbox(io.BytesIO(box))] == [box.split(b"\n", 1)[1]]


_LINE = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30),
    st.sampled_from(
        [
            "",
            "From ",
            "From what I understand",
            ">From x",
            ">>From y",
            "From a@b Tue Nov 24 10:00:00 2026",
        ]
    ),
).map(lambda s: s.encode("utf-8"))
_MESSAGE = st.tuples(st.lists(_LINE, max_size=8), st.sampled_from([b"\n", b"\r\n"]))


def _message(body: list[bytes], end: bytes) -> bytes:
    return end.join([b"From: a@b.example", b"Subject: s", b"", *body]) + end


def _mboxrd(messages: list[bytes]) -> bytes:
    """An mboxrd writer: every ``>*From `` line gets one more ``>``, a blank line after each
    message."""
    import re

    out = []
    for message in messages:
        out.append(b"From MAILER-DAEMON Tue Nov 24 10:00:00 2026\n")
        out.append(re.sub(rb"(?m)^(>*From )", rb">\1", message))
        out.append(b"\n")
    return b"".join(out)


@given(st.lists(_MESSAGE, max_size=5))
def test_any_bodies_written_as_mboxrd_split_back_into_the_same_messages(drawn) -> None:
    messages = [_message(body, end) for body, end in drawn]
    assert [m for m, _ in split_mbox(io.BytesIO(_mboxrd(messages)))] == messages


@given(st.lists(_MESSAGE, min_size=1, max_size=5))
def test_unquoted_bodies_split_back_unless_a_line_is_a_from_line_after_a_blank(drawn) -> None:
    """A writer that quotes nothing (prose "From " lines left as they are): only a From_
    line could start a message, and the bodies here have none."""
    messages = [
        _message([ln for ln in body if not ln.startswith(b">") and not is_from_line(ln)], end)
        for body, end in drawn
    ]
    box = b"".join(b"From a@b.example Tue Nov 24 10:00:00 2026\n" + m + b"\n" for m in messages)
    assert [m for m, _ in split_mbox(io.BytesIO(box))] == messages
