"""Request-body limits, enforced before a body is read.

A declared ``Content-Length`` over the route's limit is answered 413 at once, without reading a byte;
a body without one (chunked) is counted as it streams in and refused as soon as it passes the limit.
Either way nothing larger than the limit is ever buffered, parsed or echoed back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import JSONResponse

from coach.config import Settings

#: Room for the multipart envelope and the form fields around an upload's file.
MULTIPART_ALLOWANCE = 256 * 1024

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyLimit:
    """Pure ASGI middleware (no buffering): limits per route from the settings."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def limit(self, scope: Scope) -> tuple[int, str]:
        """The largest body the request may have, and the setting that says so."""
        method, path = scope.get("method"), scope.get("path", "")
        if method == "POST" and path.rstrip("/") == "/v1/calls":
            return self.settings.max_upload_bytes + MULTIPART_ALLOWANCE, "COACH_MAX_UPLOAD_BYTES"
        if method == "POST" and path.rstrip("/") == "/v1/playbooks":
            return self.settings.max_playbook_bytes, "COACH_MAX_PLAYBOOK_BYTES"
        return self.settings.max_request_bytes, "COACH_MAX_REQUEST_BYTES"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self.limit(scope)
        detail = f"the request body is larger than {limit:,} bytes ({setting})"
        declared = _content_length(scope)
        if declared == -1:
            await JSONResponse({"detail": "Content-Length is not a number"}, status_code=400)(scope, receive, send)
            return
        if declared is not None and declared > limit:
            await JSONResponse({"detail": detail}, status_code=413, headers={"Connection": "close"})(scope, receive, send)
            return
        received, started, refused = 0, False, False

        async def capped() -> Message:
            # Over the limit: answer 413 here and tell the app the client left, so it stops reading
            # (an exception raised here would be re-wrapped by the middlewares in between).
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await JSONResponse({"detail": detail}, status_code=413, headers={"Connection": "close"})(
                            scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if refused:
                return  # whatever the app answers after our 413 goes nowhere
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, capped, guarded)


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when absent, -1 when not a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None
