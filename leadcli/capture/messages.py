"""One e-mail message as capture needs it: sender, reply-to, date, key, subject and text.

Parsed with the standard library (``email`` with ``policy.default``). Addresses are read
from the raw header and accepted only when they parse to exactly one address without
ambiguity: ``getaddresses(..., strict=True)`` where the Python has it (3.11.10+), else the
older parser, whose confusions (``alice@a.org)<bob@b.org>`` read as two or three
addresses) are refused by asking for exactly one well-formed address. The
text is the plain part, else the HTML part made into text; quoted replies and signatures
are cut off, since an activity note should hold what the person wrote now.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from leadcli.errors import LeadcliError

#: The most text kept in an activity note: a pasted novel is not a note.
MAX_NOTE = 4000


class UnreadableMessage(LeadcliError):
    """A message that cannot be parsed; the reason never quotes its content."""


@dataclass(frozen=True)
class Address:
    name: str  # the display name, decoded ("" when none)
    email: str  # as written (normalised later, with the lead's rules)


@dataclass
class Message:
    """What capture reads from one message."""

    key: str  # "<message-id>", else "sha256:<hex>" of its canonical content (content_key)
    sender: Address | None
    reply_to: Address | None
    date: datetime | None  # UTC; None when missing or unreadable
    subject: str
    text: str  # the body as text, untrimmed (forms read it whole)
    html: str | None  # the HTML body when there is one (forms read its tables)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names, first value
    content_type: str = "text/plain"

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]*", " ", value).strip()


def _decode_words(text: str) -> str:
    """RFC 2047 encoded words (``=?utf-8?q?...?=``) to text; undecodable ones stay as
    written rather than failing the message."""
    if "=?" not in text:
        return text
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(text)))
    except (LookupError, ValueError, UnicodeError):
        return text


def _getaddresses(value: str) -> list[tuple[str, str]]:
    from email.utils import getaddresses

    try:
        return getaddresses([value], strict=True)  # type: ignore[call-arg]
    except TypeError:  # Python before the strict parser (3.11.9 and older)
        return getaddresses([value])


def parse_address(raw: str) -> Address | None:
    """The one address of a From or Reply-To header, strictly; None when there is not
    exactly one well-formed address (an ambiguous header names nobody)."""
    value = _unfold(raw)
    if not value:
        return None
    pairs = _getaddresses(value)
    if len(pairs) != 1:
        return None
    name, email = pairs[0]
    # The older parser's failures, which the strict one refuses outright: an address part
    # that is empty, has no single @, or carries quotes, brackets or spaces it swallowed.
    if email.count("@") != 1 or re.search(r"[\s<>()\",;\[\]\\]", email):
        return None
    local, _, domain = email.partition("@")
    if not local or "." not in domain:
        return None
    return Address(_decode_words(name).strip(), email)


def _date(raw: str) -> datetime | None:
    from email.utils import parsedate_to_datetime

    text = _unfold(raw)
    if not text:
        return None
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value.tzinfo is None:  # "-0000": the time is UTC, the zone unknown (RFC 5322)
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC).replace(microsecond=0)
    except (OverflowError, ValueError):
        return None


#: Headers a mail store writes into a message it keeps (read flags, sizes, its own ids:
#: mutt, Pine, Dovecot, Thunderbird), which change when the message is read, not when it is
#: sent: left out of its content, so reading a message in a mail program does not make it new.
_STORE_HEADERS = frozenset(
    {
        b"status",
        b"x-status",
        b"x-keywords",
        b"x-uid",
        b"x-imap",
        b"x-imapbase",
        b"content-length",
        b"lines",
        b"x-mozilla-status",
        b"x-mozilla-status2",
        b"x-mozilla-keys",
    }
)


def content_key(data: bytes) -> str:
    """A hash of what the message says, not of how it was stored: line ends (CRLF, LF, CR),
    trailing white space, header folding, header-name case and trailing blank lines are made
    one, and mail stores' status headers left out. The same message saved by two programs
    (an ``.eml`` with CRLF, the mbox copy with LF) gets one key."""
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    fields: list[bytes] = []
    end = len(lines)
    for number, line in enumerate(lines):
        line = line.rstrip()
        if not line:
            end = number
            break
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b" " + line.strip()
        else:
            fields.append(line)
    canonical: list[bytes] = []
    for item in fields:
        name, colon, value = item.partition(b":")
        if colon:
            name = name.strip().lower()
            if name in _STORE_HEADERS:
                continue
            item = name + b": " + b" ".join(value.split())
        canonical.append(item)
    body = [line.rstrip() for line in lines[end + 1 :]]
    while body and not body[-1]:
        body.pop()
    text = b"\n".join(canonical) + b"\n\n" + b"\n".join(body)
    return "sha256:" + hashlib.sha256(text).hexdigest()


def legacy_key(data: bytes) -> str:
    """The key leadcli gave a message without a Message-ID before ``content_key``: a hash
    of its bytes as read. Still looked up, so mail captured before the change is not
    captured again after it."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def message_key(message_id: str, data: bytes) -> str:
    """The message's identity for idempotency: its Message-ID, else ``content_key``."""
    mid = _unfold(message_id)
    match = re.search(r"<([^<>\s]+)>", mid)
    if match:
        return f"<{match.group(1)}>"
    if mid and " " not in mid:
        return f"<{mid}>"
    return content_key(data)


