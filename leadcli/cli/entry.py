"""The console script: answers ``--version`` before importing Typer and the commands.

Scripts and package managers probe the version often; importing the whole command line for
that would cost ~0.15 s. Everything else goes to ``leadcli.cli.app``.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from leadcli import version_line

        sys.stdout.write(version_line())
        return
    from leadcli.cli.app import main as run

    run()
