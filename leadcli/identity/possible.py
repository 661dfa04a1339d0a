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
