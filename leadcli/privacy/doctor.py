"""``leadcli doctor``: checks of the database file, each finding with what to do about it.

Doctor only reads: it opens the database without migrating it and never writes, so it can be
run on a damaged, a read-only or an old database, and by cron. A finding is ``ok``, a
``warning`` (worth knowing, nothing is wrong yet) or a ``problem`` (something a user must
fix: the command exits 1). The one repair it offers, ``doctor --repair``, is ``repair``:
the counts kept for reports rebuilt from the leads.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadcli.errors import LeadcliError
from leadcli.storage.paths import backup_dir

if TYPE_CHECKING:
    from collections.abc import Callable

    from leadcli.leads.cells import Drift
    from leadcli.storage.store import Store

OK = "ok"
WARNING = "warning"
PROBLEM = "problem"

#: A WAL bigger than this means checkpoints are not keeping up (a reader held open for hours).
WAL_WARNING_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    check: str
    status: str
    detail: str
    #: What to do; empty when all is well.
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def healthy(findings: list[Finding]) -> bool:
    return all(f.status != PROBLEM for f in findings)


def examine(db: Path, *, keep: int | None = None) -> list[Finding]:
    """Every check on the database at ``db``; ``keep`` is ``backup.keep`` (None when the
    configuration could not be read)."""
    from leadcli.storage.store import connect

    findings = _permissions(db)
    try:
        store = connect(db, migrate=False, create=False)
    except LeadcliError as exc:
        findings.append(
            Finding("open", PROBLEM, str(exc), exc.hint or "restore a backup: leadcli restore")
        )
        return findings
    try:
        conn = store.conn
        findings.append(_schema(store.schema_version()))
        findings.extend(_integrity(conn))
        findings.append(_orphans(conn))
        findings.append(_suppressions(conn))
        findings.extend(_kept_counts(conn, store.schema_version()))
    except sqlite3.DatabaseError as exc:
        findings.append(
            Finding(
                "integrity",
                PROBLEM,
                f"the database cannot be read ({exc})",
                "restore the newest good backup: leadcli backup list, then leadcli restore PATH",
            )
        )
    finally:
        store.close()
    findings.append(_wal(db))
    findings.extend(_backups(db, keep))
    return findings


def _mode_finding(check: str, path: Path, *, folder: bool) -> Finding:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        return Finding(check, PROBLEM, f"cannot read {path}'s permissions ({exc.strerror})")
    want = 0o700 if folder else 0o600
    others_write = mode & 0o022
    others_read = mode & 0o044
    if folder and others_write and not mode & stat.S_ISVTX:
        return Finding(
            check,
            PROBLEM,
            f"{path} can be changed by other users (mode {mode:o})",
            f"chmod {want:o} {path}",
        )
    if not folder and (others_read or others_write):
        return Finding(
            check,
            PROBLEM,
            f"{path} can be read by other users (mode {mode:o})",
            f"chmod {want:o} {path}",
        )
    if folder and others_read:
        return Finding(
            check,
            WARNING,
            f"other users can list {path} (mode {mode:o})",
            f"chmod {want:o} {path}, unless the folder is shared on purpose",
        )
    return Finding(check, OK, f"{path} is owner-only")


def _permissions(db: Path) -> list[Finding]:
    findings = [_mode_finding("folder permissions", db.parent, folder=True)]
    if db.exists():
        findings.append(_mode_finding("file permissions", db, folder=False))
        for side in ("-wal", "-shm"):
            extra = Path(f"{db}{side}")
            if extra.exists():
                finding = _mode_finding(f"{side[1:]} permissions", extra, folder=False)
                if finding.status != OK:
                    findings.append(finding)
    return findings


def _schema(version: int) -> Finding:
    from leadcli.storage.migrations import SCHEMA_VERSION

    if version == SCHEMA_VERSION:
        return Finding("schema version", OK, f"schema {version}, current")
    if version < SCHEMA_VERSION:
        return Finding(
            "schema version",
            WARNING,
            f"schema {version}; this leadcli upgrades it to {SCHEMA_VERSION}",
            "any command that writes upgrades it, after an automatic backup",
        )
    return Finding(
        "schema version",
        PROBLEM,
        f"schema {version} was written by a newer leadcli (this one knows {SCHEMA_VERSION})",
        "upgrade leadcli: pip install -U leadcli",
    )


def _integrity(conn: sqlite3.Connection) -> list[Finding]:
    restore = "restore the newest good backup: leadcli backup list, then leadcli restore PATH"
    messages = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
    if messages == ["ok"]:
        integrity = Finding("integrity", OK, "SQLite's integrity check passes")
    else:
        integrity = Finding(
            "integrity",
            PROBLEM,
            f"SQLite's integrity check fails ({len(messages)} errors, first: {messages[0]})",
            restore,
        )
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        keys = Finding(
            "foreign keys",
            PROBLEM,
            f"{len(broken)} rows refer to rows that do not exist (in {', '.join(tables)})",
            restore,
        )
    else:
        keys = Finding("foreign keys", OK, "every reference points to a row")
    return [integrity, keys]


def _orphans(conn: sqlite3.Connection) -> Finding:
    """Rows about leads without a foreign key to check them (possible duplicates); history,
    batches and merge journals name removed leads on purpose and are not orphans."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "possible_duplicates" not in tables:
        return Finding("orphan rows", OK, "no table to check")
    count = conn.execute(
        "SELECT count(*) FROM possible_duplicates p WHERE NOT EXISTS "
        "(SELECT 1 FROM leads WHERE id = p.lead_id) "
        "OR NOT EXISTS (SELECT 1 FROM leads WHERE id = p.other_id)"
    ).fetchone()[0]
    if count:
        return Finding(
            "orphan rows",
            WARNING,
            f"{count} possible-duplicate pairs name a lead that no longer exists",
            "harmless; they are skipped when listed",
        )
    return Finding("orphan rows", OK, "none")


