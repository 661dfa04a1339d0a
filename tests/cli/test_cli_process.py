"""leadcli as real processes: what scripts and cron see."""

from __future__ import annotations

import csv
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
    from leadcli.storage.store import connect

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


def test_out_of_range_input_is_a_clear_error_not_an_internal_one(proc, tmp_path: Path):
    """Numbers SQLite cannot hold, dates outside the years kept, unusable paths and bytes
    that are not UTF-8: each a clear one-line error, never 'unexpected internal error'."""
    db = str(tmp_path / "r.db")
    assert proc("--db", db, "add", "--first-name", "Ana").returncode == 0
    usage = [
        ["show", "99999999999999999999"],
        ["list", "--limit", "99999999999999999999"],
        ["due", "--days", "999999999"],
        ["followup", "1", "0001-01-01"],
        ["followup", "1", "9999-12-31 23:59"],
        ["log", "1", "call", "--at", "0001-01-01"],
    ]
    for args in usage:
        result = proc("--db", db, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    failing = [
        ["due", "--ics", str(tmp_path / "no" / "such" / "x.ics")],
        ["import", __file__, "--rejects", str(tmp_path)],  # a folder
    ]
    for args in failing:
        result = proc("--db", db, *args)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith("Error: cannot") and result.stderr.count("\n") == 1
    raw = subprocess.run(
        [sys.executable, "-m", "leadcli", "--db", db, "add", "--company", b"\xff"],
        capture_output=True,
    )
    assert raw.returncode == 1 and raw.stderr.startswith(b"Error: an argument is not valid")


def test_file_names_in_messages_cannot_drive_the_terminal(proc, tmp_path: Path):
    evil = tmp_path / "e\x1b[2Jvil\u202e.csv"
    result = proc("--db", str(tmp_path / "r.db"), "import", str(evil))
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert "\\x1b[2J" in result.stderr


def test_imported_dates_outside_the_kept_years_stay_as_custom_fields(proc, tmp_path: Path):
    db = str(tmp_path / "d.db")
    path = tmp_path / "old.csv"
    path.write_text("first_name,created_at\nq,0001-01-02\nr,0001-01-01\n")
    result = proc("--db", db, "import", str(path), "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["imported"] == 2
    for args in (["due"], ["show", "1"], ["history", "1"], ["list"]):
        assert proc("--db", db, *args).returncode == 0, args
    leads = json.loads(proc("--db", db, "list", "-f", "json").stdout)
    assert leads[0]["custom"] == {"created_at": "0001-01-02"}
    assert leads[0]["created_at"].startswith("20")


def test_csv_headers_are_guarded_and_come_back(proc, tmp_path: Path):
    """Custom fields are named by imported headers: in leadcli's CSV the header cells are as
    safe as the data cells, and importing that CSV restores them."""
    db = str(tmp_path / "h.db")
    path = tmp_path / "h.csv"
    path.write_text('Email,"=HYPERLINK(""http://x"",""y"")"\na@acme.com,v\n')
    assert proc("--db", db, "import", str(path)).returncode == 0
    exported = proc("--db", db, "list", "-f", "csv").stdout
    header = next(csv.reader(exported.splitlines()))
    assert header[-1] == '\'=HYPERLINK("http://x","y")'
    again = tmp_path / "again.csv"
    again.write_text(exported)
    db2 = str(tmp_path / "h2.db")
    assert proc("--db", db2, "import", str(again)).returncode == 0
    [lead] = json.loads(proc("--db", db2, "list", "-f", "json").stdout)
    assert lead["custom"] == {'=HYPERLINK("http://x","y")': "v"}
