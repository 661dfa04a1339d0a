"""How fast does leadcli import a big lead file? ``leadcli import`` as a whole process on a
generated, deterministic N-row CSV (default 1,000,000) against the reference: a plain
``csv.reader`` + ``executemany`` load of the same file into a fresh SQLite table in one
transaction, timed in this same run. Prints both, the ratio, rows/s and leadcli's peak memory.

    python benchmarks/import_speed.py [--rows 1000000] [--runs 3] [--shared-phone 100] [--floor]

``--shared-phone N``: paired. N people (distinct e-mails, names from a small list) share
each phone number, like colleagues at one switchboard, and that file and the same file
without shared phones are imported alternately, ``--runs`` pairs: the medians, the pairs'
ratio (bound 1.15: shared phones must cost next to nothing) and the possible duplicates
each recorded. None of the colleagues is another's duplicate: import keeps them all (before
issue 11 nearly every row was "merged", 16x the reference). Then a check on a
``--check-rows`` file of the same kind: the possible duplicates the import recorded against
the pairs `dedupe` reports among the leads sharing a phone or an e-mail.

Every phone is one phonenumbers calls valid (``ValidPhones``), as in a real file: an invalid
one is kept as written and compared by its digits only.

``--floor``: also the schema floor, what SQLite alone takes to put the same rows into
leadcli's tables with every index, the search index and the report cells (see
``schema_floor_load``).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from array import array
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


class ValidPhones:
    """The ``p``-th of a fixed sequence of North American numbers that phonenumbers calls
    valid (US and Canadian area codes), as (area code, exchange, line).

    Drawn from every area code 200-899, about half the numbers would be invalid: kept as
    written and never compared as phones, so the benchmark would not measure the phone
    work a real file costs. Each candidate is checked with phonenumbers itself (about
    8 us), so the file holds only numbers it accepts."""

    def __init__(self) -> None:
        import phonenumbers

        self._pn = phonenumbers
        self._valid = array("q")  # national numbers: 8 bytes each, a million of them
        self._next = 0
        # Area codes in use: a few exchanges of each checked; every number is checked anyway.
        self._areas = [
            npa
            for npa in range(200, 1000)
            if all(self._ok(npa * 10_000_000 + nxx * 10_000 + 1234) for nxx in (200, 555, 999))
        ]

    def _ok(self, national: int) -> bool:
        number = self._pn.PhoneNumber(country_code=1, national_number=national)
        valid = self._pn.is_valid_number_for_region
        return valid(number, "US") or valid(number, "CA")

    def number(self, p: int) -> tuple[str, str, str]:
        areas = len(self._areas)
        while len(self._valid) <= p:
            c, self._next = self._next, self._next + 1
            npa, nxx, line = self._areas[c % areas], 200 + c // areas % 800, c // areas // 800
            national = npa * 10_000_000 + nxx * 10_000 + line % 10_000
            if self._ok(national):
                self._valid.append(national)
        digits = str(self._valid[p])
        return digits[:3], digits[3:6], digits[6:]


def generate(path: Path, rows: int, seed: int = 7, shared_phone: int = 0) -> Path:
    """A web-form/CRM-like export: ~0.5 % repeat an earlier person, ~0.2 % are bad; with
    ``shared_phone``, that many people share each phone number."""
    if path.exists():
        return path
    rng = random.Random(seed)
    phones = ValidPhones()
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
            npa, nxx, line = phones.number(p)
            shape = ["({}) {}-{}", "+1 {} {} {}", "{}.{}.{}"][n % 3]
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


def leadcli_load(csv_path: Path, db_path: Path) -> tuple[float, float, int]:
    """Seconds and peak resident memory (MB) of one `leadcli import`: of its largest
    process, as wait4 reports it (a big import forks a worker that converts rows); and the
    possible duplicates it recorded."""
    argv = [*leadcli_command(), "import", str(csv_path), "--rejects"]
    out, seconds, peak = measured_run(
        [*argv, str(db_path) + ".rejects.csv", "-f", "json"], {"LEADCLI_DB": str(db_path)}
    )
    return seconds, peak, int(json.loads(out).get("possible_duplicates", 0))


def dedupe_check(csv_path: Path, db_path: Path) -> tuple[int, int, int]:
    """On one import of ``csv_path``: the possible duplicates it recorded, the pairs `dedupe`
    reports at its default threshold among leads sharing a phone or an e-mail (the blocks an
    import makes), and all the pairs `dedupe` reports. Run on a small file: `dedupe` over a
    million leads takes far longer than the import."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from leadcli.identity import matcher
    from leadcli.identity.dedupe import find_duplicates
    from leadcli.importing import loader
    from leadcli.storage.store import connect

    store = connect(db_path)
    try:
        loader.import_file(
            store, str(csv_path), loader.ImportOptions(rejects=db_path.with_suffix(".rej"))
        )
        conn = store.conn
        recorded = conn.execute("SELECT count(*) FROM possible_duplicates").fetchone()[0]
        key = {
            i: (re.sub(r"\D", "", phone) if phone else None, email)
            for i, phone, email in conn.execute("SELECT id, phone, email FROM leads")
        }
        found, _ = find_duplicates(store, matcher.load_rules())
    finally:
        store.close()
    sharing = sum(
        1
        for a, b in (p["ids"] for p in found)
        if any(x is not None and x == y for x, y in zip(key[a], key[b], strict=True))
    )
    return recorded, sharing, len(found)


