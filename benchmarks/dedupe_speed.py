"""Dedupe at scale: 100,000 generated leads with 2,000 planted near-duplicates.

Each planted lead copies an original with a typo in a name or first and last name swapped,
often a new e-mail at the same domain, and often another phone. ``leadcli dedupe -f json``
runs as a real process; the script prints how many planted pairs it found (recall), how many
pairs it reported that were not planted (false pairs), the time (median of --runs) and the
peak memory of the process, next to a reference: the same process running ``list -f json``
over the same database (reading every lead once), since timings on a shared machine only
mean something as ratios.

    python benchmarks/dedupe_speed.py [--leads 100000] [--planted 2000] [--runs 3]

The database is cached in benchmarks/.data/. Floors (issue 11): recall >= 95 %, false
pairs <= 5 %, <= 60 s (30 s goal), < 1 GiB.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
from pathlib import Path

from _common import DATA_DIR as DATA
from _common import leadcli_command, measured_run

HERE = Path(__file__).resolve().parent
SYLLABLES = (
    "an",
    "ber",
    "cal",
    "dan",
    "el",
    "fen",
    "gar",
    "hal",
    "in",
    "jo",
    "ka",
    "lem",
    "mar",
    "nor",
    "ol",
    "per",
    "qui",
    "ros",
    "sam",
    "tor",
    "ul",
    "ven",
    "wil",
    "xan",
    "yor",
    "zel",
    "bri",
    "cor",
    "dre",
    "fra",
    "gil",
    "har",
    "ive",
    "jen",
    "kel",
    "lor",
    "mil",
    "nes",
    "ori",
    "pra",
    "reu",
    "sil",
    "tam",
)


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text + "e"
    i = rng.randrange(1, len(text) - 1)
    kind = rng.choice(("swap", "drop", "change", "double"))
    if kind == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + rng.choice("aeiourstnl") + text[i + 1 :]


def generate(n: int, planted: int, seed: int = 7) -> tuple[list[tuple], list[tuple[int, int]]]:
    """Rows for the lead table, and the (original, planted) id pairs."""
    rng = random.Random(seed)
    firsts = sorted({_word(rng, rng.choice((2, 2, 3))) for _ in range(3000)})
    lasts = sorted({_word(rng, rng.choice((2, 3, 3))) for _ in range(20000)})
    companies = sorted(
        {_word(rng, 2) + rng.choice((" Ltd", " Inc", " GmbH", "")) for _ in range(6000)}
    )
    cities = sorted({_word(rng, 2) for _ in range(400)})
    free = ("gmail.com", "yahoo.com", "outlook.com")
    rows: list[tuple] = []
    originals = n - planted
    for k in range(originals):
        first, last = rng.choice(firsts), rng.choice(lasts)
        company = rng.choice(companies)
        domain = rng.choice(free) if rng.random() < 0.3 else company.split()[0].lower() + ".com"
        email = f"{first.lower()}.{last.lower()}{k}@{domain}"
        phone = f"+1{rng.randrange(201, 989)}{rng.randrange(2000000, 9999999)}"
        rows.append((first, last, email, phone, company, rng.choice(cities)))
    pairs = []
    for p in range(planted):
        source = rng.randrange(originals)
        first, last, email, phone, company, city = rows[source]
        roll = rng.random()
        if roll < 0.4:
            first = _typo(rng, first)
        elif roll < 0.7:
            last = _typo(rng, last)
        elif roll < 0.85:
            first, last = last, first
        if rng.random() < 0.5:  # a new e-mail at the same domain
            domain = email.split("@")[1]
            email = f"{first[0].lower()}{last.lower()}.{p}@{domain}"
        if rng.random() < 0.5:  # a second phone
            phone = f"+1{rng.randrange(201, 989)}{rng.randrange(2000000, 9999999)}"
        rows.append((first, last, email, phone, company, city))
        pairs.append((source + 1, originals + p + 1))
    return rows, pairs


def build(db: Path, n: int, planted: int) -> list[tuple[int, int]]:
    sys.path.insert(0, str(HERE.parent))
    from leadcli.storage.store import connect

    rows, pairs = generate(n, planted)
    if not db.exists():
        tmp = db.with_suffix(".tmp")
        for suffix in ("", "-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        store = connect(tmp)
        now = "2026-01-01T00:00:00Z"
        with store.write() as conn:
            conn.executemany(
                "INSERT INTO leads (first_name, last_name, email, phone, company, city, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*r, now, now) for r in rows],
            )
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        tmp.rename(db)
    return pairs


def true_pairs(planted: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Every pair within an original and its planted copies (an original picked twice has
    two copies, which are one person too)."""
    groups: dict[int, list[int]] = {}
    for original, copy in planted:
        groups.setdefault(original, [original]).append(copy)
    return {(a, b) for ids in groups.values() for a, b in itertools.combinations(sorted(ids), 2)}


def run(db: Path, *args: str) -> tuple[str, float, float]:
    """stdout, seconds and peak resident memory (MB) of this one leadcli process."""
    return measured_run(
        [*leadcli_command(), "--db", str(db), *args],
        {"LEADCLI_CONFIG": str(db.parent / "none.toml")},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--planted", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    db = DATA / f"dedupe-{args.leads}-{args.planted}.db"
    planted = true_pairs(build(db, args.leads, args.planted))
    times, refs, peak = [], [], 0
    found: set[tuple[int, int]] = set()
    for _ in range(args.runs):
        _, ref, _ = run(db, "list", "-f", "json")
        out, elapsed, rss = run(db, "dedupe", "-f", "json")
        refs.append(ref)
        times.append(elapsed)
        peak = max(peak, rss)
        found = {tuple(p["ids"]) for p in json.loads(out)}
    hits = len(found & planted)
    false = len(found - planted)
    t, r = statistics.median(times), statistics.median(refs)
    print(
        f"{args.leads} leads, {args.planted} planted ({len(planted)} true pairs): "
        f"found {hits} ({hits / len(planted):.1%}), "
        f"{false} false pairs ({false / max(1, len(found)):.1%} of {len(found)} reported); "
        f"dedupe {t:.1f} s (median of {args.runs}) = {t / r:.1f}x `list -f json` ({r:.1f} s); "
        f"peak memory {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
