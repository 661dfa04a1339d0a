"""Import under hostile input: round trips, random bytes, and being killed mid-way."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadcli.leads.records import add_lead
from leadcli.storage.store import connect
from tests.conftest import assert_group_ends

# Any text (quotes, commas, newlines, control characters, non-ASCII, formula starts) except
# surrogates (not storable as UTF-8).
cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30).map(str.strip)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(cells, cells, cells, cells), min_size=1, max_size=6))
def test_list_csv_round_trip(cli, tmp_path_factory, rows):
    """Cells written by `list -f csv` and imported again come back the same, formula-guarded
    cells included: import undoes exactly the guard the export added. (In-process: the
    real-process path of `list -f csv | import` is tested in tests/cli.)"""
    tmp = tmp_path_factory.mktemp("roundtrip")
    source = connect(tmp / "source.db")
    for n, (first, company, notes, industry) in enumerate(rows):
        add_lead(
            source,
            {"first_name": first, "company": company, "notes": notes, "external_id": f"X{n}"},
            custom={"Industry": industry} if industry else None,
        )
    source.close()
    exported = cli("--db", str(tmp / "source.db"), "list", "-f", "csv")
    assert exported.exit_code == 0, exported.stderr
    (tmp / "export.csv").write_bytes(exported.stdout_bytes)
    imported = cli("--db", str(tmp / "copy.db"), "import", str(tmp / "export.csv"), "-f", "json")
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout)["imported"] == len(rows)

    def fields(db: str) -> list[tuple]:
        out = cli("--db", db, "list", "-f", "json").stdout
        return [
            (r["first_name"], r["company"], r["notes"], r["external_id"], r["custom"])
            for r in json.loads(out)
        ]

    assert fields(str(tmp / "copy.db")) == fields(str(tmp / "source.db"))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400), st.sampled_from(["x.csv", "x.json", "x.jsonl", "x.tsv", "x"]))
def test_random_bytes_never_crash(cli, tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("bytes") / name
    path.write_bytes(data)
    result = cli("import", str(path), "--rejects", str(path) + ".rej", "-f", "json")
    assert result.exit_code in (0, 1), result.stderr
    if result.exit_code == 0:
        summary = json.loads(result.stdout)
        assert summary["rows"] == (
            summary["imported"] + summary["updated"] + summary["duplicates"] + summary["rejected"]
        )
    else:
        assert result.stderr.startswith("Error:") and result.stderr.count("\n") == 1


def _big_file(path: Path, rows: int) -> Path:
    if not path.exists():
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
        import import_speed

        import_speed.generate(path, rows)
    return path


@pytest.mark.slow
def test_killed_import_leaves_the_database_as_it_was(tmp_path: Path):
    """Kill an import of 100,000 rows at random moments (reading, inserting, rebuilding
    indexes, scoring), six times: the database stays intact and unchanged; then the same
    import completes."""
    big = _big_file(tmp_path / "big.csv", 100_000)
    db = tmp_path / "kill.db"
    env = {**os.environ, "LEADCLI_DB": str(db)}
    base = [sys.executable, "-m", "leadcli"]
    small = tmp_path / "small.csv"
    small.write_text("Name,Email\nAna Silva,ana@acme.com\nBob Stone,bob@zeta.com\n")
    subprocess.run([*base, "import", str(small)], env=env, check=True, capture_output=True)
    # How long a whole import takes here, so that every kill lands inside one.
    start = time.monotonic()
    subprocess.run(
        [*base, "--db", str(tmp_path / "timing.db"), "import", str(big)],
        check=True,
        capture_output=True,
    )
    duration = time.monotonic() - start
    rng = random.Random(42)
    for _ in range(6):
        process = subprocess.Popen(
            [*base, "import", str(big)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, with the worker it forks
        )
        time.sleep(rng.uniform(0.05, 0.5) * duration)
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL, "the import ended before it was killed"
        assert_group_ends(process.pid)  # the worker, if any, notices and goes too
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 2
            assert conn.execute("SELECT count(*) FROM import_batches").fetchone()[0] == 1
    done = subprocess.run(
        [*base, "import", str(big), "-f", "json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = conn.execute("SELECT count(*) FROM leads").fetchone()[0]
        conn.execute("INSERT INTO leads_fts (leads_fts) VALUES ('integrity-check')")
        fts = conn.execute("SELECT count(*) FROM leads_fts WHERE leads_fts MATCH 'acme'")
        assert fts.fetchone()[0] > 0
    assert count == 2 + summary["imported"]


@pytest.mark.slow
def test_ctrl_c_rolls_an_import_back_and_says_so(tmp_path: Path):
    """Ctrl-C while rows are streaming (both threads busy): exit 130, one line, no traceback,
    nothing written, no half-written rejects file left behind."""
    big = _big_file(tmp_path / "big.csv", 200_000)
    db = tmp_path / "int.db"
    base = [sys.executable, "-m", "leadcli", "--db"]
    start = time.monotonic()
    subprocess.run([*base, str(tmp_path / "t.db"), "import", str(big)], check=True)
    duration = time.monotonic() - start
    process = subprocess.Popen(
        [*base, str(db), "import", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.3 * duration)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err == "Interrupted.\n" and out == ""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM import_batches").fetchone()[0] == 0
    assert not list(tmp_path.glob("*.partial"))
