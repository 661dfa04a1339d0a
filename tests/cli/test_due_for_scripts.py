"""`due` for scripts and cron: an exit status that says whether anything is due (and keeps
errors apart), and one plain line an item for a mail."""

from __future__ import annotations

import subprocess
import sys


def _lead_with_a_follow_up(cli) -> None:
    added = cli(
        "add",
        "--first-name",
        "Ana [bold]X[/bold]",
        "--last-name",
        "Silva",
        "--company",
        "Umbrella Corporation International",
        "--email",
        "ana@umbrella.example",
    )
    assert added.exit_code == 0, added.stderr
    planned = cli("followup", "1", "yesterday", "call back\nabout [red]pricing[/red]", "--past")
    assert planned.exit_code == 0, planned.stderr


def test_exit_status_says_whether_anything_is_due(cli):
    nothing = cli("due", "--exit-status")
    assert nothing.exit_code == 3
    assert nothing.stdout == ""
    assert cli("due").exit_code == 0  # without the flag: 0, as before
    _lead_with_a_follow_up(cli)
    assert cli("due", "--exit-status").exit_code == 0


def test_a_missing_database_is_an_error_not_nothing_due(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "leadcli",
            "--db",
            str(tmp_path / "typo.db"),
            "due",
            "--exit-status",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no database" in result.stderr


def test_line_format_is_one_safe_line_an_item_at_any_width(cli):
    _lead_with_a_follow_up(cli)
    for width in ("40", "200"):
        result = cli("due", "-f", "line", env={"COLUMNS": width})
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == 1
        line = lines[0]
        assert "Umbrella Corporation International" in line  # never folded
        assert "#1" in line and "ana@umbrella.example" in line and "follow-up" in line
        assert "[bold]X[/bold]" in line  # markup stays text
        assert "\x1b" not in line and "│" not in line
        assert "pricing" in line  # the note's second line is on this line too
