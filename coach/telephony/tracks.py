"""Joining a call's separately sent tracks (one per party) into interleaved two-channel frames.

Platforms send each party's audio as its own stream of small chunks, each stamped with its place in
the call; the chunks of the two tracks arrive interleaved but not in lockstep, and a track may skip
(silence suppression, a lost packet) or stop. :class:`TrackMixer` places every chunk at its
timestamp, fills what is missing with silence, and releases audio once both tracks have it, or once
one track is ``max_skew_ms`` ahead of the other (a track that went quiet does not hold the call
back).
"""

from __future__ import annotations

import numpy as np

from coach.errors import InputError

#: G.711 mu-law's code for a zero sample.
MULAW_SILENCE = 0xFF
#: Longest gap in a track filled with silence. Platforms stream a call's audio without pauses (hold
#: music included), so a chunk stamped further ahead is a broken or hostile message: filling its gap
#: would take memory in proportion to the stamp (a 12-digit one, terabytes).
MAX_GAP_MS = 300_000


class TrackMixer:
    """One call's tracks joined in time order: mu-law bytes by default, or 16-bit linear PCM
    (``sample_width=2``, silence ``b"\0\0"``)."""

    def __init__(self, tracks: list[str], *, sample_rate: int = 8_000, max_skew_ms: int = 500,
                 silence: int = MULAW_SILENCE, sample_width: int = 1) -> None:
        if not tracks or len(set(tracks)) != len(tracks):
            raise ValueError("tracks must be distinct names")
        self.tracks = list(tracks)
        self.rate = sample_rate
        self.width = sample_width
        self.max_skew = int(max_skew_ms * sample_rate / 1000) * sample_width
        self._silence = bytes([silence]) if sample_width == 1 else b"\0" * sample_width
        self._buffers = {track: bytearray() for track in tracks}
        self._released = 0  # samples per track already given out

    @property
    def released_seconds(self) -> float:
        """Audio given out so far, per track."""
        return self._released / self.rate

    def add(self, track: str, timestamp_ms: int, payload: bytes) -> bytes:
        """Place one chunk; the interleaved frames now ready (possibly none). A chunk for a place
        already released (a late duplicate) is dropped."""
        if len(payload) % self.width:
            raise ValueError(f"a chunk of {len(payload)} bytes is not whole {self.width}-byte samples")
        buffer = self._buffers[track]
        start = (int(timestamp_ms * self.rate / 1000) - self._released) * self.width
        if start < 0:
            payload, start = payload[-start:], 0
        if start > len(buffer):
            gap_ms = (start - len(buffer)) // self.width * 1000 // self.rate
            if gap_ms > MAX_GAP_MS:
                raise InputError(f"a chunk stamped {gap_ms / 1000:.0f} s after the track's last audio "
                                 f"(more than {MAX_GAP_MS // 1000} s of silence to fill)")
            buffer.extend(self._silence * ((start - len(buffer)) // self.width))  # a gap: silence
        buffer[start : start + len(payload)] = payload
        return self._release(flush=False)

    def flush(self) -> bytes:
        """Everything left, the shorter tracks padded with silence (the end of the call)."""
        return self._release(flush=True)

    def _release(self, *, flush: bool) -> bytes:
        lengths = [len(self._buffers[t]) // self.width * self.width for t in self.tracks]
        ready = max(lengths) if flush else min(lengths)
        if not flush and max(lengths) - ready > self.max_skew:
            ready = max(lengths) - self.max_skew  # a track went quiet: do not hold the other back
        if ready <= 0:
            return b""
        channels = []
        dtype = np.uint8 if self.width == 1 else np.dtype(f"V{self.width}")
        for track in self.tracks:
            buffer = self._buffers[track]
            if len(buffer) < ready:
                buffer.extend(self._silence * ((ready - len(buffer)) // self.width))
            channels.append(np.frombuffer(bytes(buffer[:ready]), dtype=dtype))
            del buffer[:ready]
        self._released += ready // self.width
        if len(channels) == 1:
            return channels[0].tobytes()
        return np.stack(channels, axis=1).reshape(-1).tobytes()
