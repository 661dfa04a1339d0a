"""The stage machine: moving leads through the funnel, closing and reopening them.

Every change is one ``history.STAGE`` event (``{"stage": [old, new]}`` plus the value or lost
reason it set) whose ``at`` is when it happened (back-dated with ``--at``) and whose ``reason``
says why: ``manual``, ``manual (skipped: mql, sql)``, ``manual (moved back)``, ``reopened``,
``qualify rule (...)``, ``import``. Funnel and lead-time reports are computed from these rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadcli.errors import InvalidValue, LeadcliError
from leadcli.leads import history, validation
from leadcli.leads.records import clean_text, missing_lead
from leadcli.pipeline.stages import CLOSED_STAGES, STAGES, is_closed, next_stage, rank
from leadcli.storage.store import Store
from leadcli.storage.updates import set_columns
from leadcli.text import dates

#: Stages at which a deal value may be recorded.
VALUE_STAGES = ("opportunity", "customer")

#: Offered for shell completion of ``advance --lost --reason``; any text is accepted.
COMMON_LOST_REASONS = (
    "went with competitor",
    "no budget",
    "no decision",
    "bad timing",
    "unresponsive",
    "not a fit",
    "price too high",
    "chose to build in-house",
)


class TransitionError(LeadcliError):
    """A stage change that the machine does not allow (e.g. advancing a closed lead)."""


@dataclass(frozen=True)
class StageChange:
    lead_id: int
    old: str
    new: str
    at: str
    reason: str


def last_change_at(conn: sqlite3.Connection, lead_id: int, created_at: str) -> str:
    row = conn.execute(
        "SELECT max(at) FROM history WHERE lead_id = ? AND event = ?", (lead_id, history.STAGE)
    ).fetchone()
    return row[0] or created_at


def change_stage(
    conn: sqlite3.Connection,
    lead: dict[str, Any],
    new: str,
    *,
    reason: str,
    at: str,
    value: float | None = None,
    lost_reason: str | None = None,
) -> StageChange:
    """Apply one stage change to ``lead`` (a row with id, stage, value, lost_reason) and
    record it; call inside a write transaction. Validation is the caller's."""
    old = lead["stage"]
    changes: dict[str, list[Any]] = {"stage": [old, new]}
    sets: dict[str, Any] = {"stage": new, "updated_at": dates.now_text()}
    if new in CLOSED_STAGES:
        sets["closed_at"] = at
    elif old in CLOSED_STAGES:
        sets["closed_at"] = None
    if new == "lost":
        sets["lost_reason"] = lost_reason
        changes["lost_reason"] = [lead.get("lost_reason"), lost_reason]
    elif old == "lost":
        sets["lost_reason"] = None
        changes["lost_reason"] = [lead.get("lost_reason"), None]
    if value is not None and value != lead.get("value"):
        sets["value"] = value
        changes["value"] = [lead.get("value"), value]
    # A close ends the lead's enrolments as of ``at`` (closed_at): m019's trigger.
    set_columns(conn, "leads", lead["id"], sets)
    history.record(conn, lead["id"], history.STAGE, changes, reason=reason, at=at)
    return StageChange(lead["id"], old, new, at, reason)


def _stage_before_closing(conn: sqlite3.Connection, lead_id: int, closed: str) -> str:
    """Where a closed lead was before it closed: reopening puts it back there."""
    for row in conn.execute(
        "SELECT changes FROM history WHERE lead_id = ? AND event = ? ORDER BY at DESC, id DESC",
        (lead_id, history.STAGE),
    ):
        old, new = json.loads(row["changes"])["stage"]
        if new == closed and old not in CLOSED_STAGES:
            return old
    return "opportunity" if closed == "customer" else "lead"


def _plan(
    conn: sqlite3.Connection,
    lead: dict[str, Any],
    *,
    to: str | None,
    lost: bool,
    reopen: bool,
    value: float | None,
) -> tuple[str, str]:
    """The target stage and the reason, or TransitionError naming the lead."""
    lead_id, current = lead["id"], lead["stage"]
    if reopen:
        if not is_closed(current):
            raise TransitionError(f"lead {lead_id} is not closed ({current}); nothing to reopen")
        target = to or _stage_before_closing(conn, lead_id, current)
        if is_closed(target):
            raise TransitionError(f"--reopen needs an open stage for lead {lead_id}")
        return target, "reopened"
    if is_closed(current):
        raise TransitionError(
            f"lead {lead_id} is closed ({current})",
            hint="use --reopen to work it again",
        )
    if lost:
        return "lost", "manual"
    if to is None:
        target = next_stage(current)
        assert target is not None  # open stages always have a next one
        return target, "manual"
    if to == current:
        raise TransitionError(f"lead {lead_id} is already in {current}")
    if to == "lost":
        return "lost", "manual"
    step = rank(to) - rank(current)
    if step > 1:
        skipped = STAGES[rank(current) + 1 : rank(to)]
        return to, f"manual (skipped: {', '.join(skipped)})"
    if step < 0:
        return to, "manual (moved back)"
    return to, "manual"


