"""The FastAPI application: live-call WebSocket, health checks, the agent console."""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Response, WebSocket
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from coach import __version__
from coach.config import Settings, get_settings
from coach.engine import get_engine
from coach.errors import CoachError
from coach.live import load_speech_model
from coach.resources import data_dir
from coach.storage import CallStore
from server import api, docs
from server.errors import scrub_paths
from server.stream import CallStream, RecentCalls

log = logging.getLogger("coach.server")
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, *, preload: tuple[str, ...] = ("en",),
               store: CallStore | None = None) -> FastAPI:
    """The app. Models for the ``preload`` languages load in the background at start-up; ``/readyz``
    answers 503 until they are loaded. Calls are stored in ``store`` (default: the configured database)."""
    settings = settings or get_settings()
    state = {"ready": False, "error": None}

    def load() -> None:
        for language in preload:
            get_engine(language=language, settings=settings)
            load_speech_model(language, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async def warm() -> None:
            try:
                await asyncio.to_thread(load)
                state["ready"] = True
                log.info("models loaded", extra={"event": "ready"})
            except Exception as exc:  # reported by /readyz
                state["error"] = str(exc)
                log.exception("model loading failed")

        task = asyncio.create_task(warm())
        yield
        task.cancel()

    app = FastAPI(title="coach", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Live coaching for debt-collection calls: stream audio to /v1/stream and get hints back; "
                              "upload and review recorded calls under /v1/calls (API token required).")
    @app.middleware("http")
    async def no_referrer(request, call_next):  # type: ignore[no-untyped-def]
        """Links may carry ?access_token= (audio, reports): never pass them on in a Referer header."""
        response = await call_next(request)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    app.state.settings = settings
    app.state.calls = RecentCalls()
    app.state.store, app.state.store_error = _open_store(settings, store)
    api.install(app)
    docs.install(app)  # /docs from this server's own files: works offline

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz(response: Response) -> dict:
        """Models are loaded and calls can start; ``storage`` says whether calls are being stored."""
        storage = "ok" if app.state.store is not None else scrub_paths(f"unavailable: {app.state.store_error}")
        if not state["ready"]:
            response.status_code = 503
            error = scrub_paths(state["error"]) if state["error"] else None
            return {"status": "error" if error else "loading", "error": error, "storage": storage}
        return {"status": "ready", "storage": storage}

    @app.websocket("/v1/stream")
    async def stream(websocket: WebSocket) -> None:
        await CallStream(websocket, settings, app.state.calls, app.state.store).run()

    @app.get("/v1/samples", tags=["samples"])
    def samples() -> list[dict]:
        """Bundled sample calls the console can replay: two-channel audio with the call's metadata."""
        return [
            {"name": path.stem, "language": meta.get("language", "en"), "metadata": meta.get("metadata", {}),
             "audio": f"/v1/samples/{path.stem}/audio", "utterances": len(meta.get("utterances", []))}
            for path, meta in _samples().items()
        ]

    @app.get("/v1/samples/{name}/audio", tags=["samples"])
    def sample_audio(name: str) -> FileResponse:
        for path in _samples():
            if path.stem == name:
                return FileResponse(path, media_type="audio/flac")
        raise HTTPException(status_code=404, detail=f"no sample named {name!r}")

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(STATIC / "console.html")

    @app.get("/review", include_in_schema=False)
    def review_page() -> FileResponse:
        return FileResponse(STATIC / "review.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _open_store(settings: Settings, store: CallStore | None) -> tuple[CallStore | None, str | None]:
    """The call store, or why there is none: live calls still run (kept in memory) without one."""
    if store is not None:
        return store, None
    try:
        return CallStore.from_settings(settings), None
    except CoachError as exc:
        log.error("call storage unavailable: %s", exc)
        return None, str(exc)


def _samples() -> dict[Path, dict]:
    """Sample audio files (examples/audio/*.flac) and their timed transcripts."""
    folder = data_dir("examples") / "audio"
    out = {}
    for path in sorted(folder.glob("*.flac")):
        transcript = path.with_suffix(".json")
        out[path] = json.loads(transcript.read_text(encoding="utf-8")) if transcript.exists() else {}
    return out


def run(host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    from server import logs, preflight

    logs.configure()
    settings = get_settings()
    # Before anything starts: a missing speech model exits 4, a port that cannot be had 5 (README).
    preflight.check_speech_models(settings)
    sock = preflight.bind(host, port)
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_config=None, ws_max_size=16 * 1024 * 1024)
    uvicorn.Server(config).run(sockets=[sock])
