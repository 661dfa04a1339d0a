"""The suppression list: people erased by ``forget`` that nothing may bring back unasked.

An erased person's normalised e-mail addresses and phone numbers are kept only as
HMAC-SHA256 digests under a random key of this database (``privacy_key``): the list can say
"this row is someone who asked to be forgotten" without holding their address, and a copy of
the list alone (without the key) cannot be checked against a dictionary of addresses.

Who is suppressed follows the contract's evidence rule: a personal e-mail is a person, so a
row carrying a suppressed e-mail is suppressed; a phone is shared by colleagues and
households, so a suppressed phone stops a row only when the row has no e-mail of its own to
say who it is. Role addresses (``info@``) and placeholders are never suppressed: they are
not one person, and suppressing them would turn away everyone else who writes from them.

Lookups are one set membership per value: ``Suppressions.load`` reads the (small) list once,
so the million-row import pays a dictionary lookup per row, never a query.
"""

from __future__ import annotations

import hmac
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from leadcli.errors import LeadcliError
from leadcli.identity.evidence import DEFAULT_LISTS, Lists, is_placeholder, is_role_address
from leadcli.text import dates

EMAIL = "email"
PHONE = "phone"


class Suppressed(LeadcliError):
    """The person was erased with ``forget`` and asked not to be brought back."""

    hint = (
        "they asked to be forgotten; if they came back by their own choice, repeat with "
        "--allow-suppressed"
    )


def key(conn: sqlite3.Connection, *, create: bool = False) -> bytes | None:
    """This database's suppression key; made (in the caller's write transaction) when asked."""
    row = conn.execute("SELECT key FROM privacy_key WHERE id = 1").fetchone()
    if row is not None:
        return bytes(row[0])
    if not create:
        return None
    made = secrets.token_bytes(32)
    conn.execute("INSERT INTO privacy_key (id, key) VALUES (1, ?)", (made,))
    return made


def digest(secret: bytes, kind: str, value: str) -> bytes:
    """The keyed hash of one normalised value; the kind is part of the message, so an
    e-mail and a phone never collide."""
    return hmac.digest(secret, f"{kind}:{value}".encode(), "sha256")


def _emails(email: str | None, others: str | list[str] | None = None) -> list[str]:
    values = [email] if email else []
    values.extend(_others(others))
    return [v.strip().lower() for v in values if v and v.strip()]


def _phones(phone: str | None, others: str | list[str] | None = None) -> list[str]:
    values = [phone] if phone else []
    values.extend(_others(others))
    return [v.strip() for v in values if v and v.strip()]


def _others(others: str | list[str] | None) -> list[str]:
    """``other_emails`` / ``other_phones`` as stored (a JSON array) or as a list."""
    if not others:
        return []
    if isinstance(others, list):
        return [str(v) for v in others]
    try:
        parsed = json.loads(others)
    except ValueError:
        return [others]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def suppressible(
    emails: Iterable[str], phones: Iterable[str], lists: Lists = DEFAULT_LISTS
) -> list[tuple[str, str]]:
    """``(kind, value)`` worth suppressing: not role addresses or placeholders."""
    out = [
        (EMAIL, e)
        for e in emails
        if not is_role_address(e, lists) and not is_placeholder("email", e, lists)
    ]
    out += [(PHONE, p) for p in phones if not is_placeholder("phone", p, lists)]
    return list(dict.fromkeys(out))


def add(
    conn: sqlite3.Connection, values: Iterable[tuple[str, str]], *, at: str | None = None
) -> int:
    """Suppress ``(kind, normalised value)`` pairs; call inside the erasing transaction."""
    secret = key(conn, create=True)
    assert secret is not None
    when = at or dates.now_text()
    rows = [(digest(secret, kind, value), kind, when) for kind, value in values]
    conn.executemany(
        "INSERT OR IGNORE INTO suppression (digest, kind, added_at) VALUES (?, ?, ?)", rows
    )
    return len(rows)


def _keyed(secret: bytes) -> Callable[[bytes], bytes]:
    """HMAC-SHA256 under one key, keyed once and copied per value (``digest``'s hashes): an
    import checks every row of a big file while someone is suppressed."""
    keyed = hmac.new(secret, digestmod="sha256")

    def mac(message: bytes) -> bytes:
        one = keyed.copy()
        one.update(message)
        return one.digest()

    return mac


@dataclass
class Suppressions:
    """The suppression list read once, for checking many rows (an import) or one (add)."""

    secret: bytes | None = None
    digests: frozenset[bytes] = frozenset()
    #: Digests that matched a row let in with ``--allow-suppressed`` (to be lifted).
    allowed: set[bytes] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._hmac = _keyed(self.secret) if self.secret is not None else None

    def hits_by_row(
        self,
        emails: list[str | None],
        phones: list[str | None],
        other_emails: list[str | None],
        other_phones: list[str | None],
    ) -> dict[int, list[bytes]]:
        """The rows (by index) of a chunk's columns that are suppressed, with the digests
        they hit: the import's loop, one keyed hash and one set lookup per value."""
        if self._hmac is None or not self.digests:
            return {}
        hits: dict[int, list[bytes]] = {}
        for row, email in enumerate(emails):
            found = self.matches(email, phones[row], other_emails[row], other_phones[row])
            if found:
                hits[row] = found
        return hits

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Suppressions:
        digests = frozenset(bytes(r[0]) for r in conn.execute("SELECT digest FROM suppression"))
        if not digests:  # the usual case: nothing to hash, nothing to check
            return cls()
        return cls(key(conn), digests)

    def __bool__(self) -> bool:
        return bool(self.digests)

    def matches(
        self,
        email: str | None,
        phone: str | None,
        other_emails: str | list[str] | None = None,
        other_phones: str | list[str] | None = None,
    ) -> list[bytes]:
        """The suppressed digests a person's values hit (empty: not suppressed), by the
        module's rule: any e-mail; a phone only for a row without an e-mail."""
        mac = self._hmac
        if not self.digests or mac is None:
            return []
        emails = _emails(email, other_emails)
        hits = [d for d in (mac(f"{EMAIL}:{e}".encode()) for e in emails) if d in self.digests]
        if hits or emails:
            return hits
        phones = _phones(phone, other_phones)
        return [d for d in (mac(f"{PHONE}:{p}".encode()) for p in phones) if d in self.digests]


def lift(conn: sqlite3.Connection, digests: Iterable[bytes]) -> int:
    """Remove suppressions: the person came back by their own choice (``--allow-suppressed``)."""
    rows = [(d,) for d in set(digests)]
    conn.executemany("DELETE FROM suppression WHERE digest = ?", rows)
    return len(rows)


def is_suppressed(
    conn: sqlite3.Connection,
    email: str | None = None,
    phone: str | None = None,
    other_emails: str | list[str] | None = None,
    other_phones: str | list[str] | None = None,
) -> bool:
    """Whether a person with these (normalised) values was forgotten: the one check for
    single-lead paths (``add``, e-mail capture)."""
    return bool(Suppressions.load(conn).matches(email, phone, other_emails, other_phones))


def check_new_lead(conn: sqlite3.Connection, values: dict, *, allow: bool) -> None:
    """Refuse (``Suppressed``) a new lead whose values are suppressed; with ``allow`` lift
    the suppression instead. Call in the transaction that inserts the lead."""
    found = Suppressions.load(conn)
    hits = found.matches(
        values.get("email"),
        values.get("phone"),
        values.get("other_emails"),
        values.get("other_phones"),
    )
    if not hits:
        return
    if not allow:
        raise Suppressed("this person was erased with `forget` and is on the suppression list")
    lift(conn, hits)
