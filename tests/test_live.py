"""LiveCall with the real speech model: feeding audio never waits for the models."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from coach.audio.files import load_audio
from coach.audio.formats import AudioFormat
from coach.audio.recognizer import Recognition, register_backend
from coach.config import Settings
from coach.errors import InputError
from coach.live import LiveCall, StreamSpec, load_speech_model
from coach.resources import data_dir
from coach.review.pipeline import ReviewRequest, review_file
from tests.audio.test_streaming import speak


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


SAMPLE = data_dir("examples") / "audio" / "en-short-call.flac"


def _stream(path_or_audio, engine, settings: Settings, chunk_seconds: float) -> LiveCall:
    """Stream a two-channel call as fast as the machine allows, ``chunk_seconds`` of audio at a time."""
    audio = load_audio(path_or_audio) if not isinstance(path_or_audio, np.ndarray) else path_or_audio
    spec = StreamSpec("live-order", "en", AudioFormat("pcm_s16le", 16_000, 2), ("agent", "debtor"), {})
    call = LiveCall(spec, engine, load_speech_model("en", settings), settings)
    call.start()
    pcm = np.clip(np.round(audio.T * 32768), -32768, 32767).astype("<i2")  # the samples exactly
    step = int(chunk_seconds * 16_000)
    for first in range(0, len(pcm), step):
        call.feed(pcm[first : first + step].tobytes())
        call.process()
    call.finish()
    return call


def _what_happened(events) -> list[tuple]:
    return [(e.type, getattr(e, "speaker", None), getattr(e, "intent", None) or getattr(e, "rule_id", None)
             or getattr(e, "emotion", None) or getattr(e, "stage", None)) for e in events]


class ScriptRecognizer:
    """A speech engine that knows the call: it finds the audio it is given in the recording and
    returns the script's words for that stretch. It isolates the property under test (live and
    recorded calls are cut, ordered and analysed alike) from Whisper decoding a clip a little
    differently alone than packed with others; the test below it uses the real model."""

    name = "script"
    multilingual = False

    def __init__(self, audio: np.ndarray, script: list[dict]) -> None:
        self.audio = audio
        self.script = script

    def _text_at(self, channel: int, middle: float) -> Recognition:
        role = ("agent", "debtor")[channel]
        lines = [u for u in self.script if u["speaker"] == role]
        line = min(lines, key=lambda u: 0 if u["start"] <= middle <= u["end"] else min(abs(middle - u["start"]), abs(middle - u["end"])))
        return Recognition(line["text"], -0.1, 0.01, 1.2)

    def recognize(self, audio, language, options=None) -> Recognition:
        probe = int(np.argmax(np.abs(audio)))  # a loud sample: unambiguous in the recording
        for channel, samples in enumerate(self.audio):
            for offset in np.flatnonzero(samples == audio[probe]):
                begin = offset - probe
                if begin >= 0 and np.array_equal(samples[begin : begin + len(audio)], audio):
                    return self._text_at(channel, (begin + len(audio) / 2) / 16_000)
        raise AssertionError("audio not in the recording")

    def recognize_batch(self, samples, clips, language, batch_size=8) -> list[Recognition]:
        """A recording's channels arrive laid end to end, each clip timed within that."""
        assert np.array_equal(samples, self.audio.reshape(-1))
        duration = self.audio.shape[1] / 16_000
        return [self._text_at(int(start // duration), (start + end) / 2 % duration) for start, end in clips]


def test_a_call_streamed_faster_than_real_time_gives_the_events_of_its_recording(en_engine):
    """Five seconds of audio per step (far faster than real time, the two parties' utterances
    finalised together): the engine hears the utterances in spoken order, cut where the recording's
    review cuts them, and says exactly what the review says."""
    audio = load_audio(SAMPLE)
    script = json.loads(SAMPLE.with_suffix(".json").read_text(encoding="utf-8"))["utterances"]
    register_backend("script", lambda model, **options: ScriptRecognizer(audio, script))
    settings = Settings(asr_model_en="script:en-short-call", end_on_full_stop=False)
    live = _stream(SAMPLE, en_engine, settings, chunk_seconds=5.0)
    recorded = review_file(SAMPLE, ReviewRequest(language="en"), settings)
    assert [(speaker, text, start) for speaker, text, start, _ in live.transcript] == \
        [(u.speaker, u.text, u.start) for u in recorded.call.utterances]
    assert len(live.transcript) == len(script)
    assert _what_happened(live.session_events) == _what_happened(recorded.events)
    assert {"US-THREAT"} <= {getattr(e, "rule_id", None) for e in live.session_events}


def test_with_the_real_speech_model_a_streamed_call_is_cut_like_its_recording(en_engine):
    """The same cuts, and nearly the same words: a live utterance is decoded on its own from 10 s of
    encoder input, a recording's utterances from shared 30 s windows, so a word heard badly by one
    can differ (here the mini-Miranda's "an attempt" came out "this event" live). The lines both
    hear alike raise the same rules."""
    from difflib import SequenceMatcher

    live = _stream(SAMPLE, en_engine, Settings(end_on_full_stop=False), chunk_seconds=5.0)
    recorded = review_file(SAMPLE, ReviewRequest(language="en"))
    assert [(speaker, start) for speaker, _, start, _ in live.transcript] == \
        [(u.speaker, u.start) for u in recorded.call.utterances]
    live_words = " ".join(text for _, text, _, _ in live.transcript).lower().split()
    recorded_words = " ".join(u.text for u in recorded.call.utterances).lower().split()
    assert SequenceMatcher(None, live_words, recorded_words).ratio() > 0.75
    rules = {e.rule_id for e in live.session_events if e.type == "compliance"}
    assert {"US-THREAT", "US-CEASE"} <= rules <= {e.rule_id for e in recorded.events if e.type == "compliance"}


def test_utterances_reach_the_engine_in_spoken_order_whatever_the_chunking(en_engine):
    """Before: each step analysed the agent's finals before the debtor's, so a 10-second step put
    "yes, this is Dana" after the agent's next lines (a false third-party disclosure)."""
    live = _stream(SAMPLE, en_engine, Settings(), chunk_seconds=10.0)
    starts = [start for _, _, start, _ in live.transcript]
    assert starts == sorted(starts) and len(starts) >= 8
    utterances = [e for e in live.session_events if e.type == "utterance"]
    assert [e.start for e in utterances] == sorted(e.start for e in utterances)
    assert not [e for e in live.session_events if getattr(e, "rule_id", None) == "US-3P"]


def test_the_wait_for_the_other_party_is_bounded(en_engine):
    """The agent talks for eight seconds; the debtor says something short over them. The debtor's
    line is analysed once it is 1.5 s old, not held until the agent stops (spoken order would put it
    second); with a long enough bound it waits. The agent's line must stay one utterance, so it ends at
    the full pause only: on a busy machine Whisper sometimes ends its first clause with a full stop,
    which would end the utterance there (end_on_full_stop) and leave nothing to wait for."""
    agent = speak("I am calling about the balance on your account and we need to discuss a payment plan "
                  "that works for you because the account is now three months past due", speed=130)
    debtor = speak("I already paid it.")
    length = len(agent) + 16_000 * 2
    audio = np.zeros((2, length), dtype=np.float32)
    audio[0, 8_000 : 8_000 + len(agent)] = agent
    audio[1, 32_000 : 32_000 + len(debtor)] = debtor
    assert len(agent) / 16_000 > 8.0
    bounded = _stream(audio, en_engine, Settings(end_on_full_stop=False), chunk_seconds=0.5)
    assert [speaker for speaker, *_ in bounded.transcript][:2] == ["debtor", "agent"]
    patient = _stream(audio, en_engine, Settings(spoken_order_wait_ms=20_000, end_on_full_stop=False), chunk_seconds=0.5)
    assert [speaker for speaker, *_ in patient.transcript][:2] == ["agent", "debtor"]
