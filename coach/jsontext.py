"""JSON from users and clients, where every way it can be wrong is a clear error.

``json.loads`` fails in three ways on hostile or broken input: a syntax error (``JSONDecodeError``),
nesting deeper than Python's recursion limit (``RecursionError``), and an integer longer than
Python's 4,300-digit limit (a plain ``ValueError``). Callers catch one :class:`JsonError` instead,
and its message never quotes the input. And it accepts one thing no one can store or send on: an
escape of half a character (``"\\ud800"``, a lone surrogate), which fails later, when the text is
encoded for the database or a client; refused here.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: An escape of a UTF-16 surrogate: half of a character, or one of a pair that is a whole one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LONE_SURROGATE = "a \\u escape of half a character (a lone surrogate): the text must be valid Unicode"


class JsonError(ValueError):
    """Text that is not usable JSON; ``line``/``column`` when the parser says where (1-based)."""

    def __init__(self, msg: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(msg)
        self.msg, self.line, self.column = msg, line, column

    @property
    def where(self) -> str:
        """``line L, column C: `` when known, else empty."""
        return f"line {self.line}, column {self.column}: " if self.line is not None else ""


def _loads(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsonError("nested too deeply") from None
    except ValueError:  # e.g. an integer of more than 4,300 digits
        raise JsonError("a number is too long") from None


def loads(text: str | bytes) -> Any:
    value = _loads(text)
    escapes = _SURROGATE_ESCAPE.search(text if isinstance(text, str) else text.decode("ascii", "ignore"))
    if escapes is not None and _holds_lone_surrogate(value):
        raise JsonError(_LONE_SURROGATE)
    return value


def _lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds half a character (which UTF-8 cannot encode)."""
    return _SURROGATE.search(text) is not None


def whole_characters(text: str) -> str:
    """``text`` with any half character shown as U+FFFD, so that it can be encoded."""
    return _SURROGATE.sub("\ufffd", text)


def _holds_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _lone_surrogate(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
