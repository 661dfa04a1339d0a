"""A person and a cron job (or twenty scripts) writing at once lose nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_twenty_concurrent_adds_on_a_new_database(tmp_path: Path):
    db = tmp_path / "fresh" / "leads.db"  # not created yet: they also race to create and migrate
    env = {**os.environ, "LEADCLI_DB": str(db)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "leadcli", "add", "--first-name", f"P{n}", "--tag", "race"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(20)
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for code, _out, err in results:
        assert code == 0, err
    ids = sorted(int(out) for _, out, _ in results)
    assert ids == list(range(1, 21))
    listed = subprocess.run(
        [sys.executable, "-m", "leadcli", "list", "-f", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    leads = json.loads(listed.stdout)
    assert len(leads) == 20
    assert sorted(lead["first_name"] for lead in leads) == sorted(f"P{n}" for n in range(20))
    assert all(lead["tags"] == ["race"] for lead in leads)
