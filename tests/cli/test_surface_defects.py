"""The surface a new user meets (issue 26): tables that fold between words, line breaks in
activity text, merged ids, add's duplicate check and past leads, config set, labels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import REPO

EXAMPLES = REPO / "examples"


def _piped(db: Path, *args: str, columns: int = 100) -> subprocess.CompletedProcess[str]:
    """leadcli as cron runs it: stdout a pipe, COLUMNS set."""
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "leadcli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=env,
    )


@pytest.fixture(scope="module")
def examples_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("examples") / "leads.db"
    for name in ("crm-export.csv", "web-form.csv"):
        assert _piped(db, "import", str(EXAMPLES / name)).returncode == 0
    return db


@pytest.mark.parametrize("columns", [100, 60, 200])
def test_list_piped_never_splits_a_word_of_a_name_or_company(examples_db, columns):
    leads = json.loads(_piped(examples_db, "list", "-f", "json").stdout)
    listed = _piped(examples_db, "list", columns=columns)
    assert listed.returncode == 0, listed.stderr
    tokens = set(listed.stdout.split())
    words = {
        word
        for lead in leads
        for field in ("first_name", "last_name", "company")
        for word in (lead[field] or "").split()
    }
    assert {"Umbrella", "Cyberdyne"} <= words
    assert words - tokens == set()
    for lead in leads:
        assert lead["email"] in tokens


def test_list_at_200_columns_is_one_line_a_lead(examples_db):
    leads = json.loads(_piped(examples_db, "list", "-f", "json").stdout)
    lines = _piped(examples_db, "list", columns=200).stdout.splitlines()
    assert len(lines) == 2 + len(leads)
    assert max(len(line) for line in lines) <= 200


@given(
    st.lists(
        st.tuples(st.integers(1, 40), st.integers(0, 60)).map(lambda t: (t[0], t[0] + t[1])),
        min_size=1,
        max_size=8,
    ),
    st.integers(1, 300),
)
def test_column_widths_fit_the_room_without_going_below_a_word(ranges, room):
    from leadcli.cli.output import column_widths

    widths = column_widths(ranges, room)
    assert all(lo <= w <= hi for w, (lo, hi) in zip(widths, ranges, strict=True))
    if sum(lo for lo, _ in ranges) <= room:
        assert sum(widths) <= room
    else:
        assert widths == [lo for lo, _ in ranges]
    if sum(hi for _, hi in ranges) <= room:
        assert widths == [hi for _, hi in ranges]


def test_show_prints_real_line_breaks_in_activity_text(cli):
    cli("add", "--first-name", "Ana", "--email", "ana@acme.example")
    note = "Subject line\n\nHello,\n[bold]kept\x1b[31m literal"
    assert cli("log", "1", "email", note).exit_code == 0
    shown = cli("show", "1").stdout
    assert "\\n" not in shown
    assert "Subject line" in shown and "Hello," in shown
    lines = shown.splitlines()
    assert any(line.strip() == "Hello," for line in lines)
    assert "[bold]kept" in shown  # markup stays literal; the escape was dropped on input
    assert "\x1b" not in shown
