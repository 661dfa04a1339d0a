"""How fast is the morning due list at scale? ``leadcli due`` as a whole process on a
database of 1,000,000 leads with 100,000 open follow-ups, against
``python -c "import sqlite3"``; prints medians and the ratio (target: at most 10x).

Two shapes of data: ``typical`` spreads follow-ups from a week overdue to three months ahead
(about 7,000 due today); ``stress`` spreads them from 60 days overdue to 60 ahead (half of
them, 50,000, overdue), the worst a neglected pipeline looks. Each due item has to be ranked,
so the second is slower; the target is for the first.

    python benchmarks/due_speed.py [--leads 1000000] [--followups 100000] [--runs 9]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import UTC, datetime

from _common import DATA_DIR, build_lead_db, leadcli_command, time_process

TARGET = 10.0


SHAPES = {"typical": (-7, 90), "stress": (-60, 60)}


def build_due_db(leads: int, followups: int, shape: str) -> str:
    """Leads from _common, then follow-ups, activity and contact times set-based in SQL.

    Follow-ups are spread over the shape's days around today; a fifth of the
    leads have been contacted (some long ago: "gone quiet"), the newest are uncontacted.
    """
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    first, last = SHAPES[shape]
    path = DATA_DIR / f"due-{shape}-{leads}-{followups}-{today}.db"
    if path.exists():
        return str(path)
    base = build_lead_db(DATA_DIR / f"leads-{leads}.db", leads)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(base) as source, sqlite3.connect(tmp) as target:
        source.backup(target)
    conn = sqlite3.connect(tmp, isolation_level=None)
    every = max(1, leads // followups)
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO followups (lead_id, due_at, note, created_at) "
        "SELECT id, strftime('%Y-%m-%dT09:00:00Z', 'now', ((id / ?) % ? + ?) || ' days'), "
        "'call back', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-61 days') "
        "FROM leads WHERE id % ? = 0 LIMIT ?",
        (every, last - first + 1, first, every, followups),
    )
    conn.execute(
        "UPDATE leads SET next_follow_up_at = (SELECT min(due_at) FROM followups f "
        "WHERE f.lead_id = leads.id AND f.done_at IS NULL) WHERE id % ? = 0",
        (every,),
    )
    conn.execute(
        "UPDATE leads SET first_contacted_at = created_at, last_activity_at = "
        "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (id % 90) || ' days') WHERE id % 5 = 0"
    )
    # the newest 2,000 leads arrived in the last day and nobody has called them yet
    conn.execute(
        "UPDATE leads SET created_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', "
        "'-' || (id % 1440) || ' minutes'), first_contacted_at = NULL, last_activity_at = NULL "
        "WHERE id > (SELECT max(id) FROM leads) - 2000"
    )
    conn.execute("UPDATE leads SET do_not_contact = 1 WHERE id % 97 = 0")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    tmp.rename(path)
    return str(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--followups", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    reference = time_process([sys.executable, "-c", "import sqlite3"], args.runs)
    print(f"reference  python -c 'import sqlite3'  {reference * 1000:7.1f} ms")
    failed = False
    for shape in SHAPES:
        db = build_due_db(args.leads, args.followups, shape)
        env = {"LEADCLI_DB": db, "COLUMNS": "120"}
        for label in ("due", "due --days 7"):
            seconds = time_process([*leadcli_command(), *label.split()], args.runs, env=env)
            ratio = seconds / reference
            checked = shape == "typical" and label == "due"
            failed |= checked and ratio > TARGET
            verdict = (" ok" if ratio <= TARGET else f" OVER {TARGET}x") if checked else ""
            print(
                f"{shape:<8} leadcli {label:<14} {seconds * 1000:7.1f} ms  {ratio:5.1f}x{verdict}"
            )
    print(f"({args.runs} runs each, medians; {args.leads:,} leads, {args.followups:,} follow-ups)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
