"""`leadcli mail` against a real SMTP server (aiosmtpd on 127.0.0.1), a real sendmail-style
executable and a real Maildir: what arrives, what never does, and what is logged."""

from __future__ import annotations

import email
import json
import mailbox
import os
import socket
import ssl
import stat
import sys
from email import policy
from pathlib import Path

import pytest

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402

TEMPLATE = """Subject: {{ company }} and a quicker pipeline

Hi {{ first_name }},

Would a call next week suit {{ company }}?

{{ sender.name }}
"""


class Recorder:
    """Keeps every message the server accepts; refuses the recipients it is told to."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (never another address), on a free port."""
    servers = []

    def start(refuse: frozenset[str] = frozenset(), tls_context=None) -> tuple[Recorder, int]:
        recorder = Recorder(refuse)
        kwargs = {}
        if tls_context is not None:
            kwargs = {"tls_context": tls_context, "require_starttls": True}
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(
            recorder, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs
        )
        controller.start()
        servers.append(controller)
        return recorder, port

    yield start
    for controller in servers:
        controller.stop()


def _config(path: Path, port: int, security: str = "none", extra: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[mail]\n"
        'from = "Ann Consultant <ann@consulting.example>"\n'
        'smtp_host = "127.0.0.1"\n'
        f"smtp_port = {port}\n"
        f'smtp_security = "{security}"\n'
        "per_minute = 0\n" + extra,
        encoding="utf-8",
    )


def _leads(cli) -> dict[str, int]:
    people = {
        "ada": ["--first-name", "Ada", "--email", "ada@lovelace.example", "--company", "Engines"],
        "bob": ["--first-name", "Bob", "--email", "bob@builder.example", "--company", "Bricks"],
        "dnc": ["--first-name", "Dan", "--email", "dan@nocontact.example", "--company", "Quiet"],
        "lost": ["--first-name", "Lia", "--email", "lia@lost.example", "--company", "Gone"],
        "gone": ["--first-name", "Yol", "--email", "yolanda.yarb@example.net", "--company", "Y"],
    }
    ids = {}
    for key, args in people.items():
        result = cli("add", *args, "-f", "json")
        assert result.exit_code == 0, result.stderr
        ids[key] = json.loads(result.stdout)["id"]
    assert cli("edit", str(ids["dnc"]), "--do-not-contact").exit_code == 0
    assert cli("advance", str(ids["lost"]), "--lost", "--reason", "budget").exit_code == 0
    assert cli("forget", "yolanda.yarb@example.net", "--yes").exit_code == 0
    # The forgotten person comes back in a stale list: the import keeps her out.
    stale = Path(os.environ["LEADCLI_CONFIG"]).parent / "stale.csv"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text(
        "First Name,Email,Company\nYol,yolanda.yarb@example.net,Y\nCy,cy@new.example,New\n",
        encoding="utf-8",
    )
    assert cli("import", str(stale)).exit_code == 0
    del ids["gone"]
    listed = cli("list", "-q").stdout.split()
    ids.update(
        {f"imported-{n}": int(i) for n, i in enumerate(listed) if int(i) not in ids.values()}
    )
    return ids


def _template(tmp_path: Path) -> Path:
    path = tmp_path / "intro.txt"
    path.write_text(TEMPLATE, encoding="utf-8")
    return path


def test_one_message_per_recipient_and_never_to_anyone_who_said_no(
    cli, smtp_server, tmp_path, isolated_env
):
    recorder, port = smtp_server()
    _config(
        Path(os.environ["LEADCLI_CONFIG"]),
        port,
        extra='unsubscribe = "mailto:u@x.example, https://x.example/u/{lead_id}"\n',
    )
    ids = _leads(cli)
    template = _template(tmp_path)
    every = [str(i) for i in ids.values()]
    assert len(every) == 5  # ada, bob, dan, lia and cy: never Yolanda

    result = cli("mail", str(template), *every, "--send", "-f", "json")

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    arrived = {tuple(rcpt): msg for rcpt, msg in recorder.messages}
    # One recipient per message; only the two reachable people.
    assert set(arrived) == {
        ("ada@lovelace.example",),
        ("bob@builder.example",),
        ("cy@new.example",),
    }
    ada = arrived[("ada@lovelace.example",)]
    assert ada["Subject"] == "Engines and a quicker pipeline"
    assert "Hi Ada," in ada.get_content()
    assert ada["List-Unsubscribe"] and ada["List-Unsubscribe-Post"]
    # The Message-ID on the wire is the one leadcli stored (a reply finds the lead by it).
    sent = {r["email"]: r for r in summary["results"] if r["outcome"] == "sent"}
    assert sent["ada@lovelace.example"]["message_id"] == str(ada["Message-ID"]).strip()
    skipped = [r for r in summary["results"] if r["outcome"] == "skipped"]
    assert sorted(r["email"] for r in skipped) == ["dan@nocontact.example", "lia@lost.example"]
    # Nothing of the erased, the opted-out or the lost reached the server.
    wire = b"".join(m.as_bytes() for _, m in recorder.messages).lower()
    for address in (b"yolanda.yarb", b"dan@nocontact", b"lia@lost"):
        assert address not in wire

    # A second run the same day sends nothing new.
    again = cli("mail", str(template), *every, "--send", "-f", "json")
    assert again.exit_code == 0
    assert len(recorder.messages) == 3
    assert not [r for r in json.loads(again.stdout)["results"] if r["outcome"] == "sent"]

    # Logged as an outbound e-mail touch with the subject.
    shown = cli("show", str(ids["ada"]), "-f", "json")
    assert "Engines and a quicker pipeline" in shown.stdout


