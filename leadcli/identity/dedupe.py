"""Likely duplicates already in the database: the matcher run over every lead.

The leads' compared columns are read in one query (custom fields extracted by SQLite from
their JSON), handed to ``matcher`` as columns, and the pairs come back as plain dicts:
``ids`` (lower first), ``score`` (0-1) and ``reasons``, each pair weighed by the rule of a
possible duplicate (``identity.possible.review``). Pairs that an import or a capture
recorded are included even when they score lower now.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from leadcli.errors import InvalidValue
from leadcli.identity import matcher, possible
from leadcli.identity.evidence import DEFAULT_LISTS, Lists, is_placeholder, is_role_address
from leadcli.storage.store import Store

#: Lead columns always read (the matcher picks what its rules compare).
_COLUMNS = ("first_name", "last_name", "email", "phone", "company", "city", "country")


def _custom_keys(conn: sqlite3.Connection, names: Iterable[str]) -> dict[str, list[str]]:
    """For each wanted name, the custom-field keys in use that it stands for (an imported
    header such as `` Address 1`` answers to ``address_1``)."""
    wanted = {matcher.field_key(n): n for n in names}
    if not wanted:
        return {}
    keys = [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT j.key FROM leads, json_each(leads.custom) AS j "
            "WHERE leads.custom IS NOT NULL"
        )
    ]
    found: dict[str, list[str]] = {}
    for key in keys:
        name = wanted.get(matcher.field_key(key))
        if name is not None:
            found.setdefault(name, []).append(key)
    return found


def _json_path(key: str) -> str:
    return "$." + json.dumps(key)


def load_columns(
    conn: sqlite3.Connection,
    rules: matcher.Rules,
    compare: Sequence[str] = (),
    where: str = "1",
    params: Sequence[Any] = (),
    *,
    strict: bool = False,
) -> tuple[list[int], dict[str, list[Any]]]:
    """The leads' ids and, per field the rules may use, its column of values.

    ``strict``: a field named in ``compare`` that is neither a lead field nor a custom field
    any lead has is an error (a typo would otherwise compare nothing, silently).
    """
    fields = rules.active_fields(compare)
    lead_keys = {matcher.field_key(f): f for f in matcher.LEAD_FIELDS}
    lead_fields = list(_COLUMNS)
    for f in fields:
        name = lead_keys.get(matcher.field_key(f.name))
        if name is not None and name not in lead_fields:
            lead_fields.append(name)
    custom_names = [f.name for f in fields if matcher.field_key(f.name) not in lead_keys]
    # Blocking keys may name custom fields too; they count only when compared.
    keys = _custom_keys(conn, custom_names)
    if strict:
        named = {matcher.field_key(n) for n in compare}
        unknown = [n for n in custom_names if matcher.field_key(n) in named and n not in keys]
        if unknown and conn.execute("SELECT 1 FROM leads LIMIT 1").fetchone() is not None:
            raise InvalidValue(
                "compare",
                f"no lead has a field named {unknown[0]!r}",
                hint="`leadcli list -f csv | head -1` shows the field names",
            )
    select = ["id", *lead_fields]
    params_all: list[Any] = []
    for name in custom_names:
        paths = keys.get(name, [])
        if not paths:
            select.append("NULL")
            continue
        expr = "coalesce(" + ", ".join("json_extract(custom, ?)" for _ in paths) + ", NULL)"
        params_all.extend(_json_path(p) for p in paths)
        select.append(expr)
    sql = f"SELECT {', '.join(select)} FROM leads WHERE {where} ORDER BY id"
    rows = conn.execute(sql, (*params_all, *params)).fetchall()
    ids = [row[0] for row in rows]
    names = [*lead_fields, *custom_names]
    columns = {name: [row[k + 1] for row in rows] for k, name in enumerate(names)}
    return ids, columns


def no_evidence(lists: Lists) -> Callable[[str, Any], bool]:
    """The values that say nothing about who a lead is: placeholders in any field, and a
    team's address (``info@``) as an e-mail (``identity.evidence``)."""

    def check(field: str, value: Any) -> bool:
        key = matcher.field_key(field)
        name = key if key in ("email", "phone") else field
        if name == "email" and is_role_address(str(value), lists):
            return True
        return is_placeholder(name, value, lists)

    return check


