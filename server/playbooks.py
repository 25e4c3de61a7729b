"""``/v1/playbooks``: the installed playbooks (any token) and uploading one (admins).

Clients choose a playbook by id from this list (the live stream's ``start`` message, uploads); a
client never names a file on the server.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from coach.config import Settings
from coach.playbook.registry import PlaybookRegistry, ShippedPlaybookError, VersionTakenError
from coach.storage import Viewer
from server.auth import current_viewer, require

router = APIRouter(prefix="/v1", tags=["playbooks"])


class PlaybookInfo(BaseModel):
    id: str
    version: str
    language: str
    locale: str
    name: str
    #: Shipped with the product (cannot be replaced) or uploaded.
    shipped: bool


def registry(request: Request) -> PlaybookRegistry:
    settings: Settings = request.app.state.settings
    return PlaybookRegistry.from_settings(settings)


Registry = Annotated[PlaybookRegistry, Depends(registry)]


@router.get("/playbooks", response_model=list[PlaybookInfo])
async def list_playbooks(_viewer: Annotated[Viewer, Depends(current_viewer)], books: Registry) -> list[PlaybookInfo]:
    """The installed playbooks: what the live stream's ``playbook`` and an upload's may name."""
    entries = await asyncio.to_thread(books.entries)
    return [PlaybookInfo(**vars(entry)) for entry in entries]


_YAML_BODY = {"requestBody": {"required": True, "content": {
    "application/yaml": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
}}}


@router.post("/playbooks", response_model=PlaybookInfo, status_code=201, openapi_extra=_YAML_BODY,
             responses={200: {"model": PlaybookInfo, "description": "An uploaded playbook of this id was replaced"},
                        409: {"description": "The id is a shipped playbook's, or this version is installed with other content"},
                        413: {"description": "Larger than COACH_MAX_PLAYBOOK_BYTES"},
                        422: {"description": "Not a valid playbook: `errors` lists each field and what is wrong"}})
async def upload_playbook(request: Request, _viewer: Annotated[Viewer, Depends(require("admin"))],
                          books: Registry) -> JSONResponse:
    """Install a playbook: the YAML as the body (``Content-Type: application/yaml``) or as the
    ``file`` of a form. It is validated like ``coach playbook check`` does (without the accuracy
    run) and stored in ``COACH_PLAYBOOK_DIR`` as ``<id>.yaml``; the same id with a new version replaces
    it, the same file again changes nothing, other content under an installed version is refused (409)."""
    try:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise HTTPException(status_code=422, detail="send the playbook as the form's file field, or as the body")
            raw = await upload.read()
        else:
            raw = await request.body()
    except ClientDisconnect:  # gone, or cut off by the body limit (which has answered 413)
        raise HTTPException(status_code=413, detail="the playbook was not received whole") from None
    if not raw.strip():
        raise HTTPException(status_code=422, detail="the playbook is empty")
    try:
        entry, created = await asyncio.to_thread(books.install, raw)
    except (ShippedPlaybookError, VersionTakenError) as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    info = PlaybookInfo(**vars(entry))
    return JSONResponse(info.model_dump(), status_code=201 if created else 200)
