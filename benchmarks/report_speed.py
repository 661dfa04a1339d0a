"""How fast are reports at scale? ``leadcli report`` and each sub-report as whole processes
on a database of 1,000,000 leads with stage history, against the ``sqlite3`` command-line
tool making one full aggregate pass over the same file
(``SELECT source, stage, COUNT(*), SUM(value) FROM leads GROUP BY 1, 2``); prints medians
and ratios (target: at most 2x). Each run of a report is paired with a run of the reference
just before it, and the ratio is the median of the pairs' ratios: the machine is shared, and
a load that comes and goes during the benchmark then weighs on both sides alike. Without the
``sqlite3`` tool it says so and stops (Debian/Ubuntu: ``apt-get install sqlite3``).

The history: every lead past ``prospect`` moved there a few days after it was created (a
customer or a lost lead through ``sql`` first, so the funnel has depth), and closed leads
carry their close date; a third of the leads were contacted within two days.

    python benchmarks/report_speed.py [--leads 1000000] [--runs 5] [--only funnel,sources]
        [--as-of 2026-06-30] [--formats json]

``--as-of DAY`` times each report as of that day (each lead's stage rebuilt from its history);
``--formats`` the output formats timed (default: table and json).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

from _common import DATA_DIR, build_lead_db, leadcli_command

TARGET = 2.0
REPORTS = (
    "",
    "pipeline",
    "funnel",
    "sources",
    "velocity",
    "response",
    "lost",
    "cohorts",
    "ratings",
)
REFERENCE_SQL = "SELECT source, stage, COUNT(*), SUM(value) FROM leads GROUP BY 1, 2"


def build_report_db(leads: int) -> str:
    """Leads from _common (opened once by leadcli so every migration has run), then values,
    stage history, close dates and contact times, set-based in SQL."""
    path = DATA_DIR / f"report-{leads}.db"
    if path.exists():
        return str(path)
    base = build_lead_db(DATA_DIR / f"leads-{leads}.db", leads)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(base) as source, sqlite3.connect(tmp) as target:
        source.backup(target)
    sys.path.insert(0, str(DATA_DIR.parent.parent))
    from leadcli.storage.store import connect

    connect(tmp).close()  # migrate to this leadcli's schema
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("UPDATE leads SET value = (id % 50) * 100 + 500")
    days = "strftime('%Y-%m-%dT%H:%M:%SZ', created_at, '+' || ({n}) || ' days')"
    # the first move: from prospect to where the lead is (closed leads pass through sql)
    conn.execute(
        "INSERT INTO history (lead_id, at, event, changes, reason) "
        f"SELECT id, {days.format(n='id % 5 + 1')}, 'stage', json_object('stage', "
        "json_array('prospect', CASE WHEN stage IN ('customer', 'lost') THEN 'sql' "
        "ELSE stage END)), 'manual' FROM leads WHERE stage <> 'prospect' ORDER BY id"
    )
    conn.execute(
        "INSERT INTO history (lead_id, at, event, changes, reason) "
        f"SELECT id, {days.format(n='id % 40 + 7')}, 'stage', "
        "json_object('stage', json_array('sql', stage), 'lost_reason', "
        "json_array(NULL, CASE WHEN stage = 'lost' THEN 'no budget' END)), 'manual' "
        "FROM leads WHERE stage IN ('customer', 'lost') ORDER BY id"
    )
    conn.execute(
        f"UPDATE leads SET closed_at = {days.format(n='id % 40 + 7')}, "
        "lost_reason = CASE WHEN stage = 'lost' THEN "
        "CASE id % 3 WHEN 0 THEN 'no budget' WHEN 1 THEN 'bad timing' ELSE 'not a fit' END END "
        "WHERE stage IN ('customer', 'lost')"
    )
    conn.execute(
        "UPDATE leads SET first_contacted_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at, "
        "'+' || (id % 2880) || ' minutes') WHERE id % 3 = 0"
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    tmp.rename(path)
    return str(path)


def paired(
    reference: list[str], argv: list[str], runs: int, env: dict[str, str]
) -> tuple[float, float, float]:
    """(median seconds of ``argv``, of the reference, and the median ratio of each run of
    ``argv`` to the reference run just before it)."""
    full_env = {**os.environ, **env}
    seconds, references, ratios = [], [], []
    for i in range(runs + 1):  # the first pair warms the caches up and is not counted
        times = []
        for command in (reference, argv):
            start = time.perf_counter()
            subprocess.run(
                command,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=full_env,
                check=True,
            )
            times.append(time.perf_counter() - start)
        if i:
            references.append(times[0])
            seconds.append(times[1])
            ratios.append(times[1] / times[0])
    return statistics.median(seconds), statistics.median(references), statistics.median(ratios)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated sub-reports ('' = all)")
    parser.add_argument("--as-of", default=None, help="time the reports as of this day")
    parser.add_argument("--formats", default="table,json", help="comma-separated formats")
    args = parser.parse_args()
    sqlite3_cli = shutil.which("sqlite3")
    if sqlite3_cli is None:
        print("the sqlite3 command-line tool is not installed: no reference to compare with")
        return 2
    db = build_report_db(args.leads)
    reference = [sqlite3_cli, db, REFERENCE_SQL]
    leadcli = leadcli_command()
    print("reference: sqlite3 " + REFERENCE_SQL)
    failed = False
    names = [n for n in args.only.split(",") if n] if args.only else REPORTS
    env = {"LEADCLI_DB": db, "LEADCLI_NOW": "2026-11-01T00:00:00Z"}
    for name in names:
        for fmt in args.formats.split(","):
            as_of = ["--as-of", args.as_of] if args.as_of else []
            argv = [*leadcli, "report", *([name] if name else []), *as_of, "-f", fmt]
            seconds, ref, ratio = paired(reference, argv, args.runs, env)
            failed |= ratio > TARGET
            verdict = " ok" if ratio <= TARGET else f" OVER {TARGET}x"
            label = f"report {name}".strip() + (f" --as-of {args.as_of}" if args.as_of else "")
            label += f" -f {fmt}"
            print(
                f"leadcli {label:<44} {seconds * 1000:8.1f} ms (reference {ref * 1000:6.1f} ms)"
                f"  {ratio:5.2f}x{verdict}"
            )
    print(f"({args.runs} runs each, medians; {args.leads:,} leads; the machine is shared)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
