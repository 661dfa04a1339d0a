"""Point rules in TOML: reading, checking, and turning each rule into one SQL term.

A rules file is a list of ``[[rule]]`` tables and an optional ``[caps]`` table::

    [caps]
    fit = 40            # the fit rules together add at most 40 points
    engagement = 50

    [[rule]]
    name = "decision-maker title"
    group = "fit"       # fit | engagement | bant | negative
    points = 15
    field = "title"
    contains = ["director", "vp", "head of", "chief"]

A rule's tests are AND-ed: a ``field`` with its matchers (``equals``, ``contains``, ``min``,
``max``, ``present``), an ``activity`` (kinds, ``inbound``, ``within_days``, ``min_count``,
``note_contains``, and ``half_life_days`` for decay) or a ``bant`` criterion (``met`` or
``answer``). Every rule becomes an integer SQL expression (its points or 0), so scoring a
million leads is one statement and ``score --explain`` reads the very same terms.

Errors name the file, the rule and its line, and nothing is scored with a broken file.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadcli.engagement.activities import KINDS as ACTIVITY_KINDS
from leadcli.errors import LeadcliError
from leadcli.leads.records import SETTABLE_FIELDS
from leadcli.pipeline.qualification import CRITERIA as BANT_CRITERIA
from leadcli.storage.literals import sql_text

GROUPS = ("fit", "engagement", "bant", "negative")
#: Fields a rule can test, read from ``leads``: every field a user sets (tags are derived,
#: below), and the stage.
_COLUMN_FIELDS = (*(f for f in SETTABLE_FIELDS if f != "tags"), "stage")
#: Derived fields: the e-mail's domain; any tag; any custom field's value.
_DERIVED_FIELDS = ("email_domain", "tags", "any_custom")
FIELDS = (*_COLUMN_FIELDS, *_DERIVED_FIELDS)
CUSTOM_PREFIX = "custom."

_RULE_KEYS = {
    "name",
    "group",
    "points",
    "field",
    "equals",
    "contains",
    "min",
    "max",
    "present",
    "activity",
    "inbound",
    "within_days",
    "min_count",
    "note_contains",
    "half_life_days",
    "bant",
    "met",
    "answer",
}

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")
#: The user's own rules, beside the configuration file (the matching rules are another file).
USER_RULES_NAME = "scoring.toml"


def user_rules_path(config_path: Path) -> Path:
    return config_path.parent / USER_RULES_NAME


class RulesError(LeadcliError):
    """A rules file that cannot be used; the message names the rule and its line."""


@dataclass(frozen=True)
class Rule:
    """One rule, checked; ``line`` is where its ``[[rule]]`` starts in the file."""

    name: str
    group: str
    points: int
    line: int
    field: str | None = None
    equals: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    present: bool | None = None
    #: Activity kinds to count; () means any kind, None means the rule tests no activity.
    activity: tuple[str, ...] | None = None
    inbound: bool | None = None
    within_days: int | None = None
    min_count: int = 1
    note_contains: tuple[str, ...] = ()
    half_life_days: float | None = None
    bant: str | None = None
    met: bool | None = None
    answer: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    """Checked rules and the caps of their groups; ``origin`` says which file they came from."""

    rules: tuple[Rule, ...]
    caps: dict[str, int] = field(default_factory=dict)
    origin: str = "default"


# --------------------------------------------------------------------------- reading


def load(path: Path | None = None, *, user_rules: Path | None = None) -> RuleSet:
    """The rules to score with: ``path`` (``--rules``), else the user's file in the config
    folder when it exists, else the shipped defaults."""
    if path is None and user_rules is not None and user_rules.exists():
        path = user_rules
    if path is None:
        return parse(DEFAULT_RULES.read_text(encoding="utf-8"), "default")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RulesError(f"rules file {path} is not UTF-8 text", hint="save it as UTF-8") from None
    return parse(text, str(path))


class _Where:
    """Line numbers of the rules in a file's text: tomllib gives values, not positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.starts = [
            i for i, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*rule\s*\]\]", line)
        ]

    def rule_line(self, index: int) -> int:
        return self.starts[index] + 1 if index < len(self.starts) else 0

    def key_line(self, index: int, key: str) -> int:
        """The line of ``key = ...`` inside the rule's table, else the rule's own line."""
        if index >= len(self.starts):
            return 0
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.lines)
        pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
        for i in range(self.starts[index], end):
            if pattern.match(self.lines[i]):
                return i + 1
        return self.starts[index] + 1


