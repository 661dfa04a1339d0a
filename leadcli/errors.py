"""Errors the core raises for the CLI to turn into one line and exit code 1.

Messages must never contain lead data (names, emails, notes ...): they end up in cron mail
and shell logs. Name the field or the id, never the value.
"""

from __future__ import annotations


class LeadcliError(Exception):
    """Base class: a request that could not be done, described for a person."""

    #: What the user can do about it, printed after the message when set.
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


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
