"""JSON from users and clients, where every way it can be wrong is a clear error.

``json.loads`` fails in three ways on hostile or broken input: a syntax error (``JSONDecodeError``),
nesting deeper than Python's recursion limit (``RecursionError``), and an integer longer than
Python's 4,300-digit limit (a plain ``ValueError``). Callers catch one :class:`JsonError` instead,
and its message never quotes the input.
"""

from __future__ import annotations

import json
from typing import Any


class JsonError(ValueError):
    """Text that is not usable JSON; ``line``/``column`` when the parser says where (1-based)."""

    def __init__(self, msg: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(msg)
        self.msg, self.line, self.column = msg, line, column

    @property
    def where(self) -> str:
        """``line L, column C: `` when known, else empty."""
        return f"line {self.line}, column {self.column}: " if self.line is not None else ""


def loads(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsonError("nested too deeply") from None
    except ValueError:  # e.g. an integer of more than 4,300 digits
        raise JsonError("a number is too long") from None