def advance(
    store: Store,
    lead_ids: Sequence[int],
    *,
    to: str | None = None,
    lost: bool = False,
    reason: str | None = None,
    value: float | None = None,
    reopen: bool = False,
    at: datetime | None = None,
) -> list[StageChange]:
    """Move each lead (to its next stage, or ``to``); all of them or none.

    One transaction for the batch: a script piping ids in either gets every move or, when one
    id is unknown or its move not allowed, none, with the error naming that id.
    """
    if to is not None and to not in STAGES:
        raise InvalidValue("stage", f"unknown; use one of {', '.join(STAGES)}")
    if lost and to is not None and to != "lost":
        raise InvalidValue("to", f"--lost closes as lost; it cannot go with --to {to}")
    lost = lost or to == "lost"
    reason = clean_text(reason) if reason else None  # typed text: the one input rule
    if lost and not reason:
        raise InvalidValue(
            "reason", "closing as lost needs --reason", hint="e.g. --reason 'no budget'"
        )
    if reason and not lost:
        raise InvalidValue("reason", "is only for closing a lead as lost")
    if lost and reopen:
        raise InvalidValue("reopen", "cannot be combined with --lost")
    if value is not None:
        validation.check("value", value)  # the field rule every writer keeps
    now = dates.now()
    when = dates.to_utc(at) if at is not None else now
    if when > now:
        raise InvalidValue("at", "is in the future")
    at_text = dates.to_store(when)
    changes: list[StageChange] = []
    with store.write() as conn:
        for lead_id in dict.fromkeys(lead_ids):  # each id once, in the order given
            row = conn.execute(
                "SELECT id, stage, value, lost_reason, created_at FROM leads WHERE id = ?",
                (lead_id,),
            ).fetchone()
            if row is None:
                raise missing_lead(conn, lead_id, "; no lead was changed")
            lead = dict(row)
            target, why = _plan(conn, lead, to=to, lost=lost, reopen=reopen, value=value)
            if value is not None and target not in VALUE_STAGES:
                raise InvalidValue(
                    "value", f"is recorded when moving to {' or '.join(VALUE_STAGES)}"
                )
            if at_text < last_change_at(conn, lead_id, lead["created_at"]):
                raise InvalidValue(
                    "at", f"is before lead {lead_id}'s previous stage change or creation"
                )
            changes.append(
                change_stage(
                    conn,
                    lead,
                    target,
                    reason=why,
                    at=at_text,
                    value=value,
                    lost_reason=reason if lost else None,
                )
            )
    return changes


def stage_timeline(conn: sqlite3.Connection, lead_id: int) -> list[dict[str, Any]]:
    """The stages a lead has been in: when it entered, left, how long, and why it moved."""
    lead = conn.execute("SELECT stage, created_at FROM leads WHERE id = ?", (lead_id,)).fetchone()
    if lead is None:
        raise missing_lead(conn, lead_id)
    events = conn.execute(
        "SELECT at, changes, reason FROM history WHERE lead_id = ? AND event = ? ORDER BY at, id",
        (lead_id, history.STAGE),
    ).fetchall()
    first = history.created_in([json.loads(e["changes"]) for e in events[:1]], lead["stage"])
    segments = [{"stage": first, "entered_at": lead["created_at"], "reason": "created"}]
    for event in events:
        segments.append(
            {
                "stage": json.loads(event["changes"])["stage"][1],
                "entered_at": event["at"],
                "reason": event["reason"],
            }
        )
    now = dates.now()
    timeline = []
    for i, segment in enumerate(segments):
        left = segments[i + 1]["entered_at"] if i + 1 < len(segments) else None
        end = dates.from_store(left) if left else now
        closed_now = left is None and is_closed(segment["stage"])
        seconds = (
            None
            if closed_now
            else int((end - dates.from_store(segment["entered_at"])).total_seconds())
        )
        timeline.append({**segment, "left_at": left, "seconds": seconds})
    return timeline
