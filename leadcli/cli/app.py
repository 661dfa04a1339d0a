"""The ``leadcli`` command: global options, command registration and the error boundary.

Errors from the core (``LeadcliError``) and from SQLite are turned into one line on stderr and
exit code 1 here, in one place; usage errors stay Typer's (exit 2). A traceback is shown only
with ``LEADCLI_DEBUG=1``.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

from leadcli import version_line
from leadcli.cli.state import AppState, state
from leadcli.errors import LeadcliError
from leadcli.text.safe_text import visible

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _debug() -> bool:
    return os.environ.get("LEADCLI_DEBUG", "") not in ("", "0")


def fail(message: str, hint: str | None = None) -> None:
    """One line on stderr: what went wrong, and what to do. Paths and names in it come from
    the user or their files, so control characters are shown, never sent."""
    line = f"Error: {message}"
    if hint:
        line += f" ({hint})"
    sys.stderr.write(visible(line.replace("\n", " ")) + "\n")


def _db_after_command(ctx: Any, _param: Any, value: str | None) -> None:
    """``leadcli list --db x.db`` means ``leadcli --db x.db list``. The root's callback has
    run by now (Click invokes a group before parsing its subcommand), and the store opens on
    first use, so setting the path here is early enough."""
    if value is not None:
        state(ctx).db_path = value


def _add_db_option(group: Any) -> None:
    """Give every command below ``group`` a ``--db`` of its own, so the option works after
    the command name too; given there it wins over one given before the command."""
    for command in group.commands.values():
        if hasattr(command, "commands"):
            _add_db_option(command)
        elif not any(p.name == "db" for p in command.params):
            command.params.append(
                TyperOption(
                    param_decls=["--db"],
                    metavar="PATH",
                    expose_value=False,
                    callback=_db_after_command,
                    help="Database file (also accepted before the command).",
                )
            )


def _sqlite_message(exc: sqlite3.Error) -> tuple[str, str]:
    """One line for a SQLite error, by its code: a full disk, a read-only file, a damaged
    file and a lock held too long each need something different from the user. Whatever
    the error, the transaction was rolled back."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == sqlite3.SQLITE_FULL:
        return (
            "the disk is full; nothing was changed",
            "free some space (or check the database's size limit) and run it again",
        )
    if primary == sqlite3.SQLITE_READONLY:
        return (
            "the database is read-only; nothing was changed",
            "make the file and its folder writable to change it",
        )
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return (
            f"the database file is damaged ({exc})",
            "run `leadcli doctor`; `leadcli restore` brings back a backup",
        )
    if primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN):
        return (f"the database file could not be read or written ({exc})", "run `leadcli doctor`")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return (f"database problem: {exc}", "is another program holding the database?")
    return (f"database problem: {exc}", "run `leadcli doctor`")


#: ``leadcli --help``'s panels, in order, and the commands each holds (as gh groups its
#: commands): thirty in one list is a wall. ``tests/cli/test_help.py`` checks every command
#: is in one.
PANELS: dict[str, tuple[str, ...]] = {
    "Leads": ("add", "list", "show", "edit", "stages", "export"),
    "Import and identity": ("import", "imports", "capture", "dedupe", "merge"),
    "Pipeline": ("qualify", "advance", "history"),
    "Follow-up": ("due", "followup", "log", "mail", "cadence", "enroll", "unenroll"),
    "Scoring and reports": ("score", "model", "report", "spend"),
    "Data safety and settings": ("backup", "restore", "doctor", "forget", "config"),
}
_PANEL_OF = {name: panel for panel, names in PANELS.items() for name in names}
_PANEL_ORDER = {name: i for i, name in enumerate(_PANEL_OF)}


def one_line(help_text: str | None) -> str:
    """A command's line in its group's list: the first sentence of its help, its docstring's
    line breaks joined (they are there for the source's width, not the screen's)."""
    import re

    first = " ".join((help_text or "").strip().split("\n\n")[0].split())
    sentence = re.match(r"(.+?[.!?])(\s|$)", first)
    return sentence.group(1) if sentence else first


def screen_text(help_text: str) -> str:
    """A docstring as the screen should show it: each paragraph's line breaks (there for the
    source's width) joined, so Rich wraps it at the terminal's width instead of breaking
    mid-sentence; a paragraph of list items or indented lines (an example block) is kept."""
    import inspect

    paragraphs = inspect.cleandoc(help_text).split("\n\n")
    kept = []
    for paragraph in paragraphs:
        lines = paragraph.split("\n")
        if paragraph.startswith("\b") or any(
            line.startswith(("  ", "- ", "* ", "\t")) for line in lines
        ):
            kept.append(paragraph)
        else:
            kept.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(kept)


def _tidy(command: Any) -> None:
    """A command's (and its subcommands') help for the screen, and its line in the list."""
    if getattr(command, "_leadcli_tidy", False):
        return
    command._leadcli_tidy = True
    if command.help:
        command.help = screen_text(command.help)
    if command.short_help is None:
        command.short_help = one_line(command.help)
    for sub in getattr(command, "commands", {}).values():
        _tidy(sub)


