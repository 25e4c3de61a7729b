"""Streaming transcription with the real tiny.en model on speech synthesised by espeak-ng."""

from __future__ import annotations

import subprocess
import threading

import numpy as np
import pytest

from coach.audio.asr import DecodingSlots, Recognition, accept, collapse_repetitions, load_asr
from coach.audio.recognizer import AsrOptions, EngineBusy
from coach.audio.segmenter import SegmenterOptions
from coach.audio.streaming import Final, Partial, StreamingOptions, StreamingTranscriber, ends_sentence


def speak(text: str, voice: str = "en-us", speed: int = 160) -> np.ndarray:
    """espeak-ng speech as float32 mono at 16 kHz."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text], capture_output=True, check=True).stdout
    raw = subprocess.run(["sox", "-t", "wav", "-", "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1", "-"],
                         input=wav, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(16_000 * seconds), dtype=np.float32)


@pytest.fixture(scope="module")
def asr():
    return load_asr("tiny.en")


def stream(transcriber, audio, chunk=1600):
    events = []
    for i in range(0, len(audio), chunk):
        transcriber.insert_audio(audio[i : i + chunk])
        events += transcriber.process()
    return events + transcriber.finish()


def test_two_utterances_become_two_finals_with_times(asr):
    first, second = speak("hello this is sam from crestline recovery"), speak("i lost my job and i cannot pay right now", "en-us+f3")
    audio = np.concatenate([silence(1), first, silence(1.2), second, silence(1)])
    events = stream(StreamingTranscriber(asr, "en"), audio)
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 2
    assert "sam" in finals[0].text.lower() and "job" in finals[1].text.lower()
    assert 0.7 < finals[0].start < 1.3 and abs(finals[0].end - (1 + len(first) / 16_000)) < 0.5
    assert finals[1].start > finals[0].end


def test_partials_grow_and_report_a_stable_prefix(asr):
    audio = np.concatenate([silence(0.5), speak("i already paid this bill last month with my credit card so please check again"), silence(1)])
    events = stream(StreamingTranscriber(asr, "en"), audio)
    partials = [e for e in events if isinstance(e, Partial)]
    assert len(partials) >= 2
    assert any(p.stable_text for p in partials)
    assert all(p.text.startswith(p.stable_text) or not p.stable_text for p in partials)


def test_silence_and_noise_produce_no_text(asr):
    rng = np.random.default_rng(0)
    audio = np.concatenate([silence(3), (0.01 * rng.standard_normal(16_000 * 3)).astype(np.float32)])
    assert [e for e in stream(StreamingTranscriber(asr, "en"), audio) if isinstance(e, Final)] == []


def test_long_monologue_is_cut(asr):
    speech = speak("one two three four five six seven eight nine ten " * 3)
    options = StreamingOptions(SegmenterOptions(max_utterance_ms=4000), partial_interval_ms=0)
    finals = [e for e in stream(StreamingTranscriber(asr, "en", options), np.concatenate([speech, silence(1)])) if isinstance(e, Final)]
    assert len(finals) >= 2 and all(f.end - f.start <= 4.5 for f in finals)


def test_guards():
    assert accept(Recognition("Thank you.", -1.2, 0.8, 1.0), "en") is None  # hallucination on silence
    assert accept(Recognition("I lost my job", -0.3, 0.1, 1.0), "zh") is None  # language drift
    assert accept(Recognition("我没钱", -0.3, 0.1, 1.0), "zh") == "我没钱"
    assert collapse_repetitions("i cant i cant i cant i cant i cant pay") == "i cant i cant pay"
    # a Chinese loop with its commas and spaces (a live call's first utterance, from a new user's file)
    assert collapse_repetitions("神人, 豹豹, 饰, 饰, 饰,饰,饰,饰,饰,饰,饰,饰") == "神人, 豹豹, 饰, 饰"
    assert collapse_repetitions("你好 我是招商银行的 请问是王先生吗") == "你好 我是招商银行的 请问是王先生吗"


def silence_before_final(asr, options: StreamingOptions) -> float:
    """Seconds of audio fed after the end of speech (as the VAD saw it) before the final came out."""
    speech = speak("i already paid this last week", "en-us+f3")
    transcriber = StreamingTranscriber(asr, "en", options)
    audio = np.concatenate([silence(0.5), speech, silence(1.5)])
    for i in range(0, len(audio), 512):
        transcriber.insert_audio(audio[i : i + 512])
        finals = [e for e in transcriber.process() if isinstance(e, Final)]
        if finals:
            return (i + 512) / 16_000 - finals[0].end
    raise AssertionError("no final")


def test_a_finished_sentence_ends_the_utterance_without_waiting_for_the_full_silence(asr):
    early = silence_before_final(asr, StreamingOptions(partial_interval_ms=0))
    patient = silence_before_final(asr, StreamingOptions(partial_interval_ms=0, end_on_full_stop=False))
    assert patient >= 0.4
    assert early < 0.35 < patient


def test_ends_sentence():
    assert ends_sentence("I already paid.") and ends_sentence("你是谁？") and ends_sentence("Stop calling me!")
    assert not ends_sentence("I already paid...") and not ends_sentence("so I was") and not ends_sentence(None)


def test_an_utterance_is_heard_through_a_ten_second_encoder_input(asr, monkeypatch):
    """A live utterance costs a third of Whisper's 30 s window; one too long for 10 s keeps 30."""
    frames: list[int] = []
    encode = asr._model.encode

    def spy(features):
        frames.append(features.shape[-1])
        return encode(features)

    monkeypatch.setattr(asr._model, "encode", spy)
    said = speak("I already paid this bill last month.")
    heard = asr.recognize(np.concatenate([silence(0.2), said, silence(0.2)]), "en")
    assert "paid" in heard.text.lower() and heard.avg_logprob > -1.0 and heard.no_speech_prob < 0.6
    assert frames == [1000]
    long = np.concatenate([said, silence(5.0), said, silence(5.0), said])
    assert len(long) / 16_000 > 10
    assert "paid" in asr.recognize(long, "en").text.lower()
    assert frames[1:] == [3000]


