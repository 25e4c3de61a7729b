"""The FastAPI application: live-call WebSocket, health checks, the agent console."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI, HTTPException, Response, WebSocket
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from coach import __version__
from coach.config import Settings, get_settings
from coach.engine import get_engine
from coach.errors import CoachError, StorageError
from coach.live import load_speech_model, speech_model_named
from coach.storage import CallStore
from server import api, audiosocket, docs, mining, supervisor
from server.auth import StreamGate
from server.errors import scrub_paths, storage_detail
from server.limits import RateLimiter, UploadRateLimit
from server.samples import bundled as bundled_samples
from server.stream import ActiveStreams, CallStream, RecentCalls
from server.telephony import AudioForkStream, AudioHookStream, TwilioStream

log = logging.getLogger("coach.server")
STATIC = Path(__file__).resolve().parent / "static"
#: SIGTERM (or Ctrl+C) ends the process within this many seconds, whatever is still running.
EXIT_DEADLINE_SECONDS = 9.0
#: At shutdown, after uvicorn's grace period: how long calls still open get to be stored, and how
#: long marking the rest as interrupted may take.
DRAIN_SECONDS, MARK_SECONDS = 1.0, 2.0
#: WebSocket messages uvicorn queues for the app per connection (its default: 32 of up to 16 MB each).
WS_MAX_QUEUE = 8
#: Seconds a thread holds the GIL before another may have it (Python's default: 0.005).
SWITCH_INTERVAL_SECONDS = 0.001


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

    def load_language_id() -> None:
        """The model live calls' language checks use, loaded once the server is ready rather than during
        the first call; without it, calls go on unchecked (coach.live.LanguageCheck), so no error here."""
        if not settings.language_id_model:
            return
        try:
            speech_model_named(settings.language_id_model, settings)
        except Exception as exc:  # noqa: BLE001 (any failure: the calls go on unchecked)
            log.warning("live calls' languages will not be checked: %s", exc, extra={"event": "language_check"})

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async def warm() -> None:
            try:
                await asyncio.to_thread(load)
                # The models' objects (vocabularies, fitted classifiers) live as long as the server:
                # moved out of the collector's reach, a full collection no longer walks them while
                # every thread, the event loop included, waits.
                gc.freeze()
                state["ready"] = True
                log.info("models loaded", extra={"event": "ready"})
            except Exception as exc:  # reported by /readyz
                state["error"] = str(exc)
                log.exception("model loading failed")
                return
            if preload:  # an app that preloads nothing (a test's) loads this model only when a call needs it
                await asyncio.to_thread(load_language_id)

        if settings.allow_anonymous_stream:
            log.warning("ANONYMOUS LIVE STREAMS ARE ALLOWED (--allow-anonymous-stream): anyone who can reach this "
                        "port can stream calls and store them under any agent or team. Use this only in a lab.",
                        extra={"event": "anonymous_stream"})
        await _recover_live_calls(app.state.store)
        task = asyncio.create_task(warm())
        await audiosocket.start(app)
        yield
        task.cancel()
        await audiosocket.stop(app)
        await _finish_streams(app.state.streams, app.state.store)
        await app.state.supervisor.settled()
        app.state.supervisor.close()

    app = FastAPI(title="coach", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Live coaching for debt-collection calls: stream audio to /v1/stream and get hints back; "
                              "upload and review recorded calls under /v1/calls (API token required).")
    @app.middleware("http")
    async def security_headers(request, call_next):  # type: ignore[no-untyped-def]
        """Links may carry ?access_token= (audio, reports): never pass them on in a Referer header. No
        page is framed by another site; a page runs only this server's own scripts and styles, and a
        report (self-contained HTML of stored calls) no script at all."""
        response = await call_next(request)
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        if "content-security-policy" not in response.headers and response.headers.get("content-type", "").startswith("text/html"):
            docs_page = request.url.path.startswith("/docs")  # Swagger UI starts itself with an inline script
            response.headers["Content-Security-Policy"] = DOCS_POLICY if docs_page else PAGE_POLICY
        return response

    app.state.settings = settings
    app.state.calls = RecentCalls()
    app.state.streams = ActiveStreams()
    app.state.store, app.state.store_error = _open_store(settings, store)
    app.state.stream_gate = StreamGate(settings, app.state.store)
    app.state.supervisor = supervisor.SupervisorHub(settings, app.state.store)
    app.add_middleware(UploadRateLimit, limiter=RateLimiter(settings.uploads_per_minute, what="uploads",
                                                            setting="COACH_UPLOADS_PER_MINUTE"))
    api.install(app)
    mining.install(app, static=STATIC)  # /v1/mining, /trainer
    docs.install(app)  # /docs from this server's own files: works offline
    audiosocket.install(app, settings)  # Asterisk AudioSocket (TCP) when COACH_AUDIOSOCKET_PORT is set
    supervisor.install(app, STATIC)  # /v1/supervisor, /v1/alerts, /supervisor

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        """The process is up (answered on the event loop itself: no worker thread to wait for)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(response: Response) -> dict:
        """Models are loaded and calls can start; ``storage`` says whether calls are being stored."""
        storage = "ok" if app.state.store is not None else storage_detail(f"unavailable: {app.state.store_error}")
        if not state["ready"]:
            response.status_code = 503
            error = scrub_paths(state["error"]) if state["error"] else None
            return {"status": "error" if error else "loading", "error": error, "storage": storage}
        return {"status": "ready", "storage": storage}

    def live_call(protocol: type[CallStream]):
        async def endpoint(websocket: WebSocket) -> None:
            await protocol(websocket, settings, app.state.calls, app.state.store, gate=app.state.stream_gate,
                           active=app.state.streams, hub=app.state.supervisor).run()

        endpoint.__doc__ = protocol.__doc__
        return endpoint

    # One live-call path, several wire formats: coach's own and the telephony platforms' (docs/telephony.md).
    for path, protocol in (("/v1/stream", CallStream), ("/v1/telephony/twilio", TwilioStream),
                           ("/v1/telephony/audiohook", AudioHookStream), ("/v1/telephony/audiofork", AudioForkStream)):
        app.add_api_websocket_route(path, live_call(protocol), name=path.rsplit("/", 1)[-1])

    @app.get("/v1/samples", tags=["samples"])
    def samples() -> list[dict]:
        """Bundled sample calls the console can play (``"sample": "<name>"`` in a stream's start
        message: a demo call): two-channel audio with the call's metadata."""
        return [
            {"name": sample.name, "language": sample.language, "metadata": sample.transcript.get("metadata", {}),
             "audio": f"/v1/samples/{sample.name}/audio", "utterances": len(sample.transcript.get("utterances", []))}
            for sample in bundled_samples().values()
        ]

    @app.get("/v1/samples/{name}/audio", tags=["samples"])
    def sample_audio(name: str) -> FileResponse:
        sample = bundled_samples().get(name)  # a name from the list, never a path
        if sample is None:
            raise HTTPException(status_code=404, detail=f"no sample named {name[:60]!r}")
        return FileResponse(sample.path, media_type="audio/flac")

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(STATIC / "console.html")

    @app.get("/review", include_in_schema=False)
    def review_page() -> FileResponse:
        return FileResponse(STATIC / "review.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


#: The pages: this server's own scripts, styles, audio and sockets, nothing inline, framed by no one.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: The API page: Swagger UI's files are this server's, but it starts with an inline script.
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _open_store(settings: Settings, store: CallStore | None) -> tuple[CallStore | None, str | None]:
    """The call store, or why there is none: live calls still run (kept in memory) without one."""
    if store is not None:
        return store, None
    try:
        return CallStore.from_settings(settings), None
    except CoachError as exc:
        log.error("call storage unavailable: %s", exc)
        return None, str(exc)


async def _recover_live_calls(store: CallStore | None) -> None:
    """Calls still marked live when the server starts were cut off by a crash: mark them interrupted
    (their events up to the crash are kept). One server per database is assumed."""
    if store is None:
        return
    try:
        ids = await asyncio.to_thread(store.interrupt_live_calls)
    except StorageError as exc:
        log.error("could not check for calls left live: %s", exc)
        return
    if ids:
        log.warning("%d call(s) left live by an earlier run marked interrupted: %s", len(ids), ", ".join(ids[:20]),
                    extra={"event": "recovered"})


async def _finish_streams(streams: ActiveStreams, store: CallStore | None) -> None:
    """At shutdown: let calls still in progress be stored, then mark those that were not as interrupted."""
    if not len(streams):
        return
    left = await streams.drain(DRAIN_SECONDS)
    if not left or store is None:
        return
    try:
        await asyncio.wait_for(asyncio.to_thread(store.interrupt_live_calls, left), MARK_SECONDS)
        log.warning("shutting down: %d call(s) in progress marked interrupted", len(left), extra={"event": "shutdown"})
    except (TimeoutError, StorageError) as exc:
        log.error("shutting down: could not mark %d call(s) interrupted: %s", len(left), exc or "timed out")


def run(host: str = "127.0.0.1", port: int = 8000, *, allow_anonymous_stream: bool = False) -> None:
    from server import logs, preflight

    logs.configure()
    # The event loop shares the GIL with the threads that run the models and write the database: a
    # shorter switch interval (5 ms by default) lets it answer sooner while they are busy.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    settings = get_settings()
    if allow_anonymous_stream:
        settings = settings.model_copy(update={"allow_anonymous_stream": True})
    # Before anything starts: a missing speech model exits 4, a port that cannot be had 5 (README).
    preflight.check_speech_models(settings)
    sock = preflight.bind(host, port)
    # A WebSocket's messages queue here until the app reads them: few, so a client the app has stopped
    # reading (its audio ahead of the models, server.stream) is held back by TCP, not by memory.
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_config=None, ws_max_size=16 * 1024 * 1024,
                            ws_max_queue=WS_MAX_QUEUE, timeout_graceful_shutdown=settings.shutdown_grace_seconds)
    _Server(config).run(sockets=[sock])


class _Server(uvicorn.Server):
    """uvicorn's server with a deadline: after SIGTERM or Ctrl+C the process is gone within
    EXIT_DEADLINE_SECONDS, even if something it waits for never ends. Within it, uvicorn closes the
    connections (live calls see close code 1012), waits up to COACH_SHUTDOWN_GRACE_SECONDS for the
    calls to be finished and stored, and the app marks those still open as interrupted."""

    def handle_exit(self, sig, frame) -> None:  # type: ignore[no-untyped-def]
        if not self.should_exit:
            threading.Thread(target=_exit_after, args=(EXIT_DEADLINE_SECONDS,), name="exit-deadline", daemon=True).start()
        super().handle_exit(sig, frame)


def _exit_after(seconds: float) -> None:
    time.sleep(seconds)
    log.error("shutdown took longer than %g s: exiting now", seconds, extra={"event": "forced_exit"})
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(1)
