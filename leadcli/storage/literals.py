"""Values written into SQL text: where a statement is built once and reused (score terms,
role-address and placeholder tests, report CASEs), its values are inlined as literals."""

from __future__ import annotations


def sql_text(value: str) -> str:
    """A SQL string literal for ``value`` (quotes doubled): safe for any text."""
    return "'" + value.replace("'", "''") + "'"
