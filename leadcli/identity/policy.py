"""The merge rule, once: what a record that is the same person brings to a lead.

``RULES`` says, field by field, how a value meets the lead's under each ``--on-duplicate``
policy. Two things are made from it and nothing else: ``plan_merge`` (plain values in, the
changes out; used for each row that brings something, and by `merge`) and
``brings_nothing_sql`` (the set-based test that lets a nightly re-import skip the rows that
would change nothing). A test checks that the two agree.

The rule:

- ``fill`` fields: ``merge`` fills what the lead has empty; ``update`` writes every value the
  record has; ``skip`` leaves them.
- ``contact`` fields (e-mail, phone) fill like the others, and a second, different value is
  never dropped: it joins ``other_emails`` / ``other_phones`` (under ``update`` the record's
  value becomes the main one and the lead's joins the others).
- ``external_id`` fills, together with the system it came from.
- ``flag`` (``do_not_contact``): an opt-out sticks to the person it came with on a merge
  (``merge`` and ``update``); a merge never clears one.
- ``skip`` changes nothing at all: the lead stays exactly as it was.
- ``stage``: the most advanced stage is kept; a closed lead stays closed; a closed stage in the
  record closes an open lead (``skip``: unchanged).
- ``first_contacted_at`` (a first-touch time in the record) fills an empty one, never moves
  one; ``contact_unknown`` (a worked status without one) marks a lead nobody had contacted.
- tags are united; custom fields: ``merge`` adds the keys the lead lacks, ``update`` writes
  all of the record's.

Placeholders (``evidence.is_placeholder``) are missing values on both sides: never written,
and a lead's placeholder is filled like an empty field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadcli.identity.evidence import DEFAULT_LISTS, Lists, is_placeholder
from leadcli.leads.records import SETTABLE_FIELDS
from leadcli.pipeline.stages import CLOSED_STAGES, CLOSED_STAGES_SQL, STAGES, rank
from leadcli.storage.literals import sql_text

POLICIES = ("merge", "skip", "update")

FILL = "fill"
CONTACT = "contact"
FLAG = "flag"

#: Where a contact field's further values are kept.
OTHERS = {"email": "other_emails", "phone": "other_phones"}

#: How each lead field meets a record's value (see the module docstring): every field a
#: record can set, so a field a schema step adds (street, postal code, region) is merged too.
RULES: dict[str, str] = {
    name: CONTACT if name in OTHERS else FLAG if name == "do_not_contact" else FILL
    for name in SETTABLE_FIELDS
    if name != "tags"  # united, below
}


def _empty(field_name: str, value: Any, lists: Lists) -> bool:
    return value is None or value == "" or is_placeholder(field_name, value, lists)


def others_of(value: str | None) -> list[str]:
    """A stored ``other_emails`` / ``other_phones`` value (a JSON array) as a list."""
    return json.loads(value) if value else []


@dataclass
class MergePlan:
    """What merging a record into a lead changes: ``changes`` as history holds them
    (``{field: [old, new]}``), ``tags`` to add, and the ``stage`` to move to (or None)."""

    changes: dict[str, list[Any]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    stage: str | None = None

    def __bool__(self) -> bool:
        return bool(self.changes or self.tags or self.stage)

    def assignments(self) -> dict[str, Any]:
        """Column values to write (lists and objects as the JSON text the columns hold)."""
        out: dict[str, Any] = {}
        for name, (_, new) in self.changes.items():
            out[name] = (
                json.dumps(new, ensure_ascii=False) if isinstance(new, list | dict) and new else new
            )
        return out


def plan_merge(
    lead: Mapping[str, Any],
    record: Mapping[str, Any],
    policy: str,
    *,
    lead_tags: Sequence[str] = (),
    record_tags: Sequence[str] = (),
    lists: Lists = DEFAULT_LISTS,
) -> MergePlan:
    """The changes ``record`` (a row, or another lead) brings to ``lead`` under ``policy``.

    Both are mappings with the lead's column names (``custom``, ``other_emails`` and
    ``other_phones`` as stored: JSON text or None). Nothing is written here.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}")
    plan = MergePlan()
    if policy == "skip":
        return plan
    changes = plan.changes
    others = {f: others_of(lead.get(o)) for f, o in OTHERS.items()}
    extra = {f: others_of(record.get(o)) for f, o in OTHERS.items()}
    for name, kind in RULES.items():
        new, old = record.get(name), lead.get(name)
        if kind == FLAG:
            if new and not old:
                changes[name] = [False, True]
            continue
        if _empty(name, new, lists):
            continue
        if _empty(name, old, lists):
            changes[name] = [old, new]
            if name == "external_id":
                changes["external_system"] = [
                    lead.get("external_system"),
                    record.get("external_system"),
                ]
        elif new != old:
            if kind == CONTACT:
                if policy == "update":
                    changes[name] = [old, new]
                    if old not in others[name]:
                        others[name].append(old)
                if new in others[name] and policy == "update":
                    others[name].remove(new)
                elif new not in others[name] and policy == "merge":
                    others[name].append(new)
            elif policy == "update":
                changes[name] = [old, new]
                if name == "external_id":
                    changes["external_system"] = [
                        lead.get("external_system"),
                        record.get("external_system"),
                    ]
    for name, more in extra.items():
        main = changes.get(name, [None, lead.get(name)])[1]
        for value in more:
            if value != main and value not in others[name] and not _empty(name, value, lists):
                others[name].append(value)
    for name, column in OTHERS.items():
        before = others_of(lead.get(column))
        if others[name] != before:
            changes[column] = [before or None, others[name]]
    custom = json.loads(lead["custom"]) if lead.get("custom") else {}
    brought = json.loads(record["custom"]) if record.get("custom") else {}
    merged = {**brought, **custom} if policy == "merge" else {**custom, **brought}
    if merged != custom:
        changes["custom"] = [custom or None, merged]
    if record.get("first_contacted_at") and not lead.get("first_contacted_at"):
        # A first contact already known is never moved.
        changes["first_contacted_at"] = [None, record["first_contacted_at"]]
    elif (
        record.get("contact_unknown")
        and not lead.get("contact_unknown")
        and not lead.get("first_contacted_at")
    ):
        # The record says the lead was worked ("Working - Contacted"), not when: `due`
        # stops listing it as never contacted; its response time is unknown.
        changes["contact_unknown"] = [lead.get("contact_unknown"), 1]
    have = {t.lower() for t in lead_tags}
    plan.tags = [t for t in dict.fromkeys(record_tags) if t.lower() not in have]
    plan.stage = advanced_stage(lead.get("stage") or "prospect", record.get("stage"))
    return plan


