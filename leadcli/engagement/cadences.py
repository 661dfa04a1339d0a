"""Nurture cadences: named lists of steps (day 0 email, day 3 call ...) and enrolments.

Cadences are defined in TOML (``cadences.toml`` beside the config file, or ``--file``):

    [cadences.intro]
    description = "New inbound lead"
    steps = [
      { day = 0, kind = "email", note = "intro" },
      { day = 3, kind = "call" },
      { day = 7, kind = "email", note = "case study" },
      { day = 10, template = "intro-2" },   # an e-mail step `leadcli mail --due` sends
    ]

An enrolment keeps its own copy of the steps, so editing the file never changes a running
enrolment. A step comes up in ``due`` on its day; logging an outbound activity of the step's
kind completes it; an inbound reply, closing the lead, or do-not-contact ends the enrolment
(as HubSpot sequences do).
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from leadcli.config import MAX_DAYS
from leadcli.errors import ConfigError, LeadcliError, NotFound
from leadcli.leads import history
from leadcli.leads.records import missing_lead
from leadcli.pipeline.stages import is_closed
from leadcli.storage.paths import resolve_config_path
from leadcli.storage.store import Store
from leadcli.text import dates

ACTIVITY_KINDS = ("call", "email", "meeting", "sms", "message", "note")


@dataclass(frozen=True)
class Step:
    day: int
    kind: str
    note: str | None = None
    #: The template (a name in ``templates/``) ``leadcli mail --due`` sends for this step.
    template: str | None = None

    def describe(self) -> str:
        if self.template:
            return f"mail {self.template}"
        return f"{self.kind}: {self.note}" if self.note else self.kind


@dataclass(frozen=True)
class Cadence:
    name: str
    description: str | None
    steps: tuple[Step, ...]


def default_path() -> Path:
    return resolve_config_path().parent / "cadences.toml"


def _step(name: str, number: int, raw: Any) -> Step:
    where = f"cadence {name!r} step {number}"
    if not isinstance(raw, dict):
        raise ConfigError(f'{where} must be a table like {{ day = 3, kind = "call" }}')
    day, kind, note = raw.get("day"), raw.get("kind"), raw.get("note")
    template = raw.get("template")
    if template is not None:
        if not isinstance(template, str) or not template.strip() or "/" in template:
            raise ConfigError(f"{where}: template must be the name of a file in templates/")
        kind = kind or "email"
        if kind != "email":
            raise ConfigError(f"{where}: a step with a template is an email step")
    # Bounded: a step's day becomes date arithmetic, and 999999999 days overflows it.
    if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= MAX_DAYS:
        raise ConfigError(f"{where}: day must be a whole number from 0 to {MAX_DAYS}")
    if kind not in ACTIVITY_KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(ACTIVITY_KINDS)}")
    if note is not None and not isinstance(note, str):
        raise ConfigError(f"{where}: note must be text")
    return Step(day, kind, note, template.strip() if template else None)


def load(path: Path | None = None) -> dict[str, Cadence]:
    """Every cadence in the file; {} when the default file does not exist."""
    explicit = path is not None
    path = path or default_path()
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"no cadence file at {path}") from None
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the cadence file {path} is not valid TOML ({exc})") from exc
    except UnicodeDecodeError:
        raise ConfigError(f"the cadence file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the cadence file {path} ({exc.strerror})") from None
    table = data.get("cadences") or {}
    if not isinstance(table, dict):
        raise ConfigError(f"the cadence file {path}: [cadences] must hold one table a cadence")
    cadences = {}
    for name, body in table.items():
        if not isinstance(body, dict) or not isinstance(body.get("steps"), list):
            raise ConfigError(f"cadence {name!r} in {path} needs a steps = [...] list")
        if not isinstance(body.get("description", ""), str):
            raise ConfigError(f"cadence {name!r} in {path}: description must be text")
        steps = tuple(_step(name, i, raw) for i, raw in enumerate(body["steps"], start=1))
        if not steps:
            raise ConfigError(f"cadence {name!r} has no steps")
        if list(steps) != sorted(steps, key=lambda s: s.day):
            raise ConfigError(f"cadence {name!r}: steps must be in day order")
        cadences[name] = Cadence(name, body.get("description"), steps)
    return cadences


def get(name: str, path: Path | None = None) -> Cadence:
    cadences = load(path)
    if name not in cadences:
        known = ", ".join(sorted(cadences)) or "none defined"
        raise NotFound(f"no cadence named {name!r}", hint=f"known: {known}")
    return cadences[name]


def _due_at(started_at: str, step: dict[str, Any]) -> str:
    return dates.to_store(dates.from_store(started_at) + timedelta(days=step["day"]))


class EnrolmentError(LeadcliError):
    """A lead that cannot be enrolled (closed, do-not-contact, already enrolled)."""


def enroll(store: Store, lead_ids: Sequence[int], cadence: Cadence) -> list[int]:
    """Enroll each lead (all or none); returns the enrolment ids."""
    now = dates.now_text()
    # A step's template only when it has one: enrolments of template-less cadences keep
    # the steps they always stored.
    steps = [{k: v for k, v in asdict(s).items() if k != "template" or v} for s in cadence.steps]
    with store.write() as conn:
        rows = []
        for lead_id in dict.fromkeys(lead_ids):
            lead = conn.execute(
                "SELECT stage, do_not_contact FROM leads WHERE id = ?", (lead_id,)
            ).fetchone()
            if lead is None:
                raise missing_lead(conn, lead_id, "; nobody was enrolled")
            if unreachable_because(lead["stage"], bool(lead["do_not_contact"])):
                why = "is do-not-contact" if lead["do_not_contact"] else f"is {lead['stage']}"
                raise EnrolmentError(f"lead {lead_id} {why}; nobody was enrolled")
            if conn.execute(
                "SELECT 1 FROM enrolments WHERE lead_id = ? AND cadence = ? AND ended_at IS NULL",
                (lead_id, cadence.name),
            ).fetchone():
                raise EnrolmentError(
                    f"lead {lead_id} is already in cadence {cadence.name!r}; nobody was enrolled"
                )
            rows.append((lead_id, cadence.name, json.dumps(steps), now, _due_at(now, steps[0])))
        ids = []
        for row in rows:
            ids.append(
                conn.execute(
                    "INSERT INTO enrolments (lead_id, cadence, steps, started_at, next_due_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    row,
                ).lastrowid
            )
            history.record(conn, row[0], "enrolled", {"cadence": [None, cadence.name]}, at=now)
    return [int(i) for i in ids if i is not None]


def unreachable_because(stage: str, do_not_contact: bool) -> str | None:
    """Why a lead can be in no cadence, or None: the one rule that a lead who opted out
    (do-not-contact) or whose deal is closed is not nurtured. Enrolling refuses such a lead;
    a lead that becomes one has its enrolments ended by the database itself (m019's trigger
    on the lead's update: whoever writes the lead, the lead record need not know cadences),
    and ``end_enrolments_if_unreachable`` ends those of a lead a merge gives enrolments to."""
    if do_not_contact:
        return "do not contact"
    if is_closed(stage):
        return f"closed ({stage})"
    return None


def end_enrolments_if_unreachable(
    conn: sqlite3.Connection, lead_id: int, at: str, *, stage: str, do_not_contact: bool
) -> int:
    """After a change to a lead's stage or opt-out: end its active enrolments when the lead
    can no longer be in a cadence (``unreachable_because``); return how many ended."""
    reason = unreachable_because(stage, do_not_contact)
    return end_enrolments(conn, lead_id, reason, at) if reason else 0


def end_enrolments(
    conn: sqlite3.Connection, lead_id: int, reason: str, at: str, cadence: str | None = None
) -> int:
    """End a lead's active enrolments (all, or one cadence's); call inside a write."""
    sql = (
        "UPDATE enrolments SET ended_at = ?, end_reason = ?, next_due_at = NULL "
        "WHERE lead_id = ? AND ended_at IS NULL"
    )
    params: tuple[Any, ...] = (at, reason, lead_id)
    if cadence is not None:
        sql += " AND cadence = ?"
        params += (cadence,)
    return conn.execute(sql, params).rowcount


def unenroll(store: Store, lead_ids: Sequence[int], cadence: str | None = None) -> dict[int, int]:
    """End the leads' active enrolments (all or none); NotFound for an unknown id. Returns
    how many ended for each lead: all 0 when none of the leads was enrolled."""
    from leadcli.leads.records import lead_row

    now = dates.now_text()
    with store.write() as conn:
        for lead_id in lead_ids:
            lead_row(conn, lead_id)
        return {
            i: end_enrolments(conn, i, "unenrolled", now, cadence) for i in dict.fromkeys(lead_ids)
        }


def complete_step(conn: sqlite3.Connection, lead_id: int, kind: str, at: str) -> list[str]:
    """An outbound ``kind`` activity completes the current step of each active enrolment
    whose step is of that kind; returns descriptions of the completed steps."""
    done = []
    for row in conn.execute(
        "SELECT id, cadence, steps, started_at, next_step FROM enrolments "
        "WHERE lead_id = ? AND ended_at IS NULL AND started_at <= ?",
        (lead_id, at),
    ).fetchall():
        steps = json.loads(row["steps"])
        step = steps[row["next_step"]]
        if step["kind"] != kind:
            continue
        following = row["next_step"] + 1
        if following < len(steps):
            conn.execute(
                "UPDATE enrolments SET next_step = ?, next_due_at = ? WHERE id = ?",
                (following, _due_at(row["started_at"], steps[following]), row["id"]),
            )
        else:
            conn.execute(
                "UPDATE enrolments SET next_step = ?, next_due_at = NULL, ended_at = ?, "
                "end_reason = 'completed' WHERE id = ?",
                (following, at, row["id"]),
            )
        done.append(f"{row['cadence']} step {row['next_step'] + 1}")
    return done


def enrolments_for(conn: sqlite3.Connection, lead_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT cadence, started_at, next_step, next_due_at, ended_at, end_reason, steps "
        "FROM enrolments WHERE lead_id = ? ORDER BY id",
        (lead_id,),
    ).fetchall()
    return [
        {
            "cadence": r["cadence"],
            "started_at": r["started_at"],
            "step": r["next_step"] + 1,
            "steps": len(json.loads(r["steps"])),
            "next_due_at": r["next_due_at"],
            "ended_at": r["ended_at"],
            "end_reason": r["end_reason"],
        }
        for r in rows
    ]
