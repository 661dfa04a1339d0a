"""How fast does leadcli start? Whole processes, as cron and shell loops run it.

Times ``leadcli --version``, ``leadcli --help`` and ``leadcli list --limit 10`` on a
100,000-lead database against ``python -c "import sqlite3"`` (the floor for any Python tool
that opens SQLite), and prints each median and ratio.

    python benchmarks/startup.py [--leads 100000] [--runs 15]
"""

from __future__ import annotations

import argparse
import sys

from _common import DATA_DIR, build_lead_db, leadcli_command, time_process

TARGETS = {"--version": 6.0, "list --limit 10": 10.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    db = build_lead_db(DATA_DIR / f"startup-{args.leads}.db", args.leads)
    env = {"LEADCLI_DB": str(db), "COLUMNS": "100"}
    leadcli = leadcli_command()
    reference = time_process([sys.executable, "-c", "import sqlite3"], args.runs)
    print(f"reference  python -c 'import sqlite3'  {reference * 1000:7.1f} ms")
    failed = False
    for label in ("--version", "--help", "list --limit 10"):
        seconds = time_process([*leadcli, *label.split()], args.runs, env=env)
        ratio = seconds / reference
        target = TARGETS.get(label)
        verdict = "" if target is None else (" ok" if ratio <= target else f" OVER {target}x")
        failed |= target is not None and ratio > target
        print(f"leadcli {label:<18} {seconds * 1000:7.1f} ms  {ratio:5.1f}x{verdict}")
    print(f"({args.runs} runs each, medians; database of {args.leads:,} leads)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
