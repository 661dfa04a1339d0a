"""The fuzzy matcher: rules in TOML, blocking, and field comparisons weighed as evidence.

Two leads are compared only when they share a blocking key (a phonetic code of a name with
an initial, an e-mail, a phone, a postcode ...), which keeps the work near linear instead of
n². Each compared field falls into a level, exact, close or far, and each level adds a
log2 weight (Fellegi-Sunter): how much likelier that outcome is for one person written twice
than for two people. Fields of one group (city, postcode, region) say the same thing and are
counted once. The sum plus a prior is the log2 odds of one person; ``score`` is that as a
probability. String similarity is rapidfuzz's and phonetic codes are jellyfish's; both are
imported only when a comparison runs.

The exact-evidence rule (same personal e-mail, same external id from the same system, a
shared phone with a compatible name) is ``identity.evidence``'s; this module scores the
likely duplicates that rule leaves for a person to decide.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from itertools import combinations
from pathlib import Path
from typing import Any

from leadcli.errors import LeadcliError
from leadcli.leads.records import CONTACT_FIELDS

#: Fields of the lead record the matcher can read directly; any other name is a custom field.
#: Who a person is and where they are; not who sent or works them (source, owner).
LEAD_FIELDS: tuple[str, ...] = (
    *(f for f in CONTACT_FIELDS if f not in ("source", "owner")),
    "external_id",
)
COMPARATORS: tuple[str, ...] = (
    "exact",
    "normalised",
    "jaro_winkler",
    "phonetic",
    "token_set",
    "edit_distance",
    "email",
)
TRANSFORMS: tuple[str, ...] = (
    "value",
    "metaphone",
    "soundex",
    "nysiis",
    "initial",
    "prefix3",
    "digits",
    "domain",
    "local",
    "last4",
)
LEVELS: tuple[str, ...] = ("exact", "close", "far")
RULES_FILE_NAME = "rules.toml"


class RulesError(LeadcliError):
    """A matching-rules file that cannot be used; the message names the rule and its line."""


@dataclass(frozen=True)
class FieldRule:
    """How one field is compared and what each level of agreement weighs (log2)."""

    name: str
    comparator: str = "jaro_winkler"
    close_at: float = 0.9
    exact: float = 3.0
    close: float = 1.5
    far: float = -1.5
    group: str | None = None
    active: bool = True
    #: False: these weights are kept as written even when the rules learn the others, for
    #: fields whose weights carry a contract (a shared phone alone is never one person).
    learn: bool = True


@dataclass(frozen=True)
class Rules:
    """A whole rules file: the fields compared, the blocking keys and the thresholds."""

    fields: tuple[FieldRule, ...]
    blocking: tuple[tuple[tuple[str, str], ...], ...]
    threshold: float = 0.9
    prior: float = -10.0
    max_block: int = 60
    window: int = 12
    swap: tuple[tuple[str, str], ...] = (("first_name", "last_name"),)
    swap_penalty: float = 1.0
    #: Domains anyone can have an address at: the same one says nothing about a person.
    free_email_domains: frozenset[str] = frozenset()
    default_field: FieldRule = field(default_factory=lambda: FieldRule(name="*"))
    source: str = "built-in rules"
    #: Re-estimate the weights and the prior from the database's own blocked pairs (EM).
    learn: bool = True
    #: Fewer blocked pairs than this: too little to learn from, the written weights stand.
    learn_min_pairs: int = 500
    #: At most this many blocked pairs (a seeded sample) are learned from, so EM stays cheap.
    learn_sample: int = 20000

    def active_fields(self, compare: Iterable[str] = ()) -> tuple[FieldRule, ...]:
        """The fields compared: the active ones plus those named (``--compare``)."""
        named = {field_key(n): n.strip() for n in compare}
        chosen = [f for f in self.fields if f.active or field_key(f.name) in named]
        known = {field_key(f.name) for f in self.fields}
        for key, name in named.items():
            if key not in known:
                chosen.append(replace(self.default_field, name=name, active=True))
        return tuple(chosen)


def field_key(name: str) -> str:
    """A field name as compared: case, spaces and punctuation ignored, so ``--compare
    "Address 1"`` finds a column imported as ``address_1`` (or `` address_1``)."""
    return re.sub(r"[^0-9a-z]+", "", name.casefold())


# --------------------------------------------------------------------------- loading


def default_rules_text() -> str:
    return resources.files("leadcli.identity").joinpath(RULES_FILE_NAME).read_text("utf-8")


#: The user's own matching rules, beside the configuration file (scoring rules are another).
USER_RULES_NAME = "matching.toml"


def user_rules_path(config_path: Path) -> Path:
    return config_path.parent / USER_RULES_NAME


def load_rules(path: Path | None = None, *, config_path: Path | None = None) -> Rules:
    """Rules from ``path`` (``--rules``), else the user's file in the config folder if there
    is one, else the shipped default."""
    if path is None and config_path is not None:
        candidate = user_rules_path(config_path)
        if candidate.is_file():
            path = candidate
    if path is None:
        return parse_rules(default_rules_text(), source="built-in rules")
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise RulesError(
            f"cannot read the rules file {path} ({exc.strerror or exc})",
            hint="check the path given to --rules",
        ) from None
    except UnicodeDecodeError:
        raise RulesError(f"the rules file {path} is not UTF-8 text") from None
    return parse_rules(text, source=str(path))


def _line_of(text: str, section: str | None, key: str | None) -> int:
    """The line (1-based) of ``key`` in ``[section]`` (or of the section, or a top-level key),
    for error messages; 0 when it cannot be found."""
    lines = text.splitlines()
    start = 0
    if section is not None:
        header = re.compile(
            r"^\s*\[\s*" + re.escape(section).replace(r"\.", r"\s*\.\s*") + r"\s*\]"
        )
        for i, line in enumerate(lines):
            if header.match(line):
                start = i
                break
        else:
            return 0
        if key is None:
            return start + 1
    pattern = re.compile(r"^\s*" + re.escape(key or "") + r"\s*=")
    for i in range(start, len(lines)):
        stripped = lines[i].lstrip()
        if i > start and section is not None and stripped.startswith("["):
            break
        if pattern.match(lines[i]):
            return i + 1
    return start + 1 if section is not None else 0


def _fail(text: str, source: str, rule: str, problem: str, section: str | None, key: str | None):
    line = _line_of(text, section, key)
    where = f" line {line}" if line else ""
    return RulesError(
        f"{source}{where}: rule {rule}: {problem}",
        hint="fix the rules file; `leadcli dedupe --help` describes the rules",
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _field_rule(
    name: str, table: Any, text: str, source: str, section: str, *, template: FieldRule
) -> FieldRule:
    def bad(problem: str, key: str | None = None) -> RulesError:
        return _fail(text, source, section, problem, section, key)

    if not isinstance(table, dict):
        raise bad("must be a table of settings")
    known = {"comparator", "close_at", "exact", "close", "far", "group", "active", "learn"}
    for key in table:
        if key not in known:
            raise bad(f"unknown setting {key!r}; use {', '.join(sorted(known))}", key)
    comparator = table.get("comparator", template.comparator)
    if comparator not in COMPARATORS:
        raise bad(f"comparator must be one of {', '.join(COMPARATORS)}", "comparator")
    values: dict[str, Any] = {"name": name, "comparator": comparator}
    for key in ("close_at", "exact", "close", "far"):
        value = table.get(key, getattr(template, key))
        if not _number(value):
            raise bad(f"{key} must be a number", key)
        values[key] = float(value)
    if comparator == "edit_distance":
        if values["close_at"] < 0 or not float(values["close_at"]).is_integer():
            raise bad("close_at is a number of edits (0, 1, 2 ...) for edit_distance", "close_at")
    elif not 0 <= values["close_at"] <= 1:
        raise bad("close_at is a similarity from 0 to 1", "close_at")
    group = table.get("group", template.group)
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise bad("group must be a name", "group")
    active = table.get("active", template.active)
    if not isinstance(active, bool):
        raise bad("active must be true or false", "active")
    learn = table.get("learn", template.learn)
    if not isinstance(learn, bool):
        raise bad("learn must be true or false", "learn")
    return FieldRule(**values, group=group, active=active, learn=learn)


def _block_part(part: Any) -> tuple[str, str] | None:
    if not isinstance(part, str) or not part.strip():
        return None
    transform, sep, name = part.partition(":")
    if not sep:
        transform, name = "value", transform
    transform, name = transform.strip(), name.strip()
    if transform not in TRANSFORMS or not name:
        return None
    return transform, name


def parse_rules(text: str, *, source: str = "rules") -> Rules:
    """Read a rules file; a mistake is one RulesError naming the rule and its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(
            f"{source}: not valid TOML ({exc})", hint="fix the rules file's syntax"
        ) from None
    known = {
        "threshold",
        "prior",
        "max_block",
        "window",
        "swap",
        "free_email_domains",
        "swap_penalty",
        "blocking",
        "fields",
        "default_field",
        "learn",
        "learn_min_pairs",
        "learn_sample",
    }
    for key in data:
        if key not in known:
            raise _fail(text, source, key, "is not a setting of a rules file", None, key)

    def top(key: str, default: float, low: float | None = None, high: float | None = None):
        value = data.get(key, default)
        if (
            not _number(value)
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            span = f" from {low} to {high}" if high is not None else ""
            raise _fail(text, source, key, f"must be a number{span}", None, key)
        return value

    threshold = float(top("threshold", 0.9, 0.0, 1.0))
    prior = float(top("prior", -10.0))
    swap_penalty = float(top("swap_penalty", 1.0))
    max_block = top("max_block", 60, 2)
    window = top("window", 12, 2)
    learn = data.get("learn", True)
    if not isinstance(learn, bool):
        raise _fail(text, source, "learn", "must be true or false", None, "learn")
    learn_min_pairs = top("learn_min_pairs", 500, 2)
    learn_sample = top("learn_sample", 20000, 100)
    for key, value in (
        ("max_block", max_block),
        ("window", window),
        ("learn_min_pairs", learn_min_pairs),
        ("learn_sample", learn_sample),
    ):
        if not float(value).is_integer():
            raise _fail(text, source, key, "must be a whole number", None, key)
    swap_value = data.get("swap", [["first_name", "last_name"]])
    if not isinstance(swap_value, list) or not all(
        isinstance(pair, list)
        and len(pair) == 2
        and all(isinstance(v, str) and v.strip() for v in pair)
        for pair in swap_value
    ):
        raise _fail(text, source, "swap", "must be a list of pairs of field names", None, "swap")
    swap = tuple((a.strip(), b.strip()) for a, b in swap_value)
    free = data.get("free_email_domains", [])
    if not isinstance(free, list) or not all(isinstance(d, str) for d in free):
        raise _fail(
            text,
            source,
            "free_email_domains",
            "must be a list of domains",
            None,
            "free_email_domains",
        )

    default_table = data.get("default_field", {})
    default_field = _field_rule(
        "*", default_table, text, source, "default_field", template=FieldRule(name="*")
    )
    fields_table = data.get("fields", {})
    if not isinstance(fields_table, dict) or not fields_table:
        raise _fail(text, source, "fields", "needs at least one [fields.NAME] table", None, None)
    fields = tuple(
        _field_rule(
            name,
            table,
            text,
            source,
            f"fields.{name}",
            template=replace(default_field, active=True),
        )
        for name, table in fields_table.items()
    )
    blocks_value = data.get("blocking", [])
    if not isinstance(blocks_value, list) or not blocks_value:
        raise _fail(text, source, "blocking", "must be a list of keys", None, "blocking")
    blocking = []
    for number, block in enumerate(blocks_value, start=1):
        parts = [_block_part(p) for p in block] if isinstance(block, list) and block else [None]
        if any(p is None for p in parts):
            raise _fail(
                text,
                source,
                f"blocking key {number}",
                "each key is a list of 'transform:field' parts; transforms: "
                + ", ".join(TRANSFORMS),
                None,
                "blocking",
            )
        blocking.append(tuple(p for p in parts if p is not None))
    return Rules(
        fields=fields,
        blocking=tuple(blocking),
        threshold=threshold,
        prior=prior,
        max_block=int(max_block),
        window=int(window),
        swap=swap,
        swap_penalty=swap_penalty,
        default_field=default_field,
        free_email_domains=frozenset(d.strip().casefold() for d in free),
        source=source,
        learn=learn,
        learn_min_pairs=int(learn_min_pairs),
        learn_sample=int(learn_sample),
    )


# --------------------------------------------------------------------------- values


def normalise(value: Any) -> str | None:
    """Text as compared: accents dropped, case folded, punctuation and runs of spaces made
    one space; an empty result is a missing value."""
    if value is None:
        return None
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[\W_]+", " ", text.casefold()).strip()
    return text or None


def _email_parts(value: str) -> tuple[str, str]:
    local, _, domain = value.rpartition("@")
    return (local, domain) if local else (value, "")


def _transform(name: str) -> Callable[[str], str | None]:
    import jellyfish

    def phonetic(code: Callable[[str], str]) -> Callable[[str], str | None]:
        return lambda v: code(v.replace(" ", "")) or None

    table: dict[str, Callable[[str], str | None]] = {
        "value": lambda v: v,
        "metaphone": phonetic(jellyfish.metaphone),
        "soundex": phonetic(jellyfish.soundex),
        "nysiis": phonetic(jellyfish.nysiis),
        "initial": lambda v: v[0],
        "prefix3": lambda v: v.replace(" ", "")[:3],
        "digits": lambda v: re.sub(r"\D", "", v) or None,
        "last4": lambda v: re.sub(r"\D", "", v)[-4:] or None,
        "domain": lambda v: _email_parts(v)[1] or None,
        "local": lambda v: _email_parts(v)[0] or None,
    }
    return table[name]


# --------------------------------------------------------------------------- comparing


@dataclass
class Prepared:
    """Leads ready to compare: per field, each lead's value as compared (None: missing)."""

    ids: list[int]
    rules: Rules
    fields: tuple[FieldRule, ...]
    values: dict[str, list[str | None]]
    raw: dict[str, list[str | None]] = field(default_factory=dict)
    #: Weights EM estimated from these leads (``learn_weights``); None: the rules' own.
    learned: Learned | None = None


def _prepared_value(rule: FieldRule, value: Any) -> str | None:
    if rule.comparator == "email":
        return str(value).strip().casefold() or None if value is not None else None
    if rule.comparator == "normalised":
        text = normalise(value)
        return text.replace(" ", "") if text else None
    return normalise(value)


def prepare(
    ids: Sequence[int],
    rows: dict[str, list[Any]],
    rules: Rules,
    compare: Iterable[str] = (),
    *,
    is_missing: Callable[[str, Any], bool] | None = None,
) -> Prepared:
    """Normalise the leads' values once (``rows`` maps a field name to its column).

    ``is_missing(field, value)`` says which values are no evidence at all (placeholders such
    as ``n/a`` or ``555-555-5555``, a team's ``info@`` address): they are compared as
    missing, and make no blocking key.
    """
    fields = rules.active_fields(compare)
    by_key = {field_key(name): column for name, column in rows.items()}
    values: dict[str, list[str | None]] = {}
    for rule in fields:
        column = by_key.get(field_key(rule.name), [None] * len(ids))
        if is_missing is not None:
            # Each distinct value is checked once: cities, states and domains repeat.
            name = rule.name
            empty = {v for v in set(column) if v is not None and is_missing(name, v)}
            if empty:
                column = [None if v in empty else v for v in column]
                rows = {**rows, rule.name: column} if rule.name in rows else rows
        memo = {v: _prepared_value(rule, v) for v in set(column)}
        values[rule.name] = [memo[v] for v in column]
    raw = {name: list(column) for name, column in rows.items()}
    return Prepared(ids=list(ids), rules=rules, fields=fields, values=values, raw=raw)


def _blocking_values(prepared: Prepared, name: str) -> list[str | None]:
    """A field's values for blocking: those compared, else the raw ones normalised."""
    for rule in prepared.fields:
        if field_key(rule.name) == field_key(name):
            return prepared.values[rule.name]
    for column_name, column in prepared.raw.items():
        if field_key(column_name) == field_key(name):
            return [
                normalise(v) if field_key(name) != "email" else _prepared_email(v) for v in column
            ]
    return []


def _prepared_email(value: Any) -> str | None:
    return (str(value).strip().casefold() or None) if value is not None else None


def candidate_pairs(prepared: Prepared) -> tuple[set[int], dict[str, int]]:
    """Pairs of positions (encoded ``i * n + j``, ``i < j``) that share a blocking key.

    A block bigger than ``max_block`` is compared only between neighbours: its leads sorted
    by their names, each with the next ``window``; so one common key costs n·window, not n².
    Keys built from fields in ``swap`` are also made from the swapped fields, so a lead with
    first and last name the other way round meets its double.
    """
    rules = prepared.rules
    n = len(prepared.ids)
    pairs: set[int] = set()
    stats = {"blocks": 0, "big_blocks": 0}
    cache: dict[tuple[str, str], list[str | None]] = {}

    def column(transform: str, name: str) -> list[str | None]:
        key = (transform, name)
        if key not in cache:
            source = _blocking_values(prepared, name)
            if not source:
                cache[key] = []
            else:
                fn = _transform(transform)
                cache[key] = [fn(v) if v else None for v in source]
        return cache[key]

    def swapped(name: str, pair: tuple[str, str]) -> str:
        return pair[1] if name == pair[0] else pair[0] if name == pair[1] else name

    sort_key = _sort_names(prepared)
    for block in rules.blocking:
        variants = [block]
        for pair in rules.swap:
            if any(name in pair for _, name in block):
                variants.append(tuple((t, swapped(name, pair)) for t, name in block))
        groups: dict[tuple[str | None, ...], list[int]] = {}
        columns_by_variant = [[column(t, name) for t, name in v] for v in variants]
        if any(not c for cols in columns_by_variant for c in cols):
            continue
        for cols in columns_by_variant:
            for i, key in enumerate(zip(*cols, strict=True)):
                if None in key:
                    continue
                groups.setdefault(key, []).append(i)
        for members in groups.values():
            if len(members) < 2:
                continue
            stats["blocks"] += 1
            members = sorted(set(members))
            if len(members) == 2:
                pairs.add(members[0] * n + members[1])
            elif len(members) <= rules.max_block:
                pairs.update(i * n + j for i, j in combinations(members, 2))
            else:
                stats["big_blocks"] += 1
                members.sort(key=sort_key.__getitem__)
                w = rules.window
                for a, i in enumerate(members):
                    for j in members[a + 1 : a + 1 + w]:
                        pairs.add(i * n + j if i < j else j * n + i)
    return pairs, stats


def _sort_names(prepared: Prepared) -> list[str]:
    first = _blocking_values(prepared, "first_name") or [None] * len(prepared.ids)
    last = _blocking_values(prepared, "last_name") or [None] * len(prepared.ids)
    return [f"{b or ''} {a or ''}" for a, b in zip(first, last, strict=True)]


class _Comparer:
    """Compares two values of one field; returns its level."""

    def __init__(self, rule: FieldRule, free_domains: frozenset[str] = frozenset()) -> None:
        from rapidfuzz import fuzz
        from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

        self.rule = rule
        comparator = rule.comparator
        close_at = rule.close_at
        if comparator in ("exact", "normalised"):
            self.close: Callable[[str, str], bool] | None = None
        elif comparator == "jaro_winkler":
            sim = JaroWinkler.normalized_similarity
            self.close = lambda a, b: sim(a, b, score_cutoff=close_at) > 0
        elif comparator == "token_set":
            ratio = fuzz.token_set_ratio
            cutoff = close_at * 100
            self.close = lambda a, b: ratio(a, b, score_cutoff=cutoff) > 0
        elif comparator == "edit_distance":
            dist = DamerauLevenshtein.distance
            edits = int(close_at)
            self.close = lambda a, b: dist(a, b, score_cutoff=edits) <= edits
        elif comparator == "phonetic":
            import jellyfish

            code = jellyfish.metaphone
            self.close = lambda a, b: code(a) == code(b)
        else:  # email: the same address; close: the same domain, or a similar local part
            sim = JaroWinkler.normalized_similarity

            def close(a: str, b: str) -> bool:
                (la, da), (lb, db) = _email_parts(a), _email_parts(b)
                same_domain = da == db and da != "" and da not in free_domains
                return same_domain or sim(la, lb, score_cutoff=close_at) > 0

            self.close = close


@dataclass(frozen=True)
class Match:
    """A likely duplicate: positions ``i < j``, the probability, and why."""

    i: int
    j: int
    score: float
    reasons: tuple[str, ...]


class Scorer:
    """Weighs pairs of prepared leads.

    This is the inner loop of ``dedupe`` (hundreds of thousands of pairs for 100,000 leads),
    so levels are small ints and weights tuples.
    """

    def __init__(self, prepared: Prepared, *, learned: bool = True) -> None:
        """``learned``: use the weights EM estimated (``prepared.learned``) when there are
        some; False, always the rules' own (what EM starts from)."""
        self.prepared = prepared
        rules = prepared.rules
        self.comparers = [_Comparer(r, rules.free_email_domains) for r in prepared.fields]
        self.columns = [prepared.values[r.name] for r in prepared.fields]
        # weights by level: 0 exact, 1 close, 2 far
        self.base_weights = [(r.exact, r.close, r.far) for r in prepared.fields]
        self.names = [r.name for r in prepared.fields]
        group_names = sorted({r.group for r in prepared.fields if r.group})
        self.group_of = [group_names.index(r.group) if r.group else -1 for r in prepared.fields]
        self.n_groups = len(group_names)
        self.group_members = [
            [k for k, g in enumerate(self.group_of) if g == group] for group in range(self.n_groups)
        ]
        chosen = prepared.learned if learned else None
        self.learned = chosen
        self.weights = list(chosen.weights) if chosen else list(self.base_weights)
        self.prior = chosen.prior if chosen else rules.prior
        #: per group, the weight of each combination of its members' levels (learned)
        self.group_tables = chosen.group_weights if chosen else None
        keys = [field_key(r.name) for r in prepared.fields]
        self.swap_idx: list[tuple[int, int]] = [
            (keys.index(field_key(a)), keys.index(field_key(b)))
            for a, b in rules.swap
            if field_key(a) in keys and field_key(b) in keys
        ]
        self.swap_penalty = rules.swap_penalty
        self._close = [c.close for c in self.comparers]
        # For `bounded`: the fields in a swap first, then the others by the most they can
        # add, so a pair that cannot reach the threshold is given up after a few fields.
        swapped = {k for pair in self.swap_idx for k in pair}
        self._simple_swaps = all(self.group_of[k] < 0 for k in swapped)
        rest = sorted(
            (k for k in range(len(self.comparers)) if k not in swapped and self.group_of[k] < 0),
            key=lambda k: -max(self.weights[k]),
        )
        self._order = rest
        self._best = [max(0.0, *w) for w in self.weights]
        self._grouped = [k for k in range(len(self.comparers)) if self.group_of[k] >= 0]
        best_of_group: dict[int, float] = {}
        for k in self._grouped:
            g = self.group_of[k]
            best_of_group[g] = max(best_of_group.get(g, 0.0), max(self.weights[k]))
        if self.group_tables is not None:
            for g, table in enumerate(self.group_tables):
                best_of_group[g] = max(best_of_group.get(g, 0.0), *table.values(), 0.0)
        groups_bound = sum(best_of_group.values())
        # the most the fields after position p of `rest` (and the groups) can still add
        self._bound_after = [
            sum(max(0.0, *self.weights[k]) for k in rest[p + 1 :]) + groups_bound
            for p in range(len(rest))
        ]

    def _level(self, k: int, a: str | None, b: str | None) -> int:
        """-1 missing, 0 exact, 1 close, 2 far."""
        if a is None or b is None:
            return -1
        if a == b:
            return 0
        close = self._close[k]
        if close is None:
            return 2
        return 1 if close(a, b) else 2

    def _group_rule(self, members: list[int], levels: Sequence[int]) -> float:
        """A group's weight by the written rule: its best agreement, else its strongest
        disagreement (the fields say one thing, so they count once)."""
        best: float | None = None
        worst = 0.0
        for k in members:
            level = levels[k]
            if level < 0:
                continue
            weight = self.base_weights[k][level]
            if best is None or weight > best:
                best = weight
            worst = min(worst, weight)
        if best is None:
            return 0.0
        return best if best > 0 else worst

    def _total(self, levels: list[int]) -> float:
        total = 0.0
        if not self.n_groups:
            for level, weights in zip(levels, self.weights, strict=True):
                if level >= 0:
                    total += weights[level]
            return total
        tables = self.group_tables
        if tables is not None:
            for level, weights, group in zip(levels, self.weights, self.group_of, strict=True):
                if level >= 0 and group < 0:
                    total += weights[level]
            for g, members in enumerate(self.group_members):
                key = tuple(levels[k] for k in members)
                weight = tables[g].get(key)
                total += self._group_rule(members, levels) if weight is None else weight
            return total
        best = [None] * self.n_groups
        worst = [0.0] * self.n_groups
        for level, weights, group in zip(levels, self.weights, self.group_of, strict=True):
            if level < 0:
                continue
            weight = weights[level]
            if group < 0:
                total += weight
            else:
                current = best[group]
                if current is None or weight > current:
                    best[group] = weight
                worst[group] = min(worst[group], weight)
        for g in range(self.n_groups):
            current = best[g]
            if current is not None:
                total += current if current > 0 else worst[g]
        return total

    def _reasons(self, levels: list[int]) -> list[str]:
        """The fields that spoke for the pair (a group's agreeing fields all named)."""
        labels = ("exact", "close", "far")
        return [
            f"{name} {labels[level]}"
            for name, level, weights in zip(self.names, levels, self.weights, strict=True)
            if level >= 0 and weights[level] > 0
        ]

    def score(self, i: int, j: int) -> tuple[float, tuple[str, ...]]:
        """The probability that leads ``i`` and ``j`` are one person, and why."""
        probability, levels, swapped = self.evaluate(i, j)
        return probability, self._explain(levels, swapped)

    def bounded(
        self, i: int, j: int, need: float
    ) -> tuple[float, list[int], tuple[int, int] | None] | None:
        """``evaluate``, or None as soon as the pair cannot reach ``need`` (log2 odds).

        Most blocked pairs are two different people: they are given up after the names and
        the strongest field or two, so a hundred thousand leads take seconds.
        """
        if not self._simple_swaps:
            return self.evaluate(i, j)
        columns = self.columns
        weights = self.weights
        level = self._level
        levels = [-1] * len(columns)
        partial = 0.0
        swapped_pair: tuple[int, int] | None = None
        for a, b in self.swap_idx:
            la = level(a, columns[a][i], columns[a][j])
            lb = level(b, columns[b][i], columns[b][j])
            straight = (weights[a][la] if la >= 0 else 0.0) + (weights[b][lb] if lb >= 0 else 0.0)
            if not (la == 0 and lb == 0):
                ca = level(a, columns[a][i], columns[b][j])
                cb = level(b, columns[b][i], columns[a][j])
                if ca >= 0 and cb >= 0 and (ca, cb) != (la, lb):
                    crossed = weights[a][ca] + weights[b][cb] - self.swap_penalty
                    if crossed > straight:
                        la, lb, straight, swapped_pair = ca, cb, crossed, (a, b)
            levels[a], levels[b] = la, lb
            partial += straight
        need -= self.prior
        bound_after = self._bound_after
        closes = self._close
        best = self._best
        for p, k in enumerate(self._order):
            if partial + bound_after[p] + best[k] < need:
                return None
            column = columns[k]
            a, b = column[i], column[j]
            if a is None or b is None:
                continue  # missing: level -1, weighs nothing
            if a == b:
                levels[k] = 0
            else:
                close = closes[k]
                levels[k] = 1 if close is not None and close(a, b) else 2
            partial += weights[k][levels[k]]
        for k in self._grouped:
            levels[k] = level(k, columns[k][i], columns[k][j])
        total = self._total(levels) - (self.swap_penalty if swapped_pair else 0.0)
        log_odds = self.prior + total
        probability = 1.0 / (1.0 + 2.0 ** (-log_odds)) if log_odds > -60 else 0.0
        return probability, levels, swapped_pair

    def evaluate(self, i: int, j: int) -> tuple[float, list[int], tuple[int, int] | None]:
        """The probability, the levels and which swap (if any) gave them."""
        columns = self.columns
        levels = [self._level(k, col[i], col[j]) for k, col in enumerate(columns)]
        total = self._total(levels)
        swapped_pair: tuple[int, int] | None = None
        # Fields written in each other's place (first and last name, two address lines):
        # compared crosswise too, and the better reading kept, less a small penalty.
        for a, b in self.swap_idx:
            if levels[a] == 0 and levels[b] == 0:
                continue
            crossed = list(levels)
            crossed[a] = self._level(a, columns[a][i], columns[b][j])
            crossed[b] = self._level(b, columns[b][i], columns[a][j])
            if crossed[a] < 0 or crossed[b] < 0 or crossed == levels:
                continue
            total2 = self._total(crossed) - self.swap_penalty
            if total2 > total:
                levels, total, swapped_pair = crossed, total2, (a, b)
        log_odds = self.prior + total
        probability = 1.0 / (1.0 + 2.0 ** (-log_odds)) if log_odds > -60 else 0.0
        return probability, levels, swapped_pair

    def _explain(self, levels: list[int], swapped: tuple[int, int] | None) -> tuple[str, ...]:
        reasons = self._reasons(levels)
        if swapped is not None:
            reasons.append(f"{self.names[swapped[0]]} and {self.names[swapped[1]]} swapped")
        return tuple(reasons)


# --------------------------------------------------------------------------- learning

#: EM's sample of blocked pairs is drawn with this seed, so one database always learns the
#: same weights and ``dedupe`` lists the same pairs run after run.
LEARN_SEED = 25
#: A level seen in fewer pairs of either kind than this leans on the written weight: a
#: handful of pairs cannot say how rare an outcome is (shrinkage towards the prior).
LEARN_SHRINK = 5.0
#: Fewer expected true pairs than this among the sample: nothing to learn a match from.
LEARN_MIN_MATCHES = 20.0
LEARN_MAX_ITERATIONS = 60


@dataclass(frozen=True)
class Learned:
    """Weights estimated from one database's blocked pairs by expectation-maximisation."""

    #: per prepared field: (exact, close, far); a field that does not learn keeps its own
    weights: tuple[tuple[float, float, float], ...]
    #: per group (sorted by name): the weight of each combination of its members' levels
    group_weights: tuple[dict[tuple[int, ...], float], ...]
    #: log2 odds that a blocked pair is one person, before the evidence
    prior: float
    pairs: int
    matches: float
    iterations: int

    def summary(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "matches": round(self.matches, 1),
            "prior": round(self.prior, 2),
            "iterations": self.iterations,
        }


def learn_weights(prepared: Prepared, pairs: Iterable[int] | None = None) -> Learned | None:
    """Fellegi-Sunter weights for these leads, learned without labels (EM, as Splink does).

    Blocked pairs are a mixture of two kinds, one person written twice and two people; EM
    finds, per field, how often each level (exact, close, far) occurs in either kind, and
    their log2 ratio is the weight. The rules' own weights are where EM starts, what a level
    seen too rarely leans on, and what a field with ``learn = false`` keeps. Fields of a
    group are learned jointly (each combination of their levels is one outcome), so a
    suburb and a postcode that always agree together are counted once, at what agreeing
    on both is worth. Returns None when the database is too small to learn from (fewer
    than ``learn_min_pairs`` blocked pairs, or hardly any likely true pair among them):
    the written weights stand.
    """
    rules = prepared.rules
    if pairs is None:
        pairs, _ = candidate_pairs(prepared)
    codes = sorted(pairs)
    if len(codes) < rules.learn_min_pairs:
        return None
    if len(codes) > rules.learn_sample:
        import random

        codes = sorted(random.Random(LEARN_SEED).sample(codes, rules.learn_sample))
    base = Scorer(prepared, learned=False)
    n = len(prepared.ids)
    fields = prepared.fields
    counts: dict[tuple[tuple[int, ...], bool], int] = {}
    for code in codes:
        i, j = divmod(code, n)
        _, levels, swapped = base.evaluate(i, j)
        key = (tuple(levels), swapped is not None)
        counts[key] = counts.get(key, 0) + 1
    patterns = list(counts)
    weight_of = [counts[p] for p in patterns]
    total = float(len(codes))
    singles = [k for k in range(len(fields)) if base.group_of[k] < 0 and fields[k].learn]
    groups = [
        g for g, members in enumerate(base.group_members) if all(fields[k].learn for k in members)
    ]
    members_of = base.group_members
    # the groups' level combinations in each pattern, and their written weights
    group_keys = [[tuple(p[0][k] for k in members_of[g]) for p in patterns] for g in groups]
    group_prior: list[dict[tuple[int, ...], float]] = []
    for gi, g in enumerate(groups):
        table: dict[tuple[int, ...], float] = {}
        for p, key in zip(patterns, group_keys[gi], strict=True):
            table.setdefault(key, base._group_rule(members_of[g], p[0]))
        group_prior.append(table)

    weights = [list(w) for w in base.base_weights]
    tables: list[dict[tuple[int, ...], float]] = [dict(t) for t in group_prior]
    fixed_groups = [g for g in range(base.n_groups) if g not in groups]
    penalty = rules.swap_penalty

    def log_odds(prior: float) -> list[float]:
        out = []
        for index, (levels, swapped) in enumerate(patterns):
            value = prior - (penalty if swapped else 0.0)
            for k, level in enumerate(levels):
                if level >= 0 and base.group_of[k] < 0:
                    value += weights[k][level]
            for gi in range(len(groups)):
                value += tables[gi][group_keys[gi][index]]
            for g in fixed_groups:
                value += base._group_rule(members_of[g], levels)
            out.append(value)
        return out

    def shrunk(m: float, u: float, m_all: float, u_all: float, prior_weight: float) -> float:
        if m <= 0 or u <= 0:
            return prior_weight
        learned = math.log2((m / m_all) / (u / u_all))
        n_eff = min(m, u)
        return (n_eff * learned + LEARN_SHRINK * prior_weight) / (n_eff + LEARN_SHRINK)

    prior = rules.prior
    iterations = 0
    matches = 0.0
    while iterations < LEARN_MAX_ITERATIONS:
        iterations += 1
        posterior = [1.0 / (1.0 + 2.0 ** (-x)) if x > -60 else 0.0 for x in log_odds(prior)]
        m_w = [c * q for c, q in zip(weight_of, posterior, strict=True)]
        u_w = [c - mw for c, mw in zip(weight_of, m_w, strict=True)]
        matches = sum(m_w)
        if matches < LEARN_MIN_MATCHES or total - matches < LEARN_MIN_MATCHES:
            return None
        change = 0.0
        for k in singles:
            m_level, u_level = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
            for index, (levels, _) in enumerate(patterns):
                level = levels[k]
                if level >= 0:
                    m_level[level] += m_w[index]
                    u_level[level] += u_w[index]
            m_all, u_all = sum(m_level), sum(u_level)
            if m_all <= 0 or u_all <= 0:
                continue
            for level in range(3):
                new = shrunk(
                    m_level[level], u_level[level], m_all, u_all, base.base_weights[k][level]
                )
                change = max(change, abs(new - weights[k][level]))
                weights[k][level] = new
        for gi in range(len(groups)):
            m_key: dict[tuple[int, ...], float] = {}
            u_key: dict[tuple[int, ...], float] = {}
            for index, key in enumerate(group_keys[gi]):
                if all(level < 0 for level in key):
                    continue
                m_key[key] = m_key.get(key, 0.0) + m_w[index]
                u_key[key] = u_key.get(key, 0.0) + u_w[index]
            m_all, u_all = sum(m_key.values()), sum(u_key.values())
            if m_all <= 0 or u_all <= 0:
                continue
            for key in m_key:
                new = shrunk(m_key[key], u_key[key], m_all, u_all, group_prior[gi][key])
                change = max(change, abs(new - tables[gi][key]))
                tables[gi][key] = new
        share = matches / total
        new_prior = math.log2(share / (1 - share))
        change = max(change, abs(new_prior - prior))
        prior = new_prior
        if change < 1e-3:
            break
    for k in singles:
        exact, _, far = weights[k]
        if not exact > far:  # learned backwards: the written weights are safer
            weights[k] = list(base.base_weights[k])
    group_weights: list[dict[tuple[int, ...], float]] = []
    for g in range(base.n_groups):
        if g in groups:
            group_weights.append(tables[groups.index(g)])
        else:
            group_weights.append({})
    return Learned(
        weights=tuple((w[0], w[1], w[2]) for w in weights),
        group_weights=tuple(group_weights),
        prior=prior,
        pairs=len(codes),
        matches=matches,
        iterations=iterations,
    )


def find_matches(
    prepared: Prepared,
    *,
    min_score: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Match], dict[str, int]]:
    """Every blocked pair scoring at least ``min_score`` (default: the rules' threshold),
    best first. ``progress(done, total)`` is called every 20,000 pairs compared."""
    threshold = prepared.rules.threshold if min_score is None else min_score
    pairs, stats = candidate_pairs(prepared)
    stats["compared"] = len(pairs)
    if prepared.rules.learn and prepared.learned is None:
        # Kept on ``prepared``: a Scorer made from it later (recorded pairs) weighs alike.
        prepared.learned = learn_weights(prepared, pairs)
    stats["learned"] = prepared.learned is not None
    matches = score_pairs(prepared, pairs, min_score=threshold, progress=progress)
    matches.sort(key=lambda m: (-m.score, prepared.ids[m.i], prepared.ids[m.j]))
    return matches, stats