def test_a_partial_waits_for_an_idle_engine_and_a_final_never_does(asr):
    """Partials step aside while another call decodes (they are superseded a second later anyway);
    the final that the hint waits for is decoded regardless, and partials resume once it is idle."""
    busy = threading.Event()

    class SharedEngine:
        name, multilingual = asr.name, asr.multilingual

        def __init__(self):
            self.calls: list[bool] = []

        def recognize(self, audio, language, options=AsrOptions()):
            self.calls.append(options.only_when_idle)
            if options.only_when_idle and busy.is_set():
                raise EngineBusy("another call is decoding")
            return asr.recognize(audio, language, options)

    engine = SharedEngine()
    transcriber = StreamingTranscriber(engine, "en")
    said = speak("i already paid this bill last month with my credit card so please check your records again")
    audio = np.concatenate([silence(0.5), said, silence(1.2)])
    half = int(16_000 * 2.5)
    busy.set()
    events = []
    for i in range(0, half, 1600):
        transcriber.insert_audio(audio[i : i + 1600])
        events += transcriber.process()
    refused = len(engine.calls)
    assert refused >= 5 and all(engine.calls)  # a partial was tried with every new chunk, and refused
    assert not [e for e in events if isinstance(e, Partial)]
    busy.clear()
    transcriber.insert_audio(audio[half : half + 1600])
    assert [e for e in transcriber.process() if isinstance(e, Partial)]  # at once, not a second later
    events = stream(transcriber, audio[half + 1600 :])
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 1 and "paid" in finals[0].text.lower()
    assert engine.calls[-1] is False  # the final asked to be decoded whatever the load


def test_only_when_idle_is_refused_while_any_decode_runs_or_waits():
    slots = DecodingSlots(workers=2)
    with slots.hold(only_when_idle=True):
        pass  # idle: allowed
    with slots.hold():  # one decode running, a slot still free
        with pytest.raises(EngineBusy):
            with slots.hold(only_when_idle=True):
                pass
        with slots.hold():  # an ordinary decode takes the free slot
            pass
    with slots.hold(only_when_idle=True):
        pass


def test_the_whisper_engine_refuses_an_idle_only_decode_while_it_decodes(asr):
    said = np.concatenate([silence(0.2), speak("please stop calling me"), silence(0.2)])
    with asr._slots.hold():  # another call's decode in progress
        with pytest.raises(EngineBusy):
            asr.recognize(said, "en", AsrOptions(only_when_idle=True))
    assert "calling" in asr.recognize(said, "en", AsrOptions(only_when_idle=True)).text.lower()
