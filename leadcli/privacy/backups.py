"""Backups of the database: taken on demand, automatically before bulk changes, restored.

A backup is SQLite's online backup API read through a connection of its own, in one step:
it copies one committed snapshot (WAL readers do not block writers, nor writers readers), so
it is safe while other processes import or log. It is written to a hidden temporary name in
the destination folder, made self-contained (``journal_mode = DELETE``: no -wal beside it),
owner-only, and renamed into place: a failure or a full disk leaves nothing behind, and a
file with a backup's name is always a whole backup.

Automatic backups live only in ``paths.backup_dir(db)`` under names matching
``paths.backup_glob(db)``: ``forget`` purges an erased person from every file there, so a
copy kept anywhere else would keep the person. The newest ``backup.keep`` automatic ones
are kept, and the newest of each kind of change besides (see ``prune``); ``backup.keep = 0``
turns them off.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from leadcli.errors import DatabaseError, LeadcliError
from leadcli.storage.paths import backup_dir, backup_glob, ensure_private_dir
from leadcli.storage.store import BUSY_TIMEOUT_MS, Store

#: Default of ``backup.keep``: how many automatic backups stay.
DEFAULT_KEEP = 5
#: The reason a backup taken by ``leadcli backup`` (no PATH) carries; never pruned.
MANUAL = "manual"
#: Reasons are words in file names: lower-case letters, digits and dashes.
_REASON = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
#: ``<stem>-<UTC time to the microsecond>-<reason>.db``
_NAME = re.compile(r"-(\d{8}T\d{6}\d{6}Z)-([a-z][a-z0-9-]*)\.db$")


@dataclass(frozen=True)
class Backup:
    path: Path
    #: When it was taken, UTC, ISO 8601.
    taken_at: str
    reason: str
    size: int

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "taken_at": self.taken_at,
            "reason": self.reason,
            "bytes": self.size,
        }


def _source(store: Store) -> sqlite3.Connection:
    """A read-only connection of the backup's own: the store's connection may hold a write
    transaction (a migration takes its backup under the lock), and a backup read through
    it would wait for that transaction forever."""
    if str(store.path) == ":memory:":
        return store.conn
    uri = store.path.resolve().as_uri()
    query = "mode=ro&immutable=1" if store.read_only else "mode=ro"
    conn = sqlite3.connect(f"{uri}?{query}", uri=True, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def copy_database(store: Store, dest: Path) -> Path:
    """Copy the database's committed state to ``dest`` (replaced if it exists), atomically
    and owner-only. Refuses ``dest`` being the database itself."""
    dest = Path(dest).expanduser()
    if dest.exists() and dest.resolve() == store.path.resolve():
        raise LeadcliError(
            "a backup cannot overwrite the database itself", hint="give another file name"
        )
    if dest.is_dir():
        raise LeadcliError(f"{dest} is a folder", hint="give a file name, e.g. leads-backup.db")
    folder = dest.parent
    ensure_private_dir(folder)
    temp = folder / f".{dest.name}.{os.getpid()}.tmp"
    source = _source(store)
    try:
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        target = sqlite3.connect(temp, isolation_level=None)
        try:
            source.backup(target)  # one step: one consistent snapshot
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            target.close()
        os.replace(temp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        for side in ("-journal", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{temp}{side}").unlink()
        raise
    finally:
        if source is not store.conn:
            source.close()
    return dest


def _remove_dead_temporaries(folder: Path) -> None:
    """A backup killed mid-copy (SIGKILL, power cut) leaves its hidden temporary file; the
    next backup removes those whose process is gone (the name carries its id)."""
    for temp in folder.glob(".*.tmp*"):  # and its -journal
        pid_text = temp.name[: temp.name.rindex(".tmp")].rsplit(".", 1)[-1]
        if not pid_text.isdigit():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                temp.unlink()
        except OSError:
            continue  # alive, someone else's


def backup_to(store: Store, dest: Path) -> Backup:
    """``leadcli backup PATH``: a copy anywhere the user chooses (not pruned, not purged)."""
    path = copy_database(store, dest)
    taken_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return Backup(path=path, taken_at=taken_at, reason=MANUAL, size=path.stat().st_size)


def take_backup(store: Store, reason: str = MANUAL) -> Backup:
    """A backup into the database's backup folder, named for when and why it was taken."""
    if not _REASON.match(reason):
        raise ValueError(f"a backup reason is a short lower-case word, not {reason!r}")
    if str(store.path) == ":memory:":
        raise LeadcliError("an in-memory database has no backup folder")
    folder = backup_dir(store.path)
    ensure_private_dir(folder)
    _remove_dead_temporaries(folder)
    now = time.time_ns() // 1000
    while True:  # two backups in one microsecond (tests, scripts) get distinct names
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 1_000_000))
        name = f"{store.path.stem}-{stamp}{now % 1_000_000:06d}Z-{reason}.db"
        if not (folder / name).exists():
            break
        now += 1
    path = copy_database(store, folder / name)
    return _describe(path)


