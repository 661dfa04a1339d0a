"""Possible duplicates on evidence (issue 25): an import records a pair only where the matcher
scores it in the band `dedupe` shows, so `dedupe` after an import shows the same pairs
whether they were recorded or found; colleagues at one switchboard are not such pairs."""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from leadcli.identity import matcher
from leadcli.identity.dedupe import find_duplicates
from leadcli.importing import loader
from leadcli.storage.store import Store, connect
from tests.conftest import REPO

#: Three people at one switchboard (other names, other e-mails), then one person twice with
#: the same name and phone but another e-mail (work and home).
TRADE_SHOW = (
    "First Name,Last Name,Email,Phone,Company\n"
    "Ann,Ko,ann.ko@kestrel.io,+1 415 555 0100,Kestrel Labs\n"
    "Bob,Li,bob.li@kestrel.io,(415) 555-0100,Kestrel Labs\n"
    "Cy,Oh,cy.oh@kestrel.io,415.555.0100,Kestrel Labs\n"
    "Dana,Reyes,dana.reyes@orbit.example,+1 212 555 0142,Orbit\n"
    "Dana,Reyes,dana.r@gmail.com,(212) 555-0142,Orbit\n"
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = connect(tmp_path / "leads.db")
    yield s
    s.close()


def _pairs(conn: sqlite3.Connection) -> list[tuple[int, int, str]]:
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT lead_id, other_id, reason FROM possible_duplicates ORDER BY 1, 2"
        )
    ]


@pytest.mark.parametrize("bulk", [False, True])
def test_trade_show_file_records_only_the_pair_that_looks_like_one_person(
    store, tmp_path, monkeypatch, bulk
):
    monkeypatch.setattr(loader, "BULK_MIN_BYTES", 0 if bulk else 1 << 40)
    path = tmp_path / "show.csv"
    path.write_text(TRADE_SHOW, encoding="utf-8")
    summary = loader.import_file(store, str(path), loader.ImportOptions())
    assert (summary.imported, summary.updated, summary.duplicates) == (5, 0, 0)
    assert summary.possible_duplicates == 1
    assert _pairs(store.conn) == [(4, 5, "phone")]
    found, _ = find_duplicates(store, matcher.load_rules())
    assert [p["ids"] for p in found] == [[4, 5]]


def test_trade_show_file_on_the_command_line(cli, tmp_path):
    path = tmp_path / "show.csv"
    path.write_text(TRADE_SHOW, encoding="utf-8")
    result = cli("import", str(path), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["possible_duplicates"] == 1
    result = cli("dedupe", "-f", "json")
    assert result.exit_code == 0, result.stderr
    pairs = json.loads(result.stdout)
    assert [p["ids"] for p in pairs] == [[4, 5]]
    assert "recorded by import: shared phone" in pairs[0]["reasons"]


def test_a_later_import_pairs_its_rows_with_the_leads_already_there(store, tmp_path):
    first = tmp_path / "a.csv"
    first.write_text(TRADE_SHOW.split("Dana,Reyes,dana.r@")[0], encoding="utf-8")
    loader.import_file(store, str(first), loader.ImportOptions())
    assert _pairs(store.conn) == []
    second = tmp_path / "b.csv"
    second.write_text(
        "First Name,Last Name,Email,Phone\nDana,Reyes,dana.r@gmail.com,(212) 555-0142\n"
        "Eve,Ng,eve.ng@kestrel.io,+1 415 555 0100\n",
        encoding="utf-8",
    )
    summary = loader.import_file(store, str(second), loader.ImportOptions())
    assert summary.possible_duplicates == 1
    assert _pairs(store.conn) == [(4, 5, "phone")]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "import_speed", REPO / "benchmarks" / "import_speed.py"
    )
    assert spec is not None and spec.loader is not None
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return module


def test_shared_phone_file_records_the_pairs_dedupe_reports(store, tmp_path):
    """The benchmark's file, smaller: 5,000 rows, a hundred people at each phone. What the
    import records is what `dedupe` finds among leads sharing a phone or an e-mail (the
    blocks an import makes); `dedupe` also finds pairs of a common name at one company on
    different phones, which no key of the import joins."""
    path = _generator().generate(tmp_path / "shared.csv", 5000, shared_phone=100)
    summary = loader.import_file(store, str(path), loader.ImportOptions(rejects=tmp_path / "r.csv"))
    recorded = {(a, b) for a, b, _ in _pairs(store.conn)}
    assert summary.possible_duplicates == len(recorded)
    # Before: every row at a phone with the oldest lead there, 4,914 pairs.
    assert 0 < len(recorded) < 500
    # A number no region accepts is kept as written ("200.200.0000", "(200) 200-0000"): the
    # import's phone blocks, like the matcher's, compare its digits.
    key = {
        i: (re.sub(r"\D", "", phone) if phone else None, email)
        for i, phone, email in store.conn.execute("SELECT id, phone, email FROM leads")
    }
    found, _ = find_duplicates(store, matcher.load_rules())
    sharing = {
        (a, b)
        for a, b in (p["ids"] for p in found)
        if (key[a][0] is not None and key[a][0] == key[b][0])
        or (key[a][1] is not None and key[a][1] == key[b][1])
    }
    assert recorded == sharing
