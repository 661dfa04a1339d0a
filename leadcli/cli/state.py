"""What commands share during one run: the chosen database and the configuration.

Both are opened on first use, so ``leadcli --help`` and ``config path`` never touch the
database and a command pays only for what it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from leadcli.config import Config
    from leadcli.storage.store import Store


@dataclass
class AppState:
    db_path: str | None = None
    _store: Store | None = field(default=None, repr=False)
    _config: Config | None = field(default=None, repr=False)
    #: The default scorer, built on first use (``cli.commands.scoring.default_scorer``).
    scorer: Any = field(default=None, repr=False)

    def store(self, *, create: bool = False) -> Store:
        """The database. Only the commands that bring the first data in (``add``,
        ``import``, ``capture``, ``spend``, ``restore``) pass ``create=True``: every other
        command on a path with no database exits 1 naming it, so a mistyped ``--db`` is an
        error rather than a new, empty database and a report of zeros. Safe by default: a
        new command that forgets the argument refuses rather than creates."""
        if self._store is None:
            from leadcli.storage.store import connect

            self._store = connect(
                self.db_path, create=create, before_migration=self._before_migration
            )
        return self._store

    def _before_migration(self, store: Store) -> None:
        """An existing database is about to be upgraded: back it up first (``backup.keep``)."""
        from leadcli.cli.output import say
        from leadcli.privacy.backups import automatic_backup

        backup = automatic_backup(store, "upgrade", keep=self.config()["backup.keep"])
        if backup is not None:
            say(f"Upgrading the database's schema; backed up first to {backup.path}")

    def config(self) -> Config:
        if self._config is None:
            from leadcli import config

            self._config = config.load()
        return self._config

    def matching_rules(self) -> Any:
        """The matching rules `dedupe` uses without ``--rules`` (the user's matching.toml,
        else the built-in ones): what import and capture score possible duplicates with."""
        from leadcli.identity import matcher
        from leadcli.storage.paths import resolve_config_path

        return matcher.load_rules(config_path=resolve_config_path())

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def state(ctx: typer.Context) -> AppState:
    """The run's state from any (sub)command's context."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj
