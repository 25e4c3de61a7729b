"""Telephony audio formats on the wire, decoded to float32 mono streams at 16 kHz, one per channel.

Call-centre audio arrives as 16-bit PCM at 16 or 8 kHz, or 8 kHz G.711 mu-law; stereo recordings put
one party on each channel, interleaved. Every channel becomes its own stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from coach.errors import InputError

TARGET_RATE = 16_000
Encoding = Literal["pcm_s16le", "mulaw"]
SUPPORTED = {"pcm_s16le": (8_000, 16_000), "mulaw": (8_000,)}


def _mulaw_table() -> np.ndarray:
    """G.711 mu-law byte -> linear sample in [-1, 1] (ITU-T G.711 expansion)."""
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    linear = np.where(sign != 0, 0x84 - magnitude, magnitude - 0x84)
    return (linear / 32768.0).astype(np.float32)


MULAW_TO_FLOAT = _mulaw_table()


@dataclass(frozen=True)
class AudioFormat:
    encoding: Encoding
    sample_rate: int
    channels: int

    def __post_init__(self) -> None:
        if self.encoding not in SUPPORTED:
            raise InputError(f"unsupported encoding {self.encoding!r}; use one of {', '.join(SUPPORTED)}")
        if self.sample_rate not in SUPPORTED[self.encoding]:
            rates = " or ".join(str(r) for r in SUPPORTED[self.encoding])
            raise InputError(f"unsupported sample rate {self.sample_rate} for {self.encoding}; use {rates} Hz")
        if self.channels not in (1, 2):
            raise InputError(f"unsupported channel count {self.channels}; use 1 (mono) or 2 (one party per channel)")

    @property
    def bytes_per_frame(self) -> int:
        """Bytes of one sample on every channel."""
        return (2 if self.encoding == "pcm_s16le" else 1) * self.channels

    def seconds(self, n_bytes: int) -> float:
        return n_bytes / self.bytes_per_frame / self.sample_rate

    def check(self, data: bytes) -> None:
        """Raise InputError unless ``data`` is a whole number of samples on every channel (cheap)."""
        if len(data) % self.bytes_per_frame:
            raise InputError(
                f"audio frame of {len(data)} bytes is not a whole number of {self.bytes_per_frame}-byte samples "
                f"({self.encoding}, {self.channels} channel(s))"
            )

    def decode(self, data: bytes) -> np.ndarray:
        """Bytes of a whole stretch -> float32 array of shape (channels, samples) at 16 kHz."""
        return StreamDecoder(self).decode(data, last=True)


class StreamDecoder:
    """One stream's bytes -> float32 (channels, samples) at 16 kHz, frame after frame.

    Resampling each frame on its own (a filter starting from silence at every frame edge) would put
    a click every 20 ms into an 8 kHz telephone stream and make what the models hear depend on how
    the stream was cut into frames. One resampler per stream (soxr's streaming mode) carries its
    filter state across frames: any framing gives exactly the same samples. Its output trails the
    input by a few milliseconds until ``last`` flushes it."""

    def __init__(self, audio: AudioFormat) -> None:
        self.format = audio
        self._resampler = None
        if audio.sample_rate != TARGET_RATE:
            import soxr

            self._resampler = soxr.ResampleStream(audio.sample_rate, TARGET_RATE, audio.channels, dtype="float32")

    def decode(self, data: bytes, *, last: bool = False) -> np.ndarray:
        self.format.check(data)
        if self.format.encoding == "pcm_s16le":
            samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        else:
            samples = MULAW_TO_FLOAT[np.frombuffer(data, dtype=np.uint8)].astype(np.float32)
        interleaved = samples.reshape(-1, self.format.channels)
        if self._resampler is not None:
            interleaved = self._resampler.resample_chunk(interleaved, last=last)
        return np.ascontiguousarray(interleaved.T, dtype=np.float32)


def encode_mulaw(samples: np.ndarray) -> bytes:
    """float [-1, 1] -> G.711 mu-law bytes (for tests and the replay client)."""
    pcm = np.clip(samples, -1.0, 1.0)
    sign = np.where(pcm < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(pcm) * 32768.0, 32635) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude.astype(np.int32) >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()
