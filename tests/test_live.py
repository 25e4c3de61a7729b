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

    def recognize_batch(self, samples, clips, language, batch_size=8, deadline=None) -> list[Recognition]:
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


# -- the language check -------------------------------------------------------------------------

class FixedRecognizer:
    """A speech engine that hears the same words in every utterance: the language check is about the
    audio, not the words (the real model is in tests/server/test_stream.py)."""

    name = "fixed"
    multilingual = False

    def recognize(self, audio, language, options=None) -> Recognition:
        return Recognition("i can pay next week", -0.1, 0.01, 1.2)


class FakeListener:
    """A language-identification model that hears ``quick`` in a quick listen and ``full`` (default:
    the same) in a full one, or fails with ``error``."""

    def __init__(self, quick: dict[str, float] | None = None, full: dict[str, float] | None = None,
                 error: Exception | None = None) -> None:
        self.answers = {"quick": quick or {}, "full": full or quick or {}}
        self.error = error
        self.listens: list[tuple[str, float]] = []  # (quick or full, seconds of speech given)

    def detect_language(self, audio, seconds=30.0) -> dict[str, float]:
        kind = "quick" if seconds < 30 else "full"
        self.listens.append((kind, round(len(audio) / 16_000, 1)))
        if self.error is not None:
            raise self.error
        return dict(self.answers[kind])


SENTENCES = ["hello this is sam from crestline recovery calling about your account",
             "i already paid this bill last month so please check again", "i lost my job and i cannot pay right now",
             "can we set up a payment plan for the balance", "please stop calling me at work",
             "the balance is one thousand two hundred dollars", "i will call you back on friday afternoon",
             "thank you for your time and have a good day", "my wife handles the bills so you should talk to her",
             "i need to see a letter before i pay anything at all", "the last payment was made on the first of june",
             "we can take a card payment over the phone today"]


@pytest.fixture(scope="module")
def speech_turns():
    """Twelve English sentences (about 38 s of speech), each followed by a second of silence."""
    return [np.concatenate([speak(text, "en-us+f3"), np.zeros(16_000, np.float32)]) for text in SENTENCES]


def _language_call(engine, turns, listener, monkeypatch, settings=None):
    """A one-channel call streamed turn by turn, the language heard by ``listener``. Returns the call,
    the events of each process() (one list per turn; each turn waits for a listen in progress, as
    the next audio would on a real call) and those of finish()."""
    from concurrent.futures import wait

    import coach.live

    monkeypatch.setattr(coach.live, "speech_model_named", lambda name, settings: listener)
    spec = StreamSpec("lang-1", "en", AudioFormat("pcm_s16le", 16_000, 1), ("debtor",), {})
    call = LiveCall(spec, engine, FixedRecognizer(), settings or Settings(end_on_full_stop=False))
    call.start()
    steps = []
    for turn in turns:
        call.feed((np.clip(turn, -1, 1) * 32767).astype("<i2").tobytes())
        steps.append(call.process())
        if call.language_check is not None and call.language_check._listening is not None:
            wait([call.language_check._listening], 30)
    return call, steps, call.finish()


def _warnings(events):
    return [e for e in events if e.type == "warning"]


def _spoken(turns) -> float:
    return sum(len(turn) for turn in turns) / 16_000


def test_speech_in_another_language_is_told_once_during_the_call(en_engine, speech_turns, monkeypatch):
    """A quick listen once the call has 15 s of speech (the speech alone, no silence), sure of another
    language: the warning goes out with the next batch of events, not at the end of the call, and it is
    one of the call's events (the recorder stores it)."""
    listener = FakeListener({"zh": 0.94, "en": 0.01})
    call, steps, last = _language_call(en_engine, speech_turns, listener, monkeypatch)

    assert [kind for kind, _ in listener.listens] == ["quick"] and 15 <= listener.listens[0][1] < 20
    during = [(index, e) for index, events in enumerate(steps) for e in _warnings(events)]
    assert len(during) == 1 and not _warnings(last)
    index, warning = during[0]
    assert index < len(steps) - 1  # while the call goes on
    assert listener.listens[0][1] < _spoken(speech_turns[:index + 1]) - index  # the silence between turns is left out
    assert warning.code == "language_mismatch" and warning.time <= _spoken(speech_turns[:index + 1]) and warning.emitted_at
    assert warning.message.startswith("the speech sounds like Chinese (94%), but the call was started as English")
    assert "restart the call with language zh" in warning.message
    assert _warnings(call.session_events) == [warning]
    assert call.language_check.heard.code == "zh" and call.language_check.done
    assert all(not t.keep_speech and not t.take_speech() for t in call.transcribers)  # nothing more is kept


def test_an_unsure_quick_listen_is_settled_by_a_full_listen_to_30_seconds_of_speech(en_engine, speech_turns, monkeypatch):
    listener = FakeListener(quick={"zh": 0.6, "en": 0.3}, full={"zh": 0.88, "en": 0.05})
    call, steps, _last = _language_call(en_engine, speech_turns, listener, monkeypatch)
    assert [kind for kind, _ in listener.listens] == ["quick", "full"] and listener.listens[1][1] == 30.0
    (warning,) = _warnings(call.session_events)
    assert warning in [e for events in steps for e in events] and "Chinese (88%)" in warning.message


