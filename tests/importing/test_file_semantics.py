"""What an import makes of a file's cells and of the file itself (issue 14 reproductions):
JSON arrays of tags, a fixed rejects file imported again, a file name that is not UTF-8."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcli.importing.rows import split_tags


def _list(cli) -> list[dict]:
    return json.loads(cli("list", "-f", "json").stdout)


def test_json_arrays_of_tags_are_lists_not_comma_split(cli, tmp_path: Path):
    path = tmp_path / "leads.json"
    path.write_text(
        json.dumps(
            [
                {"Name": "Ana Silva", "Tags": ["vip", "has, comma"]},
                {"Name": "Bo Chen", "Tags": "x;y"},
            ]
        )
    )
    assert cli("import", str(path)).exit_code == 0
    leads = {lead["first_name"]: lead for lead in _list(cli)}
    assert sorted(leads["Ana"]["tags"]) == ["has, comma", "vip"]
    assert sorted(leads["Bo"]["tags"]) == ["x", "y"]


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1)))
def test_a_json_array_cell_round_trips(tags):
    assert split_tags(json.dumps(tags, ensure_ascii=False)) == tags


def test_a_fixed_rejects_file_imports_without_line_and_reason(cli, tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text("Name,Email,Industry\nAna Silva,ana@x.example,Retail\nBo,not-an-email,Tech\n")
    first = json.loads(cli("import", str(path), "-f", "json").stdout)
    rejects = Path(first["rejects_file"])
    with open(rejects, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][-2:] == ["line", "reason"]
    rows[1][1] = "bo@x.example"  # the fix
    with open(rejects, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    again = json.loads(cli("import", str(rejects), "-f", "json").stdout)
    assert again["imported"] == 1 and again["mapping"]["line"] == "ignore"
    shown = json.loads(cli("show", "2", "-f", "json").stdout)
    assert shown["custom"] == {"Industry": "Tech"}
    assert "line" not in cli("list", "-f", "csv").stdout.splitlines()[0].split(",")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_a_file_name_that_is_not_utf8_imports_and_is_named_safely(proc, tmp_path: Path):
    folder = os.fsencode(tmp_path)
    raw = os.path.join(folder, b"caf\xe9 leads.csv")
    with open(raw, "wb") as handle:
        handle.write(b"Name,Email\nAna,ana@x.example\nBad,nope\n")
    result = proc("import", os.fsdecode(raw), "-f", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["imported"] == 1
    assert summary["file"].endswith("caf\\xe9 leads.csv")
    # The rejects file is beside the real file, under its real (byte) name.
    assert os.path.exists(os.path.join(folder, b"caf\xe9 leads.rejects.csv"))
    listed = json.loads(proc("imports", "-f", "json").stdout)
    assert listed[0]["file_name"].endswith("caf\\xe9 leads.csv")
