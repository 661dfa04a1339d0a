"""One message to one lead: headers, the Message-ID leadcli stores, unsubscribe headers.

Each message has exactly one recipient (the lead), so nobody sees another lead's address
and one refusal fails one message. The Message-ID is made here and stored with the lead
(``sent_messages``): a reply's In-Reply-To or References names it, and capture finds the
lead by it. ``List-Unsubscribe`` carries ``mail.unsubscribe``'s targets (``{lead_id}``
filled in); ``List-Unsubscribe-Post`` (RFC 8058 one-click) only with an https target, the
only kind a one-click POST can reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from leadcli.errors import ConfigError
from leadcli.outreach.templates import Rendered


@dataclass(frozen=True)
class Sender:
    """Who the messages are from (``mail.from``) and what they carry besides the body."""

    name: str
    email: str
    unsubscribe: tuple[str, ...] = ()

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    def for_template(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email}

    @classmethod
    def from_config(cls, config: Any) -> Sender:
        from email.utils import parseaddr

        raw = config["mail.from"]
        if not raw:
            raise ConfigError(
                "mail needs a sender", hint='leadcli config set mail.from "Ana <ana@example.com>"'
            )
        name, email = parseaddr(raw)
        if email.count("@") != 1 or "." not in email.rpartition("@")[2]:
            raise ConfigError("mail.from is not an e-mail address such as Ana <ana@example.com>")
        targets = tuple(t.strip() for t in config["mail.unsubscribe"].split(",") if t.strip())
        for target in targets:
            if not target.lower().startswith(("mailto:", "https:", "http:")):
                raise ConfigError("mail.unsubscribe takes mailto: and https: targets")
        return cls(name, email, targets)


def message_id(domain: str) -> str:
    """A new, unique Message-ID at the sender's domain (``<...@domain>``)."""
    from email.utils import make_msgid

    return make_msgid("leadcli", domain=domain)


def build(
    rendered: Rendered,
    sender: Sender,
    to_name: str,
    to_email: str,
    lead_id: int,
    mid: str,
    date: str,
) -> EmailMessage:
    """The RFC 5322 message (stdlib ``policy.default``); ``date`` as RFC 5322 text."""
    from email import policy
    from email.headerregistry import Address

    msg = EmailMessage(policy=policy.default)
    msg["From"] = Address(sender.name, addr_spec=sender.email)
    # A display name with a line break or quotes is made safe by the header registry.
    msg["To"] = Address(" ".join(to_name.split()), addr_spec=to_email)
    msg["Subject"] = rendered.subject
    msg["Date"] = date
    msg["Message-ID"] = mid
    if sender.unsubscribe:
        targets = [t.replace("{lead_id}", str(lead_id)) for t in sender.unsubscribe]
        msg["List-Unsubscribe"] = ", ".join(f"<{t}>" for t in targets)
        if any(t.lower().startswith("https:") for t in targets):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(rendered.text)
    if rendered.html is not None:
        msg.add_alternative(rendered.html, subtype="html")
    return msg
