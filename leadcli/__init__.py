"""leadcli: a command-line lead manager over a local SQLite database.

The package is a plain library in packages by concern (``leadcli.storage``, ``leadcli.leads``,
``leadcli.importing``, ...) with a thin Typer command-line layer in ``leadcli.cli``.
Nothing outside ``leadcli.cli`` imports Typer or Rich.
"""

__version__ = "0.1.0"


def version_line() -> str:
    return f"leadcli {__version__}\n"