def parse(text: str, origin: str) -> RuleSet:
    """Check a rules file's text; raise RulesError naming the first problem's rule and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(
            f"rules file {origin} is not valid TOML: {exc}", hint="fix the line it names"
        ) from None
    where = _Where(text)
    unknown = set(data) - {"rule", "caps"}
    if unknown:
        raise RulesError(
            f"rules file {origin}: unknown table {sorted(unknown)[0]!r}",
            hint="a rules file holds [[rule]] tables and one [caps] table",
        )
    caps: dict[str, int] = {}
    raw_caps = data.get("caps", {})
    if not isinstance(raw_caps, dict):
        raise RulesError(f"rules file {origin}: [caps] must be a table of group = points")
    for group, cap in raw_caps.items():
        if group not in GROUPS:
            raise RulesError(
                f"rules file {origin}: [caps] names unknown group {group!r}",
                hint=f"groups: {', '.join(GROUPS)}",
            )
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
            raise RulesError(f"rules file {origin}: [caps] {group} must be a whole number >= 0")
        caps[group] = cap
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        raise RulesError(f"rules file {origin}: write rules as [[rule]] tables")
    rules = []
    names: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule = _rule(raw, index, where, origin)
        if rule.name in names:
            raise RulesError(
                f"rules file {origin}: rule {rule.name!r} (line {rule.line}): "
                "another rule has the same name",
                hint="names are how --explain tells rules apart",
            )
        names.add(rule.name)
        rules.append(rule)
    return RuleSet(tuple(rules), caps, origin)


def _rule(raw: dict[str, Any], index: int, where: _Where, origin: str) -> Rule:
    line = where.rule_line(index)
    label = f"rule {raw.get('name')!r}" if isinstance(raw.get("name"), str) else "a rule"

    def fail(message: str, key: str | None = None, hint: str | None = None) -> RulesError:
        at = where.key_line(index, key) if key else line
        return RulesError(f"rules file {origin}: {label} (line {at}): {message}", hint=hint)

    for key in raw:
        if key not in _RULE_KEYS:
            raise fail(f"unknown key {key!r}", key, f"keys: {', '.join(sorted(_RULE_KEYS))}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("needs a name", "name")
    points = raw.get("points")
    if not isinstance(points, int) or isinstance(points, bool) or not -100 <= points <= 100:
        raise fail("points must be a whole number from -100 to 100", "points")
    group = raw.get("group", "negative" if points < 0 else "fit")
    if group not in GROUPS:
        raise fail(f"unknown group {group!r}", "group", f"groups: {', '.join(GROUPS)}")

    def texts(key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if isinstance(value, bool | int | float) and key == "equals":
            value = [str(int(value)) if isinstance(value, bool) else str(value)]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
        ):
            raise fail(f"{key} must be a text or a list of texts", key)
        return tuple(str(v).strip().lower() for v in value)

    def number(key: str) -> float | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(f"{key} must be a number", key)
        if not math.isfinite(value):
            raise fail(f"{key} must be a finite number", key)
        return float(value)

    def flag(key: str) -> bool | None:
        value = raw.get(key)
        if value is not None and not isinstance(value, bool):
            raise fail(f"{key} must be true or false", key)
        return value

    tests = 0
    fld = raw.get("field")
    matchers = {k for k in ("equals", "contains", "min", "max", "present") if k in raw}
    if fld is not None:
        if not isinstance(fld, str) or not (
            fld in FIELDS or (fld.startswith(CUSTOM_PREFIX) and len(fld) > len(CUSTOM_PREFIX))
        ):
            raise fail(
                f"unknown field {fld!r}",
                "field",
                f"fields: {', '.join(FIELDS)}, or custom.NAME for a custom field",
            )
        if not matchers:
            raise fail("a field needs equals, contains, min, max or present", "field")
        tests += 1
    elif matchers:
        raise fail(f"{sorted(matchers)[0]} needs a field", sorted(matchers)[0])
    low, high = number("min"), number("max")
    if low is not None and high is not None and low > high:
        raise fail(f"bad range: min {low:g} is above max {high:g}", "min")

    activity = raw.get("activity")
    kinds: tuple[str, ...] | None = None
    activity_keys = {"inbound", "within_days", "min_count", "note_contains", "half_life_days"}
    if activity is not None:
        kinds = texts("activity")
        bad = [k for k in kinds if k not in (*ACTIVITY_KINDS, "any")]
        if bad or not kinds:
            raise fail(
                f"unknown activity kind {bad[0] if bad else ''!r}",
                "activity",
                f"kinds: any, {', '.join(ACTIVITY_KINDS)}",
            )
        if "any" in kinds:
            kinds = ()
        tests += 1
    elif activity_keys & set(raw):
        key = sorted(activity_keys & set(raw))[0]
        raise fail(f"{key} needs an activity", key)
    within = number("within_days")
    if within is not None and (within <= 0 or not within.is_integer()):
        raise fail("within_days must be a whole number above 0", "within_days")
    min_count = number("min_count")
    if min_count is not None and (min_count < 1 or not min_count.is_integer()):
        raise fail("min_count must be a whole number of 1 or more", "min_count")
    half_life = number("half_life_days")
    if half_life is not None and half_life <= 0:
        raise fail("half_life_days must be above 0", "half_life_days")

    bant = raw.get("bant")
    if bant is not None:
        if bant not in BANT_CRITERIA:
            raise fail(
                f"unknown BANT criterion {bant!r}", "bant", f"criteria: {', '.join(BANT_CRITERIA)}"
            )
        if "met" not in raw and "answer" not in raw:
            raise fail("a bant test needs met or answer", "bant")
        tests += 1
    elif "met" in raw or "answer" in raw:
        key = "met" if "met" in raw else "answer"
        raise fail(f"{key} needs a bant criterion", key)
    if tests == 0:
        raise fail("needs a test: a field, an activity or a bant criterion")
    return Rule(
        name=name.strip(),
        group=group,
        points=points,
        line=line,
        field=fld,
        equals=texts("equals"),
        contains=texts("contains"),
        min=low,
        max=high,
        present=flag("present"),
        activity=kinds,
        inbound=flag("inbound"),
        within_days=int(within) if within is not None else None,
        min_count=int(min_count) if min_count is not None else 1,
        note_contains=texts("note_contains"),
        half_life_days=half_life,
        bant=bant,
        met=flag("met"),
        answer=texts("answer"),
    )


# --------------------------------------------------------------------------- SQL


def _number_literal(value: float) -> str:
    return repr(float(value))


def contains_sql(value_sql: str, word: str) -> str:
    """``value_sql`` holds ``word`` (lower-case), ignoring the case of ASCII letters.

    LIKE folds exactly the letters SQLite's lower() folds (ASCII), so this is
    ``instr(lower(value), word) > 0``, but about five times faster on a million leads:
    lower() builds a copy of every value for every word."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"({value_sql} LIKE {sql_text('%' + escaped + '%')} ESCAPE '\\')"


