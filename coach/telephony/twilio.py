"""Twilio Media Streams: the messages Twilio sends over a ``<Stream>`` WebSocket, read and written.

Twilio opens the WebSocket itself and sends JSON text messages only: ``connected``; ``start`` (the
stream and call ids, the tracks, the media format: 8 kHz mono mu-law per track, and the
``customParameters`` the TwiML set); ``media`` (one track's 20 ms chunk, base64, with its chunk
number and its timestamp in milliseconds from the start of the stream); ``dtmf``; ``mark``; and
``stop``. It cannot send headers or a query string, so coach's API token travels in
``customParameters.token``. Both tracks of a call (``inbound``: the caller's side, ``outbound``: what
Twilio plays to them) arrive on one socket and are joined into one two-channel call.

:func:`twilio_messages` writes a recording in exactly that format: ``coach replay --protocol
twilio`` and the tests use it to play a call to the server as Twilio would.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from coach.audio.formats import AudioFormat, encode_mulaw
from coach.errors import InputError
from coach.telephony.messages import parse_json_message

#: Twilio's audio: G.711 mu-law, 8 kHz, one channel per track.
TWILIO_ENCODING = "audio/x-mulaw"
TWILIO_RATE = 8_000
#: Milliseconds of audio in one media message (what Twilio sends).
CHUNK_MS = 20


class MediaFormat(BaseModel):
    model_config = ConfigDict(extra="allow")

    encoding: str
    sampleRate: int  # noqa: N815  (Twilio's field names)
    channels: int = 1


class StreamStart(BaseModel):
    model_config = ConfigDict(extra="allow")

    accountSid: str | None = None  # noqa: N815
    streamSid: str = Field(min_length=1, max_length=64)  # noqa: N815
    callSid: str = Field(min_length=1, max_length=64)  # noqa: N815
    tracks: list[Literal["inbound", "outbound"]] = Field(min_length=1, max_length=2)
    mediaFormat: MediaFormat  # noqa: N815
    customParameters: dict[str, str] = Field(default_factory=dict)  # noqa: N815

    def audio_format(self) -> AudioFormat:
        """The per-track format, checked: coach takes what Twilio sends (mu-law, 8 kHz, mono tracks)."""
        media = self.mediaFormat
        if media.encoding != TWILIO_ENCODING or media.sampleRate != TWILIO_RATE or media.channels != 1:
            raise InputError(f"unsupported Twilio media format {media.encoding} {media.sampleRate} Hz "
                             f"{media.channels} channel(s); expected {TWILIO_ENCODING} {TWILIO_RATE} Hz mono")
        return AudioFormat("mulaw", TWILIO_RATE, len(self.tracks))


class Media(BaseModel):
    model_config = ConfigDict(extra="allow")

    track: Literal["inbound", "outbound"]
    chunk: str | None = None
    timestamp: str = Field(pattern=r"^\d{1,12}$")
    payload: str

    def audio(self) -> bytes:
        try:
            return base64.b64decode(self.payload, validate=True)
        except (binascii.Error, ValueError):
            raise InputError("media payload is not valid base64") from None


class TwilioMessage(BaseModel):
    """One message of a Twilio media stream (the fields coach reads; others are kept, unread)."""

    model_config = ConfigDict(extra="allow")

    event: str
    sequenceNumber: str | None = None  # noqa: N815
    streamSid: str | None = None  # noqa: N815
    start: StreamStart | None = None
    media: Media | None = None
    stop: dict[str, Any] | None = None
    dtmf: dict[str, Any] | None = None
    mark: dict[str, Any] | None = None


def parse_message(text: str | None) -> TwilioMessage:
    """A Twilio message, or InputError saying what is wrong with it (never echoing it)."""
    message = parse_json_message(text, TwilioMessage, "Twilio")
    if message.event == "start" and message.start is None:
        raise InputError("a start message needs its 'start' object")
    if message.event == "media" and message.media is None:
        raise InputError("a media message needs its 'media' object")
    return message


def twilio_messages(audio: np.ndarray, *, call_sid: str, tracks: tuple[str, ...] = ("outbound", "inbound"),
                    custom_parameters: dict[str, str] | None = None, account_sid: str = "AC" + "0" * 32,
                    stream_sid: str | None = None, dtmf: dict[float, str] | None = None) -> Iterator[tuple[float, str]]:
    """A recording as Twilio streams it: (audio seconds sent so far, message text) pairs.

    ``audio`` is float32 (channels, samples) at 16 kHz, one row per entry of ``tracks``. Twilio's
    order: ``connected``, ``start``, then the two tracks' 20 ms media chunks, interleaved, then
    ``stop``; ``dtmf`` maps audio seconds to digits pressed then (on the inbound track)."""
    from scipy.signal import resample_poly

    if audio.shape[0] != len(tracks):
        raise ValueError(f"{audio.shape[0]} channels for {len(tracks)} tracks")
    stream_sid = stream_sid or "MZ" + secrets.token_hex(16)
    narrow = resample_poly(audio, 1, 2, axis=1)  # 16 -> 8 kHz
    encoded = [encode_mulaw(channel) for channel in narrow]
    sequence = iter(range(1, 1 << 62))

    def message(event: str, **body: Any) -> str:
        return json.dumps({"event": event, "sequenceNumber": str(next(sequence)), **body, "streamSid": stream_sid})

    yield 0.0, json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
    yield 0.0, message("start", start={
        "accountSid": account_sid, "streamSid": stream_sid, "callSid": call_sid, "tracks": list(tracks),
        "customParameters": custom_parameters or {},
        "mediaFormat": {"encoding": TWILIO_ENCODING, "sampleRate": TWILIO_RATE, "channels": 1}})
    step = TWILIO_RATE * CHUNK_MS // 1000
    pending_dtmf = sorted((dtmf or {}).items())
    for index, offset in enumerate(range(0, len(encoded[0]), step)):
        for track, data in zip(tracks, encoded):
            yield (offset + step) / TWILIO_RATE, message("media", media={
                "track": track, "chunk": str(index + 1), "timestamp": str(offset * 1000 // TWILIO_RATE),
                "payload": base64.b64encode(data[offset : offset + step]).decode("ascii")})
        while pending_dtmf and pending_dtmf[0][0] <= (offset + step) / TWILIO_RATE:
            _, digit = pending_dtmf.pop(0)
            yield (offset + step) / TWILIO_RATE, message("dtmf", dtmf={"track": "inbound_track", "digit": digit})
    yield len(encoded[0]) / TWILIO_RATE, message("stop", stop={"accountSid": account_sid, "callSid": call_sid})
