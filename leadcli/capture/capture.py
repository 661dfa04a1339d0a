"""Capturing messages: each becomes a new lead, an activity of an existing lead, a skip
with its reason, or a failure, and is remembered by its key so a second run changes nothing.

Messages are written a batch at a time, one transaction each (a 10,000-message mbox is not
10,000 commits), and each message inside its own SAVEPOINT: one that fails leaves nothing
behind and the batch goes on. Who the person is follows the evidence rule
(``identity.evidence.judge``) over the leads that share the e-mail or phone: only evidence
of one person makes a message an activity of an existing lead; a shared key without it
creates the lead and records the pair as a possible duplicate, as import does, so two
people are never made one.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadcli.capture import classify, forms
from leadcli.capture.mailboxes import RawMessage
from leadcli.capture.messages import Message, UnreadableMessage, legacy_key, parse, trim_reply
from leadcli.errors import LeadcliError
from leadcli.identity.evidence import DEFAULT_LISTS, SAME, Lists, judge
from leadcli.identity.possible import find as find_possible
from leadcli.identity.possible import record as record_possible
from leadcli.storage.store import Store
from leadcli.text import dates
from leadcli.text.safe_text import strip_controls

#: Messages per write transaction: large enough that commits are not the cost, small enough
#: that another command waiting for the database waits a moment, not the whole mailbox.
BATCH = 500

CREATED = "created"
MATCHED = "matched"
SKIPPED = "skipped"
FAILED = "failed"
ALREADY = "already captured"
SUPPRESSED = "suppressed"

EMAIL_SOURCE = "email"
FORM_SOURCE = "web form"

#: The fields of a per-message result, in output order.
RESULT_FIELDS = ("place", "message_id", "outcome", "reason", "lead_id", "name", "email", "date")

Touched = Callable[[Iterable[int]], None]


@dataclass(frozen=True)
class Settings:
    """What capture takes from the configuration."""

    own_addresses: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    phone_region: str = "US"
    lists: Lists = DEFAULT_LISTS
    #: The matching rules possible duplicates are scored with (``identity.matcher.Rules``;
    #: the CLI passes the user's, as `dedupe` uses them). None: the built-in rules.
    matching: Any = None

    @classmethod
    def from_config(cls, config: Any, matching: Any = None) -> Settings:
        return cls(
            own_addresses=tuple(config["capture.own_addresses"]),
            sources=dict(config["capture.sources"]),
            phone_region=config["contacts.phone_region"],
            lists=Lists.from_config(config),
            matching=matching,
        )

    def matching_rules(self) -> Any:
        return self.matching if self.matching is not None else _built_in_rules()

    def source_for(self, address: str | None, default: str) -> str:
        if address:
            email = address.strip().lower()
            for key in (email, "@" + email.rpartition("@")[2]):
                if key in self.sources:
                    return self.sources[key]
        return default


@dataclass
class Plan:
    """A message that names a person: the lead's values, the note and when it was written."""

    values: dict[str, Any]
    note: str
    at: datetime
    notice: str | None = None  # said in the result's reason (a date that was replaced)
    #: The Message-IDs it answers (In-Reply-To, then References, newest first).
    answers: tuple[str, ...] = ()


class Failed(LeadcliError):
    """One message that cannot be captured; the reason never quotes its content."""


class _DryRun(Exception):
    """Raised at the end of a dry run to roll its transaction back."""


@functools.cache
def _built_in_rules() -> Any:
    """Parsed once a run: a mailbox can have many messages at a shared phone."""
    from leadcli.identity.matcher import load_rules

    return load_rules()


def _clean(value: str | None) -> str:
    """A header or form value on one line, without control or invisible characters (the
    input rule every way in shares, ``safe_text.strip_controls``)."""
    return " ".join(strip_controls(value or "").split())


def _when(message: Message) -> tuple[datetime, str | None]:
    """The message's Date in UTC; now when it is missing, unreadable, out of range or in
    the future (a sender's wrong clock must not date a lead after today)."""
    now = dates.now()
    if message.date is None:
        return now, "no usable Date: now used"
    try:
        dates.check_range(message.date)
    except ValueError:
        return now, "Date out of range: now used"
    if message.date > now:
        return now, "Date in the future: now used"
    return message.date, None


def _note(subject: str, text: str) -> str:
    # The text keeps its lines; activities.log_many drops control characters from notes.
    subject = _clean(subject)
    return f"{subject}\n\n{text}".strip() if subject else text


