"""The import is a library: it changes no process-wide setting, forks only when asked and
never inside its write transaction; the command line sets what it wants and gives it back."""

from __future__ import annotations

import csv
import gc
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from leadcli.importing import loader, rows, worker
from leadcli.storage.store import connect

CSV = "Email,Notes\n" + "".join(f"p{i}@acme.com,note {i}\n" for i in range(300))


def test_an_import_changes_no_process_wide_setting(tmp_path: Path, monkeypatch):
    """Seen from inside the load (while rows convert), and after it."""
    path = tmp_path / "leads.csv"
    path.write_text(CSV)
    before = (sys.getswitchinterval(), csv.field_size_limit())
    seen: list[tuple[float, int]] = []
    real_convert = rows.RowConverter.convert

    def watching(self: Any, batch: Any) -> Any:
        seen.append((sys.getswitchinterval(), csv.field_size_limit()))
        return real_convert(self, batch)

    monkeypatch.setattr(rows.RowConverter, "convert", watching)
    store = connect(tmp_path / "leads.db")
    summary = loader.import_file(store, str(path), loader.ImportOptions(rejects=tmp_path / "r"))
    assert summary.imported == 300
    assert seen and set(seen) == {before}
    assert (sys.getswitchinterval(), csv.field_size_limit()) == before


def test_no_fork_unless_asked(tmp_path: Path, monkeypatch):
    """A big file, a machine that could fork: the library still converts in-process."""
    monkeypatch.setattr(worker, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(worker.os, "fork", lambda: pytest.fail("forked unasked"))
    path = tmp_path / "leads.csv"
    path.write_text(CSV)
    store = connect(tmp_path / "leads.db")
    assert loader.import_file(store, str(path), loader.ImportOptions()).imported == 300


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_the_worker_is_forked_before_the_write_transaction(tmp_path: Path, monkeypatch):
    path = tmp_path / "leads.csv"
    path.write_text(CSV)
    store = connect(tmp_path / "leads.db")
    in_transaction: list[bool] = []
    real_fork = os.fork

    def fork() -> int:
        in_transaction.append(store.conn.in_transaction)
        return real_fork()

    monkeypatch.setattr(worker.os, "fork", fork)
    summary = loader.import_file(store, str(path), loader.ImportOptions(parallel=True))
    assert summary.imported == 300
    assert in_transaction == [False]


def test_the_cli_sets_import_settings_and_restores_them():
    from leadcli.cli.process_settings import IMPORT_SWITCH_INTERVAL, import_settings
    from leadcli.importing.readers import FIELD_SIZE_LIMIT

    before = (sys.getswitchinterval(), csv.field_size_limit(), gc.isenabled())
    assert before[2]  # pytest leaves the collector on
    with pytest.raises(KeyError), import_settings():
        assert sys.getswitchinterval() == pytest.approx(IMPORT_SWITCH_INTERVAL)
        assert csv.field_size_limit() == FIELD_SIZE_LIMIT
        assert not gc.isenabled()
        raise KeyError  # restored whatever happens
    assert (sys.getswitchinterval(), csv.field_size_limit(), gc.isenabled()) == before
    gc.disable()  # an application that runs without the collector keeps it off
    try:
        with import_settings():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_long_note_imports_from_the_command_line(tmp_path: Path, cli):
    """200 KB notes are normal: the CLI raises csv's field limit for its import."""
    path = tmp_path / "long.csv"
    path.write_text("Email,Notes\nana@acme.com," + "n" * 200_000 + "\n")
    before = csv.field_size_limit()
    result = cli("import", str(path), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert '"imported": 1' in result.stdout
    assert csv.field_size_limit() == before  # and gave it back