def ids_exist(store: Store) -> bool:
    return store.conn.execute("SELECT 1 FROM leads LIMIT 1").fetchone() is not None


def possible_duplicates(store: Store) -> list[tuple[int, int, str]]:
    """Pairs an import or a capture recorded as possible duplicates (a shared phone, role
    address or id from another system without the evidence of one person), both leads
    still there. A pair without a batch was recorded by ``capture``, the one other writer."""
    rows = store.conn.execute(
        "SELECT p.lead_id, p.other_id, p.reason, p.batch_id IS NOT NULL "
        "FROM possible_duplicates AS p "
        "JOIN leads AS x ON x.id = p.lead_id JOIN leads AS y ON y.id = p.other_id"
    ).fetchall()
    # Stored as (lower id, higher id): the table's CHECK keeps them so.
    return [
        (a, b, f"recorded by {'import' if imported else 'capture'}: shared {reason}")
        for a, b, reason, imported in rows
    ]


#: The score of a pair that shares a personal e-mail through ``other_emails``: the evidence
#: rule says one person, whatever the other fields say.
SAME_EMAIL_SCORE = 0.99


def shared_other_emails(store: Store, lists: Lists) -> list[tuple[int, int, str, float]]:
    """Pairs where one lead's e-mail is among the other's ``other_emails`` (or both list
    it): the same personal address, which the matcher's main-e-mail comparison cannot see."""
    if not store.conn.execute(
        "SELECT 1 FROM leads WHERE other_emails IS NOT NULL LIMIT 1"
    ).fetchone():
        return []
    rows = store.conn.execute(
        "WITH addresses(id, email, other) AS ("
        " SELECT id, email, 0 FROM leads WHERE email IS NOT NULL"
        " UNION SELECT leads.id, lower(j.value), 1 FROM leads, json_each(leads.other_emails) AS j"
        " WHERE leads.other_emails IS NOT NULL) "
        "SELECT DISTINCT a.id, b.id, a.email FROM addresses AS a JOIN addresses AS b"
        " ON a.email = b.email AND a.id < b.id WHERE a.other OR b.other"
    ).fetchall()
    return [
        (a, b, "same e-mail (among other_emails)", SAME_EMAIL_SCORE)
        for a, b, email in rows
        if not is_placeholder("email", email, lists) and not is_role_address(email, lists)
    ]


