"""User-facing errors.

Every mistake a user can make (a bad file, an invalid playbook, a model that is not on this machine)
raises a subclass of :class:`CoachError`. The CLI prints its message without a traceback and exits
with the class's ``exit_code``, so scripts can tell the failure kinds apart.
"""

from __future__ import annotations


class CoachError(Exception):
    """Base class for errors caused by user input or configuration, not by a bug."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class InputError(CoachError):
    """A transcript or other input file is missing, unreadable or malformed."""

    exit_code = 2


class PlaybookError(CoachError):
    """A playbook is missing or does not validate."""

    exit_code = 3


class ModelUnavailableError(CoachError):
    """A configured model cannot be loaded (not on this machine, downloads off, wrong format)."""

    exit_code = 4


class ConfigError(CoachError):
    """A setting has a value the product does not know."""

    exit_code = 5
