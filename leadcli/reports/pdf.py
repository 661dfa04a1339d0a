"""A report page printed to PDF by a headless Chromium, where one is installed.

No PDF library draws HTML and inline SVG as a browser does; the browser the client opens
the page in does, and prints it with the page's own ``@media print`` rules. Chromium runs
with a throwaway profile and its background networking off; the page it prints loads
nothing (see ``render``), so printing reads no network either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from leadcli.errors import LeadcliError

#: Names a Chromium goes by on Linux, macOS (Homebrew links) and Windows PATHs.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class NoBrowser(LeadcliError):
    """--pdf without a Chromium to print with."""


def find_browser() -> str | None:
    """``LEADCLI_CHROMIUM`` if set, else the first Chromium on PATH."""
    chosen = os.environ.get("LEADCLI_CHROMIUM")
    if chosen:
        return shutil.which(chosen) or (chosen if Path(chosen).is_file() else None)
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def browser_args(browser: str, profile: str) -> list[str]:
    """How leadcli starts a headless Chromium (the tests drive it the same way)."""
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-extensions",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ]


def print_pdf(html: str, target: Path, *, timeout: float = 120) -> None:
    """``html`` (a standalone page) printed to ``target``."""
    browser = find_browser()
    if browser is None:
        raise NoBrowser(
            "--pdf needs Chromium, and none was found (set LEADCLI_CHROMIUM or install "
            "chromium); --html writes the page, which any browser prints to PDF"
        )
    with tempfile.TemporaryDirectory(prefix="leadcli-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        out = Path(tmp) / "report.pdf"
        try:
            done = subprocess.run(
                [
                    *browser_args(browser, str(Path(tmp) / "profile")),
                    "--no-pdf-header-footer",
                    f"--print-to-pdf={out}",
                    page.as_uri(),
                ],
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LeadcliError(
                f"Chromium could not print the page ({type(exc).__name__})"
            ) from None
        if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            raise LeadcliError(f"Chromium could not print the page (exit {done.returncode})")
        shutil.move(str(out), target)
