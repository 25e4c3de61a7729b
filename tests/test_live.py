"""LiveCall with the real speech model: feeding audio never waits for the models."""

from __future__ import annotations

import threading
import time

import pytest

from coach.audio.formats import AudioFormat
from coach.errors import InputError
from coach.live import LiveCall, StreamSpec, load_speech_model


def test_feeding_audio_never_waits_for_a_decode_in_progress(en_engine):
    spec = StreamSpec("live-1", "en", AudioFormat("pcm_s16le", 16_000, 2), ("agent", "debtor"), {})
    call = LiveCall(spec, en_engine, load_speech_model("en"))
    for transcriber in call.transcribers:  # as a decode running on another thread holds them
        transcriber.lock.acquire()
    try:
        started = time.monotonic()
        for _ in range(10):
            call.feed(b"\0\0" * 2 * 1600)  # 100 ms of stereo
        assert time.monotonic() - started < 0.1  # the event loop would have waited for the decode
        with pytest.raises(InputError, match="whole number"):
            call.feed(b"\0" * 3)
    finally:
        for transcriber in call.transcribers:
            transcriber.lock.release()
    assert call.received_seconds == pytest.approx(1.0)
    assert call.lag == pytest.approx(1.0)  # accepted, not yet analysed
    # the next process() (on a worker thread in the server) decodes the frames for both channels
    worker = threading.Thread(target=call.process)
    worker.start()
    worker.join(60)
    assert all(t.received_seconds == pytest.approx(1.0) for t in call.transcribers)
    assert call.lag < 0.05
    assert [e.type for e in call.finish()][-1] == "scorecard"