def plan(message: Message, settings: Settings) -> Plan | str:
    """What the message means: a Plan, or the reason it is no lead (a skip)."""
    reason = classify.mail_skip_reason(message)
    if reason:
        return reason
    at, notice = _when(message)
    fields = forms.extract(message.text, message.html)
    if fields is not None:
        note = fields.pop("notes", "")
        reply = message.reply_to.email if message.reply_to else None
        values = {k: _clean(v) for k, v in fields.items()}
        if reply and not _valid_email(values["email"]):
            values["email"] = reply  # the form's address is unusable; Reply-To is the person
        if classify.is_own(values["email"], settings.own_addresses):
            return classify.OWN_ADDRESS  # you, trying your own form
        sender = message.sender.email if message.sender else None
        values["source"] = settings.source_for(sender, FORM_SOURCE)
        return Plan(values, _note(message.subject, note.strip()), at, notice)
    reason = classify.sender_skip_reason(message, settings.own_addresses)
    if reason:
        return reason
    assert message.sender is not None
    values = {"email": message.sender.email}
    name = _clean(message.sender.name)
    if name and "@" not in name:
        from leadcli.importing.rows import split_name

        values["first_name"], values["last_name"] = split_name(name)
    values["source"] = settings.source_for(message.sender.email, EMAIL_SOURCE)
    note = _note(message.subject, trim_reply(message.text))
    return Plan(values, note, at, notice, _answers(message))


def _answers(message: Message) -> tuple[str, ...]:
    """The ids a reply names: In-Reply-To first, then References from the newest."""
    import re

    ids = re.findall(r"<[^<>\s]+>", message.header("in-reply-to"))
    ids += reversed(re.findall(r"<[^<>\s]+>", message.header("references")))
    return tuple(dict.fromkeys(ids))


def _answered_lead(conn: sqlite3.Connection, planned: Plan) -> sqlite3.Row | None:
    """The lead a reply answers, by the Message-ID ``leadcli mail`` stored for what it
    sent (``sent_messages``): a reply from another address of theirs still lands on them."""
    for mid in planned.answers:
        row = conn.execute(
            "SELECT l.id, l.created_at FROM sent_messages AS s JOIN leads AS l "
            "ON l.id = s.lead_id WHERE s.message_id = ?",
            (mid,),
        ).fetchone()
        if row is not None:
            return row
    return None


def _valid_email(text: str) -> bool:
    from leadcli.text.contacts import normalise_email

    try:
        normalise_email(text)
    except ValueError:
        return False
    return True


_IDENTITY = ("id", "first_name", "last_name", "email", "phone", "external_id", "external_system")


def _candidates(conn: sqlite3.Connection, values: dict[str, Any]) -> list[sqlite3.Row]:
    """Leads sharing the e-mail or the phone (both indexed), lowest id first."""
    clauses, params = [], []
    for name in ("email", "phone"):
        if values.get(name):
            clauses.append(f"{name} = ?")
            params.append(values[name])
    if not clauses:
        return []
    return conn.execute(
        f"SELECT {', '.join(_IDENTITY)}, created_at FROM leads WHERE {' OR '.join(clauses)} "
        "ORDER BY id",
        params,
    ).fetchall()


def _normalise(values: dict[str, Any], note: str, region: str) -> tuple[dict[str, Any], str]:
    """The lead's values as ``add`` stores them. A phone that does not parse is kept in the
    note, not lost and not refused; an unusable e-mail fails the message."""
    from leadcli.errors import InvalidValue
    from leadcli.leads.records import normalise_fields

    values = {k: v for k, v in values.items() if v}
    try:
        return normalise_fields(values, phone_region=region), note
    except InvalidValue as exc:
        if exc.field != "phone":
            raise Failed(f"the message's {exc.field} {exc.reason}") from None
    phone = values.pop("phone")
    note = f"{note}\n\nPhone (as written): {phone}".strip()
    try:
        return normalise_fields(values, phone_region=region), note
    except InvalidValue as exc:
        raise Failed(f"the message's {exc.field} {exc.reason}") from None


def _apply(
    store: Store, conn: sqlite3.Connection, planned: Plan, settings: Settings
) -> tuple[str, int | None, str | None]:
    """Write one planned message: (outcome, lead id, reason)."""
    from leadcli.engagement import activities
    from leadcli.leads.records import add_lead
    from leadcli.privacy.suppression import Suppressed

    values, note = _normalise(planned.values, planned.note, settings.phone_region)
    at_text = dates.to_store(planned.at)
    answered = _answered_lead(conn, planned)
    if answered is not None:  # a reply to our mail: an inbound touch, ending its cadence
        at = max(planned.at, dates.from_store(answered["created_at"]))
        activities.log(store, answered["id"], "email", note or None, inbound=True, at=at)
        return MATCHED, answered["id"], planned.notice
    shared = False
    for row in _candidates(conn, values):
        verdict = judge(dict(row), values, settings.lists)
        if verdict.outcome == SAME:
            # An activity is never dated before the lead it belongs to existed.
            at = max(planned.at, dates.from_store(row["created_at"]))
            activities.log(store, row["id"], "email", note or None, inbound=True, at=at)
            return MATCHED, row["id"], planned.notice
        shared = shared or verdict.reason is not None
    try:
        # add_lead refuses a person erased with `forget` (the suppression list, read once).
        lead_id = add_lead(store, values, phone_region=settings.phone_region, created_at=at_text)
    except Suppressed:
        return SKIPPED, None, SUPPRESSED
    possible = False
    if shared:  # a key shared without the evidence: the matcher says whether it might be
        pairs = find_possible(conn, settings.matching_rules(), settings.lists, lead_id - 1)
        possible = record_possible(conn, pairs, None, dates.now_text()) > 0
    activities.log(store, lead_id, "email", note or None, inbound=True, at=planned.at)
    reason = planned.notice
    if possible:
        reason = "; ".join(filter(None, [reason, "possible duplicate (see `leadcli dedupe`)"]))
    return CREATED, lead_id, reason


