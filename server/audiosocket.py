"""Asterisk AudioSocket: a TCP listener whose connections (one per party's leg) become one live call.

AudioSocket carries no credentials, so a leg is taken only when its UUID was registered first by an
integration (``POST /v1/telephony/audiosocket/calls`` with the call's id, language, agent and the
UUID of each party's leg): the dialler registers the call, then starts ``AudioSocket(uuid,host:port)``
on each leg. Unregistered UUIDs are hung up on, and so are the legs of a registration whose token
has been revoked since; a call in progress is checked as a WebSocket's is
(``auth.TOKEN_CHECK_SECONDS``). The legs of one call are joined by time of arrival
into one two-channel stream (a leg that starts later begins with silence on its side) and run
through the same :class:`~server.stream.CallStream` as ``/v1/stream`` (same engine path, same
recorder, same supervisors' floor), fed by a loopback that stands in for its WebSocket.

Legs join the call of their own registration, never another registration's that names the same call
id (that one becomes a call of its own, stored under a free id as a reused WebSocket id is). A leg
is read no faster than its call is transcribed: the loopback holds a few seconds of audio at most,
and the call's own backlog limit does the rest, so a leg that floods costs bounded memory and work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.config import Settings
from coach.errors import InputError, describe_validation_error
from coach.playbook.registry import PlaybookRegistry
from coach.storage import Viewer
from coach.storage.records import CallId
from coach.telephony import audiosocket as wire
from coach.telephony.tracks import TrackMixer
from coach.transcript import CheckedMetadata
from server.auth import require
from server.limits import bearer_secret
from server.stream import CallStream, StartMessage

log = logging.getLogger("coach.server.audiosocket")

#: A registered call whose legs have not all connected is forgotten after this long.
REGISTRATION_SECONDS = 600.0
MAX_REGISTRATIONS = 10_000
#: Time to send the UUID frame after connecting, and the longest silence between frames.
FRAME_TIMEOUT = 10.0
#: Once every leg has hung up, wait this long for a late leg before ending the call.
LAST_LEG_GRACE = 1.0
#: Joined audio waiting for the call beyond which its legs are read no further (4 s of two channels):
#: TCP's flow control then holds the sender back.
MAX_QUEUED_AUDIO_BYTES = 4 * wire.RATE * 2 * 2
ROOM_POLL_SECONDS = 0.05


class LegRegistration(BaseModel):
    """A call about to be streamed over AudioSocket, one UUID per party's leg."""

    model_config = ConfigDict(extra="forbid")

    call_id: CallId
    language: Literal["en", "zh"] = "en"
    playbook: str | None = Field(default=None, max_length=200)
    agent_id: str | None = Field(default=None, max_length=100)
    team: str | None = Field(default=None, max_length=100)
    metadata: CheckedMetadata = Field(default_factory=dict)  # checked as an upload's is

    #: The UUID Asterisk's AudioSocket() sends for each party's leg: {"agent": ..., "debtor": ...}.
    legs: dict[Literal["agent", "debtor"], uuid.UUID] = Field(min_length=1, max_length=2)


@dataclass
class _Registered:
    call: LegRegistration
    viewer: Viewer
    #: The token that registered the call: its legs are taken, and its call goes on, while it holds.
    secret: str
    expires: float
    #: One per registration: the legs it names join one call, and only they do.
    key: uuid.UUID


class LoopbackSocket:
    """What :class:`CallStream` uses of a WebSocket, fed by the legs of a TCP call. Hints are stored,
    not sent: AudioSocket can only carry audio back."""

    def __init__(self, peer: str, token_secret: str | None = None) -> None:
        self.headers: dict[str, str] = {}
        #: Read by ``StreamGate.still_valid`` while the call streams, as a WebSocket's admitted token is.
        self.state = SimpleNamespace(token_secret=token_secret)
        self.query_params: dict[str, str] = {}
        self.client = None
        self.scope: dict[str, Any] = {"subprotocols": [], "peer": peer}
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        #: Audio bytes pushed and not yet received by the call.
        self.queued_bytes = 0

    async def accept(self, subprotocol: str | None = None) -> None:
        return None

    async def receive(self) -> dict[str, Any]:
        message = await self.messages.get()
        self.queued_bytes -= len(message.get("bytes") or b"")
        return message

    async def send_text(self, text: str) -> None:
        return None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.close_code = code
        self.closed.set()

    def push_text(self, text: str) -> None:
        self.messages.put_nowait({"type": "websocket.receive", "text": text})

    def push_audio(self, data: bytes) -> None:
        if data:
            self.queued_bytes += len(data)
            self.messages.put_nowait({"type": "websocket.receive", "bytes": data})