def _data_file(rows: int, shared_phone: int = 0) -> Path:
    """Where the generated file is kept ("-v2": valid phones; the files before had invalid
    ones and are not reused)."""
    suffix = f"-shared{shared_phone}" if shared_phone else ""
    return DATA_DIR / f"import-{rows}{suffix}-v2.csv"


def paired(args: argparse.Namespace) -> int:
    """``--shared-phone N``: the shared-phone file and the same file without shared phones,
    imported alternately (the order flipped each pair, so drift in the machine's load falls
    on both), ``--runs`` pairs. The bound is on the median of the pairs' ratios."""
    plain = generate(_data_file(args.rows), args.rows)
    shared = generate(
        _data_file(args.rows, args.shared_phone),
        args.rows,
        shared_phone=args.shared_phone,
    )
    times: dict[Path, list[float]] = {plain: [], shared: []}
    possible: dict[Path, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for csv_path in (shared, plain) if run % 2 == 0 else (plain, shared):
                db = Path(tmp) / f"leadcli{run}.db"
                seconds, _, possible[csv_path] = leadcli_load(csv_path, db)
                times[csv_path].append(seconds)
                for f in Path(tmp).glob(f"leadcli{run}.db*"):
                    f.unlink()
        small = generate(Path(tmp) / "check.csv", args.check_rows, shared_phone=args.shared_phone)
        recorded, sharing, found = dedupe_check(small, Path(tmp) / "check.db")
    ratios = [a / b for a, b in zip(times[shared], times[plain], strict=True)]
    ratio = statistics.median(ratios)
    for csv_path, label in ((plain, "no shared phones"), (shared, "shared phones")):
        print(
            f"{label:18} {csv_path.name}  {statistics.median(times[csv_path]):6.2f} s  "
            f"({possible[csv_path]:,} possible duplicates)"
        )
    print(
        f"ratio              {ratio:.2f}x  (pairs: {', '.join(f'{r:.2f}' for r in ratios)}; "
        f"bound 1.15)"
    )
    print(
        f"dedupe check       {args.check_rows:,} rows, {args.shared_phone} a phone: "
        f"{recorded:,} recorded by import, {sharing:,} reported by dedupe among leads sharing "
        f"a phone or e-mail ({found:,} in all)"
    )
    print(f"({args.runs} pairs, medians)")
    return 0 if ratio <= 1.15 and recorded == sharing else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shared-phone", type=int, default=0, metavar="N")
    parser.add_argument(
        "--check-rows",
        type=int,
        default=5000,
        metavar="N",
        help="with --shared-phone: rows of the file the dedupe check imports",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time the schema floor: the raw rows into leadcli's tables (see there)",
    )
    args = parser.parse_args()

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if args.shared_phone:
        return paired(args)
    csv_path = generate(_data_file(args.rows), args.rows)
    ours, references, floors, peaks = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            references.append(reference_load(csv_path, Path(tmp) / f"ref{run}.db"))
            seconds, peak, _ = leadcli_load(csv_path, Path(tmp) / f"leadcli{run}.db")
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