def test_a_refused_recipient_fails_that_message_only(cli, smtp_server, tmp_path):
    recorder, port = smtp_server(refuse=frozenset({"bob@builder.example"}))
    _config(Path(os.environ["LEADCLI_CONFIG"]), port)
    ids = _leads(cli)

    result = cli("mail", str(_template(tmp_path)), str(ids["ada"]), str(ids["bob"]), "--send")

    assert result.exit_code == 1
    assert [rcpt for rcpt, _ in recorder.messages] == [["ada@lovelace.example"]]
    # Bob's failure is unlogged: the next run tries him again, and not Ada.
    recorder.refuse = frozenset()
    retry = cli("mail", str(_template(tmp_path)), str(ids["ada"]), str(ids["bob"]), "--send")
    assert retry.exit_code == 0
    assert [rcpt for rcpt, _ in recorder.messages][1:] == [["bob@builder.example"]]


def test_starttls_with_a_test_certificate(cli, smtp_server, tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(server_context)
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    recorder, port = smtp_server(tls_context=server_context)
    _config(
        Path(os.environ["LEADCLI_CONFIG"]),
        port,
        security="starttls",
        extra=f'smtp_cafile = "{cafile}"\n',
    )
    ids = _leads(cli)

    result = cli("mail", str(_template(tmp_path)), str(ids["ada"]), "--send")

    assert result.exit_code == 0, result.stderr
    assert [rcpt for rcpt, _ in recorder.messages] == [["ada@lovelace.example"]]


def test_sendmail_transport_runs_the_configured_command(cli, tmp_path):
    record = tmp_path / "sendmail-input"
    stub = tmp_path / "fake-sendmail"
    stub.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"open({str(record)!r}, 'ab').write(sys.stdin.buffer.read() + b'\\n--END--\\n')\n",
        encoding="utf-8",
    )
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    config = Path(os.environ["LEADCLI_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[mail]\nfrom = "Ann <ann@consulting.example>"\nsendmail = "{stub} -t"\nper_minute = 0\n',
        encoding="utf-8",
    )
    ids = _leads(cli)

    result = cli("mail", str(_template(tmp_path)), str(ids["ada"]), str(ids["bob"]), "--send")

    assert result.exit_code == 0, result.stderr
    parts = record.read_bytes().split(b"\n--END--\n")[:-1]
    assert len(parts) == 2
    first = email.message_from_bytes(parts[0], policy=policy.default)
    assert first["To"].addresses[0].addr_spec == "ada@lovelace.example"


def test_drafts_are_valid_messages_in_a_maildir(cli, tmp_path):
    config = Path(os.environ["LEADCLI_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[mail]\nfrom = "Ann <ann@consulting.example>"\n', encoding="utf-8")
    ids = _leads(cli)
    drafts = tmp_path / "Drafts"

    result = cli("mail", str(_template(tmp_path)), str(ids["ada"]), "--draft", str(drafts))

    assert result.exit_code == 0, result.stderr
    files = list((drafts / "new").iterdir())
    assert len(files) == 1
    msg = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert msg["Subject"] == "Engines and a quicker pipeline"
    assert str(msg["Message-ID"]).strip().startswith("<") and msg["Date"]
    assert len(mailbox.Maildir(drafts, create=False)) == 1


def _sender_only() -> None:
    config = Path(os.environ["LEADCLI_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[mail]\nfrom = "Ann <ann@consulting.example>"\n', encoding="utf-8")


def test_a_script_without_a_mode_is_told_what_to_give(cli, tmp_path):
    _sender_only()
    ids = _leads(cli)
    result = cli("mail", str(_template(tmp_path)), str(ids["ada"]))
    assert result.exit_code == 2
    assert "--send" in result.stderr


def test_a_missing_field_names_the_field_and_the_lead(cli, tmp_path):
    _sender_only()
    ids = _leads(cli)
    template = tmp_path / "t.txt"
    template.write_text("Subject: Hi\n\nDear {{ nickname }}\n", encoding="utf-8")
    result = cli("mail", str(template), str(ids["ada"]), "--dry-run")
    assert result.exit_code == 1
    assert "nickname" in result.stderr and str(ids["ada"]) in result.stderr


def test_lead_data_is_never_template_code(cli, tmp_path, smtp_server):
    recorder, port = smtp_server()
    _config(Path(os.environ["LEADCLI_CONFIG"]), port)
    added = cli(
        "add",
        "--first-name",
        "{{ 7*7 }}",
        "--company",
        "{% if 1 %}X{% endif %}",
        "--email",
        "t@t.example",
        "-f",
        "json",
    )
    lead = json.loads(added.stdout)["id"]
    result = cli("mail", str(_template(tmp_path)), str(lead), "--send")
    assert result.exit_code == 0, result.stderr
    body = recorder.messages[0][1].get_content()
    assert "Hi {{ 7*7 }}," in body and "49" not in body
    assert "suit {% if 1 %}X{% endif %}?" in body


def test_a_captured_reply_lands_on_the_lead_and_ends_its_cadence(cli, smtp_server, tmp_path):
    recorder, port = smtp_server()
    config = Path(os.environ["LEADCLI_CONFIG"])
    _config(config, port)
    (config.parent / "cadences.toml").write_text(
        "[cadences.intro]\n"
        'description = "intro"\n'
        'steps = [{ day = 0, kind = "email", template = "intro" },'
        ' { day = 3, kind = "call" }]\n',
        encoding="utf-8",
    )
    (config.parent / "templates").mkdir()
    (config.parent / "templates" / "intro.txt").write_text(TEMPLATE, encoding="utf-8")
    ids = _leads(cli)
    ada = str(ids["ada"])
    assert cli("enroll", ada, "--cadence", "intro").exit_code == 0
    sent = cli("mail", "--due", "--send", "-f", "json")
    assert sent.exit_code == 0, sent.stderr
    assert [rcpt for rcpt, _ in recorder.messages] == [["ada@lovelace.example"]]
    mid = str(recorder.messages[0][1]["Message-ID"]).strip()

    # She answers from another address of hers: the reply names our Message-ID.
    reply = tmp_path / "reply.eml"
    reply.write_bytes(
        b"From: Ada L <ada.private@home.example>\r\n"
        b"To: ann@consulting.example\r\n"
        b"Subject: Re: Engines and a quicker pipeline\r\n"
        b"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n"
        b"Message-ID: <reply-1@home.example>\r\n"
        b"In-Reply-To: " + mid.encode() + b"\r\n\r\nYes, Tuesday works.\r\n"
    )
    captured = cli("capture", str(reply), "-f", "json")
    assert captured.exit_code == 0, captured.stderr

    # No new lead for the other address; the reply is Ada's inbound touch.
    assert sorted(cli("list", "-q").stdout.split()) == sorted(str(i) for i in ids.values())
    shown = json.loads(cli("show", ada, "-f", "json").stdout)
    text = json.dumps(shown)
    assert "Yes, Tuesday works." in text
    enrolments = shown.get("enrolments") or shown.get("cadences")
    assert enrolments and all(e.get("ended_at") for e in enrolments), enrolments


def test_the_html_sibling_is_autoescaped_and_sent_as_an_alternative(cli, smtp_server, tmp_path):
    recorder, port = smtp_server()
    _config(Path(os.environ["LEADCLI_CONFIG"]), port)
    added = cli(
        "add",
        "--first-name",
        "<script>alert(1)</script>",
        "--company",
        "A & B",
        "--email",
        "h@h.example",
        "-f",
        "json",
    )
    lead = json.loads(added.stdout)["id"]
    template = _template(tmp_path)
    template.with_suffix(".html").write_text(
        "<p>Hi {{ first_name }}, from {{ company }}</p>", encoding="utf-8"
    )

    result = cli("mail", str(template), str(lead), "--send")

    assert result.exit_code == 0, result.stderr
    msg = recorder.messages[0][1]
    html = msg.get_body(preferencelist=("html",)).get_content()
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "A &amp; B" in html
    assert "Hi <script>alert(1)</script>," in plain  # plain text is text, not HTML


def test_smtp_login_takes_the_password_from_a_command_and_never_shows_or_keeps_it(
    cli, tmp_path, db_path
):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret-pw"
        logins.append((auth_data.login, ok))
        return AuthResult(success=ok)

    recorder = Recorder()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        secret = tmp_path / "pass-show"
        secret.write_text(f"#!{sys.executable}\nprint('s3cret-pw')\n", encoding="utf-8")
        secret.chmod(secret.stat().st_mode | stat.S_IXUSR)
        _config(
            Path(os.environ["LEADCLI_CONFIG"]),
            port,
            extra=f'smtp_user = "ann"\npassword_command = "{secret}"\n',
        )
        ids = _leads(cli)
        result = cli("mail", str(_template(tmp_path)), str(ids["ada"]), "--send", "-f", "json")
    finally:
        controller.stop()

    assert result.exit_code == 0, result.stderr
    assert logins == [(b"ann", True)]
    assert len(recorder.messages) == 1
    assert "s3cret-pw" not in result.stdout + result.stderr
    for path in db_path.parent.iterdir():
        if path.is_file():
            assert b"s3cret-pw" not in path.read_bytes(), path
