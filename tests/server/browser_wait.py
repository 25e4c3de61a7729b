"""Waiting on a page under its content-security policy.

Playwright's ``wait_for_function`` evaluates its predicate with ``eval`` inside the page, which the
pages' policy (no ``unsafe-eval``, server/app.py) forbids; ``page.evaluate`` runs through the
browser's debugging protocol, which the policy does not govern. The tests keep the policy on, so
they also show that the pages work under it.
"""

from __future__ import annotations

import time
from typing import Any


def wait_until(page: Any, expression: str, arg: Any = None, *, timeout: float = 30_000) -> Any:
    """Poll ``expression`` (a JavaScript expression, or a function of ``arg``) until it is truthy;
    its value, or AssertionError after ``timeout`` milliseconds."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout / 1000:g} s: {expression[:160]}")
        page.wait_for_timeout(100)
