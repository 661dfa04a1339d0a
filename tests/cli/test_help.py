"""Help a person enjoys: commands grouped in panels, one-line descriptions that never break
mid-sentence, and an example in every command's help."""

from __future__ import annotations

import re

import pytest
import typer.main

from leadcli.cli.app import COMMANDS, PANELS, app, one_line, screen_text


def _paths(command, prefix=()):
    for name, sub in getattr(command, "commands", {}).items():
        if sub.hidden:
            continue
        yield (*prefix, name), sub
        yield from _paths(sub, (*prefix, name))


ROOT = typer.main.get_command(app)
PATHS = sorted(_paths(ROOT))


def test_every_command_is_in_one_panel():
    placed = [name for names in PANELS.values() for name in names]
    assert sorted(placed) == sorted(COMMANDS)
    assert len(placed) == len(set(placed))


@pytest.mark.parametrize("width", ["80", "120"])
def test_root_help_shows_the_panels_in_order_and_whole_sentences(cli, width):
    result = cli("--help", env={"COLUMNS": width})
    assert result.exit_code == 0
    out = result.stdout
    positions = [out.index(f"─ {panel} ─") for panel in PANELS]
    assert positions == sorted(positions)
    assert "─ Commands ─" not in out  # nothing left in Typer's catch-all panel
    for name in COMMANDS:
        line = one_line(ROOT.commands[name].help)
        # A sentence, whole: it ends with its full stop, and Rich wraps it only at words.
        assert line.endswith((".", "?", "!", ")")), (name, line)
        words = " ".join(out.replace("│", " ").split())
        assert " ".join(line.split()) in words, (name, line)


@pytest.mark.parametrize("path", [p for p, _ in PATHS], ids=" ".join)
def test_every_command_has_an_example_and_no_docstring_line_breaks(cli, path):
    command = dict(PATHS)[path]
    if getattr(command, "help_is_default", False):  # `import --help` is `import files`'s
        command = command.commands[command.default]
    result = cli(*path, "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "Example" in result.stdout, f"`leadcli {' '.join(path)} --help` has no example"
    for paragraph in screen_text(command.help or "").split("\n\n"):
        if "\n" in paragraph or len(paragraph) > 180 or not paragraph.strip():
            continue
        # The paragraph is on one line at 200 columns: no source line break reached it.
        flat = [re.sub(r"\s+", " ", line.strip(" │")) for line in result.stdout.splitlines()]
        assert any(re.sub(r"\s+", " ", paragraph) in line for line in flat), paragraph
