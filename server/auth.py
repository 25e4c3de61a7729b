"""API tokens: ``Authorization: Bearer <token>`` (or ``?access_token=`` where a browser cannot send
headers, e.g. an ``<audio>`` element). A missing or unknown token is 401; a role that may not do
something is 403. What a role may *see* is decided by the store (agents their calls, coaches their team's)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from coach.errors import StorageError
from coach.storage import CallStore, Viewer

bearer = HTTPBearer(auto_error=False, description="An API token from `coach token create`.")


def get_store(request: Request) -> CallStore:
    store: CallStore | None = request.app.state.store
    if store is None:
        raise HTTPException(status_code=503, detail=f"storage unavailable: {request.app.state.store_error}")
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
        raise HTTPException(status_code=503, detail=str(exc)) from None
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
