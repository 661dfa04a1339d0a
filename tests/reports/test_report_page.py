"""The page a consultant sends: opened in a real headless Chromium, checked from its DOM."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from leadcli.pipeline.stages import STAGES
from leadcli.reports.pdf import browser_args, find_browser
from tests.reports.test_report_figures import fixture_db  # noqa: F401 - a fixture

HOSTILE = ("<script>alert(1)</script>", "</style><b>x", '"><img src=x onerror=alert(2)>')


class _Dom(HTMLParser):
    """Every element of a DOM dump with its attributes, and the text of each element."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append((tuple(self.stack), data.strip()))


def _dump(page, tmp_path) -> _Dom:
    browser = find_browser()
    if browser is None and os.environ.get("CI"):
        pytest.fail("CI must have Chromium (.ci/run installs it)")
    if browser is None:  # pragma: no cover - a developer machine without a browser
        pytest.skip("no Chromium installed")
    args = browser_args(browser, str(tmp_path / "profile"))
    shot = tmp_path / "report.png"
    done = subprocess.run(
        [*args, "--window-size=1100,5000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0 and shot.stat().st_size > 0
    print(f"screenshot of the page: {shot}")
    dom = subprocess.run(
        [*args, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr
    parsed = _Dom()
    parsed.feed(dom.stdout)
    return parsed


def _hostile(fixture_db) -> None:  # noqa: F811
    with fixture_db.write() as conn:
        conn.execute("UPDATE leads SET source = ? WHERE id = 5", (HOSTILE[0],))
        conn.execute("UPDATE leads SET source = ? WHERE id = 6", (HOSTILE[1],))
        conn.execute("UPDATE leads SET lost_reason = ? WHERE stage = 'lost'", (HOSTILE[2],))


def test_full_page_in_a_browser(cli, fixture_db, tmp_path):  # noqa: F811
    _hostile(fixture_db)
    page = tmp_path / "report.html"
    args = ("report", "--since", "2026-01-01", "--until", "2026-02-28", "--html", str(page))
    assert cli(*args).exit_code == 0
    dom = _dump(page, tmp_path)
    tags = [tag for tag, _ in dom.elements]
    heading = " ".join(t for stack, t in dom.texts if stack and stack[-1] in ("h1", "p"))
    assert "leads: Overview" in heading and "since 2026-01-01; until 2026-02-28" in heading
    # at least five charts, each an inline <svg> with its own title
    charts = [a for t, a in dom.elements if t == "svg" and "pygal-chart" in (a.get("class") or "")]
    titled = [t for stack, t in dom.texts if stack[-2:] == ("svg", "title")]
    assert len(charts) >= 5 and len(titled) >= 5
    assert all(a.get("role") == "img" and a.get("aria-label") for a in charts)
    texts = [t for _, t in dom.texts]
    for stage in STAGES:
        assert stage in texts
    # nothing runs, nothing loads: no script, no handler, no address anywhere
    assert "script" not in tags and "img" not in tags and "iframe" not in tags
    for _, attrs in dom.elements:
        for name, value in attrs.items():
            assert not name.startswith("on")
            if name.endswith(("href", "src")):
                assert (value or "").startswith("#")
            assert "http:" not in (value or "") and "https:" not in (value or "")
    # the hostile names are text in chart labels and tables alike
    for bad in HOSTILE:
        where = {stack[-1] for stack, t in dom.texts if t == bad or bad in t}
        assert "text" in where or "title" in where or "desc" in where, bad
        assert "td" in where, bad


def test_slides_keep_hostile_names_as_text(cli, fixture_db, tmp_path):  # noqa: F811
    _hostile(fixture_db)
    out = tmp_path / "report.svg"
    assert cli("report", "--svg", str(out)).exit_code == 0
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    svg = "{http://www.w3.org/2000/svg}"
    assert not list(root.iter(f"{svg}script")) and not list(root.iter("script"))
    texts = {"".join(t.itertext()) for t in root.iter() if t.tag in (f"{svg}text", f"{svg}desc")}
    for bad in HOSTILE:
        assert any(bad in t for t in texts), bad
    assert len([s for s in root.iter(f"{svg}svg") if "pygal-chart" in s.get("class", "")]) >= 5


def test_locale_writes_numbers_its_way(cli, fixture_db, tmp_path):  # noqa: F811
    page = tmp_path / "de.html"
    assert cli("report", "--html", str(page), "--locale", "de_DE").exit_code == 0
    text = page.read_text(encoding="utf-8")
    assert "<td>4.000</td>" in text and "<td>33,3%</td>" in text
    plain = tmp_path / "en.html"
    assert cli("report", "--html", str(plain)).exit_code == 0
    assert "<td>4,000</td>" in plain.read_text(encoding="utf-8")
    assert cli("report", "--html", str(page), "--locale", "xx_nowhere").exit_code == 2


def test_pdf_is_printed_or_the_missing_browser_said(cli, fixture_db, tmp_path, monkeypatch):  # noqa: F811
    out = tmp_path / "report.pdf"
    if find_browser() is not None:
        assert cli("report", "--pdf", str(out)).exit_code == 0
        assert out.read_bytes().startswith(b"%PDF")
    monkeypatch.setenv("LEADCLI_CHROMIUM", str(tmp_path / "no-such-browser"))
    result = cli("report", "--pdf", str(tmp_path / "again.pdf"))
    assert result.exit_code == 1 and "needs Chromium" in result.stderr
