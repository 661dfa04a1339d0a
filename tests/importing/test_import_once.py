"""An import reads its input once: pipes, ``<(...)``, FIFOs and ``/dev/stdin`` import their
rows (they used to import none, record a batch, and then block the real import as "already
imported"), and "already imported" means the same bytes *and* the same options."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import pytest

CSV = (
    "First Name,Last Name,Email,Company\n"
    "Ana,Silva,ana@acme.com,Acme\n"
    "Bo,Berg,bo@berg.se,Berg AB\n"
    "Cy,Diaz,cy@diaz.mx,Diaz SA\n"
)
LEADCLI = f"{shlex.quote(sys.executable)} -m leadcli"


def shell(script: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in bash (for ``<(...)`` and pipes), leadcli as ``$LEADCLI``."""
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "LEADCLI": LEADCLI},
        timeout=timeout,
    )


def summary_of(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def lead_count(proc) -> int:
    return len(json.loads(proc("list", "-f", "json", "--limit", "0").stdout))


@pytest.fixture
def leads_csv(tmp_path: Path) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="bash process substitution")
def test_process_substitution_imports_its_rows_and_then_blocks_only_a_real_repeat(
    tmp_path: Path, leads_csv: Path, proc
):
    first = summary_of(shell("$LEADCLI import <(cat leads.csv) -f json", tmp_path))
    assert (first["rows"], first["imported"]) == (3, 3)
    again = shell("cat leads.csv | $LEADCLI import - -f json", tmp_path)
    repeat = summary_of(again)
    assert repeat["already_imported_as"] == first["batch"]
    assert (repeat["imported"], repeat["duplicates"], repeat["batch"]) == (0, 3, None)
    assert "already imported as batch" in again.stderr
    assert lead_count(proc) == 3
    batches = json.loads(proc("imports", "-f", "json").stdout)
    assert len(batches) == 1  # the repeat loaded, saw it was one, and rolled back


def test_dev_stdin_imports_its_rows(tmp_path: Path, leads_csv: Path, proc):
    result = summary_of(shell("cat leads.csv | $LEADCLI import /dev/stdin -f json", tmp_path))
    assert (result["rows"], result["imported"]) == (3, 3)
    assert lead_count(proc) == 3


def test_a_named_fifo_imports_without_hanging(tmp_path: Path, proc):
    fifo = tmp_path / "leads.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w", encoding="utf-8") as pipe:  # blocks until leadcli opens it
            pipe.write(CSV)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    result = summary_of(shell(f"$LEADCLI import {shlex.quote(str(fifo))} -f json", tmp_path, 60))
    writer.join(5)
    assert (result["rows"], result["imported"]) == (3, 3)
    assert lead_count(proc) == 3


def test_rejects_of_a_pipe_go_to_the_current_folder(tmp_path: Path):
    bad = CSV + "Dee,Ray,not-an-address,Ray Co\n"
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    result = summary_of(shell("$LEADCLI import <(cat bad.csv) -f json", tmp_path))
    assert result["rejected"] == 1
    assert Path(result["rejects_file"]) == tmp_path / "leadcli-rejects.csv"
    assert "not-an-address" in (tmp_path / "leadcli-rejects.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "options",
    [["--tag", "expo"], ["--source", "webinar"], ["--map", "Company=notes"], ["--region", "GB"]],
    ids=["tag", "source", "map", "region"],
)
def test_same_bytes_with_other_options_are_imported_and_said_so(
    leads_csv: Path, proc, options: list[str]
):
    first = summary_of(proc("import", str(leads_csv), "-f", "json"))
    second_run = proc("import", str(leads_csv), *options, "-f", "json")
    second = summary_of(second_run)
    assert second["already_imported_as"] is None and second["batch"] == first["batch"] + 1
    assert f"the same bytes were imported as batch {first['batch']}" in second_run.stderr
    third = summary_of(proc("import", str(leads_csv), *options, "-f", "json"))
    assert third["already_imported_as"] == second["batch"]  # now the same options too


def test_again_forces_a_reimport(leads_csv: Path, proc):
    summary_of(proc("import", str(leads_csv), "-f", "json"))
    repeat = summary_of(proc("import", str(leads_csv), "-f", "json"))
    assert repeat["already_imported_as"] == 1
    forced = summary_of(proc("import", str(leads_csv), "--again", "-f", "json"))
    assert forced["already_imported_as"] is None and forced["batch"] == 2
    assert forced["rows"] == 3 and forced["imported"] == 0  # the leads are there: merged
    piped = summary_of(shell(f"cat {leads_csv} | $LEADCLI import - --again -f json", Path.cwd()))
    assert piped["batch"] == 3
