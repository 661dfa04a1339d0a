"""Duplicates merged in bulk: the rows that bring their lead nothing are counted in one
statement instead of merged one by one, and that must never change an outcome."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leadcli.identity import policy as merge_policy
from leadcli.importing import duplicates, loader
from leadcli.storage.store import connect

BASE = (
    "Email,Phone,First Name,Company,Lead Status,Tags,Do Not Contact\n"
    "ana@acme.com,,Ana,,New,a,\n"
    "bo@acme.com,+14155550101,,Globex,Qualified,,\n"
    "cy@acme.com,+14155550102,Cy,Initech,Closed - Converted,b;C,\n"
    ",+14155550103,Dee,Umbrella,Working - Contacted,,yes\n"
)
#: Who a row is about: a lead of BASE (by its values) or somebody new.
PEOPLE = [
    {"email": "ana@acme.com", "phone": "", "first": "Ana", "company": ""},
    {"email": "bo@acme.com", "phone": "+14155550101", "first": "", "company": "Globex"},
    {"email": "cy@acme.com", "phone": "+14155550102", "first": "Cy", "company": "Initech"},
    {"email": "", "phone": "+14155550103", "first": "Dee", "company": "Umbrella"},
    {"email": "new@acme.com", "phone": "+14155550199", "first": "Eve", "company": "Wonka"},
]
#: Mostly what the lead already has, often nothing, sometimes something else: most rows
#: bring their lead nothing new, which is the case being checked.
CHOICES = ["keep", "keep", "keep", "blank", "blank", "other"]
OTHER = {"email": "zed@acme.com", "phone": "+14155550177", "first": "Zed", "company": "Acme"}


@st.composite
def rows(draw: Any) -> list[tuple[str, ...]]:
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=10))):
        person = draw(st.sampled_from(PEOPLE))
        cells = []
        for key in ("email", "phone", "first", "company"):
            choice = draw(st.sampled_from(CHOICES))
            cells.append({"keep": person[key], "blank": "", "other": OTHER[key]}[choice])
        cells.append(
            draw(
                st.sampled_from(
                    ["", "New", "MQL", "Qualified", "Closed - Converted", "Closed - Lost"]
                )
            )
        )
        cells.append(draw(st.sampled_from(["", "", "a", "A;b", "c;B", "b"])))
        cells.append(draw(st.sampled_from(["", "", "no", "yes"])))
        cells.append(draw(st.sampled_from(["", "", "", "Pharma"])))
        out.append(tuple(cells))
    return out


def _file(path: Path, data: list[tuple[str, ...]]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*BASE.split("\n", 1)[0].split(","), "Industry"])
    writer.writerows(data)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _outcome(folder: Path, data: list[tuple[str, ...]], policy: str) -> Any:
    store = connect(folder / "leads.db")
    options = loader.ImportOptions(rejects=folder / "r.csv", on_duplicate=policy)
    (folder / "base.csv").write_text(BASE, encoding="utf-8")
    loader.import_file(store, str(folder / "base.csv"), options)
    summary = loader.import_file(store, str(_file(folder / "new.csv", data)), options)
    conn = store.conn
    result = (
        (summary.imported, summary.updated, summary.duplicates, summary.rejected),
        [tuple(r) for r in conn.execute("SELECT * FROM leads ORDER BY id")],
        [tuple(r) for r in conn.execute("SELECT * FROM lead_tags ORDER BY lead_id, tag")],
        [tuple(r) for r in conn.execute("SELECT * FROM history ORDER BY id")],
        [tuple(r) for r in conn.execute("SELECT * FROM enrolments ORDER BY id")],
    )
    store.close()
    return result


@pytest.mark.parametrize("policy", ["merge", "update", "skip"])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=rows())
# One row per merge rule (identity.policy), each bringing Ana's lead exactly one thing...
@example(data=[("ana@acme.com", "", "", "", "", "", "yes", "")])  # an opt-out
@example(data=[("ana@acme.com", "", "", "", "MQL", "", "", "")])  # a stage further on
@example(data=[("ana@acme.com", "", "", "", "Closed - Lost", "", "", "")])  # a close
@example(data=[("ana@acme.com", "", "", "Acme", "", "", "", "")])  # an empty field filled
@example(data=[("ana@acme.com", "", "", "", "", "A;b", "", "")])  # a tag it lacks
@example(data=[("ana@acme.com", "", "", "", "", "", "", "Pharma")])  # a custom field
# ...and rows that bring nothing, also through another row of the file.
@example(data=[("ana@acme.com", "", "Ana", "", "New", "A", "no", "")])
@example(
    data=[
        ("zed@acme.com", "+14155550101", "", "", "", "", "", ""),
        ("zed@acme.com", "", "", "", "", "", "", ""),
    ]
)
def test_counting_rows_that_bring_nothing_changes_no_outcome(
    tmp_path_factory, monkeypatch, policy: str, data: list[tuple[str, ...]]
):
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-20T09:00:00Z")
    fast = _outcome(tmp_path_factory.mktemp("fast"), data, policy)
    with monkeypatch.context() as m:
        # Nothing counted in bulk: every duplicate goes through plan_merge, one by one.
        m.setattr(merge_policy, "brings_nothing_sql", lambda *a, **k: "0")
        one_by_one = _outcome(tmp_path_factory.mktemp("slow"), data, policy)
    assert fast == one_by_one


def test_a_re_export_that_changes_nothing_is_counted_not_merged(tmp_path: Path, monkeypatch):
    """The nightly case: the same leads again, in a file with other bytes."""
    merged: list[int] = []
    real_merge = duplicates.merge_one
    monkeypatch.setattr(
        duplicates,
        "merge_one",
        lambda conn, lead_id, *a, **k: merged.append(lead_id) or real_merge(conn, lead_id, *a, **k),
    )
    store = connect(tmp_path / "leads.db")
    options = loader.ImportOptions(rejects=tmp_path / "r.csv")
    (tmp_path / "a.csv").write_text(BASE, encoding="utf-8")
    loader.import_file(store, str(tmp_path / "a.csv"), options)
    (tmp_path / "b.csv").write_text(BASE.replace("\n", "\r\n"), encoding="utf-8")
    summary = loader.import_file(store, str(tmp_path / "b.csv"), options)
    assert (summary.imported, summary.updated, summary.duplicates) == (0, 0, 4)
    assert merged == []


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=rows())
@example(data=[("ana@acme.com", "", "", "Acme", "MQL", "A;b", "yes", "Pharma")])
def test_skip_leaves_every_existing_lead_as_it_was(tmp_path_factory, monkeypatch, data):
    """``skip`` counts its duplicates without merging any: the leads already there, their
    tags and their history are exactly as before the import."""
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-20T09:00:00Z")
    folder = tmp_path_factory.mktemp("skip")
    store = connect(folder / "leads.db")
    options = loader.ImportOptions(rejects=folder / "r.csv", on_duplicate="skip")
    (folder / "base.csv").write_text(BASE, encoding="utf-8")
    loader.import_file(store, str(folder / "base.csv"), options)
    queries = (
        "SELECT * FROM leads WHERE id <= 4 ORDER BY id",
        "SELECT * FROM lead_tags WHERE lead_id <= 4 ORDER BY lead_id, tag",
        "SELECT * FROM history WHERE lead_id <= 4 ORDER BY id",
    )
    before = [[tuple(r) for r in store.conn.execute(q)] for q in queries]
    summary = loader.import_file(store, str(_file(folder / "new.csv", data)), options)
    assert summary.updated == 0
    assert [[tuple(r) for r in store.conn.execute(q)] for q in queries] == before
    store.close()
