"""Joining separately sent tracks into one two-channel stream."""

from __future__ import annotations

import numpy as np
import pytest

from coach.errors import InputError
from coach.telephony.tracks import MAX_GAP_MS, MULAW_SILENCE, TrackMixer


def channels(data: bytes, n: int = 2) -> list[bytes]:
    frames = np.frombuffer(data, dtype=np.uint8).reshape(-1, n)
    return [frames[:, i].tobytes() for i in range(n)]


def test_chunks_are_released_once_both_tracks_have_them():
    mixer = TrackMixer(["outbound", "inbound"])
    assert mixer.add("outbound", 0, b"\x01" * 160) == b""  # the other track has nothing yet
    out = mixer.add("inbound", 0, b"\x02" * 160)
    assert channels(out) == [b"\x01" * 160, b"\x02" * 160]
    assert mixer.released_seconds == 0.02


def test_a_gap_is_silence_and_a_late_duplicate_is_dropped():
    mixer = TrackMixer(["outbound", "inbound"])
    mixer.add("outbound", 0, b"\x01" * 160)
    mixer.add("inbound", 0, b"\x02" * 160)
    mixer.add("outbound", 40, b"\x03" * 160)  # 20-40 ms never came
    out = mixer.add("inbound", 20, b"\x04" * 320)
    agent, debtor = channels(out)
    assert agent[:160] == bytes([MULAW_SILENCE]) * 160 and agent[160:] == b"\x03" * 160
    assert debtor == b"\x04" * 320
    assert mixer.add("inbound", 0, b"\x09" * 160) == b""  # already released: dropped, nothing moves


def test_a_chunk_stamped_far_ahead_is_refused_and_the_call_goes_on():
    """A stamp hours ahead would be filled with hours of silence: gigabytes for one message."""
    mixer = TrackMixer(["outbound", "inbound"])
    mixer.add("outbound", 0, b"\x01" * 160)
    with pytest.raises(InputError, match="s of silence to fill"):
        mixer.add("inbound", 999_999_999_999, b"\x02" * 160)
    out = mixer.add("inbound", 0, b"\x02" * 160)  # the call goes on
    assert channels(out) == [b"\x01" * 160, b"\x02" * 160]
    assert mixer.add("inbound", 20 + MAX_GAP_MS, b"\x02" * 160) != b""  # the longest gap allowed: silence


def test_a_track_that_goes_quiet_does_not_hold_the_call_back():
    mixer = TrackMixer(["outbound", "inbound"], max_skew_ms=100)
    released = b"".join(mixer.add("outbound", t, b"\x01" * 160) for t in range(0, 1000, 20))
    agent, debtor = channels(released)
    assert len(agent) == 8_000 - 800  # all but the last 100 ms, the other side filled with silence
    assert set(debtor) == {MULAW_SILENCE}
    rest = channels(mixer.flush())
    assert len(rest[0]) == 800


def test_one_track_is_mono():
    mixer = TrackMixer(["inbound"])
    assert mixer.add("inbound", 0, b"\x05" * 160) == b"\x05" * 160


def test_16_bit_linear_tracks_keep_whole_samples():
    mixer = TrackMixer(["agent", "debtor"], sample_width=2)
    mixer.add("agent", 0, b"\x01\x02" * 80)
    out = mixer.add("debtor", 10, b"\x03\x04" * 80)  # starts 10 ms (80 samples) in: its first 80 are silence
    frames = np.frombuffer(out, dtype="<i2").reshape(-1, 2)
    assert len(frames) == 80 and set(frames[:, 1]) == {0}
    assert set(frames[:, 0]) == {int.from_bytes(b"\x01\x02", "little")}
    rest = np.frombuffer(mixer.flush(), dtype="<i2").reshape(-1, 2)
    assert len(rest) == 80 and set(rest[:, 0]) == {0} and set(rest[:, 1]) == {int.from_bytes(b"\x03\x04", "little")}
