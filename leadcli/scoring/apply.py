"""Scoring leads: the terms of a score as SQL, set-based rescoring, ratings and --explain.

Both kinds of score are a table of points. A rule set is a list of integer terms summed per
group, capped, then clamped to 0-100; a model is an intercept plus one log-odds term per
feature, turned into a probability. Either way the score of every lead is computed by one
SQL statement per chunk of ids (no Python per lead), and ``explain`` selects the very same
terms for one lead, so its list always adds up to the stored score.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from leadcli.leads import cells, history
from leadcli.leads.records import drop_trigger, lead_row
from leadcli.pipeline.stages import CLOSED_STAGES_SQL
from leadcli.scoring.rules import GROUPS, RuleSet, term_sql
from leadcli.storage.bulk import drop_indexes, index_builds, indexes
from leadcli.storage.store import Store
from leadcli.text import dates

#: Leads are rescored in chunks of this many ids: each chunk is one statement, and the
#: progress bar moves between them.
CHUNK = 100_000
#: Log-odds beyond this are clipped before the probability is taken, so a probability is
#: never exactly 0 or 1.
MAX_LOG_ODDS = 30.0


@dataclass(frozen=True)
class Scorer:
    """What a rescore computes: rules, a model's points, or both (blend)."""

    mode: str
    rules: RuleSet | None = None
    #: The stored model: ``{"id": ..., "model": {...}}`` as ``model.load_latest`` returns.
    model: dict[str, Any] | None = None
    hot: int = 70
    warm: int = 40
    now: str = field(default_factory=dates.now_text)
    #: Scoring leads created a moment ago (an import's batch): they have no activities and
    #: no BANT answers yet, so those rules' terms are 0 without asking.
    fresh: bool = False

    @property
    def reason(self) -> str:
        if self.mode == "rules":
            return f"rules ({self.rules.origin if self.rules else 'default'})"
        return f"{self.mode} (model #{self.model['id'] if self.model else '?'})"


# --------------------------------------------------------------------------- SQL


def rule_terms(scorer: Scorer) -> list[tuple[str, str, str]]:
    """(rule name, group, integer SQL term) for every rule."""
    assert scorer.rules is not None
    return [
        (
            r.name,
            r.group,
            "0"
            if scorer.fresh and (r.activity is not None or r.bant is not None)
            else term_sql(r, scorer.now),
        )
        for r in scorer.rules.rules
    ]


#: The lead in ``leads`` has at least one tag.
HAS_TAGS = "EXISTS (SELECT 1 FROM lead_tags AS t WHERE t.lead_id = leads.id)"


def rules_score_sql(scorer: Scorer) -> str:
    """0-100: each group's terms summed and capped, the groups summed, then clamped."""
    assert scorer.rules is not None
    terms = rule_terms(scorer)
    parts = []
    for group in GROUPS:
        in_group = [
            (rule, sql)
            for rule, (_, g, sql) in zip(scorer.rules.rules, terms, strict=True)
            if g == group and sql != "0"
        ]
        if not in_group:
            continue
        # A tag rule gives 0 to a lead without tags, and most leads have none: one look
        # for any tag spares each of them a look per tag rule.
        tagged = [sql for rule, sql in in_group if rule.field == "tags"]
        sql = [sql for rule, sql in in_group if rule.field != "tags"]
        if len(tagged) > 1:
            sql.append(f"(CASE WHEN {HAS_TAGS} THEN {' + '.join(tagged)} ELSE 0 END)")
        else:
            sql += tagged
        total = "(" + " + ".join(sql) + ")"
        cap = scorer.rules.caps.get(group)
        parts.append(f"min({cap}, {total})" if cap is not None else total)
    return f"max(0, min(100, {' + '.join(parts) or '0'}))"


def model_terms(scorer: Scorer) -> list[tuple[str, str]]:
    """(feature, SQL log-odds term) with the intercept first."""
    from leadcli.scoring.features import term_sql as feature_term

    assert scorer.model is not None
    table = scorer.model["model"]
    terms = [("intercept", repr(float(table["intercept"])))]
    terms += [(f["name"], feature_term(f)) for f in table["features"]]
    return terms


def log_odds_sql(scorer: Scorer) -> str:
    return " + ".join(sql for _, sql in model_terms(scorer))


def _probability(z: str) -> str:
    return f"1.0 / (1.0 + exp(-max({-MAX_LOG_ODDS}, min({MAX_LOG_ODDS}, {z}))))"


