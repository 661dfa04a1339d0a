"""Messages written for the capture tests: one builder, so each test states only what
matters to it."""

from __future__ import annotations

from pathlib import Path


def eml(
    *,
    sender: str = "Ana Silva <ana.silva@acme.example>",
    subject: str = "Help with our data migration",
    date: str | None = "Tue, 24 Nov 2026 09:12:00 +0100",
    message_id: str | None = "<inquiry-1@acme.example>",
    body: str = "Hello,\n\nCould we talk this week?\n\nAna\n",
    headers: dict[str, str] | None = None,
    content_type: str = "text/plain; charset=utf-8",
) -> bytes:
    lines = [f"From: {sender}", "To: Me <me@consulting.example>", f"Subject: {subject}"]
    if date is not None:
        lines.append(f"Date: {date}")
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines += ["MIME-Version: 1.0", f"Content-Type: {content_type}", "", body]
    return "\n".join(lines).encode("utf-8")


TEXT_FORM = eml(
    sender="Website Forms <no-reply@forms.example>",
    subject="New submission: Contact us",
    message_id="<form-1@forms.example>",
    date="Tue, 24 Nov 2026 10:30:00 +0000",
    headers={"Reply-To": "bruno.stone@globex.example", "Auto-Submitted": "auto-generated"},
    body="You have a new submission.\n\nFull name: Bruno Stone\nE-mail: "
    "bruno.stone@globex.example\nPhone: (415) 555-0142\nOrganisation: Globex\n"
    "Message: We need a quote for 40 seats.\nPlease call in the afternoon.\n",
)

HTML_FORM = eml(
    sender="Forms <notifications@forms.example>",
    subject="New form entry",
    message_id="<form-2@forms.example>",
    date="Tue, 24 Nov 2026 11:05:00 -0500",
    content_type="text/html; charset=utf-8",
    body="<html><head><style>td{color:red}</style></head><body><table>"
    "<tr><th>Name</th><td>Chlo&eacute; Dubois</td></tr>"
    "<tr><th>Email:</th><td>chloe@initech.example</td></tr>"
    "<tr><th>Company</th><td>Initech</td></tr>"
    "<tr><th>Comments</th><td>Interested in the <b>audit</b> package.</td></tr>"
    "</table></body></html>",
)

INQUIRY = eml(
    body="Hello,\n\nCould we talk this week?\n\nAna\n\n-- \nAna Silva, Acme\n+1 415 555 0100\n"
)

AUTO_REPLY = eml(
    sender="Hiro Tanaka <hiro@hooli.example>",
    subject="Out of office",
    message_id="<ooo-1@hooli.example>",
    headers={"Auto-Submitted": "auto-replied"},
    body="I am away until Monday.\n",
)

NEWSLETTER = eml(
    sender="Acme News <news@acme.example>",
    subject="Our November newsletter",
    message_id="<news-1@acme.example>",
    headers={
        "List-Id": "Acme news <news.acme.example>",
        "List-Unsubscribe": "<mailto:unsubscribe@acme.example>",
        "Precedence": "bulk",
    },
    body="Name: Acme\nEmail: news@acme.example\nAll our news.\n",
)

NO_REPLY = eml(
    sender="Shop <noreply@shop.example>",
    subject="Your order",
    message_id="<order-1@shop.example>",
    body="Thanks for your order.\n",
)

REPLY = eml(
    sender="Ana Silva <ANA.SILVA@acme.example>",
    subject="Re: our call",
    message_id="<reply-1@acme.example>",
    date="Wed, 25 Nov 2026 08:00:00 +0000",
    body="Yes, Thursday works.\n\nOn Tue, 24 Nov 2026, Me <me@consulting.example> wrote:\n"
    "> Shall we talk on Thursday?\n",
)


def mbox(path: Path, messages: list[bytes]) -> Path:
    """An mbox file of ``messages`` ("From " lines in bodies quoted, as mboxo does)."""
    chunks = []
    for n, data in enumerate(messages):
        body = data.replace(b"\nFrom ", b"\n>From ")
        chunks.append(b"From sender@example Tue Nov 24 10:00:0%d 2026\n" % (n % 10) + body + b"\n")
    path.write_bytes(b"\n".join(chunks))
    return path


def maildir(path: Path, messages: list[bytes]) -> Path:
    for folder in ("new", "cur", "tmp"):
        (path / folder).mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(messages):
        folder = "new" if n % 2 == 0 else "cur"
        suffix = "" if folder == "new" else ":2,S"
        (path / folder / f"1700000000.{n}.host{suffix}").write_bytes(data)
    return path
