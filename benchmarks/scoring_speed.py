"""How fast does `leadcli score` rescore a big database, and does a score sort stay fast?

Builds (once, cached in .data/) a database of N leads (default 1,000,000) with five custom
fields each, then times whole processes:

- `leadcli score` by the shipped rules and `leadcli score --model predictive` with a model
  over the five custom fields and the source (a table of points like one `model train`
  stores), against a raw-SQLite reference in the same run: one UPDATE writing every open
  lead's score from an expression over the same custom fields;
- `leadcli list --sort -score --limit 20` against `python -c "import sqlite3"`.

Targets: rescoring a million leads <= 20 s (goal 10 s); the list under 10x the reference.

    python benchmarks/scoring_speed.py [--leads 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from _common import DATA_DIR, build_lead_db, leadcli_command, time_process

CUSTOM = (
    "json_object('Industry', char(65 + abs(random()) % 12), "
    "'Employees', CAST(abs(random()) % 5000 AS TEXT), "
    "'Plan', CASE abs(random()) % 4 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' "
    "WHEN 2 THEN 'Select' ELSE 'team' END, "
    "'Visits', CAST(abs(random()) % 40 AS TEXT), "
    "'Region', CASE abs(random()) % 3 WHEN 0 THEN 'emea' WHEN 1 THEN 'amer' ELSE 'apac' END)"
)


def build(n: int) -> Path:
    path = DATA_DIR / f"scoring-{n}.db"
    if path.exists():
        return path
    base = build_lead_db(DATA_DIR / f"startup-{n}.db", n)
    tmp = path.with_suffix(".building")
    shutil.copy(base, tmp)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute(f"UPDATE leads SET custom = {CUSTOM}")
    conn.execute("COMMIT")
    conn.close()
    subprocess.run(
        [*leadcli_command(), "--db", str(tmp), "list", "--limit", "1"],
        check=True,
        capture_output=True,
    )  # migrates it
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute(
        "INSERT INTO scoring_models (trained_at, form, closed_leads, customers, lost, model) "
        "VALUES ('2026-01-01T00:00:00Z', 'binned-logistic', 1000, 300, 700, ?)",
        (json.dumps(_model()),),
    )
    conn.close()
    tmp.rename(path)
    return path


def _model() -> dict:
    def category(key, levels):
        return {
            "name": key,
            "source": {"from": "custom", "key": key},
            "kind": "category",
            "missing": -0.2,
            "other": 0.0,
            "levels": {v: 0.1 * (i - len(levels) / 2) for i, v in enumerate(levels)},
        }

    def number(key, edges):
        return {
            "name": key,
            "source": {"from": "custom", "key": key},
            "kind": "number",
            "missing": -0.1,
            "edges": edges,
            "bins": [0.05 * i - 0.2 for i in range(len(edges) + 1)],
        }

    return {
        "form": "binned-logistic",
        "settings": {"form": "binned-logistic", "bins": 16, "ridge": 2.0, "smooth": 10.0},
        "intercept": -0.8,
        "features": [
            category("Industry", [chr(65 + i).lower() for i in range(12)]),
            number("Employees", [50.0, 200.0, 500.0, 1000.0, 2000.0, 4000.0]),
            category("Plan", ["free", "pro", "team"]),
            number("Visits", [float(v) for v in range(2, 40, 3)]),
            category("Region", ["emea", "amer", "apac"]),
            {
                "name": "source",
                "source": {"from": "column", "column": "source"},
                "kind": "category",
                "missing": 0.0,
                "other": 0.0,
                "levels": {"web": 0.1, "referral": 0.6, "ads": -0.3, "event": 0.2},
            },
        ],
    }


def time_once(argv: list[str], db: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env={**os.environ, "LEADCLI_DB": str(db)})
    return time.perf_counter() - start


def reference_update(db: Path) -> float:
    start = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "UPDATE leads SET score = (CAST(json_extract(custom, '$.Visits') AS INTEGER) "
        "+ CAST(json_extract(custom, '$.Employees') AS INTEGER) % 60) "
        "WHERE stage != 'customer' AND stage != 'lost'"
    )
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    db = build(args.leads)
    open_leads = (
        sqlite3.connect(db)
        .execute("SELECT count(*) FROM leads WHERE stage != 'customer' AND stage != 'lost'")
        .fetchone()[0]
    )
    leadcli = leadcli_command()
    failed = False
    print(f"{args.leads:,} leads ({open_leads:,} open), five custom fields each")
    for label, extra in (("rules", []), ("predictive", ["--model", "predictive"])):
        times, refs = [], []
        for _ in range(args.runs):
            refs.append(reference_update(db))
            times.append(time_once([*leadcli, "score", *extra], db))
        times.sort()
        refs.sort()
        median, ref = times[len(times) // 2], refs[len(refs) // 2]
        verdict = "ok" if median <= 20 else "OVER 20 s"
        failed |= median > 20
        print(
            f"score {label:<10} {median:6.1f} s  ({median / ref:4.1f}x a raw UPDATE of "
            f"{ref:.1f} s) {verdict}"
        )
    reference = time_process([sys.executable, "-c", "import sqlite3"], 9)
    listing = time_process(
        [*leadcli, "list", "--sort", "-score", "--limit", "20"], 9, env={"LEADCLI_DB": str(db)}
    )
    ratio = listing / reference
    failed |= ratio > 10
    print(
        f"list --sort -score --limit 20  {listing * 1000:6.0f} ms  {ratio:4.1f}x "
        f"python -c 'import sqlite3' ({reference * 1000:.0f} ms) "
        f"{'ok' if ratio <= 10 else 'OVER 10x'}"
    )
    print(f"(medians of {args.runs} runs; list: 9 runs)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
