"""Telephony platforms' stream endpoints: their wire format in, the same live call as ``/v1/stream``.

``/v1/telephony/twilio`` takes a Twilio Media Stream (``<Connect><Stream url="wss://.../v1/telephony/
twilio">`` in TwiML, both tracks). Twilio cannot send headers, so the call is admitted on its
``start`` message: an API token of the ``integration`` role (or ``admin``) in
``customParameters.token``. The call is stored under Twilio's ``callSid``; ``customParameters`` also
carry ``language`` (``en``/``zh``, default ``en``), ``playbook``, ``agent_id``, ``team`` and any other
call metadata. Twilio reads nothing back on a one-way stream, so hints are not sent on this socket:
they are stored as they happen, like every live call, for the agent's console and the supervisors.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from coach.errors import CoachError, InputError, describe_validation_error
from coach.events import BaseEvent
from coach.telephony.tracks import TrackMixer
from coach.telephony.twilio import StreamStart, TwilioMessage, parse_message
from server.auth import UNAUTHORIZED, StreamRefused
from server.stream import IDLE_TIMEOUT, POLICY, CallStream, StartMessage

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
        while True:
            raw = await self._next()
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
