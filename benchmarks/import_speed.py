"""How fast does leadcli import a big lead file? ``leadcli import`` as a whole process on a
generated, deterministic N-row CSV (default 1,000,000) against the reference: a plain
``csv.reader`` + ``executemany`` load of the same file into a fresh SQLite table in one
transaction, timed in this same run. Prints both, the ratio, rows/s and leadcli's peak memory.

    python benchmarks/import_speed.py [--rows 1000000] [--runs 3] [--shared-phone 100] [--floor]

``--shared-phone N``: N people (distinct names and e-mails) share each phone number, like
colleagues at one switchboard. None of them is another's duplicate: import must keep them
all, and fast (before issue 11 nearly every row was "merged", 16x the reference).

``--floor``: also the schema floor, what SQLite alone takes to put the same rows into
leadcli's tables with every index, the search index and the report cells (see
``schema_floor_load``).
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from _common import COMPANIES, DATA_DIR, FIRST, LAST, SOURCES, leadcli_command, measured_run

STATUSES = [
    "New",
    "Open - Not Contacted",
    "Working - Contacted",
    "Qualified",
    "Closed - Converted",
    "Closed - Not Converted",
]


def generate(path: Path, rows: int, seed: int = 7, shared_phone: int = 0) -> Path:
    """A web-form/CRM-like export: ~0.5 % repeat an earlier person, ~0.2 % are bad; with
    ``shared_phone``, that many people share each phone number."""
    if path.exists():
        return path
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "First Name",
                "Last Name",
                "Email",
                "Phone",
                "Company",
                "Job Title",
                "Lead Source",
                "Lead Status",
                "Created Date",
                "Notes",
            ]
        )
        for i in range(rows):
            n = i
            roll = rng.random()
            if roll < 0.005 and i > 10:
                n = rng.randrange(i)  # a duplicate of an earlier person
            first, last = FIRST[n % len(FIRST)], LAST[(n // 7) % len(LAST)]
            company = COMPANIES[(n // 3) % len(COMPANIES)]
            local = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore")
            email = f"{local.decode().lower()}.{n}@{company.lower()}.example.com"
            if 0.005 <= roll < 0.006:
                email = f"{first.lower()}@@broken"  # rejected: invalid email
            p = n // shared_phone if shared_phone else n
            npa, nxx, line = 200 + p % 700, 200 + p // 700 % 700, p // 490_000 % 10_000
            shape = ["({}) {}-{:04d}", "+1 {} {} {:04d}", "{}.{}.{:04d}"][n % 3]
            phone = shape.format(npa, nxx, line)
            if 0.006 <= roll < 0.007:
                first = last = email = phone = company = ""  # rejected: nobody
            writer.writerow(
                [
                    first,
                    last,
                    email,
                    phone,
                    company,
                    "Head of Sales" if n % 5 == 0 else "",
                    SOURCES[n % len(SOURCES)],
                    STATUSES[n % len(STATUSES)],
                    f"2026-{n % 9 + 1:02d}-{n % 27 + 1:02d}T10:00:00Z",
                    "met at the expo" if n % 11 == 0 else "",
                ]
            )
    tmp.rename(path)
    return path


def reference_load(csv_path: Path, db_path: Path) -> float:
    """The floor: csv.reader + executemany into a fresh table, one transaction."""
    start = time.perf_counter()
    conn = sqlite3.connect(db_path, isolation_level=None)
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns = ", ".join(f"c{i} TEXT" for i in range(len(header)))
        conn.execute(f"CREATE TABLE leads ({columns})")
        marks = ", ".join("?" for _ in header)
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO leads VALUES ({marks})", reader)
        conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def schema_floor_load(csv_path: Path, db_path: Path) -> float:
    """What SQLite alone takes to hold the file in leadcli's own tables: the rows inserted as
    they are (nothing validated, normalised, matched, scored or recorded in history) into the
    lead table, then its indexes, search index and report cells built, in one transaction.
    Not a target: it shows how much of an import is the stored structures themselves."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from leadcli.leads import cells
    from leadcli.storage.store import connect

    connect(db_path).close()  # the schema, untimed
    start = time.perf_counter()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    built = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'leads' "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
    ).fetchall()
    for kind, name, _ in built:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        conn.executemany(
            "INSERT INTO leads (first_name, last_name, email, phone, company, title, source, "
            "stage, created_at, notes, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'prospect', ?, ?, ?)",
            ((*row[:7], row[8], row[9], now) for row in reader),
        )
    for _, _, sql in built:
        conn.execute(sql)
    conn.execute("INSERT INTO leads_fts (leads_fts) VALUES ('rebuild')")
    cells.add(conn)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def leadcli_load(csv_path: Path, db_path: Path) -> tuple[float, float]:
    """Seconds and peak resident memory (MB) of one `leadcli import`: of its largest
    process, as wait4 reports it (a big import forks a worker that converts rows)."""
    argv = [*leadcli_command(), "import", str(csv_path), "--rejects"]
    _, seconds, peak = measured_run(
        [*argv, str(db_path) + ".rejects.csv", "-f", "json"], {"LEADCLI_DB": str(db_path)}
    )
    return seconds, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shared-phone", type=int, default=0, metavar="N")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time the schema floor: the raw rows into leadcli's tables (see there)",
    )
    args = parser.parse_args()

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    suffix = f"-shared{args.shared_phone}" if args.shared_phone else ""
    csv_path = generate(
        DATA_DIR / f"import-{args.rows}{suffix}.csv", args.rows, shared_phone=args.shared_phone
    )
    ours, references, floors, peaks = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            references.append(reference_load(csv_path, Path(tmp) / f"ref{run}.db"))
            seconds, peak = leadcli_load(csv_path, Path(tmp) / f"leadcli{run}.db")
            ours.append(seconds)
            peaks.append(peak)
            if args.floor:
                floors.append(schema_floor_load(csv_path, Path(tmp) / f"floor{run}.db"))
            for db in Path(tmp).glob(f"*{run}.db*"):  # a million leads take 0.6 GB each
                db.unlink()
    reference, seconds = statistics.median(references), statistics.median(ours)
    ratio = seconds / reference
    print(
        f"file         {csv_path.name} ({csv_path.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows)"
    )
    print(f"reference    csv.reader + executemany   {reference:6.2f} s")
    rate = args.rows / seconds
    print(f"leadcli      import (whole process)     {seconds:6.2f} s  {rate:,.0f} rows/s")
    print(f"ratio        {ratio:.2f}x  (target 4.5, goal 3.5)")
    if floors:
        floor = statistics.median(floors)
        print(
            f"schema floor raw rows into leadcli's tables, indexes built  {floor:6.2f} s  "
            f"= {floor / reference:.2f}x the reference; leadcli {seconds / floor:.2f}x it"
        )
    print(f"peak memory  {max(peaks):.0f} MB, largest process  (target 250)")
    print(f"({args.runs} runs, medians)")
    return 0 if ratio <= 4.5 and max(peaks) < 250 else 1


if __name__ == "__main__":
    sys.exit(main())
