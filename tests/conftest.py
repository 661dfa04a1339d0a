"""Shared fixtures: every test gets its own database and config, never the user's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadcli.cli.app import app
from leadcli.storage.store import Store, connect

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "datasets"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the database and config at a temporary folder; pin output width; no colour."""
    db = tmp_path / "data" / "leads.db"
    monkeypatch.setenv("LEADCLI_DB", str(db))
    monkeypatch.setenv("LEADCLI_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("LEADCLI_DEBUG", raising=False)
    monkeypatch.delenv("LEADCLI_NOW", raising=False)
    # Local time is UTC in tests, so expected local times do not depend on the machine.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    # The database exists, as it does for anyone who has added or imported a lead: commands
    # that only read refuse a path with no database (tests of that remove it first).
    connect(db).close()
    return db


@pytest.fixture
def db_path(isolated_env: Path) -> Path:
    return isolated_env


@pytest.fixture
def store(db_path: Path) -> Store:
    s = connect(db_path)
    yield s
    s.close()


@pytest.fixture
def cli() -> Callable[..., object]:
    """Run leadcli in-process with Typer's CliRunner; stdout and stderr kept apart."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    return run


@pytest.fixture
def proc() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run leadcli as a real process (``python -m leadcli``), as scripts and cron do."""

    def run(
        *args: str,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
        text: bool = True,
    ) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "leadcli", *args],
            input=input,
            capture_output=True,
            text=text,
            env=full_env,
            timeout=120,
        )

    return run


def requires_shared(*parts: str) -> pytest.MarkDecorator:
    """Skip when ../shared (third-party datasets) is not beside the checkout."""
    return pytest.mark.skipif(
        not SHARED.joinpath(*parts).exists(), reason="../shared/datasets is not present"
    )


def assert_group_ends(group: int, seconds: float = 10.0) -> None:
    """Every process of a killed command's group is gone within ``seconds``: a forked import
    worker notices its parent died and goes too."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("a process of the killed command is still running")
