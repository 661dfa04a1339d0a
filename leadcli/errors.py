"""Errors the core raises for the CLI to turn into one line and exit code 1.

Messages must never contain lead data (names, emails, notes ...): they end up in cron mail
and shell logs. Name the field or the id, never the value.
"""

from __future__ import annotations

from typing import Any


class LeadcliError(Exception):
    """Base class: a request that could not be done, described for a person."""

    #: What the user can do about it, printed after the message when set.
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by state, not by calling the class again with ``args``: a subclass whose
        ``__init__`` takes other arguments (``InvalidValue(field, reason)``) would not come
        back, and errors cross the import worker's pipe pickled."""
        return (_restore, (type(self), self.args), self.__dict__)


def _restore(cls: type[LeadcliError], args: tuple[Any, ...]) -> LeadcliError:
    """An error rebuilt without its ``__init__``; pickle then restores its attributes."""
    error = cls.__new__(cls)
    error.args = args
    return error


class NotFound(LeadcliError):
    """A lead (or other record) with that id does not exist."""


class InvalidValue(LeadcliError):
    """A value given for a field is not acceptable; the message names the field."""

    def __init__(self, field: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"{field}: {reason}", hint=hint)
        self.field = field
        self.reason = reason


class ConfigError(LeadcliError):
    """The configuration file or a configuration key/value is wrong."""


class DatabaseError(LeadcliError):
    """The database could not be opened, read or written."""


class ReadOnlyDatabase(DatabaseError):
    """A write asked of a database opened read-only (file, folder or mount not writable)."""

    def __init__(self, path: Any) -> None:
        super().__init__(
            f"the database at {path} is read-only; nothing was changed",
            hint="reading commands work; to change it, make the file and its folder writable",
        )
