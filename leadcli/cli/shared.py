"""What several command modules share, below all of them: the default-verb group, the write
transaction that rescores what it changes, and the automatic backup of a bulk change.

It imports no command module, so ``imports``, ``backups``, ``identity`` and the others can
all import it without a circle between them.

Why our own ``DefaultGroup`` and not click-default-group's: Typer 0.26 to 0.28 (the range
pyproject.toml allows) carries its own copy of Click, and ``TyperGroup`` derives from that
copy's ``Command``, not from ``click.Group``. click-default-group's class derives from the
real ``click.Group``: mixed with ``TyperGroup`` it cannot even be built (the real
``click.Command.__init__`` refuses Typer's ``rich_markup_mode``), and its parsing and help
would be plain Click's, not Typer's Rich help. So the same idea, its names kept
(``default``, ``default_if_no_args``), in one class here.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

from leadcli.cli.options import OutputFormat
from leadcli.cli.output import emit, say, write_object
from leadcli.cli.state import AppState, state

if TYPE_CHECKING:
    from leadcli.storage.store import BeforeWrite, Store

HELP_OPTIONS = ("--help", "-h")


class DefaultGroup(TyperGroup):
    """A group whose first argument, when it names none of its verbs, goes to ``default``:
    ``import a.csv`` is ``import files a.csv``, ``backup`` is ``backup take``, ``followup 42
    tomorrow`` is ``followup add 42 tomorrow``. A file really named like a verb is given as
    ``./list``. Options of the default verb may come first (``backup -f json``)."""

    #: The verb run when the first argument names no other.
    default: ClassVar[str] = ""
    #: Whether the group with no arguments at all runs the default verb (else its help).
    default_if_no_args: ClassVar[bool] = False
    #: Whether ``GROUP --help`` is the default verb's help: right when the other verbs are
    #: side doors (``import list``) and a user asking wants every option of the main one.
    help_is_default: ClassVar[bool] = False

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if self._to_default(args):
            args = [self.default, *args]
        return super().parse_args(ctx, args)

    def _to_default(self, args: list[str]) -> bool:
        if not args:
            return self.default_if_no_args
        first = args[0]
        if first in self.commands:
            return False
        if first in HELP_OPTIONS:
            return self.help_is_default
        return True


def default_group(
    verb: str, *, if_no_args: bool = False, help_is_default: bool = False
) -> type[DefaultGroup]:
    """A ``DefaultGroup`` class for ``typer.Typer(cls=...)``, which takes a class, not an
    instance: ``typer.Typer(cls=default_group("files", help_is_default=True))``."""
    return type(
        f"DefaultGroup_{verb}",
        (DefaultGroup,),
        {"default": verb, "default_if_no_args": if_no_args, "help_is_default": help_is_default},
    )


class DefaultVerbCommand(TyperCommand):
    """A default verb whose usage leaves its own name out, since a user never types it:
    ``leadcli import [OPTIONS] FILE...``, ``leadcli backup [OPTIONS] [PATH]``."""

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        path = ctx.parent.command_path if ctx.parent else ctx.command_path
        formatter.write_usage(path, " ".join(self.collect_usage_pieces(ctx)))


# --------------------------------------------------------------------------- rescoring


def build_scorer(
    app_state: AppState, mode: str | None, rules_file: Path | None = None, *, quiet: bool = False
) -> Any:
    """The scorer a command uses: the mode asked for (else ``scoring.model``); predictive
    and blend fall back to rules, saying so unless ``quiet``, while no model has been
    trained. Rules are read only when the mode scores by them."""
    from leadcli.scoring import apply, model, rules
    from leadcli.storage.paths import resolve_config_path

    config = app_state.config()
    mode = mode or config["scoring.model"]
    stored = None
    if mode != "rules":
        stored = model.load_latest(app_state.store())
        if stored is None:
            if not quiet:
                say(
                    f"No trained model yet: scoring by rules instead of {mode} "
                    "(`leadcli model train` learns one from closed leads)."
                )
            mode = "rules"
    ruleset = None
    if mode != "predictive":
        ruleset = rules.load(rules_file, user_rules=rules.user_rules_path(resolve_config_path()))
    return apply.Scorer(
        mode=mode,
        rules=ruleset,
        model=stored,
        hot=config["rating.hot"],
        warm=config["rating.warm"],
    )


def default_scorer(app_state: AppState) -> Any:
    """The scorer commands rescore what they change with, built once a run: a command
    writing in many transactions (capture's batches, dedupe's pairs) reads the rules file
    and the model once."""
    if app_state.scorer is None:
        app_state.scorer = build_scorer(app_state, None, quiet=True)
    return app_state.scorer


@contextlib.contextmanager
def rescoring(ctx: typer.Context) -> Iterator[Callable[[Iterable[int]], None]]:
    """The write transaction of a command that changes leads: it yields ``touched``, to
    name the leads changed, and rescores them (default scorer) before the transaction
    commits. The scorer is built first (once a run), so a broken rules file changes
    nothing."""
    from leadcli.scoring.apply import rescore_in

    app_state = state(ctx)
    scorer = default_scorer(app_state)
    ids: list[int] = []
    with app_state.store().write() as conn:
        yield ids.extend
        if ids:
            rescore_in(conn, scorer, ids)


# --------------------------------------------------------------------------- backups


def before_bulk_change(ctx: typer.Context, reason: str) -> BeforeWrite | None:
    """The automatic backup of a bulk change (``reason``: import-undo, merge, dedupe,
    forget ...), per ``backup.keep``, as the ``before_write`` the core's bulk operation
    calls once its checks have passed (``Store.checks_passed``): a refused command takes
    none. Said on stderr, as it takes time on a big database. Taken once, however many
    writes the callback is handed to (``dedupe --merge`` merges pair by pair)."""
    app_state = state(ctx)
    store = app_state.store()
    keep = app_state.config()["backup.keep"]  # a broken setting is said before any change
    if store.read_only or keep <= 0:
        return None  # read-only: the change itself will say the file is read-only
    taken: list[object] = []

    def backup(store: Store) -> None:
        from leadcli.privacy.backups import automatic_backup

        if taken:
            return
        made = automatic_backup(store, reason, keep=keep)
        taken.append(made)
        if made is not None:
            say(f"Backed up to {made.path}")

    return backup


# --------------------------------------------------------------------------- engagement


def when_option(text: str, option: str, *, day_time: int | None = None) -> datetime:
    """WHEN or --at as a UTC instant (``text.dates.parse_planned``), a mistake said as a
    usage error naming ``option``; a local time that happens twice is taken the first time,
    said on stderr."""
    from leadcli.text import dates

    try:
        resolved = dates.parse_planned(text, day_time=day_time)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
    if resolved.notice:
        say(f"Note: {resolved.notice}.")
    return resolved.utc


def display_name(item: dict[str, Any]) -> str:
    """A lead's name and company in one cell: "Ana Ruiz, Acme", or whichever it has."""
    name = " ".join(p for p in (item.get("first_name"), item.get("last_name")) if p)
    company = item.get("company")
    return f"{name}, {company}" if name and company else name or company or ""


IcsOption = Annotated[
    Path | None,
    typer.Option("--ics", metavar="FILE", help="Also write them as an iCalendar (.ics) file."),
]


def export_ics(items: list[dict[str, Any]], path: Path) -> None:
    """Follow-ups (and cadence steps) as calendar events, the count said on stderr."""
    from leadcli.exporting.calendar import write_ics

    count = write_ics(items, path)
    say(f"Wrote {count} event{'s' if count != 1 else ''} to {path}.")


LeadOrStdin = Annotated[
    str, typer.Argument(metavar="ID", help="A lead id, or - to read lead ids from stdin.")
]


def write_records(
    records: list[dict[str, Any]], fmt: OutputFormat, columns: list[str], one: bool
) -> None:
    """Records in a script format; with ``one`` (one id typed, not -), -f json prints the
    object itself, as ``log`` and ``followup`` always did, and an array otherwise."""
    if fmt is OutputFormat.json:
        write_object(records[0] if one and len(records) == 1 else records, sys.stdout)
    else:
        emit(records, fmt, columns=columns)
