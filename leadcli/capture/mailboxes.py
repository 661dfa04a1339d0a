"""Where messages come from: ``.eml`` files, mbox files, Maildir folders and stdin.

Each message is handed on as its raw bytes with a place that names it (``inbox.mbox#12``),
never parsed here: parsing is ``messages.parse``'s job, and a message that cannot be read is
one failed message, not a failed run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from leadcli.errors import LeadcliError

#: A file whose first bytes are these is an mbox (its messages start with "From " lines).
_MBOX_START = b"From "


class MailboxError(LeadcliError):
    """A path given to capture that is not a message, an mbox or a Maildir."""


@dataclass(frozen=True)
class RawMessage:
    """One message as read: where it came from (for reports) and its bytes."""

    place: str
    data: bytes


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

    box = mailbox.mbox(path, create=False)
    try:
        box.lock()
    except mailbox.ExternalClashError:
        raise MailboxError(
            f"{path} is locked by another program (a mail client delivering to it?)",
            hint="try again in a moment",
        ) from None
    except OSError:
        pass  # a read-only mbox cannot take a dot-lock; reading it is still safe enough
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            yield RawMessage(f"{path}#{number}", box.get_bytes(key))
    finally:
        try:
            box.unlock()
        finally:
            box.close()


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
