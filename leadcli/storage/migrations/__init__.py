"""Forward migrations of the database schema, one function per step.

The schema version is ``PRAGMA user_version``: reading it is one cheap call, so opening an
up-to-date database imports nothing more (sqlite-utils costs ~0.2 s to import and commands are
started thousands of times by scripts). Each step runs in its own ``BEGIN IMMEDIATE``
transaction together with the version bump, and re-checks the version once it holds the lock,
so twenty processes opening a new database at once migrate it exactly once.

Never edit a released step: add a new one. A database written by any older leadcli must open
in a newer one with nothing lost.

Steps live in modules by range (``m001_m009``, ``m010_m017``, ...), their text as released;
this module holds the live names: ``MIGRATIONS``, ``SCHEMA_VERSION``, ``migrate`` and the
search index's columns today. It knows the store only by the few things it uses
(``Migratable``), so storage's two modules do not import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol, TypeVar

from leadcli.errors import DatabaseError
from leadcli.storage.migrations.m001_m009 import (
    _FTS_COLUMNS_AT_M001,
    _FTS_COLUMNS_AT_M005,
    _FTS_COLUMNS_AT_M007,
    _STAGES_AT_M006,
    m001_initial,
    m002_bant,
    m003_followups,
    m004_import_batches,
    m005_import_ranges,
    m006_cheap_checks,
    m007_identity,
    m008_scoring,
    m009_reports,
)
from leadcli.storage.migrations.m010_m017 import (
    m010_merges,
    m011_address,
    m012_capture,
    m013_privacy,
    m014_reports,
    m015_report_cells,
    m016_first_contact_unknown,
    m017_cents,
)
from leadcli.storage.migrations.m018_m029 import (
    m018_outreach,
    m019_unreachable_ends_enrolments,
)

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

    from sqlite_utils import Database

__all__ = [
    "FTS_COLUMNS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "_FTS_COLUMNS_AT_M001",
    "_FTS_COLUMNS_AT_M005",
    "_FTS_COLUMNS_AT_M007",
    "_STAGES_AT_M006",
    "Migratable",
    "m001_initial",
    "m002_bant",
    "m003_followups",
    "m004_import_batches",
    "m005_import_ranges",
    "m006_cheap_checks",
    "m007_identity",
    "m008_scoring",
    "m009_reports",
    "m010_merges",
    "m011_address",
    "m012_capture",
    "m013_privacy",
    "m014_reports",
    "m015_report_cells",
    "m016_first_contact_unknown",
    "m017_cents",
    "m018_outreach",
    "m019_unreachable_ends_enrolments",
    "migrate",
]


#: Columns the full-text index covers today (``list --search``): live code reads this. A
#: released step never does (changing it would rewrite history): each step that built the
#: index spells out its own columns, as ``_FTS_COLUMNS_AT_M001`` ... ``_AT_M007`` below.
FTS_COLUMNS = (
    "first_name",
    "last_name",
    "company",
    "email",
    "notes",
    "other_emails",
    "other_phones",
)


class Migratable(Protocol):
    """What migrating needs of a store (``storage.store.Store`` is one)."""

    conn: sqlite3.Connection
    path: Path

    def write(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def schema_version(self) -> int: ...


M = TypeVar("M", bound=Migratable)

#: Every step in order; the schema version is the number of steps applied.
MIGRATIONS: list[Callable[[Database], None]] = [
    m001_initial,
    m002_bant,
    m003_followups,
    m004_import_batches,
    m005_import_ranges,
    m006_cheap_checks,
    m007_identity,
    m008_scoring,
    m009_reports,
    m010_merges,
    m011_address,
    m012_capture,
    m013_privacy,
    m014_reports,
    m015_report_cells,
    m016_first_contact_unknown,
    m017_cents,
    m018_outreach,
    m019_unreachable_ends_enrolments,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(
    store: M, *, target: int | None = None, before: Callable[[M], None] | None = None
) -> int:
    """Apply pending steps (up to ``target``); return the resulting schema version.

    ``before`` is called once, holding the write lock, when a database that already has a
    schema is about to change (the CLI's automatic backup); never for a fresh one, and
    never by a process that finds another one has migrated it meanwhile."""
    target = SCHEMA_VERSION if target is None else target
    current = store.schema_version()
    if current > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database at {store.path} was written by a newer leadcli "
            f"(schema {current}, this one knows {SCHEMA_VERSION})",
            hint="upgrade leadcli: pip install -U leadcli",
        )
    if current >= target:
        return current
    from sqlite_utils import Database

    db = Database(store.conn, recursive_triggers=False)
    # A step may rebuild a table (drop, then rename a copy): with foreign keys on, dropping
    # the lead table would delete every tag and activity. The pragma only takes effect
    # outside a transaction; steps that rebuild check the references themselves.
    foreign_keys = store.conn.execute("PRAGMA foreign_keys").fetchone()[0]
    store.conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for number, step in enumerate(MIGRATIONS[:target], start=1):
            if number <= current:
                continue
            with store.write():
                if store.schema_version() >= number:  # another process got here first
                    continue
                if before is not None and current > 0:
                    before(store)  # an existing schema, about to change
                    before = None
                step(db)
                store.conn.execute(f"PRAGMA user_version = {number}")
    finally:
        store.conn.execute(f"PRAGMA foreign_keys = {foreign_keys}")
    return store.schema_version()
