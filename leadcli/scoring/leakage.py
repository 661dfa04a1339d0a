"""The leakage guard: features that tell the model the outcome instead of predicting it.

A model learns from closed leads, and some of what a closed lead carries was written because
it closed: a sales team's tag "Lost to a competitor", a "lead quality" filled in after the
call, a field edited after the deal was won. A model that reads them scores its own history
well (AUC 0.98 on X-Education's file) and open leads, which do not have them yet, badly. The
guard finds such features by two independent signs, and training leaves them out unless the
user keeps them by name (``--keep-feature``):

- **Recorded after the close.** For the closed leads holding the feature, its value was
  written (a history event other than the lead's creation, a BANT answer, an activity, the
  first touch) at or after ``closed_at``, for at least ``AFTER_MIN_LEADS`` leads and
  ``AFTER_MIN_SHARE`` of those holding it. A value a lead was created with (an import of
  closed history has no later times) cannot be dated any later than the lead, so it never
  counts here: the second sign is what catches those.
- **Separates won from lost almost perfectly.** Either the feature alone, out of fold, ranks
  customers above lost leads with AUC >= ``SEPARATING_AUC``; or one of its values is so pure
  that, at 95 % confidence (one-sided Wilson bound), one outcome is at least
  ``PURITY_FACTOR`` times rarer on that value than among all closed leads. The bound is the
  "meaningful number of leads": with no exception at all it needs about 70 leads when 38 %
  are customers, and a value with a handful of leads never qualifies. Comparing with the
  base rate keeps a file where nearly every lead was lost from flagging every value. A
  genuinely strong predictor can meet this bar too (it means ten times the odds, known in
  advance); the warning names the value and its counts, and ``--keep-feature`` keeps it.

numpy is imported inside the functions (as in ``model``).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from leadcli.scoring import features
from leadcli.storage.literals import sql_text

if TYPE_CHECKING:
    from leadcli.scoring.model import Data

#: The feature alone, out of fold: at or above this AUC it all but restates the outcome.
SEPARATING_AUC = 0.98
#: A value on which one outcome is this many times rarer than overall (at 95 % confidence).
PURITY_FACTOR = 10.0
#: One-sided 95 % normal quantile, for the Wilson bound.
_Z = 1.6448536269514722
#: Post-close values: at least this many closed leads, and this share of those holding it.
AFTER_MIN_LEADS = 3
AFTER_MIN_SHARE = 0.05
#: The bins numbers are cut into for the purity test (the model's own coarser choice).
_BINS = 8
SEPARATES = "separates won from lost"
AFTER_CLOSE = "recorded after the close"
#: ``--leave-out``: what the user knows was written after the outcome, though no time or
#: count shows it (an import of closed history has neither).
BY_NAME = "left out by name"


@dataclass
class Finding:
    """One feature the guard found: its name (as ``model show`` names it), which sign, what
    was measured (for people), and whether ``--keep-feature`` kept it anyway."""

    feature: str
    rule: str
    detail: str
    kept: bool = False
    #: The measures behind the rule, for scripts (``-f json``).
    measures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wilson_upper(k: int, n: int, z: float = _Z) -> float:
    """The one-sided upper confidence bound of a rate seen as ``k`` in ``n`` (Wilson)."""
    if k >= n:  # also n == 0: nothing seen bounds nothing (and 1.0 exactly, not 1 - 1e-16)
        return 1.0
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / (1 + z * z / n))


def kept_by(name: str, keep: Sequence[str]) -> bool:
    """Whether ``--keep-feature`` patterns keep a feature: its name, any case, or a shell
    pattern (``'tag *'`` keeps every tag)."""
    lowered = name.lower()
    return any(fnmatchcase(lowered, pattern.lower()) for pattern in keep)


# --------------------------------------------------------------------------- separation


def _single_auc(index: Any, y: Any, folds: list[Any]) -> float:
    """The feature alone as a model: each of its columns' customer rate on the training
    folds (one pseudo-lead at the base rate), read on the held-out fold; the AUC over every
    held-out lead."""
    np = _numpy()
    from leadcli.scoring.model import auc

    n = len(y)
    width = int(index.max()) + 1
    predicted = np.zeros(n)
    everything = np.arange(n)
    for held in folds:
        train = np.setdiff1d(everything, held)
        base = float(y[train].mean())
        won = np.bincount(index[train], weights=y[train], minlength=width)
        seen = np.bincount(index[train], minlength=width)
        predicted[held] = ((won + base) / (seen + 1.0))[index[held]]
    return auc(y, predicted)


def _value_label(spec: dict[str, Any], column: int) -> str:
    offset = column - spec["start"]
    if offset == 0:
        return "(missing)"
    if spec["kind"] == "number":
        edges = spec["edges"]
        b = offset - 1
        low = f"{edges[b - 1]:g}" if b > 0 else ""
        high = f"{edges[b]:g}" if b < len(edges) else ""
        if low and high:
            return f"{low} to under {high}"
        return f"under {high}" if high else (f"{low} or more" if low else "any value")
    if offset == 1:
        return "(other)"
    return str(spec["levels"][offset - 2])


def _purest(index: Any, y: Any, spec: dict[str, Any]) -> dict[str, Any] | None:
    """The feature's value on which one outcome is rarest against its base rate, when it
    passes ``PURITY_FACTOR`` at 95 % confidence; None when none does."""
    np = _numpy()

    n_all = len(y)
    width = int(index.max()) + 1
    seen = np.bincount(index, minlength=width)
    won = np.bincount(index, weights=y, minlength=width).astype(int)
    rates = {"customers": float(y.mean()), "lost leads": 1.0 - float(y.mean())}
    best: dict[str, Any] | None = None
    for column in np.nonzero(seen)[0]:
        n = int(seen[column])
        for rare, k in (("customers", int(won[column])), ("lost leads", n - int(won[column]))):
            base = rates[rare]
            if base <= 0:
                continue
            ratio = wilson_upper(k, n) / base
            if ratio <= 1.0 / PURITY_FACTOR and (best is None or ratio < best["ratio"]):
                best = {
                    "value": _value_label(spec, int(column)),
                    "leads": n,
                    "customers": int(won[column]),
                    "rare": rare,
                    "rare_leads": k,
                    "ratio": ratio,
                    "of_all": n_all,
                }
    return best


def separating(data: Data) -> dict[int, Finding]:
    """Features (by position in ``data``) that separate won from lost almost perfectly."""
    np = _numpy()
    from leadcli.scoring.model import _folds, encode

    found: dict[int, Finding] = {}
    if not data.sources:
        return found
    y = np.array(data.y, dtype=float)
    enc = encode(data, _BINS)
    folds = _folds(len(y), 5)
    for f, (source, spec) in enumerate(zip(data.sources, enc.specs, strict=True)):
        index = enc.index[:, f] - spec["start"]
        name = features.describe(source)
        alone = _single_auc(index, y, folds)
        pure = _purest(index, y, {**spec, "start": 0})
        if alone >= SEPARATING_AUC:
            found[f] = Finding(
                name,
                SEPARATES,
                f"alone it reaches a held-out AUC of {alone:.3f}",
                measures={"auc": alone},
            )
        elif pure is not None:
            share = 100.0 * (1 - pure["rare_leads"] / pure["leads"])
            most = "lost" if pure["rare"] == "customers" else "customers"
            found[f] = Finding(
                name,
                SEPARATES,
                f"value {pure['value']!r}: {share:.1f} % of its {pure['leads']:,} closed leads "
                f"are {most}",
                measures={"auc": alone, **{k: v for k, v in pure.items() if k != "of_all"}},
            )
    return found


# --------------------------------------------------------------------------- after the close


def _after_close_sql(source: dict[str, Any]) -> tuple[str, str] | None:
    """SQL conditions on a closed lead in ``leads``: (it holds the feature, its value was
    written at or after ``closed_at``); None for a source with no time of its own."""
    kind = source.get("from")
    since = "h.lead_id = leads.id AND h.event != 'created' AND h.at >= leads.closed_at"
    if kind == "tag":
        tag = sql_text(source["tag"])
        holds = f"EXISTS (SELECT 1 FROM lead_tags WHERE lead_id = leads.id AND tag = {tag})"
        added = (
            f"EXISTS (SELECT 1 FROM history AS h, json_each(h.changes, '$.tags[1]') AS j "
            f"WHERE {since} AND j.value = {tag} COLLATE NOCASE AND NOT EXISTS "
            f"(SELECT 1 FROM json_each(h.changes, '$.tags[0]') AS o "
            f"WHERE o.value = {tag} COLLATE NOCASE))"
        )
        return holds, added
    if kind in ("custom", "column"):
        if kind == "custom":
            key = '"' + source["key"].replace('"', '""') + '"'
            new, old = f"$.custom[1].{key}", f"$.custom[0].{key}"
        else:
            new, old = f"$.{source['column']}[1]", f"$.{source['column']}[0]"
        holds = f"{features.raw_sql(source)} IS NOT NULL"
        written = (
            f"EXISTS (SELECT 1 FROM history AS h WHERE {since} AND "
            f"json_extract(h.changes, {sql_text(new)}) IS NOT NULL AND "
            f"json_extract(h.changes, {sql_text(new)}) IS NOT "
            f"json_extract(h.changes, {sql_text(old)}))"
        )
        return holds, written
    if kind == "bant":
        criterion = sql_text(source["criterion"])
        answer = (
            "SELECT 1 FROM bant_answers AS b WHERE b.lead_id = leads.id "
            f"AND b.criterion = {criterion}"
        )
        return f"EXISTS ({answer})", f"EXISTS ({answer} AND b.answered_at >= leads.closed_at)"
    if kind == "activities":
        logged = (
            "SELECT 1 FROM activities AS a WHERE a.lead_id = leads.id "
            f"AND a.kind = {sql_text(source['kind'])}"
        )
        return f"EXISTS ({logged})", f"EXISTS ({logged} AND a.at >= leads.closed_at)"
    if kind == "first_touch_days":
        return (
            "leads.first_contacted_at IS NOT NULL",
            "leads.first_contacted_at >= leads.closed_at",
        )
    return None


def after_close(conn: sqlite3.Connection, data: Data, where: str) -> dict[int, Finding]:
    """Features (by position in ``data``) whose values the closed leads holding them got at
    or after they closed."""
    found: dict[int, Finding] = {}
    for f, source in enumerate(data.sources):
        conditions = _after_close_sql(source)
        if conditions is None:
            continue
        holds, after = conditions
        holding, late = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {after}) FROM leads "
            f"WHERE ({where}) AND leads.closed_at IS NOT NULL AND {holds}"
        ).fetchone()
        if late >= AFTER_MIN_LEADS and late >= AFTER_MIN_SHARE * holding:
            found[f] = Finding(
                features.describe(source),
                AFTER_CLOSE,
                f"{late:,} of the {holding:,} closed leads holding it got it at or after "
                "they closed",
                measures={"after_close": late, "holding": holding},
            )
    return found


# --------------------------------------------------------------------------- the guard


@dataclass
class Guarded:
    """What the guard decided: the features to learn from (positions in the data read),
    every finding (kept ones marked), and ``--keep-feature`` / ``--leave-out`` patterns
    that matched nothing."""

    use: list[int]
    findings: list[Finding]
    unmatched: list[str]


def guard(
    conn: sqlite3.Connection,
    data: Data,
    where: str,
    keep: Sequence[str] = (),
    leave_out: Sequence[str] = (),
) -> Guarded:
    """The guard over the closed leads' features: ``leave_out`` (names or patterns) first,
    then a post-close sign (the stronger evidence), then separation."""
    found = separating(data)
    found.update(after_close(conn, data, where))
    used_patterns: set[str] = set()
    findings = []
    use = []
    for f, source in enumerate(data.sources):
        name = features.describe(source)
        named = [p for p in leave_out if kept_by(name, [p])]
        if named:
            used_patterns.update(named)
            findings.append(Finding(name, BY_NAME, "--leave-out " + ", ".join(named)))
            continue
        finding = found.get(f)
        if finding is None:
            use.append(f)
            continue
        matching = [p for p in keep if kept_by(finding.feature, [p])]
        if matching:
            finding.kept = True
            used_patterns.update(matching)
            use.append(f)
        findings.append(finding)
    unmatched = [p for p in (*keep, *leave_out) if p not in used_patterns]
    return Guarded(use, findings, unmatched)


def _numpy() -> Any:
    from leadcli.scoring.model import _numpy as numpy

    return numpy()
