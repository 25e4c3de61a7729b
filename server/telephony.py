"""Telephony platforms' stream endpoints: their wire format in, the same live call as ``/v1/stream``
(docs/telephony.md). Twilio Media Streams, Genesys Cloud AudioHook and FreeSWITCH mod_audio_fork.

``/v1/telephony/twilio`` takes a Twilio Media Stream (``<Connect><Stream url="wss://.../v1/telephony/
twilio">`` in TwiML, both tracks). Twilio cannot send headers, so the call is admitted on its
``start`` message: an API token of the ``integration`` role (or ``admin``) in
``customParameters.token``. The call is stored under Twilio's ``callSid``; ``customParameters`` also
carry ``language`` (``en``/``zh``, default ``en``), ``playbook``, ``agent_id``, ``team`` and any other
call metadata. Twilio reads nothing back on a one-way stream, so hints are not sent on this socket:
they are stored as they happen, like every live call, for the agent's console and the supervisors.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
from typing import Any

from pydantic import ValidationError

from coach import jsontext
from coach.errors import CoachError, InputError, describe_validation_error
from coach.events import BaseEvent
from coach.telephony.audiohook import AudioHookMessage, ServerMessages, audio_format, roles, seconds
from coach.telephony.audiohook import parse_message as parse_audiohook
from coach.telephony.tracks import MULAW_SILENCE, TrackMixer
from coach.telephony.twilio import StreamStart, TwilioMessage, parse_message
from server.auth import UNAUTHORIZED, StreamRefused
from server.limits import bearer_secret
from server.stream import IDLE_TIMEOUT, NORMAL, POLICY, CallStream, StartMessage

log = logging.getLogger("coach.server.telephony")

#: Roles whose tokens a telephony platform may present.
INTEGRATIONS = ("integration", "admin")
#: Custom parameters that configure the call rather than describe it.
_CONTROL = ("token", "language", "playbook")


class TwilioStream(CallStream):
    """One Twilio Media Stream (one call, both tracks) on ``/v1/telephony/twilio``."""

    protocol = "twilio"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mixer: TrackMixer | None = None

    async def _admit(self) -> bool:
        return True  # the token arrives in the start message (Twilio sends no headers): checked there

    async def _start(self) -> bool:
        # One deadline for the start message whatever comes before it: "connected" messages sent
        # forever would otherwise hold an unauthenticated socket open.
        deadline = asyncio.get_running_loop().time() + self.settings.stream_idle_seconds
        while True:
            raw = await self._next(max(0.0, deadline - asyncio.get_running_loop().time()))
            if raw is None:
                await self._fail("idle_timeout", f"no start message within {self.settings.stream_idle_seconds:g} s", IDLE_TIMEOUT)
                return False
            if raw["type"] == "websocket.disconnect":
                return False
            try:
                message = self._parse(raw)
            except InputError as exc:
                await self._fail("bad_start", str(exc), POLICY)
                return False
            if message.event == "connected":
                continue
            if message.event != "start":
                await self._fail("bad_start", f"expected Twilio's start message, got {message.event[:40]!r}", POLICY)
                return False
            assert message.start is not None
            return await self._begin(message.start)

    async def _begin(self, start: StreamStart) -> bool:
        parameters = start.customParameters
        try:
            if not parameters.get("token") and not self.gate.allow_anonymous:
                raise StreamRefused("unauthorized", "a Twilio stream needs an API token of the integration role in "
                                    "customParameters.token (<Parameter name=\"token\" value=\"...\"/> in the TwiML; "
                                    "coach token create pbx --role integration)", UNAUTHORIZED)
            self.viewer = await self.gate.admit_secret(parameters.get("token"), self.ws, INTEGRATIONS)
        except StreamRefused as refused:
            log.warning("Twilio stream refused: %s", refused.message, extra={"code": refused.code, "event": "refused",
                                                                             "call_id": start.callSid})
            await self._fail(refused.code, refused.message, refused.close_code)
            return False
        try:
            audio = start.audio_format()
        except InputError as exc:
            await self._fail("bad_start", str(exc), POLICY)
            return False
        inbound = self.settings.twilio_inbound_role
        outbound = "agent" if inbound == "debtor" else "debtor"
        roles = [inbound if track == "inbound" else outbound for track in start.tracks]
        metadata: dict[str, Any] = {k: v for k, v in parameters.items() if k not in _CONTROL}
        metadata.update({"twilio_stream_sid": start.streamSid, "telephony": self.protocol})
        self._mixer = TrackMixer(list(start.tracks), sample_rate=audio.sample_rate)
        language = parameters.get("language", "en")
        try:
            opening = StartMessage(type="start", call_id=start.callSid, language=language, encoding=audio.encoding,
                                   sample_rate=audio.sample_rate, channels=audio.channels, channel_roles=roles,
                                   playbook=parameters.get("playbook"), metadata=metadata)
        except ValidationError as exc:  # a language coach does not know
            await self._fail("bad_start", "invalid customParameters:\n" + describe_validation_error(exc), POLICY)
            return False
        return await self._open(opening)

    async def _receive(self) -> None:
        assert self.call is not None and self._mixer is not None
        while True:
            raw = await self._next()
            if raw is None:
                await self._error("idle_timeout", f"nothing received for {self.settings.stream_idle_seconds:g} s; "
                                                  "the call is finished with what arrived")
                break
            if raw["type"] == "websocket.disconnect":
                self._disconnected()
                break
            try:
                message = self._parse(raw)
                if message.event == "media":
                    assert message.media is not None
                    media = message.media
                    if media.track not in self._mixer.tracks:
                        raise InputError(f"media for track {media.track!r}, which the start message did not announce")
                    self._feed(self._mixer.add(media.track, int(media.timestamp), media.audio()))
                    await self._keep_up()
                elif message.event == "stop":
                    break
                elif message.event == "dtmf":
                    log.info("keypad digit", extra={"call_id": self.call_id, "event": "dtmf"})
                elif message.event not in ("mark", "connected"):
                    raise InputError(f"unknown Twilio event {message.event[:40]!r}")
            except CoachError as exc:
                await self._error("bad_message", f"{exc}; message ignored")
        self._feed(self._mixer.flush())

    def _feed(self, data: bytes) -> None:
        if data:
            assert self.call is not None
            self.call.feed(data)
            self._wake.set()

    def _parse(self, raw: dict) -> TwilioMessage:
        if raw.get("bytes") is not None:
            raise InputError("Twilio sends JSON text messages; a binary message is not one")
        text = raw.get("text") or ""
        if len(text) > self.settings.max_frame_bytes:
            raise InputError(f"message of {len(text)} bytes exceeds {self.settings.max_frame_bytes}")
        return parse_message(text)

    async def _send(self, events: list[BaseEvent]) -> None:
        """Twilio reads nothing on a one-way stream: events are stored, not sent (errors are logged)."""


class AudioHookStream(CallStream):
    """One Genesys Cloud AudioHook session (one conversation, both channels) on ``/v1/telephony/audiohook``.

    Admitted on its ``X-API-KEY`` header (an integration token). The conversation id is the stored
    call's id. Hints (objections, compliance warnings) go back as AudioHook ``event`` messages, each
    entity ``{"type": "coach.<event type>", "data": <the event as /v1/stream sends it>}``."""

    protocol = "audiohook"
    #: Events sent back to Genesys (the rest are stored only).
    SENT = ("intent", "compliance", "sentiment", "commitment", "warning", "scorecard")
    #: Longest pause (a hold) filled with silence, so times after it stay the call's times.
    MAX_DISCARDED_SECONDS = 3600.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._messages: ServerMessages | None = None
        self._received_seconds = 0.0
        self._closing = False

    async def _admit(self) -> bool:
        key = self.ws.headers.get("x-api-key")
        try:
            if not key and not self.gate.allow_anonymous:
                raise StreamRefused("unauthorized", "an AudioHook session needs an integration token as its API key "
                                    "(X-API-KEY; coach token create genesys --role integration)", UNAUTHORIZED)
            self.viewer = await self.gate.admit_secret(key, self.ws, INTEGRATIONS)
        except StreamRefused as refused:
            log.warning("AudioHook session refused: %s", refused.message, extra={"code": refused.code, "event": "refused"})
            await self._fail(refused.code, refused.message, refused.close_code)
            return False
        return True

    async def _start(self) -> bool:
        raw = await self._next()
        if raw is None:
            await self._fail("idle_timeout", f"no open message within {self.settings.stream_idle_seconds:g} s", IDLE_TIMEOUT)
            return False
        if raw["type"] == "websocket.disconnect":
            return False
        try:
            message = self._parse(raw)
            self._messages = ServerMessages(message.id)
            self._messages.clientseq = message.seq
            if message.type != "open":
                raise InputError(f"expected an open message, got {message.type!r}")
            parameters = message.open_parameters()
            media = parameters.chosen_media()
            language = parameters.call_language()
        except InputError as exc:
            await self._fail("bad_start", str(exc), POLICY)
            return False
        metadata: dict[str, Any] = {**parameters.inputVariables, **parameters.customConfig}
        metadata = {k: v for k, v in metadata.items() if k not in _CONTROL and isinstance(v, (str, int, float, bool))}
        metadata.update({"audiohook_session_id": message.id, "telephony": self.protocol})
        audio = audio_format(media)
        try:
            opening = StartMessage(type="start", call_id=parameters.conversationId, language=language,
                                   encoding=audio.encoding, sample_rate=audio.sample_rate, channels=audio.channels,
                                   channel_roles=roles(media), playbook=_text_or_none(parameters.customConfig.get("playbook")),
                                   metadata=metadata)
        except ValidationError as exc:
            await self._fail("bad_start", "invalid open parameters:\n" + describe_validation_error(exc), POLICY)
            return False
        await self._reply("opened", {"startPaused": False, "media": [media.model_dump()]})
        return await self._open(opening)

    async def _receive(self) -> None:
        assert self.call is not None and self._messages is not None
        while True:
            raw = await self._next()
            if raw is None:
                await self._error("idle_timeout", f"nothing received for {self.settings.stream_idle_seconds:g} s; "
                                                  "the call is finished with what arrived")
                return
            if raw["type"] == "websocket.disconnect":
                self._disconnected()
                return
            data = raw.get("bytes")
            try:
                if data is not None:
                    if len(data) > self.settings.max_frame_bytes:
                        raise InputError(f"audio frame of {len(data)} bytes exceeds {self.settings.max_frame_bytes}")
                    self.call.feed(data)
                    self._received_seconds += self.call.spec.audio.seconds(len(data))
                    self._wake.set()
                    await self._keep_up()
                    continue
                message = self._parse(raw)
                self._messages.clientseq = message.seq
                if message.type == "ping":
                    await self._reply("pong", {})
                elif message.type == "close":
                    self._closing = True  # answered with closed once the call is finished and stored
                    return
                elif message.type == "discarded":
                    self._fill(seconds(str(message.parameters.get("discarded", "PT0S"))))
                elif message.type in ("paused", "resumed", "update", "error", "pause", "resume"):
                    log.info("AudioHook %s", message.type, extra={"call_id": self.call_id, "event": message.type})
                else:
                    raise InputError(f"unknown AudioHook message type {message.type!r}")
            except CoachError as exc:
                await self._error("bad_message", f"{exc}; message ignored")

    def _fill(self, gap: float) -> None:
        """Audio left out (a hold): silence, so later utterances keep the call's times."""
        assert self.call is not None
        gap = min(max(0.0, gap), self.MAX_DISCARDED_SECONDS)
        audio = self.call.spec.audio
        self.call.feed(bytes([MULAW_SILENCE]) * int(gap * audio.sample_rate) * audio.channels)
        self._received_seconds += gap
        self._wake.set()

    async def _close(self, code: int, reason: str = "") -> None:
        if self._closing and code == NORMAL and not self._closed and self._messages is not None:
            await self._reply("closed", {})
        await super()._close(code, reason)

    async def _fail(self, code: str, message: str, close_code: int) -> None:
        log.info(message, extra={"call_id": self.call_id, "code": code, "event": "error"})
        if self._messages is None:
            self._messages = ServerMessages("-")
        await self._reply("disconnect", {"reason": "unauthorized" if close_code == UNAUTHORIZED else "error",
                                         "info": message[:500]})
        await CallStream._close(self, close_code, message[:120])

    async def _send(self, events: list[BaseEvent]) -> None:
        """Hints go back as AudioHook ``event`` messages; errors as ``event`` entities too (the
        session goes on)."""
        entities = [{"type": f"coach.{e.type}", "data": json.loads(e.to_json())} for e in events
                    if e.type in self.SENT or e.type == "error"]
        if entities:
            await self._reply("event", {"entities": entities})

    async def _reply(self, kind: str, parameters: dict[str, Any]) -> None:
        if self._closed or self._messages is None:
            return
        await self._send_texts([self._messages.make(kind, parameters, position=self._received_seconds)])

    def _parse(self, raw: dict) -> AudioHookMessage:
        text = raw.get("text") or ""
        if len(text) > self.settings.max_frame_bytes:
            raise InputError(f"message of {len(text)} bytes exceeds {self.settings.max_frame_bytes}")
        return parse_audiohook(text)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


