"""Where messages come from: ``.eml`` files, mbox files, Maildir folders and stdin.

Each message is handed on as its raw bytes with a place that names it (``inbox.mbox#12``),
never parsed here: parsing is ``messages.parse``'s job, and a message that cannot be read is
one failed message, not a failed run.

An mbox is split where mail programs split it (qmail's mbox(5), RFC 4155, mutt's
``is_from``): a message begins at a From_ line, ``From `` then one word for the envelope
sender (an address, ``MAILER-DAEMON``, Thunderbird's ``-``, or none at all, as qmail writes a
bounce) and an asctime date (``Tue Nov 24 10:00:00 2026``, a zone allowed before or after
the year), that stands at the start of the file or after a blank line, and is followed by a
header line. Any other line that begins with ``From `` ("From what I understand ...", a
pasted envelope line) is body text. ``>From `` lines are unescaped as mboxrd does (one ``>``
dropped from ``>From ``, ``>>From `` ...), which also reads mboxo files as their writers meant.
Python's ``mailbox.mbox`` is not used to read: it starts a message at every line that begins
with ``From `` and hands ``>From `` on unescaped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from leadcli.errors import LeadcliError

#: A file whose first bytes are these is an mbox (its messages start with "From " lines).
_MBOX_START = b"From "

#: A From_ line: the envelope sender (one word, or none) and an asctime date, then
#: anything (qmail's "moreinfo", UUCP's "remote from ...").
_FROM_LINE = re.compile(
    rb"From (?:\S+[ \t]+)?"
    rb"(?i:mon|tue|wed|thu|fri|sat|sun)[ \t]+"
    rb"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[ \t]+"
    rb"\d{1,2}[ \t]+\d{1,2}:\d{2}(?::\d{2})?"
    rb"(?:[ \t]+(?:[+-]\d{4}|[A-Za-z]{1,5}))*"  # a zone before the year: +0000, GMT, CET DST
    rb"[ \t]+(?:\d{4}|\d{2})(?![^ \t\r\n])"
)
#: The line after a From_ line begins the message's header (RFC 5322 field name, colon).
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
#: A body line escaped by the mbox writer: mboxrd adds a ">" to "From " and ">...>From ".
_ESCAPED_FROM = re.compile(rb">+From ")
_BLANK = (b"\n", b"\r\n")


class MailboxError(LeadcliError):
    """A path given to capture that is not a message, an mbox or a Maildir."""


@dataclass(frozen=True)
class RawMessage:
    """One message as read: where it came from (for reports) and its bytes."""

    place: str
    data: bytes
    #: The bytes earlier versions of leadcli keyed this message by, without a Message-ID (an
    #: mbox message as ``mailbox.mbox`` cut and left it), when they differ from ``data``;
    #: so a message captured before the upgrade is still recognised after it.
    legacy: bytes | None = None


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(_MBOX_START)) == _MBOX_START


def check_path(path: Path) -> None:
    """Refuse a path that holds no messages before anything is captured, so a typo in the
    third path does not leave the first two captured and the run reported as failed."""
    if path.is_dir():
        if not is_maildir(path):
            raise MailboxError(
                f"{path} is a folder but not a Maildir (no cur/ and new/ in it)",
                hint="give an .eml file, an mbox file or a Maildir folder",
            )
    elif not path.exists():
        raise MailboxError(f"there is no file or folder {path}", hint="check the path")


def read_path(path: Path) -> Iterator[RawMessage]:
    """The messages under ``path``: a Maildir's (``new`` and ``cur``, in name order, so a
    second run sees them in the same order), an mbox's in file order, or one ``.eml``."""
    check_path(path)
    if path.is_dir():
        yield from _maildir(path)
    elif _is_mbox(path):
        yield from _mbox(path)
    else:
        yield RawMessage(str(path), path.read_bytes())


