"""Genesys Cloud AudioHook (protocol version 2): the messages of a monitoring session, read and written.

Genesys opens a WebSocket with its API key in the ``X-API-KEY`` header and sends JSON text messages
(each with ``version``, ``type``, its own ``seq``, the last ``serverseq`` it saw, the session ``id``
and the audio ``position`` as an ISO 8601 duration) and binary audio frames. The session opens with
``open`` (the conversation, the participant, the media formats offered, the language), which the
server answers with ``opened`` naming the format it takes; then audio flows until ``close``, which
the server answers with ``closed``. ``ping`` gets ``pong``; ``paused``/``resumed`` bracket audio that
is not sent (a hold, a secure pause) and ``discarded`` says how much was left out; the server may send
``event`` messages (coach's hints) and ends a session it refuses with ``disconnect``.

coach takes PCMU (G.711 mu-law) at 8 kHz, both channels: ``external`` (the customer: the debtor) and
``internal`` (the agent), interleaved in each binary frame, external first.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.audio.formats import AudioFormat
from coach.errors import InputError, describe_validation_error
from coach.telephony.messages import parse_json_message

VERSION = "2"
#: The one media format coach takes: what Genesys offers by default.
TAKEN = {"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000}
ROLES = {"external": "debtor", "internal": "agent"}


class MediaOffer(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    format: str
    channels: list[str] = Field(min_length=1, max_length=2)
    rate: int


class OpenParameters(BaseModel):
    model_config = ConfigDict(extra="allow")

    organizationId: str | None = None  # noqa: N815  (Genesys' field names)
    conversationId: str = Field(min_length=1, max_length=120)  # noqa: N815
    participant: dict[str, Any] = Field(default_factory=dict)
    media: list[MediaOffer] = Field(min_length=1, max_length=16)
    language: str | None = None
    customConfig: dict[str, Any] = Field(default_factory=dict)  # noqa: N815
    inputVariables: dict[str, Any] = Field(default_factory=dict)  # noqa: N815

    def chosen_media(self) -> MediaOffer:
        """The offer coach takes: PCMU at 8 kHz with both channels, else one channel of it."""
        usable = [m for m in self.media if m.type == "audio" and m.format == "PCMU" and m.rate == 8000
                  and set(m.channels) <= set(ROLES)]
        if not usable:
            offered = ", ".join(f"{m.format} {m.rate} Hz {'+'.join(m.channels)}" for m in self.media)
            raise InputError(f"none of the media offered ({offered}) is PCMU at 8000 Hz")
        return max(usable, key=lambda m: len(m.channels))

    def call_language(self) -> str:
        """``en-US`` -> ``en``, ``zh-CN`` -> ``zh``; English when Genesys does not say."""
        code = (self.language or "en").split("-")[0].lower()
        if code not in ("en", "zh"):
            raise InputError(f"coach coaches English and Chinese calls; this conversation is in {self.language!r}")
        return code


class AudioHookMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: str
    type: str = Field(min_length=1, max_length=40)
    seq: int = Field(ge=0)
    serverseq: int | None = None
    id: str = Field(min_length=1, max_length=120)
    position: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)

    def open_parameters(self) -> OpenParameters:
        try:
            return OpenParameters.model_validate(self.parameters)
        except ValidationError as exc:
            raise InputError("invalid open parameters:\n" + describe_validation_error(exc)) from None


def parse_message(text: str | None) -> AudioHookMessage:
    """A client message, or InputError saying what is wrong with it (never echoing it)."""
    message = parse_json_message(text, AudioHookMessage, "AudioHook")
    if message.version != VERSION:
        raise InputError(f"AudioHook protocol version {message.version[:10]!r}; coach speaks version {VERSION}")
    return message


def audio_format(media: MediaOffer) -> AudioFormat:
    return AudioFormat("mulaw", media.rate, len(media.channels))


def roles(media: MediaOffer) -> list[str]:
    return [ROLES[channel] for channel in media.channels]


_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


def seconds(duration: str | None) -> float:
    """ISO 8601 duration (``PT1M2.5S``) -> seconds; InputError for anything else."""
    match = _DURATION.match(duration or "")
    if not match or duration == "PT":
        raise InputError(f"not an ISO 8601 duration: {str(duration)[:30]!r}")
    hours, minutes, secs = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)


def duration(value: float) -> str:
    return f"PT{value:.3f}S".replace(".000S", "S")


class ServerMessages:
    """The server's side of one session: its own ``seq``, and the last client ``seq`` it saw."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.seq = 0
        self.clientseq = 0

    def make(self, kind: str, parameters: dict[str, Any] | None = None, position: float | None = None) -> str:
        self.seq += 1
        message: dict[str, Any] = {"version": VERSION, "type": kind, "seq": self.seq, "clientseq": self.clientseq,
                                   "id": self.session_id, "parameters": parameters or {}}
        if position is not None:
            message["position"] = duration(position)
        return json.dumps(message, ensure_ascii=False)
