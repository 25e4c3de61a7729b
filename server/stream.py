"""The live-call WebSocket protocol (``/v1/stream``).

Client: a token (``Authorization: Bearer`` or ``?token=``, checked before anything is read), a JSON
``start`` message, then binary audio frames (channels interleaved), then ``stop``.
Server: ``ready``, then ``partial`` and the engine's events as they happen, ``error`` for anything
wrong, and the ``scorecard`` after ``stop``. A bad frame or message gets an ``error`` event and the
call goes on; a client that vanishes or falls silent still has its call finished, so nothing
transcribed is lost. All model work runs off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach import jsontext
from coach.audio.formats import AudioFormat
from coach.config import Settings
from coach.engine import get_engine
from coach.errors import CoachError, describe_validation_error
from coach.events import BaseEvent, ErrorEvent, ReadyEvent
from coach.live import LiveCall, StreamSpec, load_speech_model
from coach.playbook.registry import PlaybookRegistry
from coach.recorder import CallRecorder
from coach.storage import CallStore, NewCall, Viewer
from coach.storage.records import CallId
from coach.transcript import CheckedMetadata
from server import auth
from server.auth import RATE_LIMITED, UNAUTHORIZED, StreamGate, StreamRefused
from server.errors import scrub_paths
from server.samples import SamplePlayback
from server.samples import bundled as bundled_samples

if TYPE_CHECKING:
    from server.supervisor import SupervisorHub

log = logging.getLogger("coach.server.stream")

#: Calls still being finished, kept referenced so they are not garbage-collected mid-way.
_RUNNING: set[asyncio.Task] = set()
#: WebSocket close codes (refusals of the token are in server.auth: 4401, 4403, 4429, 1013).
NORMAL, POLICY, UNSUPPORTED, INTERNAL = 1000, 1008, 1003, 1011
#: The client sent nothing for ``stream_idle_seconds``.
IDLE_TIMEOUT = 4408
#: The call lasted ``max_live_call_seconds`` from its start message (frames do not reset it).
CALL_TOO_LONG = 4413
#: How often a connection whose audio is ahead of the models looks again (seconds).
BACKLOG_POLL_SECONDS = 0.05


class StartMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["start"]
    call_id: CallId
    language: Literal["zh", "en"]
    encoding: str = "pcm_s16le"
    sample_rate: int = 16_000
    channels: int = 1
    channel_roles: list[str] = Field(default_factory=lambda: ["debtor"])
    playbook: str | None = None
    metadata: CheckedMetadata = Field(default_factory=dict)  # checked as an upload's is
    #: A bundled sample to play as a demo call (a name from GET /v1/samples, never a path): the server
    #: feeds the call its own copy of it (server.samples). Only such a call is a demo.
    sample: str | None = Field(default=None, min_length=1, max_length=200)
    #: Read only to refuse ``true``: a client cannot make its own call a demo (hidden from the lists,
    #: no alert posted, deleted by ``coach calls purge-demo``); ``sample`` is how to play one.
    demo: bool = False


class RecentCalls:
    """The last calls this process handled, finished or not, so a dropped connection loses nothing
    already transcribed (storage will persist them)."""

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self._calls: dict[str, LiveCall] = {}

    def add(self, call: LiveCall) -> None:
        self._calls[call.spec.call_id] = call
        while len(self._calls) > self.limit:
            self._calls.pop(next(iter(self._calls)))

    def get(self, call_id: str) -> LiveCall | None:
        return self._calls.get(call_id)


class ActiveStreams:
    """The connections in progress, so that a shutdown can let their calls finish and then mark the
    ones that did not as interrupted."""

    def __init__(self) -> None:
        self._streams: set[CallStream] = set()

    def add(self, stream: CallStream) -> None:
        self._streams.add(stream)

    def discard(self, stream: CallStream) -> None:
        self._streams.discard(stream)

    def __len__(self) -> int:
        return len(self._streams)

    def open_by(self, token_name: str) -> int:
        """Calls in progress streamed with the token named ``token_name``."""
        return sum(1 for s in self._streams if s.viewer is not None and s.viewer.name == token_name and not s.done.is_set())

    async def drain(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` seconds for every call in progress to be finished and stored; the
        stored ids of the calls still open after that."""
        waiting = [asyncio.create_task(s.done.wait()) for s in list(self._streams)]
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=max(0.0, timeout))
            for task in late:
                task.cancel()
        return [s.stored_id for s in list(self._streams) if s.stored_id]


