"""Dedupe quality on the FEBRL record-linkage sets: recall, precision and time.

Each set is imported as leads (given_name -> first name, surname -> last name, suburb ->
city, the other columns as custom fields, soc_sec_id left out, nothing merged on import),
then ``leadcli dedupe -f json --compare`` with the address lines, street number, postcode,
state and date of birth runs as a real process. ``rec_id`` (kept as a custom field that
dedupe is never asked to compare) says which leads are truly one person: every pair within a
true group is a true pair.

    python benchmarks/dedupe_quality.py            # dataset1, and 4a + 4b together

Prints, per set: true pairs, found pairs, recall, precision and the dedupe command's time
(median of --runs). The floor the tests hold: recall >= 98 %, precision >= 99 %, < 5 s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FEBRL = HERE.parent.parent / "shared" / "datasets" / "febrl"
SETS = {"dataset1": ["dataset1.csv"], "dataset4": ["dataset4a.csv", "dataset4b.csv"]}
COMPARE = ("address_1", "address_2", "street_number", "postcode", "state", "date_of_birth")
MAP = (
    "given_name=first_name",
    "surname=last_name",
    "suburb=city",
    "soc_sec_id=ignore",
    "rec_id=custom",
)


def leadcli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadcli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LEADCLI_CONFIG": str(db.parent / "config.toml")},
    )


def import_set(db: Path, files: list[str]) -> None:
    maps = [a for m in MAP for a in ("--map", m)]
    for name in files:
        leadcli(
            db, "import", "files", str(FEBRL / name), *maps, "--on-duplicate", "skip", "-f", "json"
        )


def true_pairs(db: Path) -> set[tuple[int, int]]:
    rows = json.loads(leadcli(db, "list", "-f", "json").stdout)
    groups: dict[str, list[int]] = {}
    for row in rows:
        rec = next(v for k, v in row["custom"].items() if k.strip() == "rec_id")
        groups.setdefault(rec.split("-")[1], []).append(row["id"])
    return {(a, b) for ids in groups.values() for a, b in itertools.combinations(sorted(ids), 2)}


def run_dedupe(db: Path) -> tuple[set[tuple[int, int]], float]:
    compare = [a for c in COMPARE for a in ("--compare", c)]
    start = time.perf_counter()
    out = leadcli(db, "dedupe", *compare, "-f", "json").stdout
    elapsed = time.perf_counter() - start
    return {tuple(p["ids"]) for p in json.loads(out)}, elapsed


def measure(name: str, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "febrl.db"
        import_set(db, SETS[name])
        truth = true_pairs(db)
        times = []
        for _ in range(runs):
            found, elapsed = run_dedupe(db)
            times.append(elapsed)
        hits = len(found & truth)
        return {
            "true_pairs": len(truth),
            "found_pairs": len(found),
            "recall": hits / len(truth),
            "precision": hits / len(found) if found else 0.0,
            "seconds": statistics.median(times),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="dedupe runs per set (median)")
    parser.add_argument("--set", choices=sorted(SETS), action="append")
    args = parser.parse_args()
    if not FEBRL.exists():
        sys.exit(f"{FEBRL} is not present")
    for name in args.set or sorted(SETS):
        r = measure(name, args.runs)
        print(
            f"{name}: {r['true_pairs']} true pairs, {r['found_pairs']} found, "
            f"recall {r['recall']:.2%}, precision {r['precision']:.2%}, "
            f"dedupe {r['seconds']:.2f} s (median of {args.runs})"
        )


if __name__ == "__main__":
    main()