def _suppressions(conn: sqlite3.Connection) -> Finding:
    # The table m013 makes; doctor opens without migrating, so an older file may lack it.
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'suppression'"
    ).fetchone()
    count = conn.execute("SELECT count(*) FROM suppression").fetchone()[0] if exists else 0
    if not count:
        return Finding("suppression list", OK, "empty (nobody was forgotten)")
    return Finding("suppression list", OK, f"{count} entries")


#: What the kept tables hold, and how a user mends them.
_KEPT = {
    "lead_cells": ("the leads", "cells"),
    "stage_stay_totals": ("the stage stays", "stages"),
}
REPAIR = "leadcli doctor --repair (rebuilds them from the leads, after an automatic backup)"


def _kept_counts(conn: sqlite3.Connection, version: int) -> list[Finding]:
    """``lead_cells`` and ``stage_stay_totals`` against a fresh count (reports over every
    lead read them, so a kept count that is off is a report that is wrong)."""
    from leadcli.leads import cells
    from leadcli.storage.migrations import SCHEMA_VERSION

    if version != SCHEMA_VERSION:  # other columns; the upgrade counts them afresh
        return [
            Finding(
                "kept counts",
                OK,
                f"not checked at schema {version}; upgrading to {SCHEMA_VERSION} counts them "
                "afresh",
            )
        ]
    findings = []
    for drift in cells.compare(conn):
        counted, rows = _KEPT[drift.table]
        check = f"kept counts ({drift.table})"
        if not drift.rows:
            findings.append(Finding(check, OK, f"equal to a fresh count of {counted}"))
            continue
        findings.append(
            Finding(
                check,
                PROBLEM,
                f"{drift.table} differs from a fresh count of {counted} in {drift.rows} "
                f"{rows} ({_drift_parts(drift)}): reports over every lead read it",
                REPAIR,
            )
        )
    return findings


def _drift_parts(drift: Drift) -> str:
    return f"{drift.wrong} wrong, {drift.missing} missing, {drift.extra} extra"


def repair(store: Store, before: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Rebuild the kept counts that differ from a fresh count, in one write transaction
    (``BEGIN IMMEDIATE``); per table, what was changed. ``before`` (the automatic backup)
    runs holding the write lock once a difference is found: nothing differing, nothing is
    written, no backup either."""
    from leadcli.leads import cells

    with store.write() as conn:
        drifts = cells.rebuild(conn, None if before is None else lambda _: before())
    return [
        {
            "table": d.table,
            "rebuilt": bool(d.rows),
            "wrong": d.wrong,
            "missing": d.missing,
            "extra": d.extra,
        }
        for d in drifts
    ]


def _wal(db: Path) -> Finding:
    wal = Path(f"{db}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    if size > WAL_WARNING_BYTES:
        return Finding(
            "wal size",
            WARNING,
            f"the write-ahead log is {size / 1e6:,.0f} MB",
            "a process has kept the database open for long; when none is, the next "
            "leadcli command folds it back in",
        )
    return Finding("wal size", OK, f"{size / 1e6:,.1f} MB")


def _mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:  # pruned meanwhile by another process
        return 0


def _backups(db: Path, keep: int | None) -> list[Finding]:
    from leadcli.privacy.backups import list_backups

    folder = backup_dir(db)
    found = list_backups(db)
    findings: list[Finding] = []
    if folder.exists():
        mode = _mode_finding("backup folder permissions", folder, folder=True)
        if mode.status != OK:
            findings.append(mode)
        loose = [b.path for b in found if _mode(b.path) & 0o077]
        if loose:
            findings.append(
                Finding(
                    "backup permissions",
                    PROBLEM,
                    f"{len(loose)} backups can be read by other users",
                    f"chmod 600 {folder}{os.sep}*.db",
                )
            )
    if keep == 0:
        findings.append(
            Finding(
                "backups",
                WARNING,
                f"automatic backups are off (backup.keep = 0); {len(found)} backups present",
                "leadcli config set backup.keep 5",
            )
        )
    elif not found:
        findings.append(
            Finding(
                "backups",
                WARNING,
                "no backups yet",
                "leadcli backup (automatic ones come before bulk changes)",
            )
        )
    else:
        findings.append(
            Finding("backups", OK, f"{len(found)} backups, newest {found[-1].taken_at}")
        )
    return findings
