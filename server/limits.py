"""Per-token rate limits: uploads (``POST /v1/calls``) and live-call starts (``/v1/stream``); and the
work queues that keep heavy requests (reviews, reports) off the threads live calls run on.

A token bucket per token: ``per_minute`` requests at once, refilled evenly over a minute. Buckets are
keyed by the token's SHA-256 (the secret itself is never kept), so a leaked or runaway client is
slowed without touching anyone else's. Over the limit, uploads get 429 with ``Retry-After``, stream
starts an ``error`` event ``rate_limited`` and close code 4429.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import HTTPException

T = TypeVar("T")

#: Buckets kept before full (idle) ones are dropped: bounds memory against clients that send a new
#: made-up token with every request.
MAX_BUCKETS = 10_000


class RateLimiter:
    """``per_minute`` hits per key a minute, in bursts of up to ``per_minute``; 0 means no limit."""

    def __init__(self, per_minute: int, *, what: str = "requests", setting: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.what = what
        self.setting = setting
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens left, when counted)
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count one request for ``key``: 0 if it may go ahead, else the seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                self._prune(now, rate)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate

    def message(self, retry_after: float) -> str:
        setting = f" ({self.setting})" if self.setting else ""
        return (f"too many {self.what} with this token: at most {self.per_minute} a minute{setting}; "
                f"retry in {retry_seconds(retry_after)} s")

    def _prune(self, now: float, rate: float) -> None:
        if len(self._buckets) <= MAX_BUCKETS:
            return
        full = [k for k, (tokens, then) in self._buckets.items() if tokens + (now - then) * rate >= self.per_minute]
        for key in full:
            del self._buckets[key]


def retry_seconds(retry_after: float) -> int:
    """Whole seconds for a Retry-After header (at least 1)."""
    return max(1, math.ceil(retry_after))


def token_key(secret: str) -> str:
    """The bucket key of a token: its SHA-256, as the store keeps it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def bearer_secret(headers: dict[str, str], query: dict[str, str], *names: str) -> str | None:
    """The token a request carries: ``Authorization: Bearer <token>`` first, else one of the query
    parameters ``names``."""
    scheme, _, value = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    for name in names:
        if query.get(name):
            return query[name]
    return None


class UploadRateLimit:
    """ASGI middleware: ``POST /v1/calls`` per token, refused before the body is read."""

    def __init__(self, app: Any, limiter: RateLimiter, path: str = "/v1/calls") -> None:
        self.app = app
        self.limiter = limiter
        self.path = path

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        from urllib.parse import parse_qsl

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        secret = bearer_secret(headers, query, "access_token")
        wait = self.limiter.hit(token_key(secret)) if secret else 0.0  # no token: a 401 follows anyway
        if not wait:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": self.limiter.message(wait)}).encode()
        await send({"type": "http.response.start", "status": 429,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"retry-after", str(retry_seconds(wait)).encode())]})
        await send({"type": "http.response.body", "body": body})


class WorkQueue:
    """One worker thread for one kind of heavy work, with a bound on what may wait for it.

    A review of a long transcript takes minutes and a report of one tens of seconds; run on the
    default thread pool, a handful of them took every thread the live calls' transcription and token
    checks need (an event 45 s late). Here each kind has its own thread, each holder of a token at
    most ``per_holder`` jobs queued or running and everyone together ``total``; past either the
    request is refused at once (503 with ``Retry-After``) rather than left hanging behind the queue."""

    def __init__(self, what: str, *, total: int, per_holder: int, retry_after: int = 30) -> None:
        self.what = what
        self.total = total
        self.per_holder = per_holder
        self.retry_after = retry_after
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=what.replace(" ", "-"))
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def run(self, holder: str, job: Callable[[], T]) -> T:
        """``job()`` on this queue's thread, for ``holder`` (who asks: a token's user)."""
        with self._lock:
            if sum(self._held.values()) >= self.total:
                raise self._busy(f"the server is busy with {self.total} {self.what} already")
            if self._held[holder] >= self.per_holder:
                raise self._busy(f"you already have {self.per_holder} {self.what} waiting or running")
            self._held[holder] += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, job)
        finally:
            with self._lock:
                self._held[holder] -= 1
                if not self._held[holder]:
                    del self._held[holder]

    def _busy(self, why: str) -> HTTPException:
        return HTTPException(status_code=503, detail=f"{why}; retry in {self.retry_after} s",
                             headers={"Retry-After": str(self.retry_after)})
