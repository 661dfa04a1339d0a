"""A mail run: consent first, every message rendered before any goes, each logged as it goes.

``plan`` reads the leads once: those who may not be mailed (``consent.skip_reason``) and
those the template already went to today (unless ``again``) are skipped with their reason;
the rest are rendered, so a template that fails for one lead fails the run before anything
is sent. ``execute`` then delivers one message at a time and, for each one that went,
commits in its own transaction its Message-ID (``sent_messages``) and the outbound e-mail
activity (which sets ``first_contacted_at`` and completes the cadence step): a failure or a
crash mid-run leaves what went logged and what did not unlogged, and the same command run
again sends only what has not gone.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from leadcli.identity.evidence import DEFAULT_LISTS, Lists
from leadcli.outreach import compose, consent
from leadcli.outreach.templates import Template, render
from leadcli.outreach.transports import DeliveryFailed
from leadcli.storage.store import Store
from leadcli.text import dates

SENT = "sent"
DRAFTED = "drafted"
SKIPPED = "skipped"
FAILED = "failed"
WOULD_SEND = "would send"
ALREADY = "already mailed today (--again sends it again)"

#: The fields of a per-message result, in output order.
RESULT_FIELDS = ("lead_id", "email", "template", "outcome", "reason", "subject", "message_id")

Touched = Callable[[Iterable[int]], None]


@dataclass(frozen=True)
class Options:
    include_customers: bool = False
    #: Mail a lead the template already went to today.
    again: bool = False
    #: Log each delivered message as an outbound e-mail activity (drafts: ``--log-drafts``).
    log: bool = True
    #: Messages a minute at most (``mail.per_minute``); 0: no limit.
    per_minute: int = 0
    lists: Lists = DEFAULT_LISTS


@dataclass
class Planned:
    """One lead of the run: a message to deliver, or the reason it is skipped."""

    lead_id: int
    template: str
    email: str | None = None
    reason: str | None = None
    message: EmailMessage | None = None
    subject: str | None = None
    message_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def result(self, outcome: str, reason: str | None = None) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "email": self.email,
            "template": self.template,
            "outcome": outcome,
            "reason": reason,
            "subject": self.subject,
            "message_id": self.message_id,
            **self.extra,
        }


def today() -> str:
    """The local day (YYYY-MM-DD): a template goes to a lead once a day."""
    return dates.to_local(dates.now()).date().isoformat()


def _already(conn: sqlite3.Connection, lead_id: int, template: str, day: str, drafts: bool) -> bool:
    """Whether the template went to the lead today: a send is stopped by a send; a draft by
    a draft or a send (a draft does not stop the real message)."""
    outcomes = ("sent", "drafted") if drafts else ("sent",)
    return (
        conn.execute(
            "SELECT 1 FROM sent_messages WHERE lead_id = ? AND template = ? AND day = ? "
            f"AND outcome IN ({', '.join('?' * len(outcomes))}) LIMIT 1",
            (lead_id, template, day, *outcomes),
        ).fetchone()
        is not None
    )


def plan(
    store: Store,
    template: Template,
    lead_ids: Sequence[int],
    sender: compose.Sender,
    options: Options,
    *,
    drafts: bool = False,
) -> list[Planned]:
    """Each lead's message or skip reason, in the order given. NotFound for an unknown id
    and RenderError for a template that fails on a lead: nothing is sent then."""
    from email.utils import format_datetime

    from leadcli.leads.records import get_lead, missing_lead
    from leadcli.privacy.suppression import Suppressions

    ids = list(dict.fromkeys(lead_ids))
    day = today()
    date = format_datetime(dates.now())
    planned = []
    with store.read() as conn:
        for lead_id in ids:
            if conn.execute("SELECT 1 FROM leads WHERE id = ?", (lead_id,)).fetchone() is None:
                raise missing_lead(conn, lead_id, "; nothing was mailed")
        suppressions = Suppressions.load(conn)
    for lead_id in ids:
        lead = get_lead(store, lead_id, with_history=False)
        one = Planned(lead_id, template.name, email=lead["email"])
        planned.append(one)
        one.reason = consent.skip_reason(
            lead, suppressions, include_customers=options.include_customers, lists=options.lists
        )
        if one.reason is None and not options.again:
            with store.read() as conn:
                if _already(conn, lead_id, template.name, day, drafts):
                    one.reason = ALREADY
        if one.reason is not None:
            continue
        to = consent.usable_email(lead["email"], options.lists)
        assert to is not None  # skip_reason said so
        rendered = render(template, lead, sender.for_template())
        name = " ".join(p for p in (lead["first_name"], lead["last_name"]) if p)
        one.message_id = compose.message_id(sender.domain)
        one.subject = rendered.subject
        one.email = to
        one.message = compose.build(rendered, sender, name, to, lead_id, one.message_id, date)
    return planned


@contextlib.contextmanager
def _plain_write(store: Store) -> Iterator[Touched]:
    with store.write():
        yield lambda _ids: None


def _log(
    store: Store,
    one: Planned,
    outcome: str,
    options: Options,
    transaction: Callable[[], AbstractContextManager[Touched]],
) -> dict[str, Any]:
    """Commit one delivered message: its Message-ID and, when asked, the activity."""
    from leadcli.engagement import activities

    now = dates.now_text()
    done: dict[str, Any] = {"completed_steps": []}
    with transaction() as touched:
        store.conn.execute(
            "INSERT INTO sent_messages (message_id, lead_id, template, day, outcome, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (one.message_id, one.lead_id, one.template, today(), outcome, now),
        )
        if options.log:
            note = f"{one.subject} (template {one.template})"
            logged = activities.log(store, one.lead_id, "email", note)
            done["completed_steps"] = logged["completed_steps"]
            touched([one.lead_id])
    return done


class _Pace:
    """At most ``per_minute`` deliveries a minute, evenly spaced; 0 is no limit."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.gap = 60.0 / per_minute if per_minute else 0.0
        self.clock, self.sleep = clock, sleep
        self.last: float | None = None

    def wait(self) -> None:
        if self.gap and self.last is not None:
            left = self.last + self.gap - self.clock()
            if left > 0:
                self.sleep(left)
        self.last = self.clock()


