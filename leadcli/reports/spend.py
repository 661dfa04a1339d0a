"""Marketing spend by source and month (``leadcli spend``), and its totals for reports."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from leadcli.errors import InvalidValue
from leadcli.storage.store import Store
from leadcli.text import dates

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str | None) -> str:
    """``YYYY-MM`` (this month when None); InvalidValue otherwise."""
    if text is None:
        return dates.to_local(dates.now()).strftime("%Y-%m")
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidValue("month", "must be YYYY-MM, such as 2026-03")
    return match.group(0)


def parse_spend(text: str) -> float:
    """An amount as people write it (``1500``, ``$1,500.50``); a leading ``-`` corrects."""
    from leadcli.text.numbers import parse_amount

    text = text.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    try:
        return sign * parse_amount(text.lstrip("-"))
    except ValueError:
        raise InvalidValue("amount", "is not an amount such as 1500 or 1,500.50") from None


def record_spend(
    store: Store, source: str, amount: str, month: str | None = None
) -> dict[str, Any]:
    """Add ``amount`` spent on ``source`` in ``month`` (this month by default); a negative
    amount corrects an earlier one."""
    name = " ".join(source.split())
    if not name:
        raise InvalidValue("source", "must not be empty")
    value = parse_spend(amount)
    month = parse_month(month)
    now = dates.now_text()
    with store.write() as conn:
        spend_id = conn.execute(
            "INSERT INTO spend (source, month, amount, recorded_at) VALUES (?, ?, ?, ?)",
            (name, month, value, now),
        ).lastrowid
    return {"id": spend_id, "source": name, "month": month, "amount": value, "recorded_at": now}


def local_month(stored: str) -> str:
    """The local ``YYYY-MM`` of a stored UTC time: spend is recorded by local month."""
    return dates.to_local(dates.from_store(stored)).strftime("%Y-%m")


def spend_by_key(
    conn: sqlite3.Connection,
    key_of: Callable[[str], str],
    since: str | None,
    end: str | None,
) -> dict[str, tuple[float, str]]:
    """Spend per source key (``key_of(raw)``) for the local months from ``since`` to
    ``end`` (exclusive; the period's end or the as-of moment), with the spelling it was
    recorded under (the name of a source that has spend and no leads)."""
    where, params = [], []
    if since:
        where.append("month >= ?")
        params.append(local_month(since))
    if end:
        last = dates.to_store(dates.from_store(end) - timedelta(seconds=1))
        where.append("month <= ?")
        params.append(local_month(last))
    sql = "SELECT source, total(amount) FROM spend"
    if where:
        sql += " WHERE " + " AND ".join(where)
    out: dict[str, tuple[float, str]] = {}
    for source, amount in conn.execute(sql + " GROUP BY source ORDER BY source", params):
        key = key_of(source)
        total, spelling = out.get(key, (0.0, source))
        out[key] = (total + amount, spelling)
    return out