class AudioForkStream(CallStream):
    """One FreeSWITCH ``mod_audio_fork`` stream (``uuid_audio_fork <uuid> start <url> <mix> <rate> <metadata>``)
    on ``/v1/telephony/audiofork``.

    The module sends its metadata as the first text frame, then binary frames of 16-bit linear PCM.
    What it does not send in band comes in the URL's query: ``mix`` (``stereo``, the default: the
    caller on the left, the callee on the right; ``mono`` or ``mixed``: one channel) and ``rate``
    (``8k``, the default, or ``16k``), with ``token`` (an integration token; the module's basic-auth
    password works too). The metadata JSON may say ``call_id`` (else its ``uuid``), ``language``,
    ``playbook``, ``roles`` (who is on each channel; stereo default ``["agent", "debtor"]``: the
    dialler's agent leg calls the debtor), ``agent_id``, ``team`` and other call metadata. FreeSWITCH
    ends the stream by closing the socket (the end of the call, not an interruption). Hints go back as
    ``{"type": "json", "data": <event>}`` text frames, which the module raises as FreeSWITCH events."""

    protocol = "audiofork"
    SENT = AudioHookStream.SENT
    #: The WebSocket sub-protocol mod_audio_fork asks for (libwebsockets drops a connection whose
    #: server does not agree to it).
    SUBPROTOCOL = "audio.drachtio.org"
    MIXES = {"stereo": 2, "mono": 1, "mixed": 1}
    RATES = {"8k": 8_000, "8000": 8_000, "16k": 16_000, "16000": 16_000}

    def subprotocol(self) -> str | None:
        return self.SUBPROTOCOL if self.SUBPROTOCOL in self.ws.scope.get("subprotocols", []) else None

    async def _admit(self) -> bool:
        secret = bearer_secret(dict(self.ws.headers), dict(self.ws.query_params), "token", "access_token")
        if secret is None:
            secret = _basic_password(self.ws.headers.get("authorization"))
        try:
            if not secret and not self.gate.allow_anonymous:
                raise StreamRefused("unauthorized", "a FreeSWITCH audio fork needs an integration token: ?token=... in "
                                    "the stream URL (coach token create freeswitch --role integration)", UNAUTHORIZED)
            self.viewer = await self.gate.admit_secret(secret, self.ws, INTEGRATIONS)
        except StreamRefused as refused:
            log.warning("audio fork refused: %s", refused.message, extra={"code": refused.code, "event": "refused"})
            await self._fail(refused.code, refused.message, refused.close_code)
            return False
        return True

    async def _start(self) -> bool:
        query = self.ws.query_params
        mix, rate = query.get("mix", "stereo").lower(), self.RATES.get(query.get("rate", "8k").lower())
        if mix not in self.MIXES or rate is None:
            await self._fail("bad_start", "the stream URL's mix must be stereo, mono or mixed and its rate 8k or 16k",
                             POLICY)
            return False
        raw = await self._next()
        if raw is None:
            await self._fail("idle_timeout", f"no metadata within {self.settings.stream_idle_seconds:g} s", IDLE_TIMEOUT)
            return False
        if raw["type"] == "websocket.disconnect":
            return False
        try:
            text = raw.get("text")
            if text is None or len(text) > self.settings.max_frame_bytes:
                raise InputError("the first frame must be the fork's JSON metadata (uuid_audio_fork ... <metadata>)")
            metadata = jsontext.loads(text)
            if not isinstance(metadata, dict):
                raise InputError("the fork's metadata must be a JSON object")
        except (jsontext.JsonError, InputError) as exc:
            await self._fail("bad_start", str(exc) if isinstance(exc, InputError) else
                             f"the metadata is not valid JSON: {exc.msg}", POLICY)
            return False
        channels = self.MIXES[mix]
        roles = metadata.get("roles") or (["agent", "debtor"] if channels == 2 else ["debtor"])
        call_id = str(metadata.get("call_id") or metadata.get("uuid") or f"fs-{secrets.token_hex(6)}")
        described = {k: v for k, v in metadata.items()
                     if k not in ("token", "language", "playbook", "roles", "call_id") and isinstance(v, (str, int, float, bool))}
        described.update({"telephony": self.protocol})
        try:
            opening = StartMessage(type="start", call_id=call_id[:200], language=metadata.get("language", "en"),
                                   encoding="pcm_s16le", sample_rate=rate, channels=channels, channel_roles=roles,
                                   playbook=_text_or_none(metadata.get("playbook")), metadata=described)
        except ValidationError as exc:
            await self._fail("bad_start", "invalid metadata:\n" + describe_validation_error(exc), POLICY)
            return False
        return await self._open(opening)

    def _disconnected(self) -> None:
        self._closed = True  # FreeSWITCH hangs up by closing the socket: the call ended, it was not cut

    async def _send(self, events: list[BaseEvent]) -> None:
        await self._send_texts([json.dumps({"type": "json", "data": json.loads(event.to_json())}, ensure_ascii=False)
                                for event in events if event.type in self.SENT or event.type == "error"])


def _basic_password(header: str | None) -> str | None:
    """The password of an ``Authorization: Basic`` header (mod_audio_fork's basic auth)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None
