"""Medians and 90th percentiles in SQL: only the rows at the needed positions leave SQLite.

Percentiles interpolate linearly between the two nearest ranks (numpy's default), so the
median of an even count is the mean of the middle two.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

#: The quantiles reports give.
QUANTILES = (0.5, 0.9)


def quantiles(
    conn: sqlite3.Connection, values_sql: str, params: dict[str, Any]
) -> dict[Any, dict[str, Any]]:
    """``values_sql`` yields rows ``(g, x)`` (x not null); returns, per group ``g``,
    ``{"count": n, "mean": ..., "median": ..., "p90": ...}``. Window functions number each
    group's values in order; only the (at most four) positions the quantiles need are
    fetched."""
    picks = " OR ".join(
        f"i = CAST((n - 1) * {q} AS INTEGER) OR i = CAST((n - 1) * {q} AS INTEGER) + 1"
        for q in QUANTILES
    )
    sql = (
        f"SELECT g, x, i, n, mean FROM (SELECT g, x, "
        f"row_number() OVER (PARTITION BY g ORDER BY x) - 1 AS i, "
        f"count(*) OVER (PARTITION BY g) AS n, avg(x) OVER (PARTITION BY g) AS mean "
        f"FROM ({values_sql})) WHERE {picks}"
    )
    found: dict[Any, dict[int, float]] = {}
    counts: dict[Any, int] = {}
    means: dict[Any, float] = {}
    for g, x, i, n, mean in conn.execute(sql, params):
        found.setdefault(g, {})[i] = x
        counts[g] = n
        means[g] = mean
    return {g: _summary(counts[g], means[g], at) for g, at in found.items()}


def indexed_quantiles(
    conn: sqlite3.Connection,
    index: str,
    expr: str,
    where: str,
    group: str | None = None,
    *,
    table: str = "leads",
    mean: bool = True,
    heads: Sequence[Sequence[Any]] | None = None,
) -> dict[Any, dict[str, Any]]:
    """What ``quantiles`` gives for ``expr`` over the rows of ``table`` where ``where`` holds,
    per value of the column ``group`` (None: one group, ``1``), read from ``index``, which keeps
    ``expr`` in order (by ``group`` first, when given): a count per group, then a seek to each
    position a quantile needs, instead of sorting every value. ``heads`` gives each group's
    count and mean when they are kept elsewhere (else they are counted here).

    ``expr`` and ``where`` must be written as in the index (see ``storage.migrations``);
    ``INDEXED BY`` makes a query that could not use it an error rather than a slow sort."""
    if heads is None:
        # The mean reads every value (``mean=False`` leaves it None): the count alone does not.
        average = f"avg({expr})" if mean else "NULL"
        heads = conn.execute(
            f"SELECT {group or 1}, count(*), {average} FROM {table} INDEXED BY {index} "
            f"WHERE {where}" + (f" GROUP BY {group}" if group else "")
        ).fetchall()
    same_group = f" AND {group} IS ?" if group else ""
    pick = (
        f"SELECT {expr} FROM {table} INDEXED BY {index} WHERE {where}{same_group} "
        f"ORDER BY {expr} {{order}} LIMIT ? OFFSET ?"
    )
    out: dict[Any, dict[str, Any]] = {}
    for g, n, average_ in heads:
        if not n:  # no group: one row, with a count of 0 when no lead qualifies
            continue
        at: dict[int, float] = {}
        key = (g,) if group else ()
        for lo in sorted({int((n - 1) * q) for q in QUANTILES}):
            hi = min(lo + 1, n - 1)
            # An offset walks past that many index entries: the 90th percentile is read
            # from the far end, a tenth of the way in instead of nine tenths.
            if lo <= n - 1 - hi:
                rows = conn.execute(pick.format(order="ASC"), (*key, hi - lo + 1, lo))
                positions: range = range(lo, hi + 1)
            else:
                rows = conn.execute(pick.format(order="DESC"), (*key, hi - lo + 1, n - 1 - hi))
                positions = range(hi, lo - 1, -1)
            for position, (x,) in zip(positions, rows.fetchall(), strict=True):
                at[position] = x
        out[g] = _summary(n, average_, at)
    return out


def _summary(n: int, mean: float, at: dict[int, float]) -> dict[str, Any]:
    """Count, mean, median and p90 from the values at the (0-based, sorted) positions the
    quantiles fall between."""
    result: dict[str, Any] = {"count": n, "mean": mean}
    for q, name in zip(QUANTILES, ("median", "p90"), strict=True):
        pos = (n - 1) * q
        lo = int(pos)
        low = at[lo]
        high = at.get(lo + 1, low)
        result[name] = low + (high - low) * (pos - lo)
    return result


def ratio(part: float | None, whole: float | None) -> float | None:
    """``part / whole`` rounded to 4 places, or None when there is no whole."""
    if not whole or part is None:
        return None
    return round(part / whole, 4)


def days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 86400, 4)


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 4)
