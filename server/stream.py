"""The live-call WebSocket protocol (``/v1/stream``).

Client: a JSON ``start`` message, then binary audio frames (channels interleaved), then ``stop``.
Server: ``ready``, then ``partial`` and the engine's events as they happen, ``error`` for anything
wrong, and the ``scorecard`` after ``stop``. A bad frame or message gets an ``error`` event and the
call goes on; a client that vanishes still has its call finished, so nothing transcribed is lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Literal

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.audio.formats import AudioFormat
from coach.config import Settings
from coach.engine import get_engine
from coach.errors import CoachError, describe_validation_error
from coach.events import BaseEvent, ErrorEvent, ReadyEvent
from coach.live import LiveCall, StreamSpec, load_speech_model

log = logging.getLogger("coach.server.stream")

#: Calls still being finished, kept referenced so they are not garbage-collected mid-way.
_RUNNING: set[asyncio.Task] = set()
#: WebSocket close codes.
NORMAL, POLICY, UNSUPPORTED, INTERNAL = 1000, 1008, 1003, 1011


class StartMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["start"]
    call_id: str = Field(min_length=1, max_length=200)
    language: Literal["zh", "en"]
    encoding: str = "pcm_s16le"
    sample_rate: int = 16_000
    channels: int = 1
    channel_roles: list[str] = Field(default_factory=lambda: ["debtor"])
    playbook: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


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


class CallStream:
    """One WebSocket connection carrying one call."""

    def __init__(self, websocket: WebSocket, settings: Settings, calls: "RecentCalls | None" = None) -> None:
        self.ws = websocket
        self.settings = settings
        self.calls = calls
        self.call: LiveCall | None = None
        self.call_id: str | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._closed = False

    async def run(self) -> None:
        await self.ws.accept()
        try:
            if not await self._start():
                return
            pump = asyncio.create_task(self._pump())
            _RUNNING.add(pump)
            pump.add_done_callback(_RUNNING.discard)
            try:
                await self._receive()
            finally:
                self._stop.set()
                self._wake.set()
                # Shielded: if the connection's task is cancelled (client gone, server closing the
                # socket), the call is still transcribed to the end and finished.
                await asyncio.shield(pump)
            await self._close(NORMAL)
        except WebSocketDisconnect:
            pass

    # -- start ---------------------------------------------------------------------------------

    async def _start(self) -> bool:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            return False
        if message.get("bytes") is not None:
            await self._fail("audio_before_start", "send a JSON start message before any audio", POLICY)
            return False
        try:
            start = StartMessage.model_validate(json.loads(message.get("text") or ""))
        except json.JSONDecodeError as exc:
            await self._fail("bad_message", f"the start message is not valid JSON: {exc.msg}", POLICY)
            return False
        except ValidationError as exc:
            await self._fail("bad_start", "invalid start message:\n" + describe_validation_error(exc), POLICY)
            return False
        self.call_id = start.call_id
        try:
            spec = StreamSpec(start.call_id, start.language, AudioFormat(start.encoding, start.sample_rate, start.channels),
                              tuple(start.channel_roles), start.metadata)
            engine, asr = await asyncio.to_thread(self._models, start)
            self.call = LiveCall(spec, engine, asr, self.settings)
            if self.calls is not None:
                self.calls.add(self.call)
        except CoachError as exc:
            await self._fail("bad_start", str(exc), POLICY)
            return False
        await self._send([ReadyEvent(call_id=start.call_id, utterance_id=None, playbook=engine.ref,
                                     channels=list(start.channel_roles), asr_model=asr.name)])
        await self._send(self.call.start())
        log.info("call started", extra={"call_id": start.call_id, "event": "start"})
        return True

    def _models(self, start: StartMessage):
        engine = get_engine(start.playbook, language=start.language, settings=self.settings)
        return engine, load_speech_model(start.language, self.settings)

    # -- receive -------------------------------------------------------------------------------

    async def _receive(self) -> None:
        assert self.call is not None
        while True:
            try:
                message = await self.ws.receive()
            except WebSocketDisconnect:
                self._disconnected()
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
                    self.call.feed(data)
                except CoachError as exc:
                    await self._error("bad_audio", f"{exc}; frame ignored")
                    continue
                self._wake.set()
                continue
            try:
                control = json.loads(message.get("text") or "")
            except json.JSONDecodeError as exc:
                await self._error("bad_message", f"not valid JSON: {exc.msg}")
                continue
            kind = control.get("type") if isinstance(control, dict) else None
            if kind == "stop":
                return
            await self._error("bad_message", f"unknown message type {kind!r}; expected 'stop' or binary audio")

    def _disconnected(self) -> None:
        self._closed = True
        log.warning("client left mid-call; finishing the call with what was received",
                    extra={"call_id": self.call_id, "event": "disconnect"})

    # -- processing ----------------------------------------------------------------------------

    async def _pump(self) -> None:
        """Runs the models off the event loop whenever audio arrives; finishes the call at the end."""
        assert self.call is not None
        call = self.call
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await self._send(await asyncio.to_thread(call.process))
                if self._stop.is_set() and not self._wake.is_set():
                    break
            await self._send(await asyncio.to_thread(call.finish))
            log.info("call finished", extra={"call_id": call.spec.call_id, "event": "finish",
                                             "seconds": round(call.received_seconds, 2)})
        except Exception:  # a bug must not take the server down; tell the client
            log.exception("call processing failed", extra={"call_id": call.spec.call_id})
            await self._error("internal", "processing failed; the call so far is kept")

    # -- sending -------------------------------------------------------------------------------

    async def _send(self, events: list[BaseEvent]) -> None:
        if self._closed or not events:
            return
        async with self._send_lock:
            try:
                for event in events:
                    await self.ws.send_text(event.to_json())
            except (WebSocketDisconnect, RuntimeError):
                self._closed = True

    async def _error(self, code: str, message: str) -> None:
        log.info(message, extra={"call_id": self.call_id, "code": code, "event": "error"})
        await self._send([ErrorEvent(call_id=self.call_id or "", utterance_id=None, code=code, message=message)])

    async def _fail(self, code: str, message: str, close_code: int) -> None:
        await self._error(code, message)
        await self._close(close_code, message[:120])

    async def _close(self, code: int, reason: str = "") -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self.ws.close(code=code, reason=reason)
        except RuntimeError:
            pass
