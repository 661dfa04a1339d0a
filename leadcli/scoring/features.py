"""What a model learns from: each feature as a SQL value, and a feature's points as a SQL term.

A feature is described by where its value comes from (``{"from": "column", "column":
"source"}``, a custom field, a BANT answer, a count of activities of a kind, the days to
the first touch, or whether the lead has a tag), never by SQL text: a stored model holds
data only, and the SQL is built here from a short list of known shapes.

The same ``value_sql`` feeds training and scoring, so a lead is read the same way by both:
categories trimmed and lower-cased with placeholders (empty, "Select", "N/A" ...) as
missing, numbers as numbers or missing.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.errors import LeadcliError
from leadcli.identity import evidence
from leadcli.pipeline.qualification import CRITERIA as BANT_CRITERIA
from leadcli.storage.literals import sql_text

#: Values that mean "nobody filled this in" count as missing: the import's list (the
#: shipped one, not the config's, so a stored model always reads values the same way).
PLACEHOLDERS = evidence.PLACEHOLDERS
#: Lead columns a model may learn from (names, e-mails, phones and notes identify a person
#: or are free text: never features).
COLUMNS = ("source", "owner", "country", "city", "title", "company", "value")
#: Sentinel for a missing category inside CASE: a trimmed value never starts with a space.
_MISSING = "' '"
_NUMBER_GLOB = (
    "(trim({v}) NOT GLOB '*[^0-9.eE+-]*' AND trim({v}) GLOB '*[0-9]*' AND trim({v}) != '')"
)


class FeatureError(LeadcliError):
    """A stored model names a feature this leadcli cannot read."""


def raw_sql(source: dict[str, Any]) -> str:
    """The raw value of a feature's source for the lead in ``leads``."""
    kind = source.get("from")
    if kind == "column" and source.get("column") in COLUMNS:
        return f"leads.{source['column']}"
    if kind == "custom" and isinstance(source.get("key"), str):
        key = source["key"].replace('"', '""')
        return f"json_extract(leads.custom, {sql_text('$.' + chr(34) + key + chr(34))})"
    if kind == "bant" and source.get("criterion") in BANT_CRITERIA:
        return (
            "(SELECT answer FROM bant_answers WHERE lead_id = leads.id "
            f"AND criterion = {sql_text(source['criterion'])})"
        )
    if kind == "activities" and isinstance(source.get("kind"), str):
        return (
            "(SELECT count(*) FROM activities WHERE lead_id = leads.id "
            f"AND kind = {sql_text(source['kind'])})"
        )
    if kind == "first_touch_days":
        return "(julianday(leads.first_contacted_at) - julianday(leads.created_at))"
    if kind == "tag" and isinstance(source.get("tag"), str):
        return (
            "(CASE WHEN EXISTS (SELECT 1 FROM lead_tags WHERE lead_id = leads.id AND tag = "
            f"{sql_text(source['tag'])}) THEN 'yes' ELSE 'no' END)"
        )
    raise FeatureError(
        "the stored model uses a feature this leadcli cannot read",
        hint="retrain it with `leadcli model train`",
    )


def _text(raw: str) -> str:
    return f"nullif(lower(trim(CAST({raw} AS TEXT))), '')"


def _placeholders() -> str:
    return ", ".join(sql_text(p) for p in PLACEHOLDERS)


def category_sql(raw: str) -> str:
    """Trimmed, lower-cased text; empty and placeholders become NULL. (A subquery reads the
    value once, and keeps the expression shallow: SQLite's parser has a depth limit.)"""
    return (
        f"(SELECT CASE WHEN v IN ({_placeholders()}) THEN NULL ELSE v END "
        f"FROM (SELECT {_text(raw)} AS v))"
    )


def number_sql(raw: str) -> str:
    """A number, or NULL for anything that is not one (placeholders included)."""
    return (
        f"(CASE WHEN typeof({raw}) IN ('integer', 'real') THEN {raw} "
        f"WHEN {_NUMBER_GLOB.format(v=raw)} THEN CAST(trim({raw}) AS REAL) END)"
    )


def value_sql(feature: dict[str, Any]) -> str:
    raw = raw_sql(feature["source"])
    return number_sql(raw) if feature["kind"] == "number" else category_sql(raw)


def term_sql(feature: dict[str, Any]) -> str:
    """The feature's log-odds points for the lead in ``leads``, as one SQL expression."""
    value = value_sql(feature)
    if feature["kind"] == "number":
        edges, points = feature["edges"], feature["bins"]
        whens = " ".join(
            f"WHEN v < {float(e)!r} THEN {float(p)!r}" for e, p in zip(edges, points, strict=False)
        )
        return (
            f"(SELECT CASE WHEN v IS NULL THEN {float(feature['missing'])!r} {whens} "
            f"ELSE {float(points[-1])!r} END FROM (SELECT {value} AS v))"
        )
    missing = repr(float(feature["missing"]))
    whens = " ".join(
        f"WHEN {sql_text(level)} THEN {float(p)!r}" for level, p in feature["levels"].items()
    )
    placeholders = " ".join(f"WHEN {sql_text(p)} THEN {missing}" for p in PLACEHOLDERS)
    return (
        f"(CASE ifnull({_text(raw_sql(feature['source']))}, {_MISSING}) WHEN {_MISSING} "
        f"THEN {missing} {placeholders} {whens} ELSE {float(feature['other'])!r} END)"
    )


def candidates(conn: sqlite3.Connection, where: str) -> list[dict[str, Any]]:
    """Every source a model could learn from, found among the leads matching ``where``:
    the lead columns, BANT criteria answered, activity kinds logged, days to first touch,
    the commonest tags and every custom field."""
    found: list[dict[str, Any]] = [{"from": "column", "column": c} for c in COLUMNS]
    for (criterion,) in conn.execute(
        f"SELECT DISTINCT criterion FROM bant_answers WHERE lead_id IN "
        f"(SELECT id FROM leads WHERE {where}) ORDER BY criterion"
    ):
        found.append({"from": "bant", "criterion": criterion})
    for (kind,) in conn.execute(
        f"SELECT DISTINCT kind FROM activities WHERE lead_id IN "
        f"(SELECT id FROM leads WHERE {where}) ORDER BY kind"
    ):
        found.append({"from": "activities", "kind": kind})
    if conn.execute(
        f"SELECT 1 FROM leads WHERE ({where}) AND first_contacted_at IS NOT NULL LIMIT 1"
    ).fetchone():
        found.append({"from": "first_touch_days"})
    for (tag,) in conn.execute(
        f"SELECT tag FROM lead_tags WHERE lead_id IN (SELECT id FROM leads WHERE {where}) "
        "GROUP BY tag COLLATE NOCASE HAVING count(*) >= 5 ORDER BY count(*) DESC, tag LIMIT 30"
    ):
        found.append({"from": "tag", "tag": tag})
    for (key,) in conn.execute(
        f"SELECT DISTINCT j.key FROM leads, json_each(leads.custom) AS j "
        f"WHERE ({where}) AND leads.custom IS NOT NULL ORDER BY j.key"
    ):
        found.append({"from": "custom", "key": key})
    return found


def describe(source: dict[str, Any]) -> str:
    """A feature's name as people read it in ``model show`` and ``--explain``."""
    kind = source["from"]
    if kind == "column":
        return source["column"]
    if kind == "custom":
        return source["key"]
    if kind == "bant":
        return f"BANT {source['criterion']}"
    if kind == "activities":
        return f"{source['kind']} activities"
    if kind == "first_touch_days":
        return "days to first touch"
    return f"tag {source['tag']}"
