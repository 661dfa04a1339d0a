"""Numbers and dates in an import are read per column, as the file's writer meant them, and
the summary says how each column was read and which cells were not."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from leadcli.importing import loader

EU = ["€3.400", "1.500,00", "2.750", "€ 12.000,50"]
US = ["$3,400", "1,500.00", "2,750", "$ 12,000.50"]
VALUES = [3400.0, 1500.0, 2750.0, 12000.5]


@pytest.fixture(autouse=True)
def _us_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment's locale is en_US unless a test says otherwise."""
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    monkeypatch.setenv("LEADCLI_NOW", "2026-12-07T12:00:00Z")


def _write(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ";") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _amounts_file(path: Path, cells: list[str], delimiter: str = ";") -> Path:
    rows = [[f"p{i}@example.org", cell] for i, cell in enumerate(cells)]
    return _write(path, ["Email", "Amount"], rows, delimiter)


def _column(store, name: str) -> list:
    return [r[0] for r in store.conn.execute(f"SELECT {name} FROM leads ORDER BY id")]


def _reading(summary, column: str) -> list[str]:
    return [i["reading"] for i in summary.interpretations if i["column"] == column]


@pytest.mark.parametrize("parallel", [False, True])
def test_a_european_amount_column_is_read_with_a_decimal_comma(store, tmp_path, parallel):
    path = _amounts_file(tmp_path / "eu.csv", EU)
    summary = loader.import_file(store, str(path), loader.ImportOptions(parallel=parallel))
    assert _column(store, "value") == VALUES
    assert summary.interpretations == [
        {"column": "Amount", "field": "value", "reading": "decimal comma", "cells": 4}
    ]


def test_the_same_column_written_us_style_imports_the_same_values(store, tmp_path):
    summary = loader.import_file(
        store, str(_amounts_file(tmp_path / "us.csv", US, ",")), loader.ImportOptions()
    )
    assert _column(store, "value") == VALUES
    assert _reading(summary, "Amount") == ["decimal point"]


def test_european_cells_are_read_as_such_even_when_the_locale_says_otherwise(store, tmp_path):
    path = _amounts_file(tmp_path / "eu.csv", EU)
    loader.import_file(store, str(path), loader.ImportOptions(locale="en_US"))
    assert _column(store, "value") == VALUES


@pytest.mark.parametrize(
    ("locale", "value", "style"), [("de_DE", 1500.0, "comma"), ("en_US", 1.5, "point")]
)
def test_an_ambiguous_column_follows_the_locale_and_says_so(store, tmp_path, locale, value, style):
    path = _amounts_file(tmp_path / "amb.csv", ["1.500", "1.500"])
    summary = loader.import_file(store, str(path), loader.ImportOptions(locale=locale))
    assert _column(store, "value") == [value, value]
    (reading,) = _reading(summary, "Amount")
    assert reading.startswith(f"decimal {style}") and f"--locale {locale}" in reading


def test_dates_of_a_day_first_column_are_read_day_first(store, tmp_path):
    path = _write(
        tmp_path / "d.csv",
        ["Email", "Created"],
        [["a@example.org", "03/11/2026 14:05"], ["b@example.org", "25/12/2025"]],
    )
    summary = loader.import_file(store, str(path), loader.ImportOptions(day_first=False))
    # The ambiguous cell went in month first (as asked for ambiguous columns) and was read
    # again once 25/12 decided the column.
    assert _column(store, "created_at") == ["2026-11-03T14:05:00Z", "2025-12-25T00:00:00Z"]
    assert _reading(summary, "Created") == ["day first"]


def test_an_excel_serial_in_a_date_column_is_a_date(store, tmp_path):
    path = _write(tmp_path / "x.csv", ["Email", "Created"], [["a@example.org", "46330"]])
    summary = loader.import_file(store, str(path), loader.ImportOptions())
    assert _column(store, "created_at") == ["2026-11-04T00:00:00Z"]
    assert _reading(summary, "Created") == ["Excel serial dates"]