class LeadcliGroup(TyperGroup):
    """The root group; its ``invoke`` wraps every subcommand, so this is the one boundary."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _add_db_option(self)

    def list_commands(self, ctx: Any) -> list[str]:
        """In the panels' order, so ``--help`` shows the panels in it."""
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: _PANEL_ORDER.get(n, len(_PANEL_ORDER)))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            # A command module may name its own panel; else the table's (Typer's unset value
            # is a placeholder object, not None).
            if not isinstance(getattr(command, "rich_help_panel", None), str):
                command.rich_help_panel = _PANEL_OF.get(cmd_name)
            _tidy(command)
        return command

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LeadcliError as exc:
            if _debug():
                raise
            fail(str(exc), exc.hint)
            raise typer.Exit(EXIT_FAILED) from None
        except sqlite3.Error as exc:
            if _debug():
                raise
            fail(*_sqlite_message(exc))
            raise typer.Exit(EXIT_FAILED) from None
        except BrokenPipeError:
            # `leadcli list | head`: the reader left; that is not an error for us. Point
            # stdout at devnull so the interpreter's final flush does not complain.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_OK) from None
        except KeyboardInterrupt:
            sys.stderr.write("Interrupted.\n")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except OSError as exc:  # a file given to write or read: missing folder, a directory...
            if _debug():
                raise
            where = f" {exc.filename}" if exc.filename else ""
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                fail(f"the disk is full: cannot write{where}", "free some space and run it again")
                raise typer.Exit(EXIT_FAILED) from None
            if exc.errno == errno.EROFS:
                fail(f"cannot write{where}: read-only file system", "choose a writable place")
                raise typer.Exit(EXIT_FAILED) from None
            fail(f"cannot use{where}: {exc.strerror or exc}", "check the path and its permissions")
            raise typer.Exit(EXIT_FAILED) from None
        except UnicodeError:  # an argument the shell passed in another encoding than UTF-8
            if _debug():
                raise
            fail("an argument is not valid UTF-8 text", "check the terminal's encoding")
            raise typer.Exit(EXIT_FAILED) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            # Typer's own: usage errors (exit 2), --help, explicit exits.
            raise
        except Exception as exc:
            if _debug():
                raise
            fail(
                f"unexpected internal error ({exc.__class__.__name__})",
                "rerun with LEADCLI_DEBUG=1 for the traceback and report it",
            )
            raise typer.Exit(EXIT_FAILED) from None


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(version_line())
        raise typer.Exit()


def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH",
            help="Database file. Default: $LEADCLI_DB, else leads.db in your user data folder.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Manage leads from first contact to customer, in a local SQLite database."""
    state = AppState(db_path=db)
    ctx.obj = state
    ctx.call_on_close(state.close)


#: Each top-level command and the module under ``leadcli.cli.commands`` that defines it, in
#: the order ``--help`` lists the modules. A run loads only the module of the command it
#: runs: Typer turns every registered command into a Click command (reading each one's
#: signature) before it parses anything, and doing that for all of them, with their
#: modules' imports, cost a cron job's ``due`` or a script's ``report`` about 0.15 s a run.
#: ``tests/cli/test_surface.py`` checks this table against the modules.
COMMANDS: dict[str, str] = {
    **dict.fromkeys(("add", "list", "edit", "stages"), "leads"),
    "show": "show",
    **dict.fromkeys(("imports", "import"), "imports"),
    **dict.fromkeys(("qualify", "advance", "history"), "pipeline"),
    "log": "activities",
    "due": "due",
    "followup": "followups",
    **dict.fromkeys(("enroll", "unenroll", "cadence"), "cadences"),
    **dict.fromkeys(("dedupe", "merge"), "identity"),
    "export": "export",
    "forget": "privacy",
    **dict.fromkeys(("score", "model"), "scoring"),
    **dict.fromkeys(("spend", "report"), "reports"),
    "capture": "capture",
    "mail": "mail",
    **dict.fromkeys(("restore", "doctor", "backup"), "backups"),
    "config": "config",
}
#: Every command module, in registration order.
MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))


def build_app(modules: tuple[str, ...] = MODULES) -> typer.Typer:
    """The ``leadcli`` command with the commands of ``modules`` (by default all of them)."""
    import importlib

    app = typer.Typer(
        name="leadcli",
        cls=LeadcliGroup,
        help="Manage leads from first contact to customer, in a local SQLite database.\n\n"
        "Example: leadcli add --first-name Ana --email ana@acme.com --company Acme",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    for name in MODULES:
        if name not in modules:
            continue
        module = importlib.import_module(f"leadcli.cli.commands.{name}")
        if name == "config":
            app.add_typer(
                module.app,
                name="config",
                help="Show and change leadcli's configuration.\n\n"
                "Example: leadcli config set contacts.phone_region GB",
            )
            continue
        app.add_typer(module.app)
        if name == "scoring":
            app.add_typer(module.model_app, name="model")
    return app


def command_modules(args: list[str]) -> tuple[str, ...]:
    """The command modules a run with these arguments needs: the one module of the command
    named, after the root's own options; all of them for the root's help, for shell
    completion, and for a name leadcli does not know (Click then suggests the near ones)."""
    if any(k.startswith("_LEADCLI_COMPLETE") for k in os.environ):
        return MODULES
    rest = iter(args)
    for arg in rest:
        if arg == "--db":
            next(rest, None)
        elif arg.startswith("--db="):
            continue
        elif arg.startswith("-"):
            return MODULES  # --help, --version or a mistake: Click answers those
        else:
            return (COMMANDS[arg],) if arg in COMMANDS else MODULES
    return MODULES


def __getattr__(name: str) -> Any:
    """``leadcli.cli.app.app``: the whole command, for tests and embedding (built on first
    use, so that ``main`` can build a smaller one)."""
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    build_app(command_modules(sys.argv[1:]))(prog_name="leadcli")
