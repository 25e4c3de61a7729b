"""Reading recordings: the decoded audio, and files whose audio would not fit in memory."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import av
import numpy as np
import pytest
from faster_whisper.audio import decode_audio

from coach.audio.files import decode_samples, load_recording
from coach.errors import InputError
from tests.conftest import EXAMPLES

SHORT_CALL = EXAMPLES / "audio" / "en-short-call.flac"


def ffmpeg(*arguments: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *arguments], check=True)


@pytest.mark.parametrize("suffix, channels, rate", [(".flac", 2, 16_000), (".mp3", 2, 44_100), (".ogg", 1, 8_000)])
def test_recordings_decode_as_faster_whisper_decodes_them(tmp_path, suffix, channels, rate):
    """The bounded decoder gives faster-whisper's samples exactly, one row per channel."""
    path = tmp_path / f"call{suffix}"
    ffmpeg("-i", str(SHORT_CALL), "-t", "12", "-ac", str(channels), "-ar", str(rate), str(path))
    audio = load_recording(path).audio
    if channels == 2:
        expected = np.stack(decode_audio(str(path), sampling_rate=16_000, split_stereo=True))
    else:
        expected = decode_audio(str(path), sampling_rate=16_000)[None, :]
    assert audio.dtype == np.float32 and audio.shape == expected.shape and np.array_equal(audio, expected)


def test_hours_of_compressed_silence_are_refused_by_their_header(tmp_path):
    """Three hours of silence compress to a few megabytes and would decode to ~0.7 GB: refused
    before a sample is decoded."""
    bomb = tmp_path / "bomb.flac"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "10800", "-c:a", "flac", "-compression_level", "12",
           str(bomb))
    assert bomb.stat().st_size < 5_000_000
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"too long to review \(its header says 180 min; at most 120 min\)"):
        load_recording(bomb)
    assert time.perf_counter() - started < 5


def test_audio_longer_than_the_limit_is_refused_while_decoding(tmp_path):
    """A header that does not say (or lies about) the length does not help: decoding stops at the
    limit."""
    with av.open(str(SHORT_CALL)) as container, pytest.raises(InputError, match="too long to review"):
        decode_samples(container, stereo=True, max_seconds=10, path=Path("call.flac"))
    with av.open(str(SHORT_CALL)) as container:
        assert decode_samples(container, stereo=True, max_seconds=60, path=Path("call.flac")).shape[0] == 2


def test_the_limit_is_a_setting(tmp_path):
    from coach.config import Settings
    from coach.review.pipeline import decode_recording

    with pytest.raises(InputError, match="COACH_MAX_RECORDING_SECONDS"):
        decode_recording(SHORT_CALL, Settings(data_dir=tmp_path, max_recording_seconds=20))
    assert decode_recording(SHORT_CALL, Settings(data_dir=tmp_path, max_recording_seconds=60)).audio.shape[0] == 2
