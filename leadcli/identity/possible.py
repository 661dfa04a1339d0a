"""Possible duplicates: the one rule that makes a pair of leads worth a person's review, and
the one writer of ``possible_duplicates``.

A pair is a possible duplicate when the matcher scores it in its review band: at least the
threshold `dedupe` shows by default (``Rules.threshold``). One proviso comes from the
evidence rule ("a shared phone alone is never enough"): a shared phone counts only where the
first and the last names agree too (each exact or close, as the matcher compares them),
as Salesforce's standard matching rule asks a fuzzy name match before a phone counts.
Without it, colleagues at one switchboard, whose company and e-mail domain agree as well,
are scored as one person: a list of a hundred thousand pairs nobody can review.

`dedupe` applies the rule to every pair it finds (``review``). Import and capture apply it
(``find``) to the blocks they create: the leads sharing a key of the matcher's own blocking
that SQL can group (the e-mail, the phone) with a lead they wrote, paired by the matcher's
candidate rule (every pair of a block, a big block's name-sorted neighbours) and scored by
it, so `dedupe` after an import shows the same pairs whether they were recorded or found.
Within a shared phone only the leads whose names could agree are paired at all (leads with
the same pair of name groups, ``_phone_members``): a pair the phone alone joins is one only
through its names, so the switchboard's hundred colleagues are not scored pair by pair.
"""

from __future__ import annotations

import math
import sqlite3
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from leadcli.identity import matcher
from leadcli.identity.evidence import Lists

#: The field whose agreement counts only with the names' (see the module docstring).
PHONE = "phone"
NAMES = ("first_name", "last_name")
#: Said of a pair whose shared phone was not counted.
PHONE_NOT_COUNTED = "phone shared, names differ (not counted)"


@dataclass(frozen=True)
class Pair:
    """A possible duplicate: lead ids (lower first), the score, why, and the key shared."""

    low: int
    high: int
    score: float
    reasons: tuple[str, ...]
    key: str


def _agrees(reasons: Sequence[str], name: str) -> bool:
    return f"{name} exact" in reasons or f"{name} close" in reasons


def review(
    rules: matcher.Rules, probability: float, reasons: Sequence[str]
) -> tuple[float, tuple[str, ...]]:
    """The matcher's score and reasons for a pair, as a possible duplicate: a shared phone's
    weight taken back where the names do not both agree."""
    reasons = tuple(reasons)
    if f"{PHONE} exact" not in reasons or all(_agrees(reasons, n) for n in NAMES):
        return probability, reasons
    weight = next(
        (f.exact for f in rules.fields if matcher.field_key(f.name) == PHONE),
        0.0,
    )
    # From the probability back to log2 odds (clamped: 1.0 is only "more than 2^53 to 1").
    p = min(max(probability, 1e-300), 1.0 - 2.0**-52)
    log_odds = math.log2(p / (1.0 - p)) - weight
    score = 1.0 / (1.0 + 2.0 ** (-log_odds)) if log_odds > -60 else 0.0
    kept = tuple(r for r in reasons if r != f"{PHONE} exact")
    return score, (*kept, PHONE_NOT_COUNTED)


def in_band(rules: matcher.Rules, score: float, min_score: float | None = None) -> bool:
    """Whether a reviewed score is one `dedupe` shows (``min_score``: its ``--min-score``)."""
    return score >= (rules.threshold if min_score is None else min_score)


def _sql_keys(rules: matcher.Rules) -> list[tuple[tuple[tuple[str, str], ...], str]]:
    """The matcher's blocking keys that are one lead column SQL can group on: (key, column).
    A phone's digits are grouped as stored (E.164 where it parses): the same block."""
    found = []
    for block in rules.blocking:
        if len(block) != 1:
            continue
        transform, name = block[0]
        column = matcher.field_key(name)
        if (column == "email" and transform == "value") or (
            column == PHONE and transform in ("value", "digits")
        ):
            found.append((block, column))
    return found


#: Distinct names (first and last together) up to which the phone blocks are narrowed to the
#: leads whose names agree with another's there (each pair of names is compared once).
MAX_NAMES = 1500


#: A phone's digits in SQL, as the matcher's ``digits`` transform compares it, for the
#: separators numbers kept as written have ("200.200.0000", "(200) 200-0000", "+1 200/..."):
#: two spellings of one number are one phone here too.
_DIGITS = (
    "".join("replace(" for _ in " -().+/") + "{}" + "".join(f", '{c}', '')" for c in " -().+/")
)


