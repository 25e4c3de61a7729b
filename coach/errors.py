"""User-facing errors.

Every mistake a user can make (a bad file, an invalid playbook, a model that is not on this machine)
raises a subclass of :class:`CoachError`. The CLI prints its message without a traceback and exits
with the class's ``exit_code``, so scripts can tell the failure kinds apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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


class InvalidPlaybookError(PlaybookError):
    """A playbook that does not validate; ``problems`` are ``(field, message)`` pairs, never quoting
    the file's content."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        lines = "\n".join(f"  {field}: {message}" for field, message in problems)
        super().__init__(f"{source}: invalid playbook:\n{lines}")
        self.source = source
        self.problems = problems


class ModelUnavailableError(CoachError):
    """A configured model cannot be loaded (not on this machine, downloads off, wrong format)."""

    exit_code = 4


class ConfigError(CoachError):
    """A setting has a value the product does not know."""

    exit_code = 5


class StorageError(CoachError):
    """The database cannot be reached, is locked, or refuses a write; nothing was half-written."""

    exit_code = 6


class TimeLimitError(CoachError):
    """Work (a review, a mining run) took longer than its configured limit; nothing was stored."""

    exit_code = 5


class NotFoundError(CoachError):
    """A call, note or token that does not exist."""

    exit_code = 2


class PermissionDeniedError(CoachError):
    """Something that exists and may be seen, but not changed by this user (another coach's note)."""

    exit_code = 2


def describe_validation_error(
    exc: Any, *, limit: int = 20, where: Callable[[list[Any]], str] | None = None,
    message: Callable[[dict[str, Any]], str | None] | None = None,
) -> str:
    """One indented line per problem of a pydantic ``ValidationError``: ``  <where>: <message>``.

    ``where`` turns an error location into words (default: dotted path, ``intents.3.examples``);
    ``message`` may replace pydantic's wording for some errors.
    """
    lines = []
    errors = exc.errors()
    for error in errors[:limit]:
        loc = list(error["loc"])
        place = where(loc) if where else (".".join(map(str, loc)) or "(top level)")
        text = (message(error) if message else None) or error["msg"].removeprefix("Value error, ")
        lines.append(f"  {place}: {text}")
    if len(errors) > limit:
        lines.append(f"  ... and {len(errors) - limit} more")
    return "\n".join(lines)
