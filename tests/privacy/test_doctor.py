"""`leadcli doctor`: 0 on a healthy database; 1, with what to do, when something is wrong."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from leadcli.leads.records import add_lead
from leadcli.privacy import doctor
from leadcli.privacy.backups import take_backup


def _by_check(result) -> dict[str, dict]:
    return {f["check"]: f for f in json.loads(result.stdout)["findings"]}


def test_healthy_database_exits_0(cli, store):
    add_lead(store, {"first_name": "Ana"})
    take_backup(store)
    result = cli("doctor", "-f", "json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["healthy"] is True
    assert {f["status"] for f in report["findings"]} == {"ok"}
    checks = _by_check(result)
    for check in ("integrity", "foreign keys", "schema version", "file permissions", "backups"):
        assert check in checks
    table = cli("doctor")
    assert table.exit_code == 0 and "Healthy." in table.stderr


def test_no_backups_is_a_warning_not_a_failure(cli):
    result = cli("doctor", "-f", "json")
    assert result.exit_code == 0
    assert _by_check(result)["backups"]["status"] == "warning"
    assert "leadcli backup" in _by_check(result)["backups"]["fix"]


def test_readable_by_others_exits_1_and_says_chmod(cli, db_path):
    db_path.chmod(0o644)
    result = cli("doctor", "-f", "json")
    assert result.exit_code == 1
    finding = _by_check(result)["file permissions"]
    assert finding["status"] == "problem"
    assert finding["fix"] == f"chmod 600 {db_path}"
    table = cli("doctor")
    assert table.exit_code == 1 and "chmod 600" in table.stdout


def test_folder_writable_by_others_is_a_problem(cli, db_path):
    db_path.parent.chmod(0o777)
    try:
        result = cli("doctor", "-f", "json")
    finally:
        db_path.parent.chmod(0o700)
    assert result.exit_code == 1
    assert _by_check(result)["folder permissions"]["fix"] == f"chmod 700 {db_path.parent}"


def _corrupt(db: Path) -> None:
    """Overwrite a page in the middle of the leads table's B-tree with garbage."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'leads'").fetchone()
    with open(db, "r+b") as handle:
        handle.seek((root[0] - 1) * page_size)
        handle.write(b"\xff" * 64)


def test_failed_integrity_check_exits_1_and_says_restore(cli, store, db_path):
    for n in range(300):
        add_lead(store, {"first_name": f"P{n}", "notes": "x" * 200})
    store.close()
    _corrupt(db_path)
    result = cli("doctor", "-f", "json")
    assert result.exit_code == 1
    failing = [f for f in json.loads(result.stdout)["findings"] if f["status"] == "problem"]
    assert failing
    assert any("leadcli restore" in f["fix"] for f in failing)


def test_suppression_list_is_counted_after_a_forget(cli, store):
    empty = _by_check(cli("doctor", "-f", "json"))["suppression list"]
    assert empty["detail"] == "empty (nobody was forgotten)"
    add_lead(store, {"first_name": "Ana", "email": "ana@acme.example", "phone": "+14155550100"})
    assert cli("forget", "ana@acme.example", "--yes").exit_code == 0
    finding = _by_check(cli("doctor", "-f", "json"))["suppression list"]
    assert finding == {**finding, "status": "ok", "detail": "2 entries"}  # e-mail and phone


def test_doctor_changes_nothing(cli, store, db_path):
    add_lead(store, {"first_name": "Ana"})
    store.close()
    before = db_path.read_bytes()
    cli("doctor")
    assert db_path.read_bytes() == before


def test_not_a_database_is_a_problem_with_one_finding(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("plain text")
    findings = doctor.examine(path, keep=5)
    assert not doctor.healthy(findings)
    assert path.read_text() == "plain text"