def _phone_members(
    conn: sqlite3.Connection, rules: matcher.Rules, lists: Lists, shared: str, floor: int
) -> dict[int, tuple[int, int]] | None:
    """The leads of the shared phones that can be in a pair: those
    whose first and last names agree with another lead's at the phone, straight or swapped,
    and every lead of a phone where someone lacks a name. Returns each named member's pair
    of name groups: two leads at one phone can agree on both names only with the same pair,
    so the phone's other pairs need no scoring (None: names not grouped, every pair scored).

    Names that agree are joined into groups (the comparison is not transitive; a group
    holds every name that agrees with one of it), so "agrees with another lead's" is one
    GROUP BY on (phone, the two names' groups) in SQL, not a comparison per pair."""
    conn.execute("DROP TABLE IF EXISTS temp.possible_phones")
    conn.execute(f"CREATE TEMP TABLE possible_phones AS {shared}", {"floor": floor})
    raws = [
        r[0]
        for r in conn.execute(
            "SELECT first_name FROM leads WHERE phone IN temp.possible_phones "
            "UNION SELECT last_name FROM leads WHERE phone IN temp.possible_phones"
        )
        if r[0] is not None
    ]
    groups = _name_groups(rules, lists, raws)
    if groups is None:  # too many names to compare each pair: the phones' leads, all
        conn.execute(
            "INSERT OR IGNORE INTO temp.possible_members (id) "
            "SELECT id FROM leads WHERE phone IN temp.possible_phones"
        )
        conn.execute("DROP TABLE temp.possible_phones")
        return None
    conn.execute("DROP TABLE IF EXISTS temp.possible_names")
    conn.execute("CREATE TEMP TABLE possible_names (raw TEXT PRIMARY KEY, grp INTEGER)")
    conn.executemany("INSERT INTO temp.possible_names VALUES (?, ?)", groups.items())
    conn.execute("DROP TABLE IF EXISTS temp.possible_named")
    conn.execute(
        f"CREATE TEMP TABLE possible_named AS SELECT l.id, {_DIGITS.format('l.phone')} AS phone, "
        "min(f.grp, g.grp) AS a, max(f.grp, g.grp) AS b FROM leads AS l "
        "LEFT JOIN temp.possible_names AS f ON f.raw = l.first_name "
        "LEFT JOIN temp.possible_names AS g ON g.raw = l.last_name "
        "WHERE l.phone IN temp.possible_phones"
    )
    # min/max of a NULL is NULL: a lead without a usable name keeps its whole phone.
    conn.execute(
        "INSERT OR IGNORE INTO temp.possible_members (id) "
        "SELECT id FROM temp.possible_named WHERE phone IN "
        "(SELECT phone FROM temp.possible_named WHERE a IS NULL) "
        "UNION ALL SELECT id FROM temp.possible_named WHERE (phone, a, b) IN "
        "(SELECT phone, a, b FROM temp.possible_named WHERE a IS NOT NULL "
        "GROUP BY phone, a, b HAVING count(*) > 1)"
    )
    named = {
        i: (a, b)
        for i, a, b in conn.execute(
            "SELECT id, a, b FROM temp.possible_named WHERE a IS NOT NULL "
            "AND id IN temp.possible_members"
        )
    }
    for table in ("possible_phones", "possible_names", "possible_named"):
        conn.execute(f"DROP TABLE temp.{table}")
    return named