class CallStream:
    """One WebSocket connection carrying one call."""

    def __init__(self, websocket: WebSocket, settings: Settings, calls: RecentCalls | None = None,
                 store: CallStore | None = None, *, gate: StreamGate | None = None,
                 active: ActiveStreams | None = None, hub: SupervisorHub | None = None) -> None:
        self.ws = websocket
        self.settings = settings
        self.calls = calls
        self.store = store
        self.gate = gate or StreamGate(settings, store)
        self.active = active
        #: The supervisors' floor the call is shown on (server.supervisor), and its id there.
        self.hub = hub
        self.floor_id: str | None = None
        #: Whose token opened the stream (None: anonymous, where the server allows it).
        self.viewer: Viewer | None = None
        #: Set once the call is finished and stored (or never began).
        self.done = asyncio.Event()
        #: The call's storage (None: no database, or not started yet).
        self._recorder: CallRecorder | None = None
        self._new_call: NewCall | None = None
        self._failed = False
        self.call: LiveCall | None = None
        self.call_id: str | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._closed = False
        self._client_left = False
        self._idle = False
        self._revoked = False
        #: The call reached ``max_live_call_seconds`` (see _watch_length).
        self._too_long = False
        #: When the call's start message was taken in (time.monotonic()); the length limit counts from it.
        self._opened_at: float | None = None
        #: The task that runs the models on the call's audio (see _run_call).
        self._pump: asyncio.Task | None = None
        #: The bundled sample this call plays in place of the client's audio (a demo call), if any.
        self._sample: SamplePlayback | None = None

    @property
    def _ended_early(self) -> bool:
        """The call did not end with a stop: the client left, went silent, failed, its token was revoked,
        or it reached the longest a live call may last."""
        return self._client_left or self._failed or self._idle or self._revoked or self._too_long

    @property
    def demo(self) -> bool:
        """Whether the call is a demo: decided by the server, only for a bundled sample it feeds itself."""
        return self._sample is not None

    @property
    def stored_id(self) -> str | None:
        """The id the call is stored under (the client's, or with a suffix when that one was taken),
        once registered."""
        return self._recorder.stored_id if self._recorder is not None else None

    async def run(self) -> None:
        await self.ws.accept(subprotocol=self.subprotocol())
        if self.active is not None:
            self.active.add(self)
        try:
            if not await self._admit() or not await self._start():
                return
            pump = self._pump = asyncio.create_task(self._run_call())
            _RUNNING.add(pump)
            pump.add_done_callback(_RUNNING.discard)
            receiving = asyncio.create_task(self._receive())
            # Each ends the call as the idle timeout does, whatever the client sends meanwhile.
            watches = {asyncio.create_task(self._watch_token()), asyncio.create_task(self._watch_length())}
            try:
                await asyncio.wait({receiving, *watches}, return_when=asyncio.FIRST_COMPLETED)
                if receiving.done():
                    receiving.result()  # the client's leaving (WebSocketDisconnect) is handled below
            finally:
                for watch in watches:
                    watch.cancel()
                # the token was revoked, the call is too long (or the server is stopping): read no
                # more, not even a receive already waiting
                receiving.cancel()
                self._stop.set()
                self._wake.set()
            # Shielded: if the connection's task is cancelled (client gone, server closing the
            # socket), the call is still transcribed to the end and finished.
            await asyncio.shield(pump)
            if self._too_long:
                await self._close(CALL_TOO_LONG, "call too long")
            elif self._idle:
                await self._close(IDLE_TIMEOUT, "idle timeout")
            elif self._revoked:
                await self._close(UNAUTHORIZED, "token revoked")
            else:
                await self._close(NORMAL)
        except WebSocketDisconnect:
            pass
        except asyncio.CancelledError:
            # The server is stopping and has waited long enough: the call goes on finishing in the
            # background, and the shutdown marks it interrupted if it cannot. Not an error.
            log.info("connection closed by the shutdown", extra={"call_id": self.call_id, "event": "shutdown"})
        finally:
            if self._pump is None:
                self._done()

    def _done(self) -> None:
        if self.hub is not None and self.floor_id is not None:  # finished and stored: off the floor
            status = "interrupted" if self._ended_early else "complete"
            self.hub.call_closed(self.floor_id, status=status, stored_id=self.stored_id)
            self.floor_id = None
        self.done.set()
        if self.active is not None:
            self.active.discard(self)

    # -- admission and start -------------------------------------------------------------------

    async def _admit(self) -> bool:
        """Check the token (and the rate limit) before reading anything from the client."""
        try:
            self.viewer = await self.gate.admit(self.ws)
            self._check_open_calls()
        except StreamRefused as refused:
            log.warning("stream refused: %s", refused.message, extra={"code": refused.code, "event": "refused",
                                                                      "client": _client(self.ws)})
            await self._fail(refused.code, refused.message, refused.close_code)
            return False
        return True

    async def _watch_token(self) -> None:
        """Check the token again every ``TOKEN_CHECK_SECONDS`` while the call streams: once it is
        revoked, the call ends (4401) and is stored as interrupted with what arrived."""
        while True:  # until the call ends and this is cancelled
            await asyncio.sleep(auth.TOKEN_CHECK_SECONDS)
            if self._closed or await self.gate.still_valid(self.ws):
                continue
            log.warning("live call ended: its token was revoked", extra={"call_id": self.call_id, "event": "revoked"})
            self._revoked = True
            await self._error("unauthorized", "this token was revoked; the call is finished with what arrived")
            return

    async def _watch_length(self) -> None:
        """End the call once ``max_live_call_seconds`` have passed since its start message, however often
        the client sends (a frame now and then would hold it open for ever, and with it a session, a
        speech stream and a place on the supervisors' floor). It is finished and stored as the idle
        timeout's call is, with what arrived, and closed with 4413."""
        limit = self.settings.max_live_call_seconds
        opened = time.monotonic() if self._opened_at is None else self._opened_at
        await asyncio.sleep(max(0.0, opened + limit - time.monotonic()))
        log.warning("live call reached %g s; finishing the call", limit,
                    extra={"call_id": self.call_id, "event": "too_long"})
        self._too_long = True
        await self._error("call_too_long", f"this call has lasted {_duration(limit)}, the longest a live call may "
                                           "(COACH_MAX_LIVE_CALL_SECONDS); it is finished with what arrived")

    def _check_open_calls(self) -> None:
        """An agent's token may have ``max_live_calls_per_agent`` calls open at once (this one included)."""
        limit = self.settings.max_live_calls_per_agent
        viewer = self.viewer
        if not limit or viewer is None or viewer.role != "agent" or self.active is None:
            return
        if self.active.open_by(viewer.name) > limit:
            raise StreamRefused("too_many_calls", f"this agent's token already has {limit} live calls open, the most "
                                                  "it may (COACH_MAX_LIVE_CALLS_PER_AGENT): finish one first", RATE_LIMITED)

    async def _next(self, timeout: float | None = None) -> dict | None:
        """The client's next message, or None when it has sent nothing for ``stream_idle_seconds``
        (or ``timeout``)."""
        try:
            return await asyncio.wait_for(self.ws.receive(), self.settings.stream_idle_seconds if timeout is None else timeout)
        except TimeoutError:
            self._idle = True
            return None

    async def _start(self) -> bool:
        message = await self._next()
        if message is None:
            await self._fail("idle_timeout", f"no start message within {self.settings.stream_idle_seconds:g} s",
                             IDLE_TIMEOUT)
            return False
        if message["type"] == "websocket.disconnect":
            return False
        if message.get("bytes") is not None:
            await self._fail("audio_before_start", "send a JSON start message before any audio", POLICY)
            return False
        text = message.get("text") or ""
        if len(text) > self.settings.max_frame_bytes:
            await self._fail("frame_too_large", f"start message of {len(text)} bytes exceeds {self.settings.max_frame_bytes}",
                             POLICY)
            return False
        try:
            start = StartMessage.model_validate(jsontext.loads(text))
        except ValidationError as exc:
            await self._fail("bad_start", "invalid start message:\n" + describe_validation_error(exc), POLICY)
            return False
        except ValueError as exc:  # not JSON
            await self._fail("bad_message", f"the start message is not valid JSON: {exc}", POLICY)
            return False
        return await self._open(start)

    async def _open(self, start: StartMessage) -> bool:
        """Open the call a start message describes (every protocol's start ends here): the engine
        session and transcribers, the call's storage, ``ready``, the pre-call gates' events."""
        self._opened_at = time.monotonic()
        self.call_id = start.call_id
        metadata = self._owned(start.metadata)
        if start.demo and start.sample is None:
            await self._fail("bad_start", "\"demo\" is not for the client to set: a call is a demo only when the "
                             "server plays a bundled sample itself; send \"sample\" with the sample's name (one of "
                             f"{', '.join(bundled_samples())}), or leave \"demo\" out for a real call", POLICY)
            return False
        try:
            spec = StreamSpec(start.call_id, start.language, AudioFormat(start.encoding, start.sample_rate, start.channels),
                              tuple(start.channel_roles), metadata)
            if start.sample is not None:  # decoding a sample the first time it is played: off the loop
                self._sample = await asyncio.to_thread(SamplePlayback.open, start.sample, spec.audio, start.language)
            call = await asyncio.to_thread(self._open_call, start, spec)  # engine work: off the loop
            engine = call.engine
            opening = await asyncio.to_thread(call.start)  # pre-call gates
        except CoachError as exc:
            await self._fail("bad_start", str(exc), POLICY)
            return False
        except Exception:  # a bug: the client hears that, never a traceback
            log.exception("call could not start", extra={"call_id": start.call_id})
            await self._fail("internal", "the call could not start (server error)", INTERNAL)
            return False
        self.call = call
        await self._begin_storage(start, engine.ref, metadata)
        if self.calls is not None:
            self.calls.add(call)
        if self.hub is not None:
            self.floor_id = self.hub.call_opened(self, start.call_id, language=start.language, playbook=engine.ref,
                                                 metadata=metadata, demo=self.demo)
        await self._send([ReadyEvent(call_id=start.call_id, utterance_id=None, playbook=engine.ref,
                                     channels=list(start.channel_roles), asr_model=call.transcribers[0].asr.name)])
        await self._emit(opening)
        log.info("call started", extra={"call_id": start.call_id, "event": "start"})
        return True

    def _owned(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """The start message's metadata, with the token's agent and team in place of the client's. A
        token without one leaves the client's value (a dialer's integration token names the agent),
        except an agent's: an agent without a team files calls under no team, never a team they name."""
        owned = dict(metadata)
        if self.viewer is not None:
            for key in ("agent_id", "team"):
                value = getattr(self.viewer, key)
                if value:
                    owned[key] = value
                elif self.viewer.role == "agent":
                    owned.pop(key, None)
        return owned

    def _open_call(self, start: StartMessage, spec: StreamSpec) -> LiveCall:
        """The call's engine session and transcribers (blocking: models load on first use)."""
        engine, asr = self._models(start)
        return LiveCall(spec, engine, asr, self.settings)

    def _models(self, start: StartMessage):
        # An installed playbook's id (GET /v1/playbooks), never a file on this server; an unknown one
        # is refused with the list of ids.
        book = PlaybookRegistry.from_settings(self.settings).reference(start.playbook)
        engine = get_engine(book, language=start.language, settings=self.settings)
        return engine, load_speech_model(start.language, self.settings)

    # -- receive -------------------------------------------------------------------------------

    async def _receive(self) -> None:
        assert self.call is not None
        while True:
            try:
                message = await self._next()
            except WebSocketDisconnect:
                self._disconnected()
                return
            if message is None:
                log.warning("client sent nothing for %g s; finishing the call", self.settings.stream_idle_seconds,
                            extra={"call_id": self.call_id, "event": "idle"})
                await self._error("idle_timeout", f"nothing received for {self.settings.stream_idle_seconds:g} s; "
                                                  "the call is finished with what arrived")
                return
            if message["type"] == "websocket.disconnect":
                self._disconnected()
                return
            data = message.get("bytes")
            if data is not None:
                if len(data) > self.settings.max_frame_bytes:
                    await self._error("frame_too_large", f"audio frame of {len(data)} bytes exceeds {self.settings.max_frame_bytes}; send smaller frames (e.g. 100 ms)")
                    continue
                try:
                    if self._sample is not None:  # a demo: the bundled sample's audio, never the client's
                        data = self._sample.take(data)
                    self.call.feed(data)
                except CoachError as exc:
                    await self._error("bad_audio", f"{exc}; frame ignored")
                    continue
                self._wake.set()
                await self._keep_up()
                continue
            try:
                control = jsontext.loads(message.get("text") or "")
            except ValueError as exc:
                await self._error("bad_message", f"not valid JSON: {exc}")
                continue
            kind = control.get("type") if isinstance(control, dict) else None
            if kind == "stop":
                return
            await self._error("bad_message", f"unknown message type {_short(kind)}; expected 'stop' or binary audio")

    async def _keep_up(self) -> None:
        """Read no further while more than ``max_stream_backlog_seconds`` of the call's audio waits for
        the models: a client sending faster than real time (``coach replay --speed max``, or one
        flooding the server) is slowed to the speed the call is transcribed at, by TCP's own flow
        control, and what it sent before leaving is a bounded amount of work, not hours of it."""
        assert self.call is not None
        while self.call.lag > self.settings.max_stream_backlog_seconds and not (self._pump and self._pump.done()):
            await asyncio.sleep(BACKLOG_POLL_SECONDS)

    def _disconnected(self) -> None:
        self._closed = True
        self._client_left = True
        log.warning("client left mid-call; finishing the call with what was received",
                    extra={"call_id": self.call_id, "event": "disconnect"})

    # -- processing ----------------------------------------------------------------------------

    async def _run_call(self) -> None:
        """Runs the models off the event loop whenever audio arrives; finishes the call at the end."""
        assert self.call is not None
        call = self.call
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await self._emit(await asyncio.to_thread(call.process))
                if self._stop.is_set() and not self._wake.is_set():
                    break
            await self._emit(await asyncio.to_thread(call.finish))
            log.info("call finished", extra={"call_id": call.spec.call_id, "event": "finish",
                                             "seconds": round(call.received_seconds, 2)})
        except Exception:  # a bug must not take the server down; tell the client
            self._failed = True
            log.exception("call processing failed", extra={"call_id": call.spec.call_id})
            await self._error("internal", "processing failed; the call so far is kept")
        finally:
            await self._finish_storage()
            self._done()

    # -- storage -------------------------------------------------------------------------------

    async def _begin_storage(self, start: StartMessage, playbook: str, metadata: dict[str, Any]) -> None:
        """Start the call's recorder (coach.recorder): it registers the call now and stores each batch of
        events as it comes, in order, on its writer thread, so the speech models never wait for the
        database. What goes wrong there (a taken call id, a database outage) reaches the client."""
        if self.store is None:
            return
        self._new_call = NewCall(call_id=start.call_id, language=start.language, playbook=playbook,
                                 source="demo" if self.demo else "live",
                                 agent_id=_text(metadata.get("agent_id")), team=_text(metadata.get("team")),
                                 metadata=metadata, started_at=datetime.now(UTC))
        loop = asyncio.get_running_loop()

        def tell(code: str, message: str) -> None:  # from the writer thread
            loop.call_soon_threadsafe(lambda: _keep(asyncio.ensure_future(self._error(code, message))))

        self._recorder = CallRecorder(self.store, self._new_call, on_problem=tell)

    async def _emit(self, events: list[BaseEvent]) -> None:
        """Send events to the client, then hand them to the call's recorder."""
        await self._send(events)
        if self.hub is not None and self.floor_id is not None:
            self.hub.call_events(self.floor_id, events)
        if self._recorder is not None:
            self._recorder.append(events)

    async def _finish_storage(self) -> None:
        """Let the recorder store what is left and close the call with its outcome; wait for it."""
        if self._recorder is None or self._new_call is None or self.call is None:
            return
        status = "interrupted" if self._ended_early else "complete"
        await asyncio.wrap_future(self._recorder.finish(status, self.call.session_events, self.call.spec.language,
                                                        self._new_call.started_at))

    # -- sending -------------------------------------------------------------------------------

    def subprotocol(self) -> str | None:
        """The WebSocket sub-protocol to agree to (a platform's client may insist on one)."""
        return None

    async def _send(self, events: list[BaseEvent]) -> None:
        await self._send_texts([event.to_json() for event in events])

    async def _send_texts(self, texts: list[str]) -> None:
        """Send text messages in order; a connection gone is noted, never an error."""
        if self._closed or not texts:
            return
        async with self._send_lock:
            try:
                for text in texts:
                    await self.ws.send_text(text)
            except (WebSocketDisconnect, RuntimeError):
                self._closed = True

    async def send_note(self, note: BaseEvent) -> bool:
        """A supervisor's note to the agent (server.supervisor); False when the connection is gone."""
        await self._send([note])
        return not self._closed

    async def _error(self, code: str, message: str) -> None:
        """Tell the client (and the log) what went wrong; the client never sees this server's paths
        (a database file, a playbook folder), which the log keeps."""
        log.info(message, extra={"call_id": self.call_id, "code": code, "event": "error"})
        await self._send([ErrorEvent(call_id=self.call_id or "", utterance_id=None, code=code,
                                     message=scrub_paths(message))])

    async def _fail(self, code: str, message: str, close_code: int) -> None:
        await self._error(code, message)
        await self._close(close_code, scrub_paths(message)[:120])

    async def _close(self, code: int, reason: str = "") -> None:
        if self._closed:
            return
        self._closed = True
        try:  # a close reason is at most 123 bytes of UTF-8
            await self.ws.close(code=code, reason=reason.encode()[:120].decode("utf-8", "ignore"))
        except RuntimeError:
            pass


def _keep(task: asyncio.Future) -> None:
    """Keep a fire-and-forget task referenced until it is done."""
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


def _short(value: Any, limit: int = 60) -> str:
    """A client's value for a message: its repr, cut short (errors never echo long input)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _duration(seconds: float) -> str:
    """``14400 s (4 h)``; under an hour, ``90 s``."""
    return f"{seconds:g} s" + (f" ({seconds / 3600:g} h)" if seconds >= 3600 else "")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _client(websocket: WebSocket) -> str:
    return f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "?"