@pytest.mark.parametrize(("day_first", "stamp"), [(True, "2026-11-03"), (False, "2026-03-11")])
def test_an_ambiguous_date_column_follows_day_first_or_month_first(
    store, tmp_path, day_first, stamp
):
    path = _write(tmp_path / "a.csv", ["Email", "Created"], [["a@example.org", "03/11/2026"]])
    summary = loader.import_file(store, str(path), loader.ImportOptions(day_first=day_first))
    assert _column(store, "created_at") == [f"{stamp}T00:00:00Z"]
    (reading,) = _reading(summary, "Created")
    assert ("--day-first" if day_first else "--month-first") in reading


def test_cells_not_read_are_kept_counted_and_listed(store, tmp_path):
    path = _write(
        tmp_path / "u.csv",
        ["Email", "Amount", "Created"],
        [["a@example.org", "lots", "2026-01-02"], ["b@example.org", "12", "=cmd()"]],
        ",",
    )
    report = tmp_path / "cells.csv"
    summary = loader.import_file(store, str(path), loader.ImportOptions(report_cells=report))
    assert summary.unread == 2 and summary.rows == summary.imported == 2
    customs = [json.loads(c) for c in _column(store, "custom")]
    assert customs == [{"Amount": "lots"}, {"Created": "=cmd()"}]
    with open(report, newline="", encoding="utf-8") as handle:
        listed = list(csv.DictReader(handle))
    assert [(r["line"], r["column"], r["cell"]) for r in listed] == [
        ("2", "Amount", "lots"),
        ("3", "Created", "'=cmd()"),  # never a formula a spreadsheet would run
    ]


def test_the_cli_reads_an_ambiguous_column_by_locale_and_reports_it(cli, tmp_path):
    path = _amounts_file(tmp_path / "amb.csv", ["1.500", "2.750"])
    result = cli("import", str(path), "--locale", "de_DE", "-f", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["interpretations"][0]["reading"].startswith("decimal comma")
    assert summary["unread"] == 0
    values = [lead["value"] for lead in json.loads(cli("list", "-f", "json").stdout)]
    assert sorted(values) == [1500.0, 2750.0]


def test_the_cli_flips_an_ambiguous_date_column_with_month_first(cli, tmp_path):
    path = _write(tmp_path / "a.csv", ["Email", "Created"], [["a@example.org", "03/11/2026"]])
    result = cli("import", str(path), "--month-first", "--locale", "de_DE")
    assert result.exit_code == 0, result.stderr
    assert "Created: month first" in result.stderr
    (lead,) = json.loads(cli("list", "-f", "json").stdout)
    assert lead["created_at"].startswith("2026-03-11")


def test_the_cli_refuses_an_unknown_locale(cli, tmp_path):
    path = _amounts_file(tmp_path / "amb.csv", ["1.500"])
    result = cli("import", str(path), "--locale", "xx_NOWHERE")
    assert result.exit_code == 2 and "--locale" in result.stderr


def test_the_cli_reads_ambiguous_cells_again_and_scores_them_as_read(cli, tmp_path):
    """Inserted (and scored) as en_US reads 3.400, then read again as the column decided:
    the scores are those of the values kept, as a full rescore confirms."""
    # 12.500 goes in as 12.5 and becomes 12500: over the shipped rule's 10,000.
    path = _amounts_file(tmp_path / "eu.csv", [*EU, "12.500"])
    result = cli("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert "Amount: decimal comma, 5 cells" in result.stderr
    before = json.loads(cli("list", "-f", "json").stdout)
    assert sorted(lead["value"] for lead in before) == sorted([*VALUES, 12500.0])
    assert cli("score").exit_code == 0
    after = json.loads(cli("list", "-f", "json").stdout)
    assert [lead["score"] for lead in after] == [lead["score"] for lead in before]
