"""The supervisors' live floor: ``/v1/supervisor`` (WebSocket), ``/v1/alerts`` (REST) and the page.

:class:`SupervisorHub` is the server's side of :class:`coach.floor.Floor`: the live-call streams
register their calls with it (and it keeps them by call, to pass on a supervisor's note), alerts are
stored and posted to the webhook, and every change is fanned out to the sockets watching
(:class:`Watcher`), each seeing only the calls its token may see. Messages: docs/supervisor.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from coach.alerts import Alert, AlertWebhook
from coach.config import Settings
from coach.errors import CoachError, NotFoundError, StorageError, describe_validation_error
from coach.floor import CallTile, Floor, FloorMessage, SupervisorNote
from coach.storage import CallStore, Viewer
from coach.storage.records import WATCHERS
from coach.storage.store import Redactor
from server import auth
from server.auth import UNAUTHORIZED, StreamGate, StreamRefused, get_store, require

if TYPE_CHECKING:
    from server.stream import CallStream

log = logging.getLogger("coach.server.supervisor")

#: Alerts are written on their own thread, never on the event loop or behind the calls' writer.
_ALERTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts")
#: Limits on what a watcher sends and receives.
MAX_MESSAGE_BYTES = 16_384
MAX_NOTE_CHARS = 500
MAX_SUBSCRIPTIONS = 10
MAX_WATCHERS = 500
#: How a note sent to the agent reads among the call's notes.
NOTE_PREFIX = "Note to the agent during the call: "
#: Alerts not acknowledged yet that a new connection is shown (the latest).
SNAPSHOT_ALERTS = 50
#: Messages a watcher may send in ``RATE_WINDOW`` seconds; more are refused with an error.
RATE_MESSAGES, RATE_WINDOW = 30, 10.0
#: Messages waiting for a slow watcher before it is dropped (it reconnects and gets a snapshot).
QUEUE_LIMIT = 5_000
NORMAL, POLICY, TOO_BIG, TRY_AGAIN_LATER = 1000, 1008, 1009, 1013


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Subscribe(_Message):
    type: Literal["subscribe"]
    call_id: str = Field(min_length=1, max_length=220)


class Unsubscribe(_Message):
    type: Literal["unsubscribe"]
    call_id: str = Field(min_length=1, max_length=220)


class Acknowledge(_Message):
    type: Literal["ack"]
    alert_id: str = Field(min_length=1, max_length=64)


class Note(_Message):
    type: Literal["note"]
    call_id: str = Field(min_length=1, max_length=220)
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class Ping(_Message):
    type: Literal["ping"]


WatcherMessage = Annotated[Subscribe | Unsubscribe | Acknowledge | Note | Ping, Field(discriminator="type")]
_WATCHER_MESSAGE: TypeAdapter[Any] = TypeAdapter(WatcherMessage)


def may_see(viewer: Viewer, team: str | None) -> bool:
    """Admins see every call on the floor; supervisors and coaches their team's."""
    return viewer.role == "admin" or (viewer.team is not None and team == viewer.team)


