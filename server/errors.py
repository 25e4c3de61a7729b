"""Error answers of the HTTP API: a fitting status, a message that says what to fix, and nothing a
client should not see: no input echoed beyond 200 characters, no server path."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from coach.errors import (
    CoachError,
    ConfigError,
    InputError,
    InvalidPlaybookError,
    ModelUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    PlaybookError,
    StorageError,
    TimeLimitError,
)
from coach.jsontext import whole_characters

#: Longest piece of a client's input an error may repeat.
ECHO_LIMIT = 200
#: Most validation errors listed in one 422 (the rest are counted).
MAX_ERRORS = 20
#: Longest error message (a safety net: messages are short by construction).
DETAIL_LIMIT = 4000
#: An absolute path's folders (``/tmp/coach-upload-x1/``): errors keep only the file's name.
_FOLDERS = re.compile(r"/(?:[^/\s'\"]+/)+")
#: A database's address in a storage error: a URL (``postgresql+psycopg://svc:***@db:5432/coach``,
#: ``sqlite:////srv/coach.db``) or a bare ``user:password@host`` given without its scheme.
_DATABASE_ADDRESS = re.compile(r"'?[^\s']*://[^\s']*[^\s':,]'?|'?[^\s'@]+@[^\s']*[^\s':,]'?")
#: The driver's own words name the host again ('connection to server at "10.1.2.3", port 5432 failed').
_DRIVER_HOST = re.compile(r'(server at|host) "?[^\s",]+"?(, port \d+)?')

#: HTTP status for each kind of user-facing error.
STATUS: dict[type[CoachError], int] = {
    NotFoundError: 404, PermissionDeniedError: 403, InputError: 422, PlaybookError: 422, StorageError: 503, ModelUnavailableError: 503,
    ConfigError: 503, TimeLimitError: 503,
}


def clip(value: Any, limit: int = 60) -> str:
    """``repr`` of a client's value, cut to ``limit`` characters, for quoting in a message."""
    text = str(value)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def scrub_paths(text: str) -> str:
    """``text`` with every absolute path reduced to its last component."""
    return _FOLDERS.sub("", text)


def storage_detail(text: str) -> str:
    """A storage error as a client may see it: what failed and what to do, not where the database lives
    (a database outage is answered before the token is checked)."""
    return scrub_paths(_DRIVER_HOST.sub(r"\1 <host>", _DATABASE_ADDRESS.sub("<database>", text)))


def detail(exc: CoachError) -> str:
    text = storage_detail(str(exc)) if isinstance(exc, StorageError) else scrub_paths(str(exc))
    return text if len(text) <= DETAIL_LIMIT else text[:DETAIL_LIMIT] + " ..."


async def coach_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CoachError)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    body: dict[str, Any] = {"detail": detail(exc)}
    if isinstance(exc, InvalidPlaybookError):
        body = {"detail": "invalid playbook", "errors": [{"field": f, "message": scrub_paths(m)} for f, m in exc.problems]}
    return JSONResponse(body, status_code=status)


async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 (parameter, message, allowed values), without the input when it is long."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    found = exc.errors()
    for error in found[:MAX_ERRORS]:
        item: dict[str, Any] = {"type": error.get("type"),
                                "loc": [whole_characters(str(part)[:ECHO_LIMIT]) for part in error.get("loc", ())],
                                "msg": whole_characters(str(error.get("msg", ""))[:1000])}
        value = error.get("input")
        if isinstance(value, (str, int, float, bool)) and len(str(value)) <= ECHO_LIMIT:
            item["input"] = whole_characters(value) if isinstance(value, str) else value
        errors.append(item)
    if len(found) > MAX_ERRORS:  # 3,000 repeated bad parameters must not make a 500 kB answer
        errors.append({"type": "too_many_errors", "loc": [], "msg": f"... and {len(found) - MAX_ERRORS} more"})
    return JSONResponse({"detail": errors}, status_code=422)


def invalid_parameter(name: str, message: str, value: Any, where: str = "query") -> RequestValidationError:
    """A 422 for one parameter, shaped like FastAPI's own."""
    return RequestValidationError([{"type": "value_error", "loc": (where, name), "msg": message, "input": value}])
