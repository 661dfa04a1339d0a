"""Where a message goes: a Maildir (drafts), ``.eml`` files, a sendmail command or SMTP.

Each transport takes one message at a time and raises ``DeliveryFailed`` for that message
only (a refused recipient, a command that fails), so the run goes on with the next and logs
only what went. The reason never quotes the server's or the command's words: they often
repeat the recipient's address. The sendmail command and the password command are run
because the user's configuration names them (the CLI picks the transport); the password is
read when the connection opens, never stored, logged or printed.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import smtplib
import ssl
import subprocess
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from leadcli.errors import ConfigError, LeadcliError

#: The environment variable the SMTP password is read from when no command gives it.
PASSWORD_ENV = "LEADCLI_SMTP_PASSWORD"
#: A message's longest wait on a sendmail command or an SMTP server.
TIMEOUT = 60


class DeliveryFailed(LeadcliError):
    """One message that did not go; the others are unaffected."""


class Transport(Protocol):
    #: What a delivered message is: "sent", or "drafted" for files.
    outcome: str

    def deliver(self, msg: EmailMessage, name: str) -> None: ...

    def close(self) -> None: ...


def _private_write(path: Path, data: bytes) -> None:
    """Owner-only and atomic: a half-written draft is never picked up by a mail program."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def as_file_bytes(msg: EmailMessage) -> bytes:
    """The message as a file holds it: Unix line ends, as Maildir and mbox readers expect."""
    return msg.as_bytes(policy=policy.default.clone(linesep="\n"))


class MaildirDrafts:
    """Each message a file in ``DIR/new`` of a Maildir (made when missing), as mutt, aerc,
    Thunderbird and IMAP sync tools (mbsync, offlineimap) read it."""

    outcome = "drafted"

    def __init__(self, folder: Path) -> None:
        import mailbox

        try:
            self.box = mailbox.Maildir(folder, create=True)
        except OSError as exc:
            raise ConfigError(f"cannot use {folder} as a Maildir ({exc.strerror})") from None
        self.folder = folder

    def deliver(self, msg: EmailMessage, name: str) -> None:
        import mailbox

        # In new/ with no flags, as the Maildir spec has delivered mail: the file's name
        # is then its key.
        item = mailbox.MaildirMessage(as_file_bytes(msg))
        try:
            key = self.box.add(item)
        except OSError as exc:
            raise DeliveryFailed(f"cannot write the draft ({exc.strerror})") from None
        # Written (and so delivered) by now; owner-only as the folders are (0700).
        with contextlib.suppress(OSError):
            os.chmod(self.folder / "new" / key, 0o600)

    def close(self) -> None:
        self.box.close()