def execute(
    store: Store,
    planned: Sequence[Planned],
    transport: Any | None,
    options: Options,
    *,
    transaction: Callable[[], AbstractContextManager[Touched]] | None = None,
    pace: _Pace | None = None,
) -> Iterator[dict[str, Any]]:
    """Deliver and log each planned message, yielding one result each (``RESULT_FIELDS``)
    once it is committed; ``transport`` None is a dry run (nothing delivered or logged)."""
    open_write = transaction or (lambda: _plain_write(store))
    pace = pace or _Pace(options.per_minute)
    try:
        for one in planned:
            if one.reason is not None:
                yield one.result(SKIPPED, one.reason)
                continue
            assert one.message is not None
            if transport is None:
                yield one.result(WOULD_SEND)
                continue
            pace.wait()
            try:
                transport.deliver(one.message, f"{one.lead_id}-{one.template}-{today()}")
            except DeliveryFailed as exc:
                yield {**one.result(FAILED, str(exc)), "message_id": None}
                continue
            outcome = transport.outcome
            logged = _log(store, one, outcome, options, open_write)
            yield {**one.result(outcome), **logged}
    finally:
        if transport is not None:
            transport.close()


def summarise(results: Iterable[dict[str, Any]], *, dry_run: bool = False) -> dict[str, Any]:
    """The run's counts (``messages == sent + drafted + skipped + failed``, or ``would
    send`` in a dry run), the skip and failure reasons with their counts, every result."""
    records = list(results)
    outcomes = Counter(r["outcome"] for r in records)
    reasons = Counter(r["reason"] for r in records if r["outcome"] == SKIPPED)
    failures = Counter(r["reason"] for r in records if r["outcome"] == FAILED)
    return {
        "messages": len(records),
        SENT: outcomes[SENT],
        DRAFTED: outcomes[DRAFTED],
        SKIPPED: outcomes[SKIPPED],
        FAILED: outcomes[FAILED],
        "would_send": outcomes[WOULD_SEND],
        "skipped_reasons": dict(sorted(reasons.items())),
        "failed_reasons": dict(sorted(failures.items())),
        "dry_run": dry_run,
        "results": records,
    }


def due_steps(store: Store, horizon: str) -> dict[str, list[int]]:
    """The leads whose current cadence step names a template and is due by ``horizon``,
    by template (most overdue first): what ``mail --due`` sends."""
    by_template: dict[str, list[int]] = {}
    with store.read() as conn:
        rows = conn.execute(
            "SELECT lead_id, json_extract(steps, '$[' || next_step || '].template') AS template "
            "FROM enrolments WHERE ended_at IS NULL AND next_due_at <= ? "
            "AND template IS NOT NULL ORDER BY next_due_at, id",
            (horizon,),
        ).fetchall()
    for row in rows:
        ids = by_template.setdefault(row["template"], [])
        if row["lead_id"] not in ids:
            ids.append(row["lead_id"])
    return by_template
