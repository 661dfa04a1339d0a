"""Reports for eyes: tables without colour, standalone HTML, valid SVG, stable golden files."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from leadcli.pipeline.stages import STAGES
from leadcli.reports import render
from tests.reports.test_report_figures import fixture_db  # noqa: F401 - a fixture

GOLDEN = Path(__file__).parent / "golden"


def test_svg_is_valid_and_names_every_stage(cli, fixture_db, tmp_path):  # noqa: F811
    out = tmp_path / "report.svg"
    result = cli("report", "--svg", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert set(STAGES) <= texts


def test_html_is_standalone_and_escapes_data(cli, fixture_db, tmp_path):  # noqa: F811
    with fixture_db.write() as conn:
        conn.execute("UPDATE leads SET source = '<script>alert(1)</script>' WHERE id = 5")
    out = tmp_path / "report.html"
    assert cli("report", "sources", "--html", str(out)).exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for outside in ("http://", "https://", "<link", "@import", "url("):
        assert outside not in page
    assert "@media print" in page


def test_control_characters_in_data_never_break_the_markup(cli, fixture_db, tmp_path):  # noqa: F811
    with fixture_db.write() as conn:
        conn.execute("UPDATE leads SET source = 'odd' || char(1) || 'one' || char(27) WHERE id = 5")
    svg, html = tmp_path / "s.svg", tmp_path / "s.html"
    assert cli("report", "sources", "--svg", str(svg), "--html", str(html)).exit_code == 0
    texts = {t.text for t in ET.fromstring(svg.read_text(encoding="utf-8")).iter()}
    assert "odd\\x01one\\x1b" in texts  # shown as escapes, and the SVG still parses
    page = html.read_text(encoding="utf-8")
    assert "\x01" not in page and "\x1b" not in page and "odd\\x01one\\x1b" in page


def test_golden_files_are_stable(cli, fixture_db, tmp_path):  # noqa: F811
    for name in ("overview", "funnel"):
        args = ["report"] if name == "overview" else ["report", name]
        svg, html = tmp_path / f"{name}.svg", tmp_path / f"{name}.html"
        assert cli(*args, "--svg", str(svg), "--html", str(html)).exit_code == 0
        for made in (svg, html):
            golden = GOLDEN / made.name
            if os.environ.get("LEADCLI_WRITE_GOLDEN"):  # pragma: no cover - by hand, on purpose
                golden.write_text(made.read_text(encoding="utf-8"), encoding="utf-8")
            assert golden.exists(), f"{golden} is missing (LEADCLI_WRITE_GOLDEN=1 writes it)"
            assert made.read_text(encoding="utf-8") == golden.read_text(encoding="utf-8")


def test_table_for_cron_mail_has_no_colour_and_fixed_width(proc, fixture_db, monkeypatch):  # noqa: F811
    monkeypatch.delenv("COLUMNS")
    monkeypatch.delenv("NO_COLOR")
    result = proc("report", "funnel")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
    assert "█" in result.stdout  # bars are characters, not colours
    for stage in STAGES[:6]:
        assert stage in result.stdout


def test_every_report_renders_as_markup(cli, fixture_db):  # noqa: F811
    import json

    for name in render.TITLES:
        args = ["report"] if name == "overview" else ["report", name]
        result = json.loads(cli(*args, "-f", "json").stdout)
        root = ET.fromstring(render.to_svg(result, name))
        assert root.tag.endswith("svg")
        page = render.to_html(result, name)
        assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_browser() is None, reason="no headless browser installed")
def test_html_renders_in_a_headless_browser(cli, fixture_db, tmp_path):  # noqa: F811
    page = tmp_path / "report.html"
    assert cli("report", "--html", str(page)).exit_code == 0
    dom = subprocess.run(
        [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dom.returncode == 0, dom.stderr
    for stage in STAGES:
        assert f"<td>{stage}</td>" in dom.stdout