class AudioSocketCall(CallStream):
    """The call two legs make: admitted by its registration (no token on the wire)."""

    def __init__(self, loopback: LoopbackSocket, viewer: Viewer, *args: Any, **kwargs: Any) -> None:
        super().__init__(loopback, *args, **kwargs)  # type: ignore[arg-type]
        self._registered_viewer = viewer

    async def _admit(self) -> bool:
        self.viewer = self._registered_viewer
        return True


@dataclass
class _JoinedCall:
    """The legs of one call, joined into one stream for its :class:`AudioSocketCall`."""

    loopback: LoopbackSocket
    mixer: TrackMixer
    started: float
    task: asyncio.Task | None = None
    active: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    ended: bool = False


class AudioSocketServer:
    """The TCP listener, the registrations and the calls in progress (one per process)."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._registered: dict[uuid.UUID, _Registered] = {}
        self._calls: dict[uuid.UUID, _JoinedCall] = {}
        self._server: asyncio.AbstractServer | None = None

    # -- registration (REST) -------------------------------------------------------------------

    def register(self, call: LegRegistration, viewer: Viewer, secret: str) -> None:
        now = time.monotonic()
        for leg, entry in list(self._registered.items()):
            if entry.expires < now:
                del self._registered[leg]
        if len(self._registered) + len(call.legs) > MAX_REGISTRATIONS:
            raise OverflowError("too many calls registered and not yet streamed")
        key = uuid.uuid4()
        for leg in call.legs.values():
            self._registered[leg] = _Registered(call, viewer, secret, now + REGISTRATION_SECONDS, key)

    # -- TCP -----------------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._leg, self.settings.audiosocket_host, self.settings.audiosocket_port,
                                                  limit=wire.MAX_PAYLOAD + 3)
        log.info("AudioSocket listening on %s:%d", self.settings.audiosocket_host, self.settings.audiosocket_port,
                 extra={"event": "audiosocket"})

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for joined in list(self._calls.values()):
            if joined.task is not None:
                await asyncio.wait([joined.task], timeout=30)

    async def _leg(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        try:
            first = await wire.read_frame(reader, FRAME_TIMEOUT)
            if first is None or first.kind != wire.UUID or len(first.payload) != 16:
                log.warning("AudioSocket connection from %s did not start with a UUID frame", peer,
                            extra={"event": "refused"})
                return
            leg = uuid.UUID(bytes=first.payload)
            registered = self._registered.get(leg)
            if registered is None or registered.expires < time.monotonic():
                log.warning("AudioSocket leg %s is not registered (POST /v1/telephony/audiosocket/calls first)", leg,
                            extra={"event": "refused"})
                writer.write(wire.frame(wire.HANGUP))
                return
            if not await self.app.state.stream_gate.admits(registered.secret):
                log.warning("AudioSocket leg %s refused: the token that registered it was revoked (or cannot be checked)", leg,
                            extra={"event": "refused"})
                self._registered.pop(leg, None)
                writer.write(wire.frame(wire.HANGUP))
                return
            role = next(r for r, u in registered.call.legs.items() if u == leg)
            try:
                joined = self._join(registered, peer)
            except ValidationError as exc:
                log.warning("AudioSocket call %s refused: %s", registered.call.call_id, describe_validation_error(exc),
                            extra={"event": "refused"})
                writer.write(wire.frame(wire.HANGUP))
                return
            if role in joined.active or joined.ended:
                log.warning("AudioSocket leg %s is already connected", leg, extra={"event": "refused"})
                writer.write(wire.frame(wire.HANGUP))
                return
            await self._stream(reader, joined, role)
            if joined.task is not None and joined.task.done():
                writer.write(wire.frame(wire.HANGUP))  # the call ended before the leg did
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError) as exc:
            log.warning("AudioSocket leg from %s ended: %s", peer, type(exc).__name__, extra={"event": "disconnect"})
        finally:
            writer.close()

    def _join(self, registered: _Registered, peer: str) -> _JoinedCall:
        call, key = registered.call, registered.key
        joined = self._calls.get(key)
        if joined is None:
            roles = [r for r in ("agent", "debtor") if r in call.legs]
            metadata = {**call.metadata, "telephony": "audiosocket"}
            metadata.update({k: v for k, v in (("agent_id", call.agent_id), ("team", call.team)) if v})
            start = StartMessage(type="start", call_id=call.call_id, language=call.language, encoding="pcm_s16le",
                                 sample_rate=wire.RATE, channels=len(roles), channel_roles=roles, playbook=call.playbook,
                                 metadata=metadata)  # before the call is entered: a refusal leaves nothing behind
            loopback = LoopbackSocket(peer, registered.secret)
            joined = _JoinedCall(loopback, TrackMixer(roles, sample_rate=wire.RATE, sample_width=2), time.monotonic())
            self._calls[key] = joined
            loopback.push_text(start.model_dump_json())
            state = self.app.state
            extra = {"hub": state.supervisor} if getattr(state, "supervisor", None) is not None else {}
            stream = AudioSocketCall(loopback, registered.viewer, self.settings, state.calls, state.store,
                                     gate=state.stream_gate, active=state.streams, **extra)
            joined.task = asyncio.create_task(stream.run())
            joined.task.add_done_callback(lambda _: self._calls.pop(key, None))
        return joined

    async def _stream(self, reader: asyncio.StreamReader, joined: _JoinedCall, role: str) -> None:
        joined.active.add(role)
        joined.seen.add(role)
        offset_ms = (time.monotonic() - joined.started) * 1000
        samples = 0
        try:
            while True:
                if not await self._room(joined):
                    return  # the call ended (refused, failed or finished): nothing reads this leg now
                item = await wire.read_frame(reader, FRAME_TIMEOUT)
                if item is None or item.kind == wire.HANGUP:
                    return
                if item.kind == wire.AUDIO:
                    if len(item.payload) % 2:
                        log.warning("AudioSocket audio frame of odd length skipped", extra={"event": "bad_audio"})
                        continue
                    try:
                        joined.loopback.push_audio(joined.mixer.add(role, int(offset_ms + samples * 1000 / wire.RATE), item.payload))
                    except InputError as exc:
                        log.warning("AudioSocket audio frame skipped: %s", exc, extra={"event": "bad_audio"})
                    samples += len(item.payload) // 2
                elif item.kind == wire.ERROR:
                    log.warning("AudioSocket error from Asterisk: %s", item.payload.hex()[:16], extra={"event": "error"})
                elif item.kind != wire.DTMF:
                    log.warning("unknown AudioSocket frame kind 0x%02x skipped", item.kind, extra={"event": "bad_message"})
        finally:
            joined.active.discard(role)
            if not joined.active:
                asyncio.get_running_loop().call_later(LAST_LEG_GRACE, self._end_if_idle, joined)

    @staticmethod
    async def _room(joined: _JoinedCall) -> bool:
        """Wait until the call has taken in all but :data:`MAX_QUEUED_AUDIO_BYTES` of the joined audio;
        False when the call has ended and will take no more."""
        while joined.loopback.queued_bytes > MAX_QUEUED_AUDIO_BYTES:
            if joined.task is None or joined.task.done():
                return False
            await asyncio.sleep(ROOM_POLL_SECONDS)
        return joined.task is not None and not joined.task.done()

    def _end_if_idle(self, joined: _JoinedCall) -> None:
        if joined.active or joined.ended:
            return
        joined.ended = True
        joined.loopback.push_audio(joined.mixer.flush())
        joined.loopback.push_text(json.dumps({"type": "stop"}))


router = APIRouter(tags=["telephony"])


@router.post("/telephony/audiosocket/calls", status_code=201)
async def register_call(call: LegRegistration, request: Request,
                        viewer: Annotated[Viewer, Depends(require("integration", "admin"))]) -> dict[str, Any]:
    """Register a call whose legs Asterisk will stream with AudioSocket(uuid,host:port): one UUID per
    party. Legs with other UUIDs are hung up on."""
    from fastapi import HTTPException

    server: AudioSocketServer | None = getattr(request.app.state, "audiosocket", None)
    if server is None:
        raise HTTPException(status_code=409, detail="AudioSocket is off on this server: set COACH_AUDIOSOCKET_PORT")
    # An unknown playbook is refused here (422, with the installed ids), not when a leg connects.
    PlaybookRegistry.from_settings(server.settings).reference(call.playbook)
    try:
        # the same token current_viewer admitted this request with
        server.register(call, viewer, bearer_secret(dict(request.headers), dict(request.query_params), "access_token") or "")
    except OverflowError as exc:
        raise HTTPException(status_code=429, detail=str(exc)) from None
    return {"call_id": call.call_id, "legs": {role: str(leg) for role, leg in call.legs.items()},
            "expires_in": REGISTRATION_SECONDS}


def install(app: FastAPI, settings: Settings) -> None:
    """The registration route, and the listener when COACH_AUDIOSOCKET_PORT is set (started and
    stopped by the app's lifespan: :func:`start`, :func:`stop`)."""
    app.include_router(router, prefix="/v1")
    app.state.audiosocket = AudioSocketServer(app, settings) if settings.audiosocket_port else None


async def start(app: FastAPI) -> None:
    if app.state.audiosocket is not None:
        await app.state.audiosocket.start()


async def stop(app: FastAPI) -> None:
    if app.state.audiosocket is not None:
        await app.state.audiosocket.stop()