def _part_text(part: Any) -> str:
    try:
        text = part.get_content()
    except (LookupError, ValueError, UnicodeError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", errors="replace")
    return text if isinstance(text, str) else ""


def _utf8_header(value: str) -> str:
    """A header written in raw UTF-8 (RFC 6532, ``From: Eva Müller <eva.müller@...>``),
    which the parser hands on as surrogate escapes, as text; other bytes become U+FFFD."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def parse(data: bytes) -> Message:
    """The message in ``data``; raises UnreadableMessage when it has no headers at all."""
    from email import message_from_bytes, policy

    try:
        msg: EmailMessage = message_from_bytes(data, policy=policy.default)  # type: ignore[assignment]
        raw_headers = list(msg.raw_items())
    except Exception as exc:  # the parser's failures are many and undocumented
        raise UnreadableMessage(
            f"the message cannot be parsed ({exc.__class__.__name__})"
        ) from None
    if not raw_headers:
        raise UnreadableMessage("the message has no headers")
    headers: dict[str, str] = {}
    for name, value in raw_headers:
        headers.setdefault(name.lower(), _utf8_header(str(value)))
    try:
        content_type = msg.get_content_type()
        text, html = "", None
        if not msg.is_multipart():
            # Most mail is one part: reading its type once is most of the parsing cost.
            if content_type == "text/html":
                html = _part_text(msg)
            elif content_type.startswith("text/"):
                text = _part_text(msg)
        else:
            body = msg.get_body(preferencelist=("plain",))
            html_part = msg.get_body(preferencelist=("html",))
            text = _part_text(body) if body is not None else ""
            html = _part_text(html_part) if html_part is not None else None
        if html is not None and not text:
            from leadcli.capture.forms import html_to_text

            text = html_to_text(html)
    except Exception as exc:
        raise UnreadableMessage(
            f"the message body cannot be read ({exc.__class__.__name__})"
        ) from None
    return Message(
        key=message_key(headers.get("message-id", ""), data),
        sender=parse_address(headers.get("from", "")),
        reply_to=parse_address(headers.get("reply-to", "")),
        date=_date(headers.get("date", "")),
        subject=_decode_words(_unfold(headers.get("subject", ""))),
        text=text,
        html=html,
        headers=headers,
        content_type=content_type,
    )


# --------------------------------------------------------------------------- trimming
#: Where a quoted reply begins: "On Mon, ... wrote:", Outlook's "-----Original Message-----"
#: and "From: ... Sent: ..." blocks, and the first line quoted with ">".
_QUOTE_START = re.compile(
    r"^(On\s.{0,200}\swrote:\s*$"
    r"|-{2,}\s*Original Message\s*-{2,}"
    r"|_{5,}\s*$"
    r"|From:\s.*$"
    r"|>)",
    re.IGNORECASE,
)
#: Where a signature begins: the "-- " separator and phone-mail tails.
_SIGNATURE_START = re.compile(r"^(--\s*$|Sent from my \w+|Get Outlook for)", re.IGNORECASE)


def trim_reply(text: str) -> str:
    """The text the person wrote now: quoted replies and the signature cut off, blank
    lines at the ends dropped, at most ``MAX_NOTE`` characters."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if _QUOTE_START.match(stripped) or _SIGNATURE_START.match(stripped):
            break
        kept.append(line.rstrip())
    result = "\n".join(kept).strip()
    if not result:  # all of it was quoted: a bare forward keeps its text
        result = text.strip()
    return result[:MAX_NOTE]