def advanced_stage(current: str, brought: str | None) -> str | None:
    """The stage a lead moves to when a record says ``brought``, or None: the more advanced
    one, a closed stage closes an open lead, a closed lead stays as it is."""
    if not brought or brought == current or current in CLOSED_STAGES:
        return None
    if brought in CLOSED_STAGES or rank(brought) > rank(current):
        return brought
    return None


def _sql_placeholder(column: str, field_name: str, lists: Lists) -> str:
    """SQL true when a stored value is a placeholder: the listed words, and for phones the
    listed numbers and a digit repeated ten times, with or without +1 (values stored by an
    older import; new ones are never stored). Stricter than ``is_placeholder``, which is safe:
    a value this misses sends the row to ``plan_merge``, only more slowly."""
    words = sorted(lists.placeholders)
    if field_name == "phone":
        digits = set(lists.placeholder_digits) | {str(d) * 10 for d in range(10)}
        words += sorted(f"{p}{d}" for d in digits for p in ("+", "+1"))
    if not words:
        return "0"
    items = ", ".join(sql_text(w) for w in words)
    return f"lower(trim({column})) IN ({items})"


def brings_nothing_sql(
    policy: str,
    fields: Sequence[str],
    *,
    record: str = "n",
    lead: str = "o",
    lists: Lists = DEFAULT_LISTS,
) -> str:
    """A SQL condition, over a record row aliased ``record`` and its lead aliased ``lead``
    (both rows of ``leads``), true only where ``plan_merge`` would change nothing, written
    from ``RULES`` like it. ``fields`` are the columns the record can hold (the rest are
    NULL). Tags, custom fields and the others lists are checked here too; it may say "brings
    something" where ``plan_merge`` finds nothing (then that row is only slower), never the
    reverse."""
    if policy == "skip":
        return "1"
    n, o = record, lead
    terms = []
    for name, kind in RULES.items():
        if name not in fields:
            continue
        if kind == FLAG:
            terms.append(f"NOT ({n}.{name} = 1 AND {o}.{name} = 0)")
            continue
        placeholder = _sql_placeholder(f"{o}.{name}", name, lists)
        empty_o = f"({o}.{name} IS NULL OR {o}.{name} = '' OR {placeholder})"
        absent_n = f"({n}.{name} IS NULL OR {n}.{name} = '')"
        if kind == CONTACT:
            other = OTHERS[name]
            known = (
                f"({n}.{name} = {o}.{name} OR "
                f"instr(coalesce({o}.{other}, ''), json_quote({n}.{name})) > 0)"
            )
            if policy == "update":
                terms.append(f"({absent_n} OR {n}.{name} = {o}.{name})")
            else:
                terms.append(f"({absent_n} OR (NOT {empty_o} AND {known}))")
            terms.append(f"{n}.{OTHERS[name]} IS NULL")
        elif policy == "update":
            terms.append(f"({absent_n} OR {n}.{name} IS {o}.{name})")
        else:
            terms.append(f"({absent_n} OR NOT {empty_o})")
    ranks = " ".join(f"WHEN '{s}' THEN {rank(s)}" for s in STAGES)
    terms.append(f"{n}.custom IS NULL")
    # a worked status for a lead nobody had contacted: its first contact, to merge
    terms.append(f"NOT ({n}.first_contacted_at IS NOT NULL AND {o}.first_contacted_at IS NULL)")
    terms.append(
        f"NOT ({n}.contact_unknown = 1 AND {o}.contact_unknown = 0 "
        f"AND {o}.first_contacted_at IS NULL)"
    )
    terms.append(
        f"({n}.stage = {o}.stage OR {o}.stage IN {CLOSED_STAGES_SQL} OR "
        f"({n}.stage NOT IN {CLOSED_STAGES_SQL} "
        f"AND CASE {n}.stage {ranks} END <= CASE {o}.stage {ranks} END))"
    )
    # lead_tags.tag compares without case (ASCII only: a non-ASCII tag differing in case
    # goes to plan_merge, which is only slower).
    terms.append(
        f"NOT EXISTS (SELECT 1 FROM lead_tags AS t WHERE t.lead_id = {n}.id AND NOT EXISTS "
        f"(SELECT 1 FROM lead_tags AS u WHERE u.lead_id = {o}.id AND u.tag = t.tag))"
    )
    return " AND ".join(terms) or "1"