def _match(value_sql: str, rule: Rule) -> str:
    """The rule's matchers applied to one value (text or number), AND-ed."""
    parts = []
    if rule.present is not None:
        filled = f"(coalesce(trim({value_sql}), '') != '')"
        parts.append(filled if rule.present else f"NOT {filled}")
    if rule.equals:
        # NOCASE folds ASCII letters only, as SQLite's lower() does, without building a
        # lowered copy of every value (the words are lower-case already, see `_texts`).
        equals = ", ".join(sql_text(v) for v in rule.equals)
        parts.append(f"(trim({value_sql}) COLLATE NOCASE IN ({equals}))")
    if rule.contains:
        parts.append("(" + " OR ".join(contains_sql(value_sql, v) for v in rule.contains) + ")")
    if rule.min is not None or rule.max is not None:
        # Text that is not a number never matches a range (CAST would make it 0).
        numeric = (
            f"(trim({value_sql}) != '' AND trim({value_sql}) NOT GLOB '*[^0-9.eE+-]*' "
            f"AND trim({value_sql}) GLOB '*[0-9]*')"
        )
        if value_sql in ("leads.value", "leads.do_not_contact"):
            numeric = f"({value_sql} IS NOT NULL)"
        parts.append(numeric)
        if rule.min is not None:
            parts.append(f"CAST({value_sql} AS REAL) >= {_number_literal(rule.min)}")
        if rule.max is not None:
            parts.append(f"CAST({value_sql} AS REAL) <= {_number_literal(rule.max)}")
    return "(" + " AND ".join(parts) + ")"


