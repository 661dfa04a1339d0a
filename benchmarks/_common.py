"""Helpers shared by the benchmark scripts: timing whole processes, building databases.

Benchmarks report ratios against a reference measured in the same run, and medians: the
machines are shared and noisy, so absolute seconds mean little.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / ".data"

FIRST = [
    "Ana",
    "Bruno",
    "Chloé",
    "David",
    "Eva",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jon",
    "Kemi",
    "Lars",
    "Maya",
    "Nils",
    "Olga",
    "Pedro",
    "Qing",
    "Rosa",
    "Sven",
    "Tara",
]
LAST = [
    "Silva",
    "Stone",
    "Müller",
    "Okafor",
    "Tanaka",
    "Novak",
    "Rossi",
    "Kim",
    "Dubois",
    "Smith",
    "García",
    "Nowak",
    "Larsen",
    "Ivanova",
    "Cohen",
    "Patel",
]
COMPANIES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Wonka",
    "Gringotts",
    "Aperture",
]
SOURCES = ["web", "referral", "event", "ads", "partner", "cold-call"]
STAGES = ["prospect", "lead", "mql", "sql", "opportunity", "customer", "lost"]


@functools.cache
def _compiled() -> None:
    """Compile leadcli's modules to bytecode, once a run (see ``leadcli_command``)."""
    import compileall

    import leadcli

    compileall.compile_dir(Path(leadcli.__file__).parent, quiet=1)


def leadcli_command() -> list[str]:
    """The installed console script next to this Python, else ``python -m leadcli``.

    leadcli's modules are compiled to bytecode first, as an installed package is (pip writes
    the ``.pyc`` files): with ``PYTHONDONTWRITEBYTECODE`` set, an editable checkout would
    otherwise compile every module it imports again on every run, and each start-up would
    be timed with some 50 ms of compiling no user pays."""
    _compiled()
    script = Path(sys.executable).parent / "leadcli"
    if script.exists():
        return [str(script)]
    found = shutil.which("leadcli")
    return [found] if found else [sys.executable, "-m", "leadcli"]


def time_process(argv: Sequence[str], runs: int, env: dict[str, str] | None = None) -> float:
    """Median wall time of ``runs`` runs of a whole process (after one warm-up run)."""
    full_env = {**os.environ, **(env or {})}
    subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=full_env, check=True
    )
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=full_env, check=True
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measured_run(
    argv: Sequence[str], env: dict[str, str] | None = None
) -> tuple[str, float, float]:
    """stdout, seconds and peak resident memory (MB) of one whole process: of that process
    alone, as wait4 reports it (its largest, when it forks), not of every child so far.
    Output goes to files, so a big one never blocks the wait."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:3])} failed: {err.read().decode()}")
        return out.read().decode(), seconds, usage.ru_maxrss / 1024


def build_lead_db(path: Path, n: int, seed: int = 1) -> Path:
    """A leadcli database of ``n`` realistic leads, built set-based (not through the CLI)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from leadcli.storage.store import connect

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    rng = random.Random(seed)
    store = connect(tmp)

    def rows():
        for i in range(n):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = rng.choice(COMPANIES)
            created = f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}T09:00:00Z"
            score = rng.randint(0, 100)
            yield (
                first,
                last,
                f"{first.lower()}.{last.lower()}{i}@{company.lower()}.example",
                f"+1415{rng.randint(2000000, 9999999)}",
                company,
                rng.choice(SOURCES),
                rng.choice(STAGES),
                score,
                "hot" if score >= 70 else "warm" if score >= 40 else "cold",
                created,
                created,
            )

    with store.write() as conn:
        conn.executemany(
            "INSERT INTO leads (first_name, last_name, email, phone, company, source, stage, "
            "score, rating, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
    store.close()
    tmp.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    return path
