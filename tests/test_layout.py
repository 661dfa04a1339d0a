"""CONTRIBUTING.md's layout is the map a newcomer reads: it lists every package and module
under leadcli/, each on a line of its own with what it holds, and nothing that is not there."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "leadcli"
ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[\w.]+(?:/|\.py))(?:\s+(?P<what>\S.*))?$")


def layout_entries() -> dict[str, str]:
    """Each path the layout names (``importing/readers.py``, ``cli/commands/``) and the line
    that says what it holds; a line naming nothing continues the one before."""
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    entries: dict[str, str] = {}
    folders: list[tuple[int, str]] = []
    for line in block.splitlines():
        match = ENTRY.match(line)
        if not match:
            continue
        indent, name = len(match["indent"]), match["name"]
        while folders and folders[-1][0] >= indent:
            folders.pop()
        path = "".join(folder for _, folder in folders) + name
        entries[path] = match["what"] or ""
        if name.endswith("/"):
            folders.append((indent, name))
    return {
        p.removeprefix("leadcli/"): what
        for p, what in entries.items()
        if p.startswith("leadcli/") and p != "leadcli/"
    }


def package_paths() -> set[str]:
    """Every module (but ``__init__.py``, which its folder's line stands for) and package."""
    paths = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if path.name == "__init__.py":
            if relative.parent != Path("."):
                paths.add(f"{relative.parent.as_posix()}/")
        else:
            paths.add(relative.as_posix())
    return paths


def test_every_module_is_in_the_layout_with_a_line_saying_what_it_holds():
    entries = layout_entries()
    missing = sorted(p for p in package_paths() if p not in entries)
    assert missing == [], "add these to CONTRIBUTING.md's layout, one line each"
    undescribed = sorted(p for p in package_paths() if not entries[p].strip())
    assert undescribed == []


def test_the_layout_names_nothing_that_is_not_there():
    assert sorted(set(layout_entries()) - package_paths()) == []


def test_every_package_says_in_one_line_what_it_holds():
    for init in PACKAGE.rglob("__init__.py"):
        source = init.read_text(encoding="utf-8").lstrip()
        assert source.startswith(('"""', "'''")), init
