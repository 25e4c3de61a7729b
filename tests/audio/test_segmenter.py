"""The one segmenter of live and recorded calls, and the speech-recognition seam."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXAMPLES

from coach.audio.files import load_audio
from coach.audio.recognizer import backends, load_recognizer, register_backend, split_backend
from coach.audio.segmenter import FRAME, Segment, Segmenter, SegmenterOptions, SpeechDetector, speech_segments


@pytest.fixture(scope="module")
def debtor_channel() -> np.ndarray:
    audio = load_audio(EXAMPLES / "audio" / "en-short-call.flac")[1]
    return audio[: len(audio) // FRAME * FRAME]


def test_scores_do_not_depend_on_how_the_audio_arrives(debtor_channel):
    """Silero is recurrent: a live call scored chunk by chunk must score as its recording does, or
    the two would be cut at different places."""
    whole = SpeechDetector().probabilities(debtor_channel)
    detector = SpeechDetector()
    pieces = [detector.probabilities(debtor_channel[i : i + FRAME * 7]) for i in range(0, len(debtor_channel), FRAME * 7)]
    assert np.array_equal(np.concatenate(pieces), whole)


def test_a_recording_is_cut_into_its_utterances(debtor_channel):
    found = [(round(s.start / 16_000, 1), round(s.end / 16_000, 1)) for s in speech_segments(debtor_channel)]
    truth = [(6.57, 7.74), (15.02, 19.55), (23.01, 26.72), (29.74, 32.35)]  # the debtor's lines as synthesised
    assert len(found) == len(truth)
    for (start, end), (said_start, said_end) in zip(found, truth):
        assert abs(start - said_start) < 0.3 and abs(end - said_end) < 0.3


def test_pauses_end_utterances_and_short_noises_are_ignored():
    speech, silence = 0.9, 0.05
    frames = [silence] * 5 + [speech] * 3 + [silence] * 20 + [speech] * 20 + [silence] * 5 + [speech] * 10 + [silence] * 20
    segmenter = Segmenter(SegmenterOptions(end_silence_ms=400, speculative_silence_ms=160, min_speech_ms=250))
    signals = [s for i, p in enumerate(frames) if (s := segmenter.push(i * FRAME, p)) is not None]
    segments = [s for s in signals if isinstance(s, Segment)]
    assert len(segments) == 1  # the 3-frame click is not speech; a 160 ms dip does not end the utterance
    assert segments[0].start == 28 * FRAME and segments[0].end == 63 * FRAME
    assert sum(1 for s in signals if not isinstance(s, Segment)) == 2  # a pause worth decoding at, twice


def test_speech_engines_are_found_by_name():
    assert "whisper" in backends()
    assert split_backend("tiny.en") == ("whisper", "tiny.en")
    assert split_backend("Systran/faster-whisper-small") == ("whisper", "Systran/faster-whisper-small")
    assert split_backend("whisper:/models/large") == ("whisper", "/models/large")
    loaded = []
    register_backend("mandarin_stream", lambda model, **options: loaded.append((model, options)) or "engine")
    assert load_recognizer("mandarin_stream:/models/zh", workers=3) == "engine"
    assert loaded[0][0] == "/models/zh" and loaded[0][1]["workers"] == 3
    with pytest.raises(ValueError):
        register_backend("not a name", lambda model, **options: None)
