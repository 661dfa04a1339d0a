"""BANT qualification: budget, authority, need and timeline, with evidence, and the rules
that turn answers into stages.

Answers are parsed from what a person types (``20000``, ``yes``, ``decision-maker``,
``yes: replacing spreadsheets``, ``in 3 months``), stored as the latest answer per criterion in
``bant_answers`` and, like every change, appended to history (event ``qualified``, with the
evidence note as the reason).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadcli.engagement import followups
from leadcli.errors import InvalidValue
from leadcli.leads import history
from leadcli.leads.records import lead_row
from leadcli.pipeline.stages import is_closed, rank
from leadcli.pipeline.transitions import StageChange, change_stage
from leadcli.storage.store import Store
from leadcli.text import dates
from leadcli.text.numbers import parse_amount

CRITERIA = ("budget", "authority", "need", "timeline")
AUTHORITY_LEVELS = ("decision-maker", "influencer", "user", "none", "unknown")
QUALIFIED = "qualified"
#: The note of the one open follow-up a BANT timeline date sets (then "(2027-01-15)").
TIMELINE_FOLLOW_UP = "BANT timeline"

_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", "none"}
_UNKNOWN = {"unknown", "?", "unsure", "n/a", ""}


@dataclass(frozen=True)
class Answer:
    """One parsed answer: what was said, its detail, and whether the criterion is met."""

    criterion: str
    answer: str
    detail: str | None
    met: bool

    def summary(self) -> str:
        """Short text for history and tables: ``20000``, ``yes: fits``, ``2027-01-22``."""
        if self.answer in ("amount", "date"):
            return str(self.detail)
        return f"{self.answer}: {self.detail}" if self.detail else self.answer


def parse_budget(text: str) -> Answer:
    word = text.strip().lower()
    if word in _YES:
        return Answer("budget", "yes", None, True)
    if word in _NO:
        return Answer("budget", "no", None, False)
    if word in _UNKNOWN:
        return Answer("budget", "unknown", None, False)
    try:
        amount = parse_amount(text)
    except ValueError:
        raise InvalidValue("budget", "use an amount (20000) or yes, no, unknown") from None
    detail = f"{amount:g}" if amount < 1e15 else str(amount)
    return Answer("budget", "amount", detail, amount > 0)


def parse_authority(text: str) -> Answer:
    word = text.strip().lower().replace(" ", "-").replace("_", "-")
    word = {
        "decision": "decision-maker",
        "decisionmaker": "decision-maker",
        "dm": "decision-maker",
    }.get(word, word)
    if word not in AUTHORITY_LEVELS:
        raise InvalidValue("authority", f"use one of {', '.join(AUTHORITY_LEVELS)}")
    return Answer("authority", word, None, word == "decision-maker")


def parse_need(text: str) -> Answer:
    head, sep, rest = text.partition(":")
    word = head.strip().lower()
    detail = rest.strip() or None if sep else None
    if word in _YES:
        return Answer("need", "yes", detail, True)
    if word in _NO:
        return Answer("need", "no", detail, False)
    if word in _UNKNOWN:
        return Answer("need", "unknown", detail, False)
    raise InvalidValue("need", "use yes, no or unknown, optionally with text: 'yes: why'")


def parse_timeline(text: str, *, horizon_days: int, now_: datetime | None = None) -> Answer:
    """A buying date (or unknown / no). It is met when the date is from today to
    ``horizon_days`` ahead; a date that has passed is not met: a purchase that did not happen
    then is not a buying timeline (ask again). It still is recorded, as said."""
    word = text.strip().lower()
    if word in _UNKNOWN or word in ("no", "none", "never"):
        return Answer("timeline", "unknown" if word in _UNKNOWN else "no", None, False)
    try:
        when = dates.parse_when(text, now_=now_)
    except ValueError:
        raise InvalidValue(
            "timeline", "use a date (2026-09-01) or a phrase (in 3 months, next quarter, Q3)"
        ) from None
    today = dates.to_local(now_ or dates.now())
    met = today.date() <= when.date() and when <= today + timedelta(days=horizon_days)
    return Answer("timeline", "date", when.date().isoformat(), met)


@dataclass
class QualifyResult:
    lead_id: int
    answers: dict[str, Answer]
    met: int
    conclusion: str | None
    changed: dict[str, list[Any]] = field(default_factory=dict)
    stage_change: StageChange | None = None
    note: str | None = None


def conclude(
    met: int, score: int | None, *, sql_min_criteria: int, mql_min_score: int
) -> str | None:
    """The stage the rules put a lead in: sql, mql, or None when they say nothing."""
    if met >= sql_min_criteria:
        return "sql"
    if met >= 1 or (score is not None and score > mql_min_score):
        return "mql"
    return None


def current_answers(conn: sqlite3.Connection, lead_id: int) -> dict[str, Answer]:
    rows = conn.execute(
        "SELECT criterion, answer, detail, met FROM bant_answers WHERE lead_id = ?", (lead_id,)
    ).fetchall()
    return {
        r["criterion"]: Answer(r["criterion"], r["answer"], r["detail"], bool(r["met"]))
        for r in rows
    }


def answers_for(store: Store, lead_id: int) -> dict[str, Answer]:
    return current_answers(store.conn, lead_id)


def qualify(
    store: Store,
    lead_id: int,
    given: dict[str, Answer],
    *,
    note: str | None = None,
    advance: bool = True,
    sql_min_criteria: int = 3,
    mql_min_score: int = 50,
) -> QualifyResult:
    """Record answers (only those that differ) and, unless ``advance`` is off, move the lead
    forward to the stage the rules conclude. Never moves a lead back, never a closed one."""
    now = dates.now_text()
    with store.write() as conn:
        lead = lead_row(conn, lead_id, "id, stage, score, value, lost_reason")
        before = current_answers(conn, lead_id)
        changed = {
            c: [before[c].summary() if c in before else None, a.summary()]
            for c, a in given.items()
            if c not in before or before[c] != a
        }
        if changed or note:
            conn.executemany(
                "INSERT INTO bant_answers (lead_id, criterion, answer, detail, met, answered_at,"
                " evidence) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lead_id, criterion) DO "
                "UPDATE SET answer = excluded.answer, detail = excluded.detail, met = "
                "excluded.met, answered_at = excluded.answered_at, evidence = excluded.evidence",
                [
                    (lead_id, a.criterion, a.answer, a.detail, int(a.met), now, note)
                    for c, a in given.items()
                    if c in changed or note
                ],
            )
            # One history entry per answer that changed, each carrying the evidence note;
            # a note alone (new evidence for the same answers) is an entry too.
            events = [{c: change} for c, change in changed.items()] or [None]
            for changes in events:
                history.record(conn, lead_id, QUALIFIED, changes, reason=note, at=now)
            conn.execute("UPDATE leads SET updated_at = ? WHERE id = ?", (now, lead_id))
        timeline = given.get("timeline")
        if "timeline" in changed and timeline:
            # The buying date is the day to talk again: one follow-up at 9:00 local time,
            # moved when the date changes, closed when it becomes unknown or has passed.
            due_at = None
            if timeline.answer == "date":
                day = datetime.fromisoformat(timeline.detail or "").replace(hour=9)
                if dates.to_utc(day) > dates.now():
                    due_at = dates.to_store(day)
            followups.keep_one(
                conn,
                lead_id,
                TIMELINE_FOLLOW_UP,
                due_at,
                f"{TIMELINE_FOLLOW_UP} ({timeline.detail})",
            )
        answers = {**before, **given}
        met = sum(a.met for a in answers.values())
        conclusion = conclude(
            met, lead["score"], sql_min_criteria=sql_min_criteria, mql_min_score=mql_min_score
        )
        result = QualifyResult(lead_id, answers, met, conclusion, changed, note=note)
        if (
            advance
            and conclusion
            and not is_closed(lead["stage"])
            and rank(conclusion) > rank(lead["stage"])
        ):
            why = f"qualify rule: {met} of 4 BANT criteria met"
            result.stage_change = change_stage(conn, dict(lead), conclusion, reason=why, at=now)
    return result