def _one(
    store: Store, conn: sqlite3.Connection, raw: RawMessage, settings: Settings
) -> dict[str, Any]:
    result: dict[str, Any] = dict.fromkeys(RESULT_FIELDS)
    result["place"] = raw.place
    try:
        message = parse(raw.data)
    except UnreadableMessage as exc:
        return {**result, "outcome": FAILED, "reason": str(exc)}
    result["message_id"] = message.key
    if message.sender is not None:
        result["email"] = message.sender.email
        result["name"] = _clean(message.sender.name) or None
    if message.date is not None:
        result["date"] = dates.to_store(message.date)
    keys = [message.key]
    if message.key.startswith("sha256:"):  # no Message-ID: also the key earlier versions gave it
        keys.append(legacy_key(raw.data if raw.legacy is None else raw.legacy))
    earlier = conn.execute(
        f"SELECT lead_id FROM captured_messages WHERE key IN ({', '.join('?' * len(keys))}) "
        "LIMIT 1",
        keys,
    ).fetchone()
    if earlier is not None:  # the lead it went to, so a script re-running learns the id
        return {**result, "outcome": SKIPPED, "reason": ALREADY, "lead_id": earlier[0]}
    planned = plan(message, settings)
    if isinstance(planned, str):
        return {**result, "outcome": SKIPPED, "reason": planned}
    first, last = planned.values.get("first_name"), planned.values.get("last_name")
    result["name"] = " ".join(p for p in (first, last) if p) or None
    result["email"] = planned.values.get("email")
    result["date"] = dates.to_store(planned.at)
    conn.execute("SAVEPOINT capture_message")
    try:
        outcome, lead_id, reason = _apply(store, conn, planned, settings)
        if outcome != SKIPPED:
            conn.execute(
                "INSERT INTO captured_messages (key, lead_id, outcome, captured_at) "
                "VALUES (?, ?, ?, ?)",
                (message.key, lead_id, outcome, dates.now_text()),
            )
    except (LeadcliError, ValueError) as exc:
        conn.execute("ROLLBACK TO capture_message")
        conn.execute("RELEASE capture_message")
        reason = str(exc) if isinstance(exc, LeadcliError) else "a value cannot be stored"
        return {**result, "outcome": FAILED, "reason": reason}
    conn.execute("RELEASE capture_message")
    return {**result, "outcome": outcome, "lead_id": lead_id, "reason": reason}


@contextlib.contextmanager
def _plain_write(store: Store) -> Iterator[Touched]:
    with store.write():
        yield lambda _ids: None


def _batches(messages: Iterable[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    batch: list[RawMessage] = []
    for raw in messages:
        batch.append(raw)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def capture(
    store: Store,
    messages: Iterable[RawMessage],
    settings: Settings,
    *,
    dry_run: bool = False,
    transaction: Callable[[], AbstractContextManager[Touched]] | None = None,
    batch_size: int = BATCH,
) -> Iterator[dict[str, Any]]:
    """Capture ``messages``, yielding one result per message (``RESULT_FIELDS``) once its
    batch is committed. ``transaction`` opens each batch's write transaction and yields
    ``touched`` to name the leads changed (the CLI passes its rescoring transaction); a
    dry run does all the work in one transaction and rolls it back, so what it reports is
    what a real run would do, ids of new leads aside (None)."""
    open_batch = transaction or (lambda: _plain_write(store))
    if dry_run:
        results: list[dict[str, Any]] = []
        try:
            with store.write() as conn:
                for raw in messages:
                    results.append(_one(store, conn, raw, settings))
                raise _DryRun
        except _DryRun:
            pass
        for result in results:
            if result["outcome"] == CREATED:
                result["lead_id"] = None
            yield result
        return
    for batch in _batches(messages, batch_size):
        with open_batch() as touched:
            conn = store.conn
            done = [_one(store, conn, raw, settings) for raw in batch]
            touched(r["lead_id"] for r in done if r["outcome"] in (CREATED, MATCHED))
        yield from done


def summarise(results: Iterable[dict[str, Any]], *, dry_run: bool = False) -> dict[str, Any]:
    """The run's counts (``messages == created + matched + skipped + failed``), the skip
    reasons with their counts, the lead ids created or matched, and every result."""
    records = list(results)
    outcomes = Counter(r["outcome"] for r in records)
    reasons = Counter(r["reason"] for r in records if r["outcome"] == SKIPPED)
    return {
        "messages": len(records),
        CREATED: outcomes[CREATED],
        MATCHED: outcomes[MATCHED],
        SKIPPED: outcomes[SKIPPED],
        FAILED: outcomes[FAILED],
        "skipped_reasons": dict(sorted(reasons.items())),
        "lead_ids": sorted(
            {r["lead_id"] for r in records if r["outcome"] in (CREATED, MATCHED) and r["lead_id"]}
        ),
        "dry_run": dry_run,
        "results": records,
    }