class EmlFiles:
    """Each message ``DIR/NAME.eml`` (NAME: lead, template and day)."""

    outcome = "drafted"

    def __init__(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(f"cannot make the folder {folder} ({exc.strerror})") from None
        self.folder = folder

    def deliver(self, msg: EmailMessage, name: str) -> None:
        try:
            _private_write(self.folder / f"{name}.eml", as_file_bytes(msg))
        except OSError as exc:
            raise DeliveryFailed(f"cannot write the file ({exc.strerror})") from None

    def close(self) -> None:
        pass


class Sendmail:
    """A sendmail-compatible command (``msmtp -t``, ``sendmail -t -i``): the message on its
    stdin, the recipient in its To: header; exit status 0 means it took the message."""

    outcome = "sent"

    def __init__(self, command: str) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise ConfigError("mail.sendmail is empty")

    def deliver(self, msg: EmailMessage, name: str) -> None:
        try:
            done = subprocess.run(
                self.argv,
                input=msg.as_bytes(policy=policy.SMTP),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            raise ConfigError(f"mail.sendmail: no command {self.argv[0]!r}") from None
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = exc.__class__.__name__
            raise DeliveryFailed(f"the sendmail command failed ({why})") from None
        if done.returncode != 0:
            raise DeliveryFailed(f"the sendmail command exited with status {done.returncode}")

    def close(self) -> None:
        pass


def password(command: str, environ: dict[str, str] | None = None) -> str | None:
    """The SMTP password: the first line a command prints (``pass show mail/smtp``), else
    ``$LEADCLI_SMTP_PASSWORD``, else None."""
    environ = os.environ if environ is None else environ  # type: ignore[assignment]
    if command:
        try:
            done = subprocess.run(
                shlex.split(command),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            raise ConfigError("mail.password_command could not be run") from None
        if done.returncode != 0 or not done.stdout.strip():
            raise ConfigError("mail.password_command printed no password")
        return done.stdout.splitlines()[0]
    return environ.get(PASSWORD_ENV) or None


class Smtp:
    """SMTP with STARTTLS (587), TLS (465) or, for a server on this machine, none. One
    connection for the run, opened again once if the server drops it."""

    outcome = "sent"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "starttls",
        user: str = "",
        secret: str | None = None,
        sender: str,
        context: ssl.SSLContext | None = None,
    ) -> None:
        if security == "none" and host not in ("localhost", "127.0.0.1", "::1"):
            raise ConfigError(
                "mail.smtp_security none is for a server on this machine only",
                hint="use starttls (port 587) or tls (port 465)",
            )
        if user and secret is None:
            raise ConfigError(
                "the SMTP password is not set",
                hint=f"set mail.password_command (e.g. pass show smtp) or ${PASSWORD_ENV}",
            )
        self.host, self.port, self.security = host, port, security
        self.user, self.secret, self.sender = user, secret, sender
        self.context = context or ssl.create_default_context()
        self.conn: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        try:
            if self.security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=TIMEOUT, context=self.context
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
                if self.security == "starttls":
                    conn.starttls(context=self.context)
            if self.user:
                conn.login(self.user, self.secret or "")
        except smtplib.SMTPAuthenticationError:
            raise ConfigError("the SMTP server refused the login") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ConfigError(
                f"cannot reach the SMTP server {self.host}:{self.port} ({exc.__class__.__name__})"
            ) from None
        return conn

    def deliver(self, msg: EmailMessage, name: str) -> None:
        to = msg["To"].addresses[0].addr_spec
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = self._open()
            try:
                self.conn.send_message(msg, from_addr=self.sender, to_addrs=[to])
                return
            except smtplib.SMTPServerDisconnected:
                self.conn = None
                if attempt == 2:
                    raise DeliveryFailed("the SMTP server closed the connection") from None
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [c for c, _ in exc.recipients.values()]
                raise DeliveryFailed(f"the server refused the recipient ({codes[0]})") from None
            except smtplib.SMTPResponseException as exc:
                raise DeliveryFailed(f"the server refused the message ({exc.smtp_code})") from None
            except (OSError, smtplib.SMTPException) as exc:
                self.conn = None
                raise DeliveryFailed(f"sending failed ({exc.__class__.__name__})") from None

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.conn.quit()
            self.conn = None


def from_config(config: Any, sender: str, context: ssl.SSLContext | None = None) -> Any:
    """The transport ``mail --send`` uses: ``mail.sendmail`` when set, else SMTP."""
    if config["mail.sendmail"]:
        return Sendmail(config["mail.sendmail"])
    if not config["mail.smtp_host"]:
        raise ConfigError(
            "mail --send needs a transport",
            hint='leadcli config set mail.sendmail "msmtp -t", or set mail.smtp_host',
        )
    if context is None and config["mail.smtp_cafile"]:
        try:
            context = ssl.create_default_context(cafile=config["mail.smtp_cafile"])
        except (OSError, ssl.SSLError):
            raise ConfigError("mail.smtp_cafile is not a readable CA file") from None
    user = config["mail.smtp_user"]
    return Smtp(
        config["mail.smtp_host"],
        config["mail.smtp_port"],
        security=config["mail.smtp_security"],
        user=user,
        secret=password(config["mail.password_command"]) if user else None,
        sender=sender,
        context=context,
    )
