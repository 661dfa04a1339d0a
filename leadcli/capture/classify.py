"""Which messages are not a person writing: automated mail, lists, bounces, no-reply
senders and the user's own mail. Each gets a short reason, counted in the run's summary.

The tests are on headers and addresses only (RFC 3834 ``Auto-Submitted``, ``Precedence``,
RFC 2369 / 2919 list headers, RFC 3464 delivery reports), never on guessing from the words
of a message: a person's mail must not be dropped because it says "unsubscribe".
"""

from __future__ import annotations

import re

from leadcli.capture.messages import Message

OWN_ADDRESS = "own address"
AUTOMATED = "automated (Auto-Submitted)"
AUTO_REPLY = "auto-reply"
BULK = "bulk or list mail"
BOUNCE = "bounce report"
NO_REPLY = "no-reply sender"
NO_SENDER = "no usable sender address"

_NO_REPLY_LOCAL = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|mailer[-_.]?daemon|postmaster"
    r"|bounces?|notifications?[-_.]?noreply)([-+_.].*)?$"
)


def is_own(address: str, own: tuple[str, ...]) -> bool:
    """Whether ``address`` is one of the user's (``capture.own_addresses``: addresses or
    ``@domain`` entries, lower-cased)."""
    email = address.strip().lower()
    domain = "@" + email.rpartition("@")[2]
    return email in own or domain in own


def is_no_reply(address: str) -> bool:
    local = address.strip().lower().rpartition("@")[0]
    return bool(_NO_REPLY_LOCAL.match(local)) or "noreply" in local or "no-reply" in local


def mail_skip_reason(message: Message) -> str | None:
    """Why a message is no one's inquiry whatever its body says (bounces, lists,
    auto-replies); None when it may be a lead. Form notifications pass this test, since a
    form service's mail is automated by nature: ``sender_skip_reason`` is for the rest."""
    sender = message.sender
    if message.content_type == "multipart/report" or (
        sender is not None and sender.email.lower().split("@")[0] in ("mailer-daemon", "postmaster")
    ):
        return BOUNCE
    precedence = message.header("precedence").strip().lower()
    if (
        message.header("list-id")
        or message.header("list-unsubscribe")
        or precedence in ("bulk", "junk", "list")
    ):
        return BULK
    auto = message.header("auto-submitted").strip().lower().split(";")[0].strip()
    if auto == "auto-replied" or message.header("x-autoreply") or message.header("x-autorespond"):
        return AUTO_REPLY
    return None


def sender_skip_reason(message: Message, own: tuple[str, ...]) -> str | None:
    """Why the sender of a message that is not a form is not a lead: the user's own mail,
    automated mail, a no-reply address, or no single well-formed sender. (A form is judged
    by the address in its fields: your website's form may well mail from your domain.)"""
    if message.sender is not None and is_own(message.sender.email, own):
        return OWN_ADDRESS
    auto = message.header("auto-submitted").strip().lower().split(";")[0].strip()
    if auto and auto != "no":
        return AUTOMATED
    if message.sender is None:
        return NO_SENDER
    if is_no_reply(message.sender.email):
        return NO_REPLY
    return None
