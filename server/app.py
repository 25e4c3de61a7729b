"""The FastAPI application: live-call WebSocket, health checks, the agent console."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

import json

from fastapi import FastAPI, HTTPException, Response, WebSocket
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from coach import __version__
from coach.config import Settings, get_settings
from coach.engine import get_engine
from coach.live import load_speech_model
from coach.resources import data_dir
from server.stream import CallStream, RecentCalls

log = logging.getLogger("coach.server")
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, *, preload: tuple[str, ...] = ("en",)) -> FastAPI:
    """The app. Models for the ``preload`` languages load in the background at start-up; ``/readyz``
    answers 503 until they are loaded."""
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

    app = FastAPI(title="coach", version=__version__, lifespan=lifespan,
                  description="Live coaching for debt-collection calls: stream audio to /v1/stream, get hints back.")
    app.state.calls = RecentCalls()

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz(response: Response) -> dict:
        """Models are loaded and calls can start."""
        if not state["ready"]:
            response.status_code = 503
            return {"status": "error" if state["error"] else "loading", "error": state["error"]}
        return {"status": "ready"}

    @app.websocket("/v1/stream")
    async def stream(websocket: WebSocket) -> None:
        await CallStream(websocket, settings, app.state.calls).run()

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

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


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

    from server import logs

    logs.configure()
    uvicorn.run(create_app(), host=host, port=port, log_config=None, ws_max_size=16 * 1024 * 1024)
