"""leadcli as real processes: what scripts and cron see."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from leadcli import __version__


def test_headline_scenario_in_processes(proc, tmp_path: Path):
    db = str(tmp_path / "T")
    added = proc(
        "--db",
        db,
        "add",
        "--first-name",
        "Ana",
        "--last-name",
        "Silva",
        "--email",
        " Ana@Acme.COM ",
        "--phone",
        "(415) 555-0100",
        "--company",
        "Acme",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == "1\n" and added.stderr == ""
    [lead] = json.loads(proc("--db", db, "list", "-f", "json").stdout)
    assert (lead["email"], lead["phone"]) == ("ana@acme.com", "+14155550100")
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_errors_have_no_traceback_unless_debug(proc, tmp_path: Path):
    db = str(tmp_path / "T")
    result = proc("--db", db, "show", "999")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error:") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    debug = proc("--db", db, "show", "999", env={"LEADCLI_DEBUG": "1"})
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert proc("--db", db, "show", "--bogus").returncode == 2


def test_unusable_database_is_exit_1(proc, tmp_path: Path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 200)
    result = proc("--db", str(bad), "list")
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_version_and_module_entry(proc):
    result = proc("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"leadcli {__version__}"


def test_default_database_comes_from_env(proc, tmp_path: Path):
    db = tmp_path / "fromenv.db"
    assert proc("add", "--company", "Acme", env={"LEADCLI_DB": str(db)}).returncode == 0
    assert db.exists()


@pytest.mark.parametrize(("columns", "limit"), [(None, 100), ("60", 60), ("²", 100)])
def test_piped_table_has_no_colour_and_fits_the_width(proc, tmp_path: Path, columns, limit):
    """Data wider than any limit (a long company and notes), so the width rule must act:
    100 when COLUMNS is unset (or not a number) and stdout is a pipe, else COLUMNS."""
    db = str(tmp_path / "T")
    wide = "Consolidated International Widget Manufacturing and Distribution Holdings " * 3
    proc("--db", db, "add", "--first-name", "Ana", "--company", wide, "--notes", "x " * 200)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    if columns is not None:
        env["COLUMNS"] = columns
    result = subprocess.run(
        [sys.executable, "-m", "leadcli", "--db", db, "list"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "\x1b" not in result.stdout
    lines = result.stdout.splitlines()
    assert "Consolidated" in result.stdout
    assert max(len(line) for line in lines) == limit  # as wide as allowed, never wider


def test_broken_pipe_is_quiet(tmp_path: Path):
    """`leadcli list | head` must not end in a BrokenPipeError traceback."""
    from leadcli.store import connect

    db = tmp_path / "T"
    store = connect(db)
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO leads (first_name, notes, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [
                (f"P{n}", "x" * 200, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
                for n in range(5000)
            ],
        )
    store.close()
    pipeline = subprocess.run(
        f"{sys.executable} -m leadcli --db {db} list -f jsonl | head -c 1",
        shell=True,
        capture_output=True,
        text=True,
        check=True,
    )
    assert pipeline.stdout == "{"
    assert "Traceback" not in pipeline.stderr and "Error" not in pipeline.stderr
