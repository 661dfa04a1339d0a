"""Where leadcli keeps its files: the database and the configuration.

Precedence follows the CLI contract: an explicit path (``--db``), then the environment
(``LEADCLI_DB`` / ``LEADCLI_CONFIG``), then the platform's per-user folders from platformdirs.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "leadcli"
DB_ENV = "LEADCLI_DB"
CONFIG_ENV = "LEADCLI_CONFIG"


def default_db_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "leads.db"


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The database file to use: ``--db``, else ``$LEADCLI_DB``, else the user data folder."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return default_db_path()


def resolve_config_path() -> Path:
    """The TOML configuration file: ``$LEADCLI_CONFIG``, else the user config folder."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


def backup_dir(db: Path) -> Path:
    """Where the automatic backups of ``db`` live: a ``backups`` folder beside it.

    One place for the rule, because backup, restore, doctor and erasure (which must purge a
    forgotten person from every backup) all need to find the same files. A backup's name starts
    with the database's stem, so several databases can share a folder (see ``backup_glob``).
    """
    return db.parent / "backups"


def backup_glob(db: Path) -> str:
    """The glob, inside ``backup_dir(db)``, that matches ``db``'s automatic backups."""
    return f"{db.stem}-*.db"


def ensure_private_dir(folder: Path) -> None:
    """Create ``folder`` (and parents) owner-only; leave existing folders' modes alone.

    Only folders leadcli creates are tightened: chmod-ing a user's existing ``/tmp`` or home
    folder would be a surprise, while a fresh data folder should never be world-readable.
    """
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process won the race; fine
        os.chmod(path, 0o700)  # mkdir's mode is masked by umask


def ensure_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (race-safe)."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(path, 0o600)  # in case the umask removed bits we wanted (it cannot add)