def _predictive_score(p: str) -> str:
    # 1-99: a learned probability is never a certainty, and its score never says it is.
    return f"max(1, min(99, CAST(round(100.0 * {p}) AS INTEGER)))"


def _blend_score(rules: str, p: str) -> str:
    return f"max(0, min(100, CAST(round(({rules} + 100.0 * {p}) / 2.0) AS INTEGER)))"


def rating_sql(score: str, scorer: Scorer) -> str:
    return (
        f"CASE WHEN {score} >= {scorer.hot} THEN 'hot' "
        f"WHEN {score} >= {scorer.warm} THEN 'warm' ELSE 'cold' END"
    )


def rating_of(score: int, scorer: Scorer) -> str:
    return "hot" if score >= scorer.hot else "warm" if score >= scorer.warm else "cold"


def select_sql(
    scorer: Scorer, where: str, *, source: str = "leads", carry: Sequence[str] = ()
) -> str:
    """``SELECT id, s, p`` (score, probability) for the leads matching ``where``.

    ``source`` is what the terms read as ``leads`` (the table, or rows not yet inserted);
    ``carry`` names more of its columns to pass through after ``id``."""
    if scorer.mode == "blend":
        # The rules and the model each in a materialized step of its own: one expression
        # holding both would pass SQLite's parser depth limit.
        rules = select_sql(replace(scorer, mode="rules"), where, source=source, carry=carry)
        model = select_sql(replace(scorer, mode="predictive"), where, source=source)
        carried = "".join(f", r.{c}" for c in carry)
        return (
            f"WITH r AS MATERIALIZED ({rules}), m AS MATERIALIZED ({model}) "
            f"SELECT r.id{carried}, {_blend_score('r.s', 'm.p')} AS s, m.p AS p "
            "FROM r JOIN m ON m.id = r.id"
        )
    more = "".join(f", {c}" for c in carry)
    source = source if source == "leads" else f"{source} AS leads"
    if scorer.mode == "rules":
        return (
            f"SELECT id{more}, {rules_score_sql(scorer)} AS s, NULL AS p FROM {source} "
            f"WHERE {where}"
        )
    # Materialized steps, so the log-odds sum is computed once per lead (see _score_chunk).
    return (
        f"WITH z AS MATERIALIZED (SELECT id{more}, {log_odds_sql(scorer)} AS z FROM {source} "
        f"WHERE {where}), q AS MATERIALIZED (SELECT id{more}, {_probability('z')} AS p FROM z) "
        f"SELECT id{more}, {_predictive_score('p')} AS s, p FROM q"
    )


def _score_chunk(
    conn: sqlite3.Connection, scorer: Scorer, condition: str, low: int, high: int
) -> None:
    """Fill ``new_scores`` for the leads matching ``condition`` with ids from low to high."""
    where = f"({condition}) AND id BETWEEN {int(low)} AND {int(high)}"
    # MATERIALIZED: SQLite would otherwise flatten the subquery and copy the whole score
    # expression into each place `s` (or `p`) is read, computing every rule three times.
    conn.execute(
        f"WITH x AS MATERIALIZED ({select_sql(scorer, where)}) "
        f"INSERT INTO new_scores (id, s, rating, p) "
        f"SELECT id, s, {rating_sql('s', scorer)}, p FROM x"
    )


# --------------------------------------------------------------------------- scored inserts


def lead_columns(conn: sqlite3.Connection) -> dict[str, str]:
    """Every column of ``leads``, with the SQL of what a row that does not set it holds: its
    declared default, else NULL (read once, before the statements ``fresh_insert_sql``
    builds are run)."""
    return {
        name: default if default is not None else "NULL"
        for _, name, _, _, default, _ in conn.execute("PRAGMA table_info(leads)")
    }


def fresh_insert_sql(
    scorer: Scorer, table: dict[str, str], columns: Sequence[str], rows: str
) -> str:
    """An ``INSERT INTO leads`` of new leads that stores each one's score, rating and win
    probability as it goes in: what ``rescore_in`` with a fresh scorer would write over
    them afterwards, without that second pass (a compute pass, a temporary table and an
    UPDATE of every row: half of a million-row import's scoring time went there).

    ``table`` is ``lead_columns``. ``rows`` is a ``VALUES`` list or a ``SELECT`` of
    ``columns`` (``id`` among them) holding values as the
    table stores them (text in text columns, floats in ``value``: the terms read them before
    the table's affinities could convert them). The terms read the rows as ``leads``, with
    every column the table gives a row that does not set it, through the same SQL as a
    rescore (``select_sql``), so the scores are the same and ``explain`` adds up to them.
    No rating history, as for any fresh scoring. Terms that read tags (``reads_tags``) find
    the rows' tags only if they were inserted first."""
    fresh = replace(scorer, fresh=True)
    unknown = [c for c in columns if c not in table]
    if unknown:
        raise ValueError(f"not a column of leads: {unknown[0]}")
    listed = ", ".join(columns)
    source = (
        "(SELECT "
        + ", ".join(f"new_rows.{c}" if c in columns else f"{table[c]} AS {c}" for c in table)
        + " FROM new_rows)"
    )
    # Only the columns inserted are passed through (the terms still read every column).
    carried = [c for c in dict.fromkeys(columns) if c != "id"]
    scored = select_sql(fresh, "1", source=source, carry=carried)
    # The score is computed once per row and read twice (score, rating): in a subquery SQLite
    # may not flatten into this SELECT (OFFSET, even 0, forbids it; flattened, the whole
    # score expression would be copied into each place `s` is read). Not MATERIALIZED: the
    # subquery hands each row over as it is computed (a co-routine) instead of first copying
    # every row into a temporary table and back, 8 % of the statement's work.
    return (
        f"WITH new_rows ({listed}) AS ({rows}) "
        f"INSERT INTO leads ({listed}, score, rating, win_probability) "
        f"SELECT {listed}, s, {rating_sql('s', scorer)}, p FROM ({scored} LIMIT -1 OFFSET 0)"
    )


def reads_tags(scorer: Scorer) -> bool:
    """Whether a fresh lead's score reads its tags (a tag rule, a model's tag feature): then
    ``fresh_insert_sql`` must find them in ``lead_tags`` before the lead goes in."""
    fresh = replace(scorer, fresh=True)
    sql = ""
    if scorer.mode in ("rules", "blend"):
        sql += rules_score_sql(fresh)
    if scorer.mode in ("predictive", "blend"):
        sql += log_odds_sql(fresh)
    return "lead_tags" in sql


# --------------------------------------------------------------------------- rescoring


@dataclass
class RescoreResult:
    scored: int = 0
    changed: int = 0
    ratings_changed: int = 0
    mode: str = "rules"

    def as_dict(self) -> dict[str, Any]:
        return {
            "scored": self.scored,
            "changed": self.changed,
            "ratings_changed": self.ratings_changed,
            "model": self.mode,
        }


OPEN = f"stage NOT IN {CLOSED_STAGES_SQL}"


