"""Asterisk AudioSocket: one party's audio over plain TCP, framed by a 3-byte header.

Each frame is a kind byte, a 2-byte big-endian payload length, and the payload: ``0x01`` the call's
UUID (16 bytes, first), ``0x10`` audio (signed 16-bit linear, little-endian, 8 kHz mono, 20 ms a
frame as Asterisk sends it), ``0x03`` a keypad digit, ``0xff`` an error code, ``0x00`` hang-up.
Asterisk's ``AudioSocket(uuid,host:port)`` streams one channel's audio, so a call with both parties
arrives as two connections, one per leg, each with its own UUID; coach joins them into one call
(server/audiosocket.py). The protocol has no authentication: a leg is accepted only when its UUID
was registered beforehand with an integration token (``POST /v1/telephony/audiosocket/calls``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

HANGUP, UUID, DTMF, AUDIO, ERROR = 0x00, 0x01, 0x03, 0x10, 0xFF
RATE = 8_000
#: Largest payload accepted (a 20 ms frame is 320 bytes; Asterisk never sends more than a few).
MAX_PAYLOAD = 65_535


@dataclass(frozen=True)
class Frame:
    kind: int
    payload: bytes


async def read_frame(reader: asyncio.StreamReader, timeout: float) -> Frame | None:
    """The next frame, or None when the connection ends. asyncio.TimeoutError when nothing comes
    within ``timeout`` seconds; asyncio.IncompleteReadError for a frame cut short."""
    try:
        header = await asyncio.wait_for(reader.readexactly(3), timeout)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None
    kind, length = header[0], int.from_bytes(header[1:3], "big")
    payload = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
    return Frame(kind, payload)


def frame(kind: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("payload too long for one frame")
    return bytes([kind]) + len(payload).to_bytes(2, "big") + payload


def leg_frames(samples: np.ndarray, leg: uuid.UUID) -> Iterator[tuple[float, bytes]]:
    """One party's audio (float32 at 8 kHz) as Asterisk sends it: (audio seconds so far, bytes)."""
    yield 0.0, frame(UUID, leg.bytes)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    step = RATE // 50 * 2
    for offset in range(0, len(pcm), step):
        yield (offset + step) / 2 / RATE, frame(AUDIO, pcm[offset : offset + step])
    yield len(pcm) / 2 / RATE, frame(HANGUP)
