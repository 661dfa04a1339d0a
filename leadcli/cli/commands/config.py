"""``leadcli config``: where the configuration lives, what it says, and changing it."""

from __future__ import annotations

from typing import Annotated

import typer

from leadcli.cli.options import FormatOption, OutputFormat
from leadcli.cli.output import emit, render_table, say
from leadcli.cli.state import state

app = typer.Typer(no_args_is_help=True)


@app.command("path")
def config_path() -> None:
    """Print the configuration file's path ($LEADCLI_CONFIG overrides it).

    Example: leadcli config path
    """
    from leadcli.storage.paths import resolve_config_path

    typer.echo(str(resolve_config_path()))


@app.command("show")
def config_show(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """Show every setting, its value and whether it comes from the file or the default.

    Example: leadcli config show -f json
    """
    from leadcli.config import SETTINGS

    config = state(ctx).config()
    items = config.items()
    if fmt is OutputFormat.table:
        render_table(
            [(key, value, origin, SETTINGS[key].help) for key, value, origin in items],
            ["Key", "Value", "From", "Meaning"],
            title=f"Configuration ({config.path})",
        )
    else:
        # One record per setting in every script format, so json is jsonl's lines as an array.
        emit(
            ({"key": k, "value": v, "from": o} for k, v, o in items),
            fmt,
            columns=["key", "value", "from"],
        )


@app.command("set")
def config_set(
    key: Annotated[str, typer.Argument(help="A key from `leadcli config show`.")],
    value: Annotated[str, typer.Argument(help="The new value.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change one setting in the configuration file (created if missing).

    Example: leadcli config set contacts.phone_region GB
    """
    from leadcli import config

    parsed = config.set_value(key, value)
    if fmt is OutputFormat.table:
        from leadcli.text.toml_text import as_toml

        say(as_toml(key, parsed))
        return
    record = {"key": key, "value": parsed, "from": "file"}
    if fmt is OutputFormat.json:
        import sys

        from leadcli.cli.output import write_object

        write_object(record, sys.stdout)
    else:
        emit([record], fmt, columns=list(record))
