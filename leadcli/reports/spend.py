"""Marketing spend by source and month (``leadcli spend``), and its totals for reports."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from leadcli.errors import InvalidValue
from leadcli.storage.store import Store
from leadcli.text import dates

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str | None) -> str:
    """``YYYY-MM`` (this month when None); InvalidValue otherwise."""
    if text is None:
        return dates.now_text()[:7]
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidValue("month", "must be YYYY-MM, such as 2026-03")
    return match.group(0)


def parse_spend(text: str) -> float:
    """An amount as people write it (``1500``, ``$1,500.50``); a leading ``-`` corrects."""
    from leadcli.text.contacts import parse_amount

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


def spend_by_key(
    conn: sqlite3.Connection, key_of: Any, since: str | None, until: str | None
) -> dict[str, float]:
    """Spend summed per source key (``key_of(raw)``), for months the period touches."""
    where, params = [], []
    if since:
        where.append("month >= ?")
        params.append(since[:7])
    if until:
        where.append("month < ? || '-32'")  # any month up to and including until's own
        params.append(until[:7])
    sql = "SELECT source, total(amount) FROM spend"
    if where:
        sql += " WHERE " + " AND ".join(where)
    out: dict[str, float] = {}
    for source, amount in conn.execute(sql + " GROUP BY source", params):
        key = key_of(source)
        out[key] = out.get(key, 0.0) + amount
    return out
