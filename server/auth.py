"""API tokens: ``Authorization: Bearer <token>`` (or ``?access_token=`` where a browser cannot send
headers, e.g. an ``<audio>`` element). A missing or unknown token is 401; a role that may not do
something is 403. What a role may *see* is decided by the store (agents their calls, coaches their team's).

The live-call WebSocket takes the same tokens (``?token=`` for browsers), checked by
:class:`StreamGate` before anything else is read from the connection."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from coach.config import Settings
from coach.errors import StorageError
from coach.storage import CallStore, Viewer
from coach.storage.records import STREAMERS
from server.errors import storage_detail
from server.limits import RateLimiter, bearer_secret, token_key

log = logging.getLogger("coach.server.auth")

bearer = HTTPBearer(auto_error=False, description="An API token from `coach token create`.")


def get_store(request: Request) -> CallStore:
    store: CallStore | None = request.app.state.store
    if store is None:
        raise HTTPException(status_code=503, detail=storage_detail(f"storage unavailable: {request.app.state.store_error}"))
    return store


async def current_viewer(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    store: Annotated[CallStore, Depends(get_store)],
    access_token: Annotated[str | None, Query(description="The token, for links a browser follows.")] = None,
) -> Viewer:
    secret = credentials.credentials if credentials else access_token
    if not secret:
        raise HTTPException(status_code=401, detail="missing API token: send 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        viewer = await asyncio.to_thread(store.authenticate, secret)
    except StorageError as exc:
        raise HTTPException(status_code=503, detail=storage_detail(str(exc))) from None
    if viewer is None:
        raise HTTPException(status_code=401, detail="invalid or revoked API token", headers={"WWW-Authenticate": "Bearer"})
    return viewer


def require(*roles: str) -> Callable[..., Viewer]:
    """A dependency that lets only ``roles`` through (403 for the others)."""

    async def check(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
        if viewer.role not in roles:
            raise HTTPException(status_code=403, detail=f"the {viewer.role} role may not do this; it needs {' or '.join(roles)}")
        return viewer

    return check


#: WebSocket close codes for a refused stream (4000-4999 are the application's own, after HTTP's).
UNAUTHORIZED, FORBIDDEN, RATE_LIMITED = 4401, 4403, 4429
#: How often an open socket's token is checked again: a revoked token's live call or supervisor
#: socket ends within this many seconds.
TOKEN_CHECK_SECONDS = 30.0
TRY_AGAIN_LATER = 1013
#: When the database cannot be reached, a token it accepted this recently is still let through, so
#: a database outage does not stop the agents already working (revocation waits for the database).
KNOWN_TOKEN_SECONDS = 3600.0


class StreamRefused(Exception):
    """Why a stream may not start: an ``error`` event ``code`` with ``message``, then ``close_code``."""

    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code


class StreamGate:
    """Who may stream live calls: a token of a streaming role (agent, integration, admin), at most
    ``streams_per_minute`` starts a minute per token. Without a token only when the server allows
    anonymous streams (a lab); a token that is sent is always checked."""

    def __init__(self, settings: Settings, store: CallStore | None, limiter: RateLimiter | None = None) -> None:
        self.allow_anonymous = settings.allow_anonymous_stream
        self.store = store
        self.limiter = limiter or RateLimiter(settings.streams_per_minute, what="call starts",
                                              setting="COACH_STREAMS_PER_MINUTE")
        self._known: dict[str, tuple[Viewer, float]] = {}

    async def admit(self, websocket: WebSocket) -> Viewer | None:
        """The token's viewer (None: an anonymous stream on a server that allows them), or
        :class:`StreamRefused`."""
        secret = bearer_secret(dict(websocket.headers), dict(websocket.query_params), "token", "access_token")
        return await self.admit_secret(secret, websocket)

    async def admit_secret(self, secret: str | None, websocket: WebSocket, roles: tuple[str, ...] = STREAMERS) -> Viewer | None:
        """:meth:`admit` for a token found elsewhere than the headers (a platform that sends it in its
        first message), allowing only ``roles``."""
        if secret is None:
            if not self.allow_anonymous:
                raise StreamRefused(
                    "unauthorized", "this server needs an API token to stream calls: send 'Authorization: Bearer "
                    "<token>' or ?token=<token> (an agent's or an integration's: coach token create NAME --role agent "
                    "--agent-id ID)", UNAUTHORIZED)
            viewer, key = None, f"anonymous:{websocket.client.host if websocket.client else '?'}"
        else:
            viewer, key = await self._authenticate(secret), token_key(secret)
            websocket.state.token_secret = secret  # checked again while the socket is open (still_valid)
            if viewer.role not in roles:
                raise StreamRefused("forbidden", f"the {viewer.role} role may not stream calls here; it needs "
                                                 f"{', '.join(roles[:-1]) + ' or ' if len(roles) > 1 else ''}{roles[-1]}",
                                    FORBIDDEN)
        wait = self.limiter.hit(key)
        if wait:
            raise StreamRefused("rate_limited", self.limiter.message(wait), RATE_LIMITED)
        return viewer

    async def admit_watcher(self, websocket: WebSocket, roles: tuple[str, ...]) -> Viewer:
        """The viewer of a socket that watches calls rather than streams one (``/v1/supervisor``): a
        token (header or ``?token=``) of one of ``roles``; never anonymous."""
        secret = bearer_secret(dict(websocket.headers), dict(websocket.query_params), "token", "access_token")
        if secret is None:
            raise StreamRefused("unauthorized", "this socket needs an API token: send 'Authorization: Bearer <token>' or "
                                                "?token=<token> (a supervisor's: coach token create NAME --role supervisor "
                                                "--team TEAM)", UNAUTHORIZED)
        viewer = await self._authenticate(secret)
        if viewer.role not in roles:
            raise StreamRefused("forbidden", f"the {viewer.role} role may not watch live calls; it needs "
                                             f"{', '.join(roles[:-1])} or {roles[-1]}", FORBIDDEN)
        websocket.state.token_secret = secret  # checked again while the socket is open (still_valid)
        return viewer

    async def still_valid(self, websocket: Any) -> bool:
        """Whether the token this gate admitted ``websocket`` with still holds (revoking one takes
        effect on sockets already open, not only on the next). A socket admitted without a token (an
        anonymous lab stream) and a database that cannot answer keep it. An AudioSocket call's
        loopback carries the token that registered it."""
        secret = getattr(getattr(websocket, "state", None), "token_secret", None)
        if secret is None:
            return True
        try:
            await self._authenticate(secret)
        except StreamRefused as refused:
            return refused.code == "auth_unavailable"
        return True

    async def admits(self, secret: str) -> bool:
        """Whether a new connection may stand on ``secret`` (an AudioSocket leg on its call's
        registration): as a stream start is admitted, through a database outage only for a token
        checked in the last hour."""
        try:
            await self._authenticate(secret)
        except StreamRefused:
            return False
        return True

    async def _authenticate(self, secret: str) -> Viewer:
        key = token_key(secret)
        try:
            if self.store is None:
                raise StorageError("the database is unavailable")
            viewer = await asyncio.to_thread(self.store.authenticate, secret)
        except StorageError as exc:
            known = self._known.get(key)
            if known is not None and time.monotonic() - known[1] < KNOWN_TOKEN_SECONDS:
                log.warning("database unavailable (%s); admitting token %r checked %.0f s ago", exc, known[0].name,
                            time.monotonic() - known[1])
                return known[0]
            raise StreamRefused("auth_unavailable", "cannot check the token: the database is unavailable; "
                                                    "try again later", TRY_AGAIN_LATER) from None
        if viewer is None:
            self._known.pop(key, None)
            raise StreamRefused("unauthorized", "invalid or revoked API token", UNAUTHORIZED)
        self._known[key] = (viewer, time.monotonic())
        return viewer
