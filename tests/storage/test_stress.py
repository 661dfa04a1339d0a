"""Trying to break the store: many processes writing at once, and SIGKILL at random moments.

Each test runs at two sizes: the default (CI, well under two minutes for both) and, marked
``slow`` and excluded by default, ten times longer (``python -m pytest -m slow``). Each test
prints what it survived (``-s`` shows it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from leadcli.storage.paths import backup_dir, backup_glob
from tests.conftest import assert_group_ends

SCALES = [1, pytest.param(10, marks=pytest.mark.slow, id="slow")]
#: Deterministic timestamps: a command killed after its commit must leave exactly the state
#: a run to the end leaves.
NOW = "2026-03-02T10:00:00Z"


def _leadcli(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "leadcli", "--db", str(db), *args]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "LEADCLI_NOW": NOW, **extra}


def _csv(path: Path, rows: int, tag: str) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        out.write("Name,Email,Company,Phone\n")
        for i in range(rows):
            out.write(f"P{tag}x{i} Q{i % 97},p{tag}x{i}@example{i % 50}.com,Co{i % 300},\n")
    return path


def _run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _leadcli(db, *args), capture_output=True, text=True, env=_env(), timeout=300
    )


# --------------------------------------------------------------------------- concurrency


@dataclass
class Writer:
    """A loop of `leadcli log` processes; remembers every write that reported success."""

    db: Path
    name: str
    minimum: int
    stop: threading.Event
    done: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def run(self) -> None:
        n = 0
        while n < self.minimum or not self.stop.is_set():
            note = f"{self.name}-{n}"
            result = subprocess.run(
                _leadcli(self.db, "log", str(1 + n % 20), "call", note),
                capture_output=True,
                text=True,
                env=os.environ,
                timeout=300,
            )
            if result.returncode == 0:
                self.done.append(note)
            else:
                self.failures.append(result.stderr)
            n += 1


@pytest.mark.parametrize("scale", SCALES)
def test_loggers_an_import_a_rescore_and_readers_at_once(tmp_path: Path, scale: int):
    """4 processes logging in a loop, an import of 50,000 rows, a full rescore and `due`
    readers, at once (``scale`` rounds): every write that reported success is there, none
    failed, nothing said "database is locked"."""
    db = tmp_path / "busy.db"
    seed = _csv(tmp_path / "seed.csv", 20, "seed")
    assert _run(db, "import", str(seed)).returncode == 0
    logged: list[str] = []
    imported = 0
    reads = 0
    started = time.monotonic()
    for round_ in range(scale):
        big = _csv(tmp_path / f"big{round_}.csv", 50_000, f"r{round_}")
        stop = threading.Event()
        writers = [Writer(db, f"w{round_}.{k}", 5, stop) for k in range(4)]
        threads = [threading.Thread(target=w.run) for w in writers]
        for thread in threads:
            thread.start()
        importer = subprocess.Popen(
            _leadcli(db, "import", str(big), "-f", "json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        scorer = subprocess.Popen(
            _leadcli(db, "score"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        reader_errors: list[str] = []
        while importer.poll() is None or scorer.poll() is None:
            due = subprocess.run(
                _leadcli(db, "due", "-f", "json"), capture_output=True, text=True, timeout=300
            )
            reads += 1
            if due.returncode != 0:
                reader_errors.append(due.stderr)
            else:
                json.loads(due.stdout)
        stop.set()
        for thread in threads:
            thread.join()
        out, err = importer.communicate()
        assert importer.returncode == 0, err
        imported += json.loads(out)["imported"]
        assert scorer.wait() == 0, scorer.stderr.read()
        assert reader_errors == []
        for writer in writers:
            assert writer.failures == [], writer.failures[:1]
            logged.extend(writer.done)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        notes = sorted(r[0] for r in conn.execute("SELECT note FROM activities"))
        leads = conn.execute("SELECT count(*) FROM leads").fetchone()[0]
    assert notes == sorted(logged)  # every reported write, once; nothing else
    assert imported == 50_000 * scale and leads == 20 + imported
    print(
        f"\nconcurrency x{scale}: {len(logged)} logs, {imported:,} rows imported, "
        f"{scale} rescores, {reads} due reads, in {time.monotonic() - started:.0f} s"
    )


# --------------------------------------------------------------------------- kills


def signature(db: Path) -> str:
    """The database's content, every table (the search index's shadow tables aside), as one
    digest: equal digests are the same data."""
    digest = hashlib.sha256()
    with sqlite3.connect(db) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'leads_fts%' AND name != 'sqlite_sequence' ORDER BY name"
            )
        ]
        for table in tables:
            rows = sorted(repr(tuple(r)) for r in conn.execute(f'SELECT * FROM "{table}"'))
            digest.update(table.encode())
            for row in rows:
                digest.update(row.encode())
    return digest.hexdigest()


def _backups_whole(db: Path, leads: int) -> None:
    """Every file in the backup folder with a backup's name is a whole backup of a state."""
    for path in backup_dir(db).glob(backup_glob(db)):
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT count(*) FROM leads").fetchone()[0] == leads