def read_stream(stream: BinaryIO, place: str = "stdin") -> Iterator[RawMessage]:
    """One message piped in, as a mail filter (procmail, maildrop) delivers it; a leading
    mbox "From " envelope line, which some filters keep, is dropped."""
    data = stream.read()
    if data.startswith(_MBOX_START):
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    yield RawMessage(place, data)


def _mbox(path: Path) -> Iterator[RawMessage]:
    import mailbox

    # mailbox takes the locks mail programs honour (fcntl and a dot-lock); the file is read
    # by split_mbox, through a handle of its own.
    box = mailbox.mbox(path, create=False)
    try:
        box.lock()
    except mailbox.ExternalClashError:
        box.close()
        raise MailboxError(
            f"{path} is locked by another program (a mail client delivering to it?)",
            hint="try again in a moment",
        ) from None
    except OSError:
        pass  # a read-only mbox cannot take a dot-lock; reading it is still safe enough
    try:
        with path.open("rb") as handle:
            for number, (data, legacy) in enumerate(split_mbox(handle), start=1):
                yield RawMessage(f"{path}#{number}", data, legacy)
    finally:
        try:
            box.unlock()
        finally:
            box.close()


def is_from_line(line: bytes) -> bool:
    """Whether ``line`` has the shape of an mbox From_ line (sender and asctime date)."""
    return _FROM_LINE.match(line) is not None


def split_mbox(lines: Iterable[bytes]) -> Iterator[tuple[bytes, bytes | None]]:
    """The messages of an mbox read as ``lines`` (each with its line end): each message's
    bytes, unescaped, without its From_ line and the blank line a writer puts after it, and
    the bytes an earlier leadcli read for it when they differ (see ``RawMessage.legacy``).

    Lines before the first From_ line are not a message. The first line of the file counts
    as a From_ line whenever it begins with ``From `` (that is what made it an mbox)."""
    message: list[bytes] | None = None
    pending: bytes | None = None  # a From_ line after a blank line, until the next line says
    cut: int | None = None  # where mailbox.mbox ended this message: its first "From " line
    escaped = False
    previous_blank = True
    first = True

    def finish() -> tuple[bytes, bytes | None]:
        assert message is not None
        end = len(message) - 1 if message and message[-1] in _BLANK else len(message)
        if escaped:
            data = b"".join(
                line[1:] if line[:1] == b">" and _ESCAPED_FROM.match(line) else line
                for line in message[:end]
            )
        else:
            data = b"".join(message[:end])
        legacy = None
        if escaped or cut is not None or (end < len(message) and message[-1] != b"\n"):
            kept = message[: len(message) if cut is None else cut]
            if kept and kept[-1] == b"\n":
                kept = kept[:-1]
            legacy = b"".join(kept)
            if legacy == data:
                legacy = None
        return data, legacy

    def body(line: bytes) -> None:
        nonlocal cut, escaped
        if message is None:  # before the first From_ line: not a message
            return
        if line[:5] == b"From " and cut is None:
            cut = len(message)
        elif line[:1] == b">" and _ESCAPED_FROM.match(line):
            escaped = True
        message.append(line)

    for line in lines:
        if first:
            first = False
            if line[:5] == b"From ":
                message = []
                previous_blank = False
                continue
        if pending is not None:
            if _HEADER_LINE.match(line):
                if message is not None:
                    yield finish()
                message, cut, escaped = [], None, False
            else:
                body(pending)
            pending = None
        elif previous_blank and line[:5] == b"From " and is_from_line(line):
            pending = line
            previous_blank = False
            continue
        previous_blank = line in _BLANK
        body(line)
    if pending is not None:
        body(pending)
    if message is not None:
        yield finish()


def _maildir(path: Path) -> Iterator[RawMessage]:
    for folder in ("new", "cur"):
        names = sorted(n for n in os.listdir(path / folder) if not n.startswith("."))
        for name in names:
            file = path / folder / name
            try:
                data = file.read_bytes()
            except FileNotFoundError:  # moved by a mail client while we read: it is in cur/
                continue
            yield RawMessage(str(file), data)