def automatic_backup(store: Store, reason: str, *, keep: int = DEFAULT_KEEP) -> Backup | None:
    """The backup before a bulk change (import undo, merge, dedupe --merge, forget, a
    migration): taken into the backup folder, then pruned (``prune``: the newest ``keep``
    and the newest of each kind stay). ``keep == 0`` turns automatic backups off (returns
    None).

    Called holding the change's write lock once its checks have passed (a bulk operation's
    ``before_write``, see ``storage.store.BeforeWrite``; a migration's ``before``): it reads
    its own snapshot, the last committed state, so nobody's change falls between the backup
    and the change, and a refused command takes none."""
    if keep <= 0 or str(store.path) == ":memory:":
        return None
    backup = take_backup(store, reason)
    prune(store.path, keep)
    return backup


def list_backups(db: Path) -> list[Backup]:
    """The backups of ``db`` in its backup folder, oldest first."""
    folder = backup_dir(db)
    found = [_describe(p) for p in folder.glob(backup_glob(db)) if _NAME.search(p.name)]
    return sorted(found, key=lambda b: (b.taken_at, b.path.name))


def prune(db: Path, keep: int) -> list[Path]:
    """Remove the automatic backups that are neither among the newest ``keep`` nor the
    newest of their kind (``merge``, ``import-undo``, ``forget``, ``upgrade`` ...; manual
    ones always stay); returns the removed paths.

    The newest of each kind stays because a busy kind would otherwise rotate another's away:
    five ``import undo`` runs must not remove the one backup from before a merge, the only
    way back from it. So up to ``keep`` plus the number of kinds stay."""
    automatic = [b for b in list_backups(db) if b.reason != MANUAL]
    newest_of_kind = {b.reason: b.path for b in automatic}  # oldest first: the last wins
    spared = {b.path for b in automatic[len(automatic) - max(0, keep) :]}
    spared |= set(newest_of_kind.values())
    doomed = [b for b in automatic if b.path not in spared]
    for backup in doomed:
        with contextlib.suppress(FileNotFoundError):  # another process pruned it
            backup.path.unlink()
    return [b.path for b in doomed]


def _describe(path: Path) -> Backup:
    match = _NAME.search(path.name)
    taken_at, reason = ("", "unknown")
    if match:
        raw, reason = match.groups()
        taken_at = (
            f"{raw[0:4]}-{raw[4:6]}-{raw[6:8]}T{raw[9:11]}:{raw[11:13]}:{raw[13:15]}.{raw[15:21]}Z"
        )
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return Backup(path=path, taken_at=taken_at, reason=reason, size=size)


def check_backup_file(path: Path) -> int:
    """Check that ``path`` is a whole leadcli database a restore can use; returns its schema
    version. Nothing is written to it."""
    from leadcli.storage.migrations import SCHEMA_VERSION
    from leadcli.storage.store import OWN_TABLES, SQLITE_HEADER

    path = Path(path).expanduser()
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseError(
            f"cannot read the backup {path} ({exc.strerror or exc})",
            hint="check the path; `leadcli backup list` lists the automatic backups",
        ) from None
    if header != SQLITE_HEADER:
        raise DatabaseError(f"{path} is not a SQLite database; nothing was restored")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path} cannot be read as a database ({exc})") from None
    finally:
        conn.close()
    if version < 1 or not tables >= OWN_TABLES:
        raise DatabaseError(f"{path} is not a leadcli database; nothing was restored")
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path} was written by a newer leadcli (schema {version})",
            hint="upgrade leadcli: pip install -U leadcli",
        )
    if integrity != "ok":
        raise DatabaseError(f"{path} fails SQLite's integrity check; nothing was restored")
    return version


def restore(store: Store, source: Path, *, checked: bool = False) -> Backup:
    """Replace the database's content with the backup at ``source``, after backing up the
    current content (always, whatever ``backup.keep``: a restore is the one change that
    throws a whole database away). Returns that backup of the current content.

    The copy goes through SQLite's backup API into the open database, under its lock, so a
    process reading or writing at the same time sees the old state or the new one, never a
    mix; the restored schema is then migrated forward if it is older. ``checked``: the
    caller has run ``check_backup_file`` on it already (its integrity check reads the whole
    file, so it is not run twice)."""
    from leadcli.storage.migrations import migrate

    if store.read_only:
        from leadcli.errors import ReadOnlyDatabase

        raise ReadOnlyDatabase(store.path)
    source = Path(source).expanduser()
    if source.resolve() == store.path.resolve():
        raise LeadcliError("that is the database itself; give a backup file")
    if not checked:
        check_backup_file(source)
    before = take_backup(store, "restore")
    backup = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        backup.backup(store.conn)
    finally:
        backup.close()
    if store.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        store.conn.execute("PRAGMA journal_mode = WAL")
    migrate(store)
    return before
