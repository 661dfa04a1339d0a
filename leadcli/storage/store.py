"""The SQLite database: opening it safely, transactions, and forward migrations.

One connection per process, in autocommit mode (``isolation_level=None``) so that every
transaction is explicit: writers take ``BEGIN IMMEDIATE`` and wait on the busy timeout
instead of failing with "database is locked" half-way, which is what lets a cron job and a
person write at the same time.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from leadcli.errors import DatabaseError, ReadOnlyDatabase
from leadcli.storage.paths import ensure_private_file, resolve_db_path

#: How long a write waits for another one to finish. An import of 50,000 rows or a full
#: rescore of a large database holds the write lock for tens of seconds on a loaded
#: machine; at 15 s, a cron job's `log` waiting behind one failed with "database is
#: locked" (tests/storage/test_stress.py, slow). Waiting is what a script wants.
BUSY_TIMEOUT_MS = 120_000

#: What a bulk change (import undo, merge, merge undo, forget) calls once every check of
#: its own has passed, holding the write lock, immediately before its first write: the
#: CLI's automatic backup. The core calls it, not the command, so a refused change (no such
#: batch, a lead merged into itself) never takes a backup that rotates a real one away.
BeforeWrite = Callable[["Store"], None]


class Store:
    """An open leadcli database."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, read_only: bool = False) -> None:
        self.conn = conn
        self.path = path
        #: Opened read-only (a file, folder or mount leadcli cannot write): reads work,
        #: ``write()`` says so.
        self.read_only = read_only
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
        if self.read_only:
            raise ReadOnlyDatabase(self.path)
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

    def checks_passed(self, before_write: BeforeWrite | None) -> None:
        """A bulk change's checks have passed and its writes follow: run ``before_write``
        (see ``BeforeWrite``). Only inside ``write()``: under the lock, nobody changes the
        database between the backup and the change."""
        if before_write is None:
            return
        if not self._writing:
            raise RuntimeError("checks_passed belongs inside store.write()")
        before_write(self)

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self.conn.close()


#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def _header_kind(db_path: Path) -> str:
    """What the file's first bytes say: ``"missing"``, ``"empty"`` (no content),
    ``"not-sqlite"`` or ``"sqlite"``; read without changing a byte."""
    try:
        with open(db_path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return "missing"
    if not header:
        return "empty"
    return "sqlite" if header == SQLITE_HEADER else "not-sqlite"


def _is_foreign(conn: sqlite3.Connection) -> bool:
    """Whether an open SQLite file belongs to another program: it has tables, and not
    leadcli's. Only reads, and runs before any pragma that writes: ``journal_mode = WAL``
    and the migrations would otherwise turn another program's database into a half-leadcli
    one (35 tables, a ``user_version``, WAL) when ``--db`` points at the wrong file."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables and version == 0:
        return False  # empty: leadcli may make it its own
    return not (version > 0 and tables >= OWN_TABLES)


#: Tables every leadcli database has had since schema 1.
OWN_TABLES = frozenset({"leads", "history"})


def _writable(db_path: Path) -> bool:
    """Whether SQLite could write here: the file, and (for its -wal and -shm) its folder."""
    return os.access(db_path, os.W_OK) and os.access(db_path.parent, os.W_OK | os.X_OK)


def _open_read_only(db_path: Path) -> sqlite3.Connection:
    """A read-only file or mount: ``mode=ro`` reads a WAL database when its -shm can be
    used; on a read-only folder it cannot, and ``immutable=1`` (nobody can write there
    either) is what lets SQLite read it at all."""
    uri = db_path.resolve().as_uri()
    conn = sqlite3.connect(
        f"{uri}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        conn.close()
        conn = sqlite3.connect(
            f"{uri}?mode=ro&immutable=1",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
    return conn


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    migrate: bool = True,
    create: bool = True,
    before_migration: Callable[[Store], None] | None = None,
) -> Store:
    """Open (creating on first use) the database at ``path`` and bring its schema up to date.

    With ``create=False`` a database that does not exist is an error naming the path: a
    command that only reads (``list``, ``due``) must not answer a typo in ``--db`` with an
    empty new database and an empty list, which a cron job would take for "nothing to do".

    A file that is neither empty nor leadcli's (another program's SQLite database, a CSV
    given by mistake) is refused before anything is written to it. A file leadcli cannot
    write (read-only file, folder or mount) opens read-only: reading commands work and the
    first write says why it cannot. ``before_migration`` is called (with the store, inside
    the first migration's lock) when an existing database is about to be migrated: the CLI
    takes an automatic backup there; a fresh database is never backed up.
    """
    db_path = resolve_db_path(path)
    memory = str(db_path) == ":memory:"
    if not create and not memory and not db_path.exists():
        raise DatabaseError(
            f"there is no database at {db_path}",
            hint="check --db or LEADCLI_DB; `leadcli add` or `leadcli import` creates one",
        )
    read_only = False
    try:
        kind = "missing" if memory else _header_kind(db_path)
        if kind == "not-sqlite":
            raise DatabaseError(
                f"{db_path} is not a SQLite database; leadcli left it untouched",
                hint="choose another file with --db or LEADCLI_DB",
            )
        if kind == "missing" and not memory:
            ensure_private_file(db_path)
        read_only = not memory and not _writable(db_path)
        if read_only:
            conn = _open_read_only(db_path)
        else:
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
        if kind == "sqlite" and _is_foreign(conn):
            raise DatabaseError(
                f"{db_path} is another program's SQLite database; leadcli left it untouched",
                hint="choose another file with --db or LEADCLI_DB",
            )
        if not read_only:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal" and not memory:
                conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Each command is a new process with a cold page cache: reading through a memory map
        # of the file (shared with the OS cache) is cheaper than copying pages in.
        conn.execute("PRAGMA mmap_size = 268435456")
        store = Store(conn, db_path, read_only=read_only)
        if migrate:
            from leadcli.storage.migrations import SCHEMA_VERSION
            from leadcli.storage.migrations import migrate as run_migrations

            if read_only and store.schema_version() < SCHEMA_VERSION:
                raise DatabaseError(
                    f"the database at {db_path} is read-only and needs an upgrade first",
                    hint="open it once with write access, or copy it somewhere writable",
                )
            run_migrations(store, before=before_migration)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DatabaseError(
            f"cannot use the database at {db_path} ({exc})",
            hint="is it a leadcli database? choose another with --db",
        ) from exc
    except BaseException:
        conn.close()
        raise
    return store
