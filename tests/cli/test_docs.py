"""README and --help never drift: every command has help with an example and is documented."""

from __future__ import annotations

import re

from typer.main import get_command

from leadcli.cli.app import app
from tests.conftest import REPO


def all_commands():
    root = get_command(app)

    def walk(group, prefix):
        for name, command in group.commands.items():
            path = f"{prefix} {name}".strip()
            if hasattr(command, "commands"):
                yield from walk(command, path)
            else:
                yield path, command

    return list(walk(root, ""))


def all_groups():
    root = get_command(app)

    def walk(group, prefix):
        yield prefix or "leadcli", group
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from walk(command, f"{prefix} {name}".strip())

    return list(walk(root, ""))


def test_every_command_and_group_has_help_with_an_example():
    missing = [
        path
        for path, command in all_commands() + all_groups()
        if not command.help or "Example:" not in command.help
    ]
    assert missing == []


def test_every_command_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    missing = [
        path
        for path, _ in all_commands()
        if not re.search(rf"leadcli (--db \S+ )?{re.escape(path)}\b", readme)
    ]
    assert missing == []


def test_changelog_follows_keep_a_changelog():
    text = (REPO / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    assert "keepachangelog.com" in text