def _name_groups(rules: matcher.Rules, lists: Lists, raws: list[str]) -> dict[str, int] | None:
    """Each name as stored, to its group: names agree (by the first name's comparison or the
    last name's, so a swap is seen too) only within a group. A name that is no evidence (a
    placeholder) has none. None: more distinct names than ``MAX_NAMES``."""
    from leadcli.identity.dedupe import no_evidence

    n = len(raws)
    prepared = matcher.prepare(
        list(range(n)),
        {NAMES[0]: raws, NAMES[1]: raws},
        rules,
        is_missing=no_evidence(lists),
    )
    as_first, as_last = prepared.values[NAMES[0]], prepared.values[NAMES[1]]
    values = sorted({v for v in (*as_first, *as_last) if v is not None})
    if len(values) > MAX_NAMES:
        return None
    parent = list(range(len(values)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    tests = [matcher.agrees(rules, name) for name in NAMES]
    for i, a in enumerate(values):
        for j in range(i + 1, len(values)):
            b = values[j]
            if any(t(a, b) for t in tests):
                parent[root(j)] = root(i)
    index = {v: k for k, v in enumerate(values)}
    groups = {}
    for raw, f, last in zip(raws, as_first, as_last, strict=True):
        if f is not None and last is not None and root(index[f]) == root(index[last]):
            groups[raw] = root(index[f])
        elif f is not None and last is not None:
            # Prepared two ways (two comparators): the groups of both ways are one.
            parent[root(index[last])] = root(index[f])
            groups[raw] = root(index[f])
        elif f is not None or last is not None:
            groups[raw] = root(index[f if f is not None else last])
    return {raw: root(g) for raw, g in groups.items()}


def find(
    conn: sqlite3.Connection,
    rules: matcher.Rules,
    lists: Lists,
    floor: int,
    *,
    many: bool = False,
) -> list[Pair]:
    """The possible duplicates among the leads that share a blocked key with a lead above
    ``floor`` (the ones just written), each pair with at least one of those.

    ``many``: most of the table is new (a big import): the shared keys are found in one
    pass over each key's index instead of one seek per new lead.
    """
    from leadcli.identity.dedupe import load_columns, no_evidence

    keys = _sql_keys(rules)
    if not keys:
        return []
    conn.execute("DROP TABLE IF EXISTS temp.possible_members")
    conn.execute("CREATE TEMP TABLE possible_members (id INTEGER PRIMARY KEY)")
    named: dict[int, tuple[int, int]] | None = None
    for _, column in keys:
        if many:
            shared = (
                f"SELECT {column} FROM leads WHERE {column} IS NOT NULL "
                f"GROUP BY {column} HAVING count(*) > 1 AND max(id) > :floor"
            )
        else:
            shared = (
                f"SELECT n.{column} FROM leads AS n WHERE n.id > :floor "
                f"AND n.{column} IS NOT NULL AND EXISTS (SELECT 1 FROM leads AS o "
                f"WHERE o.{column} = n.{column} AND o.id <> n.id)"
            )
        if column == PHONE:
            named = _phone_members(conn, rules, lists, shared, floor)
            continue
        conn.execute(
            "INSERT OR IGNORE INTO temp.possible_members (id) "
            f"SELECT id FROM leads WHERE {column} IN ({shared})",
            {"floor": floor},
        )
    if conn.execute("SELECT count(*) FROM temp.possible_members").fetchone()[0] < 2:
        conn.execute("DROP TABLE temp.possible_members")
        return []
    blocked = replace(rules, blocking=tuple(block for block, _ in keys))
    ids, columns = load_columns(conn, blocked, where="id IN (SELECT id FROM temp.possible_members)")
    conn.execute("DROP TABLE temp.possible_members")
    prepared = matcher.prepare(ids, columns, blocked, is_missing=no_evidence(lists))
    codes, _ = matcher.candidate_pairs(prepared)
    n = len(ids)
    first_new = bisect_right(ids, floor)  # ids ascend: positions from here are new leads
    codes = [c for c in codes if c % n >= first_new]
    phones = prepared.values.get(PHONE) or [None] * n
    if named:
        # A pair only the phone joins can be one only if its names agree: then both leads
        # have the same pair of name groups (or one has no usable name).
        emails = prepared.values.get("email") or [None] * n
        group = [named.get(i) for i in ids]
        codes = [
            c
            for c in codes
            if (g := group[c // n]) is None
            or (h := group[c % n]) is None
            or g == h
            or (emails[c // n] is not None and emails[c // n] == emails[c % n])
        ]
    found = []
    for m in matcher.score_pairs(prepared, sorted(codes)):
        key = PHONE if phones[m.i] is not None and phones[m.i] == phones[m.j] else "email"
        score, reasons = review(rules, m.score, m.reasons)
        if in_band(rules, score):
            found.append(Pair(ids[m.i], ids[m.j], score, reasons, key))
    return found


def record(conn: sqlite3.Connection, pairs: Iterable[Pair], batch: int | None, now: str) -> int:
    """Write possible duplicates (``batch``: the import that found them; None: capture);
    return how many leads are the newer end of one."""
    rows = [(p.low, p.high, p.key, batch, now) for p in pairs]
    conn.executemany(
        "INSERT OR IGNORE INTO possible_duplicates (lead_id, other_id, reason, batch_id, "
        "found_at) VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    return len({high for _, high, *_ in rows})
