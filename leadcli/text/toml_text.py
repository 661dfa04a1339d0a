"""TOML as people read it: the line of a file that sets a key (tomllib keeps no positions,
and an error that names the line is the one a user can fix), and a setting written back as
the one TOML line that says it."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def line_of(path: Path, key: str) -> int | None:
    """The line of ``path`` that sets dotted ``key`` (under its ``[table]`` or dotted), for
    error messages; None when it cannot be told (tomllib keeps no positions)."""
    import re

    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None

    def parts(text: str) -> str:
        return ".".join(p.strip().strip("\"'") for p in text.split("."))

    table = ""
    for number, line in enumerate(lines, start=1):
        header = re.match(r"\s*\[+([^\]]+)\]+", line)
        if header:
            table = parts(header.group(1))
            continue
        assignment = re.match(r"\s*([^=#]+?)\s*=", line)
        if assignment:
            name = parts(assignment.group(1))
            if (f"{table}.{name}" if table else name) == key:
                return number
    return None


def as_toml(key: str, value: Any) -> str:
    """One setting as the TOML line that says it (``contacts.phone_region = "GB"``, a list or
    a table inline): what ``config set`` echoes, so it can be pasted into the file."""
    import tomli_w

    def inline(v: Any) -> str:
        if isinstance(v, list | tuple):
            return "[" + ", ".join(inline(x) for x in v) + "]"
        if isinstance(v, dict):
            items = ", ".join(
                f"{tomli_w.dumps({k: 0}).split(' = ')[0]} = {inline(x)}" for k, x in v.items()
            )
            return "{ " + items + " }" if items else "{}"
        return tomli_w.dumps({"v": v}).split(" = ", 1)[1].strip()

    return f"{key} = {inline(value)}"
