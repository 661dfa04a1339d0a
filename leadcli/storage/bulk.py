"""Settings for bulk writes: how a big change builds its indexes fast, in one place."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator

#: Page cache (KiB) while a bulk change rebuilds indexes (and an import finds duplicates). SQLite
#: sorts an index's keys in runs the size of the page cache, on helper threads when it may
#: use them, and merges the runs: small runs spread over two cores make this part of a
#: million-row import about a quarter faster than the 32 MB cache the load itself uses.
INDEX_BUILD_CACHE_KIB = 2048


@contextlib.contextmanager
def index_builds(conn: sqlite3.Connection, building: bool = True) -> Iterator[None]:
    """Sort with helper threads and a small cache while indexes are (re)built, then go back.
    Used by every bulk path that drops indexes and builds them again (import, rescoring)."""
    if not building:
        yield
        return
    cache = conn.execute("PRAGMA main.cache_size").fetchone()[0]
    conn.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
    conn.execute(f"PRAGMA main.cache_size = -{INDEX_BUILD_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute("PRAGMA threads = 0")
        conn.execute(f"PRAGMA main.cache_size = {cache}")


def indexes(
    conn: sqlite3.Connection, table: str, which: Callable[[str, str], bool]
) -> list[tuple[str, str]]:
    """``table``'s own indexes for which ``which(name, sql)`` holds: names and the
    statements that build them."""
    return [
        (name, sql)
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
        if which(name, sql)
    ]


def drop_indexes(
    conn: sqlite3.Connection, table: str, which: Callable[[str, str], bool]
) -> list[tuple[str, str]]:
    """Drop ``indexes(conn, table, which)`` and return them, to be built again after the
    bulk change (in the caller's transaction: an interrupted change leaves them as they
    were)."""
    found = indexes(conn, table, which)
    for name, _ in found:
        conn.execute(f'DROP INDEX "{name}"')
    return found