@dataclass
class Scenario:
    """A command to kill: its arguments (``{input}`` is the scenario's input file) and an
    extra check of what it leaves besides the database (None: nothing else)."""

    name: str
    args: list[str]
    extra_check: Callable[[Path, int], None] | None = None


#: Add a scenario here to kill another command.
SCENARIOS = [
    Scenario("import", ["import", "{input}"]),
    Scenario("merge", ["merge", "1", "2", "3"], _backups_whole),
    Scenario("rescore", ["score"]),
    Scenario("backup", ["backup"], _backups_whole),
    # Erasure and its compaction (VACUUM) and backup purge after the commit.
    Scenario("forget", ["forget", "7", "--yes"]),
]


def _fresh(base: Path, work: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(backup_dir(work), ignore_errors=True)
    shutil.copyfile(base, work)


def _kill_group(process: subprocess.Popen, pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # ended by itself just before
        os.killpg(pid, signal.SIGKILL)
    process.wait()
    assert_group_ends(pid)


@pytest.mark.parametrize("scale", SCALES)
def test_sigkill_at_random_moments_leaves_all_before_or_all_after(tmp_path: Path, scale: int):
    """SIGKILL import, merge, rescore, backup and forget at random moments (4 kills each, 40 when
    slow): after each, the integrity check passes and the data is exactly as before the
    command or exactly as after it."""
    base = tmp_path / "base.db"
    seed = _csv(tmp_path / "seed.csv", 20_000, "base")
    assert _run(base, "import", str(seed)).returncode == 0
    # The suppression list's random key is made by the first forget: made here, the runs of
    # the forget scenario all write the same digests.
    assert _run(base, "forget", "20000", "--yes").returncode == 0
    sqlite3.connect(base).close()  # the last connection checkpoints: one self-contained file
    new_rows = _csv(tmp_path / "new.csv", 20_000, "new")
    rng = random.Random(15)
    work = tmp_path / "work" / "leads.db"
    work.parent.mkdir(mode=0o700)
    kills = 0
    finished = 0
    started = time.monotonic()
    # Starting Python and opening the database: kills before that prove little, so they
    # land between then and the end of a whole run.
    t0 = time.monotonic()
    assert _run(base, "list", "-q", "--limit", "1").returncode == 0
    startup = time.monotonic() - t0
    for scenario in SCENARIOS:
        args = [a.replace("{input}", str(new_rows)) for a in scenario.args]
        _fresh(base, work)
        before = signature(work)
        with sqlite3.connect(work) as conn:
            leads_before = conn.execute("SELECT count(*) FROM leads").fetchone()[0]
        t0 = time.monotonic()
        full = _run(work, *args)
        duration = time.monotonic() - t0
        assert full.returncode == 0, full.stderr
        after = signature(work)
        for _ in range(4 * scale):
            _fresh(base, work)
            process = subprocess.Popen(
                _leadcli(work, *args),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=_env(),
                start_new_session=True,
            )
            time.sleep(rng.uniform(min(startup, 0.8 * duration), duration))
            _kill_group(process, process.pid)
            if process.returncode == -signal.SIGKILL:
                kills += 1
            else:
                finished += 1
            with sqlite3.connect(work) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            state = signature(work)
            assert state in (before, after), f"{scenario.name}: a state between before and after"
            if scenario.extra_check is not None:
                scenario.extra_check(work, leads_before)
        # The next run of the same command works, and clears what a killed backup left.
        assert _run(work, "backup").returncode == 0
        assert not [p for p in backup_dir(work).iterdir() if p.name.startswith(".")]
    assert kills >= 2 * len(SCENARIOS) * scale  # most kills landed inside the command
    print(
        f"\nkills x{scale}: {kills} SIGKILLs survived ({finished} runs ended first) over "
        f"{', '.join(s.name for s in SCENARIOS)}, in {time.monotonic() - started:.0f} s"
    )
