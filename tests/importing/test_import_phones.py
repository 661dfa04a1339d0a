"""Phones read in their row's country; a number valid nowhere it could be is kept as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _import(cli, tmp_path: Path, text: str, *args: str) -> dict:
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    result = cli("import", str(path), "-f", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _phones(cli) -> dict[str, str | None]:
    return {r["first_name"]: r["phone"] for r in json.loads(cli("list", "-f", "json").stdout)}


@pytest.mark.parametrize("country", ["France", "FR", "Frankreich", "francia", "FRA"])
def test_a_french_number_in_a_french_row_is_french(cli, tmp_path: Path, country: str):
    summary = _import(cli, tmp_path, f"First Name,Phone,Country\nAna,06 12 34 56 78,{country}\n")
    assert _phones(cli) == {"Ana": "+33612345678"}
    assert summary["phones_kept_as_written"] == 0


def test_a_number_not_valid_in_its_region_is_kept_exactly_as_written(cli, tmp_path: Path):
    """Read as American (no country, the default region), 06 12 34 56 78 once became
    +10612345678, a US number that does not exist; a North American shape in an area code
    no +1 region has (200) goes neither to E.164 nor through the fast path."""
    text = (
        "First Name;Phone;Country\n"
        "Ana;06 12 34 56 78;\n"
        "Bob;(200) 200-0000;\n"
        "Cleo;(415) 555-0100;\n"
        "Dan;+33 6 12 34 56 78;United States\n"  # written with its code: the code wins
        "Eva;0612345678;Spain\n"  # a French number in a Spanish row: not Spanish
    )
    summary = _import(cli, tmp_path, text)
    assert _phones(cli) == {
        "Ana": "06 12 34 56 78",
        "Bob": "(200) 200-0000",
        "Cleo": "+14155550100",
        "Dan": "+33612345678",
        "Eva": "0612345678",
    }
    assert summary["phones_kept_as_written"] == 3
    assert summary["imported"] == 5


def test_the_summary_table_says_how_many_were_kept(cli, tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text("First Name,Phone\nAna,06 12 34 56 78\nBob,+33 6 12 34 56 78\n")
    result = cli("import", str(path))
    assert result.exit_code == 0
    assert ": Phone: kept as written (no valid number in the row's country), 1 cell." in (
        result.stderr
    )
    summary = json.loads(cli("import", str(path), "--again", "-f", "json").stdout)
    [reading] = [r for r in summary["interpretations"] if r["field"] == "phone"]
    assert (reading["column"], reading["cells"]) == ("Phone", 1)


def test_rows_of_many_countries_in_one_chunk(cli, tmp_path: Path):
    text = (
        "First Name,Phone,Country\n"
        "Ana,020 7946 0958,UK\n"
        "Bob,030 901820,Deutschland\n"
        "Cleo,(415) 555-0100,\n"
        "Dan,06 12 34 56 78,Frankrijk\n"
        "Eva,(415) 555-0101,Atlantis\n"  # no country we know: the import's region
    )
    _import(cli, tmp_path, text)
    assert _phones(cli) == {
        "Ana": "+442079460958",
        "Bob": "+4930901820",
        "Cleo": "+14155550100",
        "Dan": "+33612345678",
        "Eva": "+14155550101",
    }


def test_a_second_phone_column_is_read_in_the_rows_country(cli, tmp_path: Path):
    text = "First Name,Phone,Phone 2,Country\nAna,06 12 34 56 78,01 42 34 56 78,FR\n"
    _import(cli, tmp_path, text)
    (lead,) = json.loads(cli("list", "-f", "json").stdout)
    assert lead["phone"] == "+33612345678"
    assert lead["other_phones"] == ["+33142345678"]


def test_the_region_option_still_reads_rows_without_a_country(cli, tmp_path: Path):
    text = "First Name,Phone,Country\nAna,020 7946 0958,\nBob,06 12 34 56 78,FR\n"
    summary = _import(cli, tmp_path, text, "--region", "GB")
    assert _phones(cli) == {"Ana": "+442079460958", "Bob": "+33612345678"}
    assert summary["phones_kept_as_written"] == 0