def score_pairs(
    prepared: Prepared,
    pairs: Sequence[int],
    *,
    min_score: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Match]:
    """The given candidate pairs (encoded as ``candidate_pairs`` gives them) that score at
    least ``min_score`` (default: the rules' threshold), in the order given: what
    ``find_matches`` scores its blocked pairs with, and what a caller that picks the
    candidates (import, over the blocks it created) scores them with, so both weigh alike.
    ``progress(done, total)`` is called every 20,000 pairs."""
    threshold = prepared.rules.threshold if min_score is None else min_score
    if threshold <= 0:
        need = -math.inf
    elif threshold >= 1:
        need = math.inf
    else:
        need = math.log2(threshold / (1 - threshold))
    n = len(prepared.ids)
    scorer = Scorer(prepared)
    matches = []
    total = len(pairs)
    for done, code in enumerate(pairs):
        if progress is not None and done % 20_000 == 0:
            progress(done, total)
        i, j = divmod(code, n)
        result = scorer.bounded(i, j, need)
        if result is not None and result[0] >= threshold:
            matches.append(Match(i, j, result[0], scorer._explain(result[1], result[2])))
    return matches


def agrees(rules: Rules, name: str) -> Callable[[str, str], bool]:
    """Whether two prepared values of field ``name`` compare exact or close under its rule:
    for a caller that narrows the candidates before it scores them."""
    rule = next(r for r in rules.fields if field_key(r.name) == field_key(name))
    close = _Comparer(rule, rules.free_email_domains).close
    if close is None:
        return lambda a, b: a == b
    return lambda a, b: a == b or close(a, b)