class SupervisorHub:
    """The floor, the agents' streams by call, the watchers, and where alerts go."""

    def __init__(self, settings: Settings, store: CallStore | None, *, floor: Floor | None = None,
                 webhook: AlertWebhook | None = None) -> None:
        self.settings = settings
        self.store = store
        self.floor = floor or Floor()
        if webhook is None and settings.alert_webhook_url:
            webhook = AlertWebhook(settings.alert_webhook_url, settings.alert_webhook_secret,
                                   attempts=settings.alert_webhook_attempts,
                                   timeout=settings.alert_webhook_timeout_seconds)
        self.webhook = webhook
        self.redactor = Redactor(settings)
        self.streams: dict[str, CallStream] = {}
        self.demo: set[str] = set()
        self.watchers: set[Watcher] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[asyncio.Future] = set()
        self.floor.listen(self._on_floor)

    # -- the hooks the live-call streams call (on the event loop) ------------------------------

    def call_opened(self, stream: CallStream, call_id: str, *, language: str, playbook: str | None,
                    metadata: dict[str, Any], demo: bool = False) -> str | None:
        """A call started: on the floor (returns its id there; None if it could not be put there, which
        never stops the call) and reachable for notes."""
        self._loop = asyncio.get_running_loop()
        try:
            key = self.floor.open(call_id, language=language, agent_id=_text(metadata.get("agent_id")),
                                  team=_text(metadata.get("team")), playbook=playbook)
        except Exception:
            log.exception("call not shown on the floor", extra={"call_id": call_id})
            return None
        self.streams[key] = stream
        if demo:
            self.demo.add(key)
        return key

    def call_events(self, key: str, events: list) -> None:
        """A batch of the call's events: its tile, and any alert stored and posted (never raises: the
        call goes on whatever happens here)."""
        try:
            self._publish(key, events)
        except Exception:
            log.exception("floor update failed", extra={"call_id": key})

    def _publish(self, key: str, events: list) -> None:
        for alert in self.floor.publish(key, events):
            log.warning("alert %s on call %s: %s", alert.kind, alert.call_id, alert.message,
                        extra={"call_id": alert.call_id, "event": "alert"})
            # kept and posted under the id the call is stored as (not its id here when that one was taken)
            stored_id = getattr(self.streams.get(key), "stored_id", None)
            kept = alert.model_copy(update={"call_id": stored_id}) if stored_id and stored_id != key else alert
            if self.store is not None:  # a demo's too (a supervisor trying the floor acknowledges them); purged with it
                future = asyncio.get_running_loop().run_in_executor(_ALERTS, self._store_alert, kept)
                self._pending.add(future)
                future.add_done_callback(self._pending.discard)
            if self.webhook is not None and key not in self.demo:
                evidence, _ = self.redactor.redact_text(kept.evidence)
                self.webhook.send(kept.model_copy(update={"evidence": evidence}))

    def call_closed(self, key: str, *, status: str, stored_id: str | None) -> None:
        """The call is finished and stored: off the floor."""
        self.streams.pop(key, None)
        self.demo.discard(key)
        self.floor.close(key, status=status, stored_id=stored_id)

    def keep_note(self, stored_id: str | None, text: str, viewer: Viewer) -> None:
        """A note sent to the agent is kept with the call (a note on the whole call, by its author),
        so its review shows what the agent was told; on the alerts' thread, never waited for."""
        if self.store is None or stored_id is None:
            return

        def write() -> None:
            try:
                self.store.add_note(stored_id, f"{NOTE_PREFIX}{text}", viewer.name, None, viewer)
            except CoachError as exc:
                log.error("supervisor note not kept with the call: %s", exc, extra={"call_id": stored_id})

        future = asyncio.get_running_loop().run_in_executor(_ALERTS, write)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _store_alert(self, alert: Alert) -> None:
        try:
            self.store.add_alert(alert)
        except CoachError as exc:
            log.error("alert %s not stored: %s", alert.id, exc, extra={"call_id": alert.call_id})

    async def settled(self) -> None:
        """Wait for the alerts being stored (tests, shutdown)."""
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=5)

    def close(self) -> None:
        if self.webhook is not None:
            self.webhook.close(timeout=1.0)

    # -- acknowledging ------------------------------------------------------------------------

    async def acknowledge(self, alert_id: str, viewer: Viewer) -> tuple[Alert, bool]:
        """Store who acknowledged the alert and when (the first acknowledgement stands); watchers hear of it."""
        if self.store is None:
            raise StorageError("alerts cannot be acknowledged: the database is unavailable")
        loop = asyncio.get_running_loop()
        # on the alerts' own writer thread, so after the alert's write even when acknowledged at once
        alert, fresh = await loop.run_in_executor(_ALERTS, lambda: self.store.acknowledge_alert(alert_id, viewer.name, viewer))
        if fresh:
            self.floor.acknowledge(alert)
        return alert, fresh

    # -- fan-out ------------------------------------------------------------------------------

    def _on_floor(self, message: FloorMessage) -> None:
        """A change on the floor (from any thread): handed to the event loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._fan_out(message)
        else:
            loop.call_soon_threadsafe(self._fan_out, message)

    def _fan_out(self, message: FloorMessage) -> None:
        out = _outgoing(message)
        for watcher in list(self.watchers):
            if not may_see(watcher.viewer, message.team):
                continue
            if message.kind == "events" and message.call_id not in watcher.subscriptions:
                continue
            if message.kind == "ended":
                watcher.subscriptions.discard(message.call_id)
            watcher.put(out)

    async def stored_open_alerts(self, viewer: Viewer) -> list[Alert]:
        """The latest alerts not acknowledged yet, of calls that may have ended (none without a database)."""
        if self.store is None:
            return []
        try:
            return await asyncio.get_running_loop().run_in_executor(
                _ALERTS, lambda: self.store.alerts(viewer, open_only=True, limit=SNAPSHOT_ALERTS))
        except CoachError as exc:
            log.error("open alerts not read: %s", exc)
            return []

    def snapshot(self, viewer: Viewer, stored: list[Alert] = ()) -> dict[str, Any]:
        def visible(tile: CallTile) -> bool:
            return may_see(viewer, tile.team)

        alerts = {a.id: a for a in stored}
        alerts.update((a.id, a) for a in self.floor.open_alerts(visible))
        return {"type": "snapshot", "viewer": {"name": viewer.name, "role": viewer.role, "team": viewer.team},
                "calls": [t.model_dump(mode="json") for t in self.floor.tiles(visible)],
                "alerts": [a.message_json() for a in sorted(alerts.values(), key=lambda a: a.at)],
                "limits": {"note_chars": MAX_NOTE_CHARS, "subscriptions": MAX_SUBSCRIPTIONS,
                           "message_bytes": MAX_MESSAGE_BYTES}}


def _outgoing(message: FloorMessage) -> dict[str, Any]:
    data = message.data
    if message.kind == "call":
        return {"type": "call", "call": data}
    if message.kind == "events":
        return {"type": "events", "call_id": message.call_id, "events": data["events"]}
    if message.kind == "alert":
        return data
    if message.kind == "ack":
        return {"type": "alert_ack", "id": data["id"], "call_id": data["call_id"],
                "acknowledged_by": data["acknowledged_by"], "acknowledged_at": data["acknowledged_at"]}
    stored = data.get("stored_id")
    return {"type": "ended", "call_id": message.call_id, "status": data["status"], "stored_id": stored,
            "review": f"/v1/calls/{stored}" if stored else None}


class Watcher:
    """One ``/v1/supervisor`` connection."""

    def __init__(self, websocket: WebSocket, hub: SupervisorHub, gate: StreamGate) -> None:
        self.ws = websocket
        self.hub = hub
        self.gate = gate
        self.viewer: Viewer | None = None
        self.subscriptions: set[str] = set()
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._overflowed = False
        self._recent: list[float] = []
        self._checked = time.monotonic()

    def put(self, message: dict[str, Any]) -> None:
        if self._overflowed:
            return
        if self._queue.qsize() >= QUEUE_LIMIT:
            self._overflowed = True
            log.warning("supervisor socket too slow (%d messages waiting); closing it", QUEUE_LIMIT)
            self._queue.put_nowait(None)
            return
        self._queue.put_nowait(message)

    async def run(self) -> None:
        await self.ws.accept()
        try:
            self.viewer = await self.gate.admit_watcher(self.ws, WATCHERS)
        except StreamRefused as refused:
            log.warning("supervisor socket refused: %s", refused.message, extra={"code": refused.code, "event": "refused"})
            await self._refuse(refused.code, refused.message, refused.close_code)
            return
        if len(self.hub.watchers) >= MAX_WATCHERS:
            await self._refuse("too_many_watchers", f"this server already has {MAX_WATCHERS} supervisor connections; "
                                                    "try again later", TRY_AGAIN_LATER)
            return
        self.hub._loop = asyncio.get_running_loop()
        stored = await self.hub.stored_open_alerts(self.viewer)
        # registered and snapshotted in one step of the loop: every later change arrives after the snapshot
        self.hub.watchers.add(self)
        self._queue.put_nowait(self.hub.snapshot(self.viewer, stored))
        sender = asyncio.create_task(self._send_all())
        try:
            await self._receive_all(sender)
        finally:
            self.hub.watchers.discard(self)
            sender.cancel()

    async def _send_all(self) -> None:
        try:
            while True:
                message = await self._queue.get()
                if message is None:
                    await self._close(TRY_AGAIN_LATER, "too slow: reconnect for a fresh snapshot")
                    return
                await self.ws.send_text(json.dumps(message, ensure_ascii=False))
        except (WebSocketDisconnect, RuntimeError, OSError):  # the supervisor has gone
            pass

    async def _receive_all(self, sender: asyncio.Task) -> None:
        receiving: asyncio.Future | None = None
        while True:
            if receiving is None:
                receiving = asyncio.ensure_future(self.ws.receive())
            wait = max(0.0, self._checked + auth.TOKEN_CHECK_SECONDS - time.monotonic())
            done, _ = await asyncio.wait({receiving, sender}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            if not done:  # quiet: time to check the token again
                if not await self._token_holds():
                    receiving.cancel()
                    return
                continue
            if receiving not in done:
                receiving.cancel()
                return
            try:
                message = receiving.result()
            except (WebSocketDisconnect, RuntimeError):
                return
            receiving = None
            if message["type"] == "websocket.disconnect":
                return
            try:
                if not await self._handle(message):
                    return
            except Exception:  # a bug: the supervisor hears that, never a traceback, and the socket stays
                log.exception("supervisor message failed")
                self._error("internal", "the message could not be handled (server error)")

    async def _token_holds(self) -> bool:
        """Check the token again; a revoked one closes the socket (``unauthorized``, 4401)."""
        self._checked = time.monotonic()
        if await self.gate.still_valid(self.ws):
            return True
        log.warning("supervisor socket closed: its token was revoked", extra={"event": "revoked"})
        await self._refuse("unauthorized", "invalid or revoked API token", UNAUTHORIZED)
        return False

    async def _handle(self, message: dict[str, Any]) -> bool:
        """Answer one message; False when the socket was closed (its token revoked)."""
        now = time.monotonic()
        self._recent = [t for t in self._recent if now - t < RATE_WINDOW] + [now]
        if len(self._recent) > RATE_MESSAGES:
            self._error("rate_limited", f"more than {RATE_MESSAGES} messages in {RATE_WINDOW:g} s; message ignored")
            return True
        text = message.get("text")
        if text is None:
            self._error("bad_message", "send JSON text messages; binary frames are not accepted here")
            return True
        if len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
            self._error("message_too_large", f"messages are limited to {MAX_MESSAGE_BYTES} bytes")
            return True
        try:
            request = _WATCHER_MESSAGE.validate_json(text)
        except ValidationError as exc:
            kind = _peek_type(text)
            if kind not in ("subscribe", "unsubscribe", "ack", "note", "ping"):
                self._error("bad_message", f"unknown or missing message type {_short(kind)}; expected subscribe, "
                                           "unsubscribe, ack, note or ping")
            else:
                self._error("bad_message", f"invalid {kind} message:\n" + describe_validation_error(exc))
            return True
        # what a supervisor changes (an alert acknowledged, a note to an agent) needs the token as it is now
        if isinstance(request, Acknowledge | Note) and not await self._token_holds():
            return False
        if isinstance(request, Ping):
            self.put({"type": "pong"})
        elif isinstance(request, Subscribe):
            self._subscribe(request.call_id)
        elif isinstance(request, Unsubscribe):
            self.subscriptions.discard(request.call_id)
            self.put({"type": "unsubscribed", "call_id": request.call_id})
        elif isinstance(request, Acknowledge):
            await self._acknowledge(request.alert_id)
        elif isinstance(request, Note):
            await self._note(request)
        return True

    def _visible_tile(self, call_id: str) -> CallTile | None:
        tile = self.hub.floor.tile(call_id)
        return tile if tile is not None and may_see(self.viewer, tile.team) else None

    def _subscribe(self, call_id: str) -> None:
        tile = self._visible_tile(call_id)
        if tile is None:  # not on the floor, or not this token's to see: the same answer
            return self._error("unknown_call", f"no call {_short(call_id)} in progress that you may see", call_id=call_id)
        if call_id not in self.subscriptions and len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            return self._error("too_many_subscriptions", f"at most {MAX_SUBSCRIPTIONS} calls at once; unsubscribe from one first")
        self.subscriptions.add(call_id)
        self.put({"type": "subscribed", "call_id": call_id, "call": tile.model_dump(mode="json"),
                  "events": self.hub.floor.events(call_id)})

    async def _acknowledge(self, alert_id: str) -> None:
        try:
            alert, fresh = await self.hub.acknowledge(alert_id, self.viewer)
        except NotFoundError:
            return self._error("unknown_alert", f"no alert {_short(alert_id)} that you may see", alert_id=alert_id)
        except StorageError as exc:
            return self._error("storage_unavailable", str(exc))
        if not fresh:  # already acknowledged: say by whom (the others heard when it happened)
            self.put({"type": "alert_ack", "id": alert.id, "call_id": alert.call_id,
                      "acknowledged_by": alert.acknowledged_by,
                      "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None})

    async def _note(self, request: Note) -> None:
        text = request.text.strip()
        if not text:
            return self._error("bad_message", "a note needs some text")
        tile = self._visible_tile(request.call_id)
        stream = self.hub.streams.get(request.call_id) if tile is not None else None
        if stream is None:
            return self._error("unknown_call", f"no call {_short(request.call_id)} in progress that you may see",
                               call_id=request.call_id)
        now = datetime.now(UTC)
        note = SupervisorNote(call_id=stream.call_id or request.call_id, utterance_id=None, text=text,
                              author=self.viewer.name, at=now, emitted_at=time.time())
        delivered = await stream.send_note(note)
        if not delivered:
            return self._error("agent_gone", "the agent's connection has closed; the note was not delivered",
                               call_id=request.call_id)
        log.info("supervisor note sent", extra={"call_id": request.call_id, "event": "supervisor_note"})
        self.hub.keep_note(stream.stored_id, text, self.viewer)
        self.put({"type": "note_sent", "call_id": request.call_id, "text": text, "at": now.isoformat()})

    def _error(self, code: str, message: str, **extra: Any) -> None:
        self.put({"type": "error", "code": code, "message": message, **extra})

    async def _refuse(self, code: str, message: str, close_code: int) -> None:
        try:
            await self.ws.send_text(json.dumps({"type": "error", "code": code, "message": message}))
        except (WebSocketDisconnect, RuntimeError):
            return
        await self._close(close_code, message)

    async def _close(self, code: int, reason: str) -> None:
        try:
            await self.ws.close(code=code, reason=reason.encode()[:120].decode("utf-8", "ignore"))
        except RuntimeError:
            pass


def _peek_type(text: str) -> Any:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value.get("type") if isinstance(value, dict) else None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# -- REST ---------------------------------------------------------------------------------------

router = APIRouter(prefix="/v1", tags=["supervisor"])
Store = Annotated[CallStore, Depends(get_store)]
AlertId = Annotated[str, PathParam(max_length=64)]


class AlertList(BaseModel):
    alerts: list[Alert]
    limit: int
    offset: int


@router.get("/alerts", response_model=AlertList)
async def list_alerts(
    store: Store, viewer: Annotated[Viewer, Depends(require(*WATCHERS, "trainer"))],
    call_id: Annotated[str | None, Query(max_length=220)] = None,
    open_only: Annotated[bool, Query(alias="open", description="Only alerts not acknowledged yet")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AlertList:
    """Alerts raised during live calls (a supervisor's or coach's team, everything for admins and
    trainers), newest first, with who acknowledged each and when."""
    alerts = await asyncio.to_thread(store.alerts, viewer, call_id=call_id, open_only=open_only, limit=limit, offset=offset)
    return AlertList(alerts=alerts, limit=limit, offset=offset)


@router.post("/alerts/{alert_id}/ack", response_model=Alert)
async def acknowledge_alert(alert_id: AlertId, request: Request, store: Store,
                            viewer: Annotated[Viewer, Depends(require(*WATCHERS))]) -> Alert:
    """Acknowledge an alert (the first acknowledgement stands; acknowledging again returns it as it is)."""
    hub: SupervisorHub = request.app.state.supervisor
    alert, _ = await hub.acknowledge(alert_id, viewer)
    return alert


STATIC_PAGE = "supervisor.html"


def install(app: FastAPI, static: Any) -> None:
    """The WebSocket, the REST routes and the page (``app.state.supervisor`` must be set)."""
    app.include_router(router)

    @app.websocket("/v1/supervisor")
    async def supervisor_socket(websocket: WebSocket) -> None:
        """The live floor for supervisors (docs/supervisor.md): the token in ?token= or a header."""
        await Watcher(websocket, app.state.supervisor, app.state.stream_gate).run()

    @app.get("/supervisor", include_in_schema=False)
    def supervisor_page() -> FileResponse:
        return FileResponse(static / STATIC_PAGE)