def rescore(
    store: Store,
    scorer: Scorer,
    ids: Sequence[int] | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> RescoreResult:
    """Rescore the given leads (every open lead when ``ids`` is None), in one transaction.

    Ids that name no lead raise NotFound before anything is written."""
    with store.write() as conn:
        return rescore_in(conn, scorer, ids, progress=progress)


#: A score, rating or probability that differs from the lead's (``n``: new_scores).
_CHANGED = (
    "(leads.score IS NOT n.s OR leads.rating IS NOT n.rating OR leads.win_probability IS NOT n.p)"
)
#: At least this many changed scores, and a quarter of the leads, are written with the
#: indexes that hold them dropped and built again after: one sorted build of each costs far
#: less than a million random index updates (35 s against 15 s for 700,000 of 1,000,000).
BULK_CHANGES = 50_000


def _holds_scores(name: str, sql: str) -> bool:
    return re.search(r"\b(score|rating|win_probability)\b", sql) is not None


@contextlib.contextmanager
def _indexes_rebuilt_if_bulk(conn: sqlite3.Connection, scored: int) -> Iterator[None]:
    if scored < BULK_CHANGES:  # the common case, a command's few leads: no count needed
        yield
        return
    holding = indexes(conn, "leads", _holds_scores)
    if not holding:  # a big import has dropped them already
        yield
        return
    changed = conn.execute(
        f"SELECT count(*) FROM new_scores AS n JOIN leads ON leads.id = n.id WHERE {_CHANGED}"
    ).fetchone()[0]
    (leads,) = conn.execute("SELECT coalesce(max(id), 0) FROM leads").fetchone()
    if changed < BULK_CHANGES or changed * 4 < leads:
        yield
        return
    drop_indexes(conn, "leads", _holds_scores)
    # Ratings are counted in the report cells: the leads whose rating changes leave their
    # cells before the UPDATE and join their new ones after it, in two grouped passes,
    # instead of the cells' trigger running for each lead the UPDATE writes.
    conn.execute("DROP TABLE IF EXISTS temp.rerated")
    conn.execute(
        "CREATE TEMP TABLE rerated AS SELECT n.id FROM new_scores AS n "
        "JOIN leads ON leads.id = n.id WHERE leads.rating IS NOT n.rating"
    )
    moving = "id IN (SELECT id FROM temp.rerated)"
    cells.add(conn, moving, sign=-1)
    trigger = drop_trigger(conn, cells.UPDATE_TRIGGER)
    yield
    conn.execute(trigger)
    cells.add(conn, moving)
    conn.execute("DROP TABLE temp.rerated")
    with index_builds(conn):
        for _, sql in holding:
            conn.execute(sql)


def rescore_in(
    conn: sqlite3.Connection,
    scorer: Scorer,
    ids: Sequence[int] | None = None,
    *,
    where: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RescoreResult:
    """``rescore`` inside the caller's write transaction (the import uses ``where``)."""
    result = RescoreResult(mode=scorer.mode)
    conn.execute("DROP TABLE IF EXISTS temp.new_scores")
    conn.execute(
        "CREATE TEMP TABLE new_scores (id INTEGER PRIMARY KEY, s INTEGER, rating TEXT, p REAL)"
    )
    try:
        if ids is not None:
            conn.execute("DROP TABLE IF EXISTS temp.score_ids")
            conn.execute("CREATE TEMP TABLE score_ids (id INTEGER PRIMARY KEY)")
            conn.executemany("INSERT OR IGNORE INTO score_ids (id) VALUES (?)", ((i,) for i in ids))
            missing = conn.execute(
                "SELECT min(id) FROM score_ids WHERE id NOT IN (SELECT id FROM leads)"
            ).fetchone()[0]
            if missing is not None:
                lead_row(conn, missing)  # raises NotFound naming the id
            condition = "id IN (SELECT id FROM temp.score_ids)"
        else:
            condition = where or OPEN
        low, high = conn.execute(f"SELECT min(id), max(id) FROM leads WHERE {condition}").fetchone()
        if low is not None:
            start = low
            while start <= high:
                end = min(start + CHUNK - 1, high)
                _score_chunk(conn, scorer, condition, start, end)
                if progress:
                    progress(end - low + 1, high - low + 1)
                start = end + 1
        result.scored = conn.execute("SELECT count(*) FROM new_scores").fetchone()[0]
        # A change of rating is an event; a change of points alone is not, and neither is a
        # lead's first rating (an import would write a row per lead): until its first
        # event a lead had the rating that event changes from (or the one it has now).
        # Leads created a moment ago (fresh) have had no rating to change from.
        if not scorer.fresh:
            result.ratings_changed = conn.execute(
                "INSERT INTO history (lead_id, at, event, changes, reason) "
                "SELECT n.id, ?, ?, json_object('rating', json_array(l.rating, n.rating), "
                "'score', json_array(l.score, n.s)), ? "
                "FROM new_scores AS n JOIN leads AS l ON l.id = n.id "
                "WHERE l.rating IS NOT NULL AND l.rating IS NOT n.rating",
                (scorer.now, history.RATING, scorer.reason),
            ).rowcount
        with _indexes_rebuilt_if_bulk(conn, result.scored):
            cursor = conn.execute(
                "UPDATE leads SET score = n.s, rating = n.rating, win_probability = n.p "
                f"FROM new_scores AS n WHERE leads.id = n.id AND {_CHANGED}"
            )
        result.changed = cursor.rowcount
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.new_scores")
        conn.execute("DROP TABLE IF EXISTS temp.score_ids")
    return result


# --------------------------------------------------------------------------- explain


def explain(store: Store, scorer: Scorer, lead_id: int) -> dict[str, Any]:
    """The terms of one lead's score, computed now, and what they add up to.

    For rules: one line per rule that awarded points, then any cap and the 0-100 clamp as
    lines of their own, so ``sum(points) == score`` exactly. For a model: the intercept and
    one log-odds term per feature, ``sum == log_odds`` exactly, then the probability and the
    score. Blend holds both and how they combine."""
    with store.read() as conn:
        lead_row(conn, lead_id)
        out: dict[str, Any] = {"id": lead_id, "model": scorer.mode}
        if scorer.mode in ("rules", "blend"):
            out["rules"] = _explain_rules(conn, scorer, lead_id)
        if scorer.mode in ("predictive", "blend"):
            out["predictive"] = _explain_model(conn, scorer, lead_id)
        if scorer.mode == "rules":
            out["score"] = out["rules"]["score"]
            out["terms"] = out["rules"]["terms"]
        elif scorer.mode == "predictive":
            out["score"] = out["predictive"]["score"]
            out["terms"] = out["predictive"]["terms"]
            out["win_probability"] = out["predictive"]["win_probability"]
        else:
            (score,) = conn.execute(
                f"SELECT {_blend_score('?', '?')}",
                (out["rules"]["score"], out["predictive"]["win_probability"]),
            ).fetchone()
            out["score"] = score
            out["win_probability"] = out["predictive"]["win_probability"]
        out["rating"] = rating_of(out["score"], scorer)
    return out


def _explain_rules(conn: sqlite3.Connection, scorer: Scorer, lead_id: int) -> dict[str, Any]:
    assert scorer.rules is not None
    terms = rule_terms(scorer)
    row = conn.execute(
        f"SELECT {', '.join(t for _, _, t in terms) or '0'}, {rules_score_sql(scorer)} "
        "FROM leads WHERE id = ?",
        (lead_id,),
    ).fetchone()
    values = list(row)
    score = values.pop()
    lines: list[dict[str, Any]] = []
    total = 0
    for group in GROUPS:
        in_group = [
            (name, value)
            for (name, g, _), value in zip(terms, values, strict=False)
            if g == group and value
        ]
        subtotal = sum(v for _, v in in_group)
        lines += [{"term": name, "group": group, "points": v} for name, v in in_group]
        cap = scorer.rules.caps.get(group)
        if cap is not None and subtotal > cap:
            lines.append(
                {"term": f"{group} capped at {cap}", "group": group, "points": cap - subtotal}
            )
            subtotal = cap
        total += subtotal
    if total != score:
        lines.append({"term": "score kept within 0-100", "group": "limit", "points": score - total})
    return {"score": score, "rules": scorer.rules.origin, "terms": lines}


def _explain_model(conn: sqlite3.Connection, scorer: Scorer, lead_id: int) -> dict[str, Any]:
    from leadcli.scoring.features import value_sql

    assert scorer.model is not None
    terms = model_terms(scorer)
    features = scorer.model["model"]["features"]
    z = " + ".join(sql for _, sql in terms)
    values_sql = ", ".join(value_sql(f) for f in features)
    row = conn.execute(
        f"SELECT {', '.join(sql for _, sql in terms)}, {z}"
        + (f", {values_sql}" if values_sql else "")
        + " FROM leads WHERE id = ?",
        (lead_id,),
    ).fetchone()
    values = list(row)
    points = values[: len(terms)]
    log_odds = values[len(terms)]
    raw = values[len(terms) + 1 :]
    (p,) = conn.execute(f"SELECT {_probability('?')}", (log_odds,)).fetchone()
    (score,) = conn.execute(f"SELECT {_predictive_score('?')}", (p,)).fetchone()
    lines = [{"term": "intercept", "value": None, "points": points[0]}]
    lines += [
        {"term": name, "value": value, "points": pts}
        for (name, _), value, pts in zip(terms[1:], raw, points[1:], strict=True)
    ]
    return {
        "model_id": scorer.model["id"],
        "log_odds": log_odds,
        "win_probability": p,
        "score": score,
        "terms": lines,
    }


def rescore_batch(
    conn: sqlite3.Connection,
    scorer: Scorer,
    batch_id: int,
    since: int,
    *,
    scored_until: int | None = None,
) -> RescoreResult:
    """Rescore what an import touched, set-based, inside the import's own transaction (so an
    import is never committed with stale scores): the leads it created (its id range) and the
    leads it updated (history written after ``since``, the newest row before the load).

    ``scored_until``: the created leads were scored as they were inserted
    (``fresh_insert_sql``) and were left as they went in until the history row with this id;
    only those changed after it (rows of the file merged into them) are scored again."""
    first, last = conn.execute(
        "SELECT first_lead_id, last_lead_id FROM import_batches WHERE id = ?", (batch_id,)
    ).fetchone()
    touched = f"id IN (SELECT lead_id FROM history WHERE id > {int(since)})"
    if first is None or last is None:
        return rescore_in(conn, scorer, where=touched)
    created = f"id BETWEEN {int(first)} AND {int(last)}"
    again = created
    if scored_until is not None:
        again += f" AND id IN (SELECT lead_id FROM history WHERE id > {int(scored_until)})"
    result = rescore_in(conn, replace(scorer, fresh=True), where=again)
    updated = rescore_in(conn, scorer, where=f"{touched} AND NOT ({created})")
    result.scored += updated.scored
    result.changed += updated.changed
    result.ratings_changed += updated.ratings_changed
    return result