def test_a_call_ending_before_the_full_listen_is_heard_in_full_at_the_end(en_engine, speech_turns, monkeypatch):
    listener = FakeListener(quick={"zh": 0.6, "en": 0.3}, full={"zh": 0.88, "en": 0.05})
    call, _steps, last = _language_call(en_engine, speech_turns[:7], listener, monkeypatch)
    assert [kind for kind, _ in listener.listens] == ["quick", "full"] and 15 <= listener.listens[1][1] < 25
    (warning,) = _warnings(last)
    assert [e.type for e in last][-1] == "scorecard" and _warnings(call.session_events) == [warning]


def test_speech_in_the_declared_language_gives_no_warning(en_engine, speech_turns, monkeypatch):
    listener = FakeListener({"en": 0.91, "cy": 0.03})
    call, _steps, _last = _language_call(en_engine, speech_turns, listener, monkeypatch)
    assert len(listener.listens) == 1 and call.language_check.heard.code == "en"
    assert not _warnings(call.session_events)


def test_a_call_with_too_little_speech_is_not_checked(en_engine, speech_turns, monkeypatch):
    listener = FakeListener({"zh": 0.94, "en": 0.01})
    call, _, last = _language_call(en_engine, speech_turns[:3], listener, monkeypatch)
    assert listener.listens == [] and not call.language_check.started and 5 < call.language_check.speech_seconds < 15
    assert not _warnings(call.session_events) and last[-1].type == "scorecard"


def test_a_check_that_fails_is_logged_and_the_call_goes_on(en_engine, speech_turns, monkeypatch, caplog):
    from coach.errors import ModelUnavailableError

    for error in (ModelUnavailableError("speech model 'whisper-base' is not installed"), RuntimeError("boom")):
        caplog.clear()
        call, _steps, last = _language_call(en_engine, speech_turns[:8], FakeListener(error=error), monkeypatch)
        assert not _warnings(call.session_events) and call.language_check.heard is None and call.language_check.done
        assert last[-1].type == "scorecard" and len([e for e in call.session_events if e.type == "utterance"]) == 8
        assert any("could not be checked" in r.getMessage() and str(error) in r.getMessage() for r in caplog.records)


def test_the_end_of_a_call_waits_for_its_language_check_a_bounded_time(en_engine, speech_turns, monkeypatch, caplog):
    """A listen the language thread cannot finish in time (the server busy with other calls) is given
    up at the end of the call after LANGUAGE_CHECK_WAIT in all, not held for: the scorecard comes."""
    import time

    import coach.live

    class SlowListener(FakeListener):
        def detect_language(self, audio, seconds=30.0):
            time.sleep(1.5)
            return super().detect_language(audio, seconds)

    monkeypatch.setattr(coach.live, "LANGUAGE_CHECK_WAIT", 0.3)
    listener = SlowListener(quick={"zh": 0.6, "en": 0.3}, full={"zh": 0.88, "en": 0.05})
    monkeypatch.setattr(coach.live, "speech_model_named", lambda name, settings: listener)
    spec = StreamSpec("lang-slow", "en", AudioFormat("pcm_s16le", 16_000, 1), ("debtor",), {})
    call = LiveCall(spec, en_engine, FixedRecognizer(), Settings(end_on_full_stop=False))
    call.start()
    for turn in speech_turns[:7]:  # ~20 s of speech: the quick listen starts and is still going at the end
        call.feed((np.clip(turn, -1, 1) * 32767).astype("<i2").tobytes())
        call.process()
    started = time.monotonic()
    last = call.finish()
    assert time.monotonic() - started < 1.5 and last[-1].type == "scorecard" and not _warnings(last)
    assert call.language_check.done and any("ends unchecked" in r.getMessage() for r in caplog.records)


def test_without_a_language_model_nothing_is_checked_or_kept(en_engine, speech_turns, monkeypatch):
    listener = FakeListener({"zh": 0.94, "en": 0.01})
    call, _, _ = _language_call(en_engine, speech_turns[:2], listener, monkeypatch,
                                Settings(language_id_model="", end_on_full_stop=False))
    assert call.language_check is None and not any(t.keep_speech for t in call.transcribers)
    assert listener.listens == []


@pytest.mark.parametrize(("probabilities", "declared", "words"), [
    ({"zh": 0.94, "en": 0.01}, "en", ("the speech sounds like Chinese (94%), but the call was started as English: its "
                                     "transcript and hints are most likely wrong; restart the call with language zh (Chinese)")),
    ({"en": 0.86, "zh": 0.02}, "zh", "the speech sounds like English (86%), but the call was started as Chinese"),
    ({"es": 0.9, "en": 0.02}, "en", "coach coaches English and Chinese calls only"),
    ({"en": 0.62, "zh": 0.3}, "en", None),   # the declared language
    ({"zh": 0.6, "en": 0.3}, "en", None),    # not sure enough: the review's rule (SpokenLanguage.contradicts)
])
def test_the_live_warning_says_what_was_heard_as_the_review_does_and_what_to_do(probabilities, declared, words):
    from coach.live import live_language_warning
    from coach.review.language import SpokenLanguage

    heard = SpokenLanguage.heard(probabilities)
    warning = live_language_warning(heard, declared)
    if words is None:
        assert warning is None
    else:
        assert warning.code == "language_mismatch" and warning.message.startswith(heard.described) and words in warning.message