def _custom_prefilter(rule: Rule) -> str | None:
    """A cheap test on the custom fields' JSON text that every lead the exact test matches
    passes: a value holding a word holds it in the text too, since custom values are JSON
    strings and printable ASCII other than quote, backslash and slash is written as itself.
    It spares parsing the JSON of the many leads holding none of the words (parsing was most
    of a rescore's time). None when the rule tests more than words, or a word could be
    escaped."""
    if not rule.contains or rule.present is not None or rule.equals or rule.min is not None:
        return None
    if rule.max is not None or not all(
        w.isascii() and w.isprintable() and not set(w) & set('"\\/') for w in rule.contains
    ):
        return None  # JSON may escape it (or a file edited by hand may have)
    words = " OR ".join(contains_sql("leads.custom", w) for w in rule.contains)
    return f"({words})"


def _field_condition(rule: Rule) -> str:
    assert rule.field is not None
    name = rule.field
    if name == "tags":
        return (
            "EXISTS (SELECT 1 FROM lead_tags AS t WHERE t.lead_id = leads.id AND "
            f"{_match('t.tag', rule)})"
        )
    if name == "any_custom":
        values = f"SELECT 1 FROM json_each(leads.custom) AS j WHERE {_match('j.value', rule)}"
        prefilter = _custom_prefilter(rule)
        return f"({prefilter} AND EXISTS ({values}))" if prefilter else f"EXISTS ({values})"
    if name == "email_domain":
        value = "substr(leads.email, instr(leads.email, '@') + 1)"
    elif name.startswith(CUSTOM_PREFIX):
        key = name[len(CUSTOM_PREFIX) :].replace('"', '""')
        value = f"json_extract(leads.custom, {sql_text('$.' + chr(34) + key + chr(34))})"
    else:
        value = f"leads.{name}"
    if name == "do_not_contact" and rule.equals:
        # true / false written in the file arrive as "1" / "0" (see `texts`).
        truthy = {"1", "true", "yes"}
        wanted = 1 if any(v in truthy for v in rule.equals) else 0
        return f"(leads.do_not_contact = {wanted})"
    return _match(value, rule)


def _activity_filter(rule: Rule, now_sql: str) -> str:
    parts = ["a.lead_id = leads.id"]
    if rule.activity:
        parts.append(f"a.kind IN ({', '.join(sql_text(k) for k in rule.activity)})")
    if rule.inbound is not None:
        parts.append(f"a.inbound = {int(rule.inbound)}")
    if rule.within_days is not None:
        parts.append(
            f"a.at >= strftime('%Y-%m-%dT%H:%M:%SZ', {now_sql}, '-{rule.within_days} days')"
        )
    if rule.note_contains:
        text = "(coalesce(a.note, '') || ' ' || coalesce(a.outcome, ''))"
        parts.append("(" + " OR ".join(contains_sql(text, v) for v in rule.note_contains) + ")")
    return " AND ".join(parts)


def term_sql(rule: Rule, now: str) -> str:
    """The rule's points for the lead in ``leads`` (an integer; 0 when it does not match).

    ``now`` is the stored-format time decay and ``within_days`` count from."""
    now_sql = sql_text(now)
    conditions = []
    if rule.field is not None:
        conditions.append(_field_condition(rule))
    if rule.bant is not None:
        tests = ["b.lead_id = leads.id", f"b.criterion = {sql_text(rule.bant)}"]
        if rule.met is not None:
            tests.append(f"b.met = {int(rule.met)}")
        if rule.answer:
            tests.append(f"lower(b.answer) IN ({', '.join(sql_text(v) for v in rule.answer)})")
        conditions.append(f"EXISTS (SELECT 1 FROM bant_answers AS b WHERE {' AND '.join(tests)})")
    points = str(rule.points)
    if rule.activity is not None:
        where = _activity_filter(rule, now_sql)
        if rule.min_count > 1:
            conditions.append(
                f"(SELECT count(*) FROM activities AS a WHERE {where}) >= {rule.min_count}"
            )
        if rule.half_life_days is not None:
            latest = f"(SELECT max(a.at) FROM activities AS a WHERE {where})"
            conditions.append(f"{latest} IS NOT NULL")
            # Points halve every half-life since the latest matching activity, rounded to
            # whole points per rule so that --explain adds up exactly.
            points = (
                f"CAST(round({rule.points} * pow(0.5, max(0.0, julianday({now_sql}) - "
                f"julianday({latest})) / {_number_literal(rule.half_life_days)})) AS INTEGER)"
            )
        elif rule.min_count <= 1:
            conditions.append(f"EXISTS (SELECT 1 FROM activities AS a WHERE {where})")
    return f"(CASE WHEN {' AND '.join(conditions)} THEN {points} ELSE 0 END)"