def find_duplicates(
    store: Store,
    rules: matcher.Rules,
    *,
    compare: Sequence[str] = (),
    min_score: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    lists: Lists = DEFAULT_LISTS,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Likely duplicate pairs, best first: ``{"ids": [low, high], "score", "reasons"}``.

    Pairs an import recorded as possible duplicates come too, whatever their score, unless
    ``min_score`` is given.
    """
    with store.read():
        ids, columns = load_columns(store.conn, rules, compare, strict=True)
        recorded = possible_duplicates(store)
        shared = shared_other_emails(store, lists)
    prepared = matcher.prepare(ids, columns, rules, compare, is_missing=no_evidence(lists))
    matches, stats = matcher.find_matches(prepared, min_score=min_score, progress=progress)
    pairs: dict[tuple[int, int], dict[str, Any]] = {}
    for m in matches:
        # The one rule of a possible duplicate (a shared phone counts with the names only).
        score, reasons = possible.review(rules, m.score, m.reasons)
        if not possible.in_band(rules, score, min_score):
            continue
        a, b = ids[m.i], ids[m.j]
        pairs[(a, b)] = {"ids": [a, b], "score": round(score, 4), "reasons": list(reasons)}
    if recorded or shared:
        position = {lead_id: k for k, lead_id in enumerate(ids)}
        scorer = matcher.Scorer(prepared)
        for a, b, reason, floor in [*((a, b, r, 0.0) for a, b, r in recorded), *shared]:
            pair = pairs.get((a, b))
            if pair is None:
                probability, reasons = possible.review(
                    rules, *scorer.score(position[a], position[b])
                )
                pair = {"ids": [a, b], "score": round(probability, 4), "reasons": list(reasons)}
                pairs[(a, b)] = pair
            pair["score"] = max(pair["score"], floor)
            if reason not in pair["reasons"]:
                pair["reasons"].append(reason)
        if min_score is not None:
            # Asked for a bar: recorded pairs below it are left out like any other.
            pairs = {k: p for k, p in pairs.items() if p["score"] >= min_score}
    result = sorted(pairs.values(), key=lambda p: (-p["score"], p["ids"]))
    stats["leads"] = len(ids)
    return result, stats


def lead_with_email(store: Store, email: str, lists: Lists = DEFAULT_LISTS) -> int | None:
    """The first lead holding exactly this personal e-mail: a second lead with it is nearly
    always the same person typed twice. A role address (info@, sales@) is many people's and
    an unreadable one is no evidence: None for both."""
    from leadcli.text.contacts import normalise_email

    try:
        address = normalise_email(email)
    except ValueError:
        return None
    if is_role_address(address, lists):
        return None
    with store.read() as conn:
        row = conn.execute(
            "SELECT id FROM leads WHERE email = ? ORDER BY id LIMIT 1", (address,)
        ).fetchone()
    return None if row is None else row[0]


def likely_matches(
    store: Store,
    lead_id: int,
    rules: matcher.Rules,
    *,
    limit: int = 3,
    lists: Lists = DEFAULT_LISTS,
) -> list[dict[str, Any]]:
    """Leads that ``lead_id`` probably duplicates, best first (for ``add``'s warning).

    Candidates come from indexes, not a scan: the same e-mail or phone (indexed) and the
    same name words (the search index), so this stays fast on a million leads.
    """
    row = store.conn.execute(
        "SELECT first_name, last_name, email, phone FROM leads WHERE id = ?", (lead_id,)
    ).fetchone()
    if row is None:
        return []
    first = (matcher.normalise(row["first_name"]) or "").split()
    last = (matcher.normalise(row["last_name"]) or "").split()
    clauses, params = [], []
    if row["email"]:
        clauses.append("email = ?")
        params.append(row["email"])
    if row["phone"]:
        clauses.append("phone = ?")
        params.append(row["phone"])
    if first and last:
        # As the blocking keys: the same last name and first initial, the same first name
        # and last initial, and both the other way round (names written swapped).
        def words(ws: list[str]) -> str:
            return "(" + " AND ".join(f'"{w}"' for w in ws) + ")"

        query = " OR ".join(
            f'({{{a}}}: {words(ws)} AND {{{b}}}: "{initial}"*)'
            for a, ws, b, initial in (
                ("last_name", last, "first_name", first[0][0]),
                ("first_name", first, "last_name", last[0][0]),
                ("first_name", last, "last_name", first[0][0]),
                ("last_name", first, "first_name", last[0][0]),
            )
        )
        clauses.append("id IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH ? LIMIT 5000)")
        params.append(query)
    if not clauses:
        return []
    where = f"(id = ? OR (({' OR '.join(clauses)}) AND id <> ?))"
    ids, columns = load_columns(store.conn, rules, (), where, (lead_id, *params, lead_id))
    if len(ids) < 2:
        return []
    prepared = matcher.prepare(ids, columns, rules, is_missing=no_evidence(lists))
    scorer = matcher.Scorer(prepared)
    me = ids.index(lead_id)
    found = []
    for k, other in enumerate(ids):
        if k == me:
            continue
        probability, reasons = scorer.score(min(k, me), max(k, me))
        if probability >= rules.threshold:
            found.append({"id": other, "score": round(probability, 4), "reasons": list(reasons)})
    found.sort(key=lambda m: (-m["score"], m["id"]))
    return found[:limit]
