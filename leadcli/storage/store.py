"""The SQLite database: opening it safely, transactions, and forward migrations.

One connection per process, in autocommit mode (``isolation_level=None``) so that every
transaction is explicit: writers take ``BEGIN IMMEDIATE`` and wait on the busy timeout
instead of failing with "database is locked" half-way, which is what lets a cron job and a
person write at the same time.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from leadcli.errors import DatabaseError
from leadcli.storage.paths import ensure_private_file, resolve_db_path

BUSY_TIMEOUT_MS = 15_000


class Store:
    """An open leadcli database."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._writing = False

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: all of it is committed, or none of it (also on Ctrl-C).

        Inside another ``write()`` it joins that transaction, so a command acting on several
        leads with one-lead functions changes all of them or none.
        """
        if self._writing:
            yield self.conn
            return
        self._writing = True
        try:
            with self._transaction() as conn:
                yield conn
        finally:
            self._writing = False

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several queries see one consistent snapshot (WAL); inside a
        ``write()`` it reads that transaction's own state."""
        if self._writing:
            yield self.conn
            return
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def connect(path: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> Store:
    """Open (creating on first use) the database at ``path`` and bring its schema up to date."""
    db_path = resolve_db_path(path)
    try:
        if str(db_path) != ":memory:":
            ensure_private_file(db_path)
        conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseError(
            f"cannot open the database at {db_path} ({exc.__class__.__name__}: {exc})",
            hint="check the path and its permissions, or choose another with --db",
        ) from exc
    conn.row_factory = sqlite3.Row
    try:
        # busy_timeout first: switching to WAL needs a lock other processes may hold.
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal" and str(db_path) != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Each command is a new process with a cold page cache: reading through a memory map
        # of the file (shared with the OS cache) is cheaper than copying pages in.
        conn.execute("PRAGMA mmap_size = 268435456")
        store = Store(conn, db_path)
        if migrate:
            from leadcli.storage.migrations import migrate as run_migrations

            run_migrations(store)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DatabaseError(
            f"cannot use the database at {db_path} ({exc})",
            hint="is it a leadcli database? choose another with --db",
        ) from exc
    return store
