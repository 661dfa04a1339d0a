"""The one ``UPDATE ... SET`` builder: a row's columns set from a mapping, by id.

Column names become SQL text, so they must come from code (field lists), never from data:
a name that is not a plain identifier is refused rather than quoted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any


def set_columns(
    conn: sqlite3.Connection,
    table: str,
    row_id: int,
    values: Mapping[str, Any],
    *,
    updated_at: str | None = None,
) -> None:
    """``UPDATE table SET k = ?, ... [, updated_at = ?] WHERE id = ?``; nothing when there is
    nothing to set."""
    columns = dict(values)
    if updated_at is not None:
        columns["updated_at"] = updated_at
    if not columns:
        return
    for name in (table, *columns):
        if not name.isidentifier():
            raise ValueError(f"not a column or table name: {name!r}")
    assignments = ", ".join(f"{name} = ?" for name in columns)
    conn.execute(
        f"UPDATE {table} SET {assignments} WHERE id = ?",  # names checked above
        (*columns.values(), row_id),
    )
