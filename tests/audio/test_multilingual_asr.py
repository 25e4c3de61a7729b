"""Chinese speech through a configured multilingual model (COACH_ASR_MODEL_ZH).

No multilingual weights are available offline, so these tests build a tiny random multilingual
Whisper (tests/tiny_models.py) and load it through the product's own path. Its transcripts are random
text: the tests check that Chinese audio runs end to end with the language fixed to "zh", never what
the model says.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from coach.audio.asr import Recognition, WhisperASR, load_asr
from coach.audio.formats import AudioFormat
from coach.config import Settings
from coach.errors import ConfigError
from coach.live import LiveCall, StreamSpec, load_speech_model
from tests.audio.test_streaming import silence, speak

PINYIN = "cmn-latn-pinyin"


def pcm(channels: np.ndarray) -> bytes:
    """(channels, samples) float32 -> interleaved 16-bit PCM."""
    return (np.clip(channels.T, -1, 1) * 32767).astype("<i2").tobytes()


@pytest.fixture(scope="module")
def zh_settings(multilingual_whisper):
    return Settings(asr_model_zh=str(multilingual_whisper), asr_workers=1)


@pytest.fixture(scope="module")
def zh_asr(zh_settings) -> WhisperASR:
    return load_speech_model("zh", zh_settings)


def test_the_built_model_loads_through_the_product_as_multilingual(zh_asr, zh_settings, multilingual_whisper):
    assert zh_asr.multilingual
    assert zh_asr.name == str(multilingual_whisper)
    assert load_speech_model("zh", zh_settings) is zh_asr  # one shared model for every call
    assert "zh" in zh_asr._model.supported_languages
    assert load_asr(str(multilingual_whisper)).multilingual


def test_transcribing_chinese_is_well_formed(zh_asr):
    audio = np.concatenate([silence(0.3), speak("wo3 yi3 jing1 huan2 le5", PINYIN), silence(0.3)])
    result = zh_asr.recognize(audio, "zh")
    assert isinstance(result, Recognition) and isinstance(result.text, str)
    assert all(np.isfinite([result.avg_logprob, result.no_speech_prob, result.compression_ratio]))
    # faster-whisper underneath: the language is taken as given (no detection), segments have times.
    segments, info = zh_asr._model.transcribe(audio, language="zh", beam_size=1, temperature=0.0,
                                              condition_on_previous_text=False, vad_filter=False)
    segments = list(segments)
    assert info.language == "zh" and info.language_probability == 1
    for segment in segments:
        assert isinstance(segment.text, str)
        assert isinstance(segment.start, float) and isinstance(segment.end, float) and segment.start <= segment.end


def test_a_live_chinese_call_runs_to_its_scorecard(zh_asr, zh_settings, zh_engine, monkeypatch):
    asked: list[str | None] = []
    recognize = zh_asr.recognize

    def spy(audio, language, *args, **kwargs):
        asked.append(language)
        return recognize(audio, language, *args, **kwargs)

    def never(*args, **kwargs):
        raise AssertionError("a live call's language is fixed, never detected")

    monkeypatch.setattr(zh_asr, "recognize", spy)
    monkeypatch.setattr(zh_asr._model, "detect_language", never)
    agent = np.concatenate([silence(0.3), speak("ni3 hao3 wo3 shi4 yin2 hang2 de5 ke4 fu2", PINYIN), silence(2.6)])
    debtor = np.concatenate([silence(2.4), speak("wo3 yi3 jing1 huan2 le5 bu2 yao4 zai4 da3 dian4 hua4 le5", PINYIN),
                             silence(0.8)])
    length = max(len(agent), len(debtor))
    audio = np.stack([np.pad(agent, (0, length - len(agent))), np.pad(debtor, (0, length - len(debtor)))])
    spec = StreamSpec("zh-live", "zh", AudioFormat("pcm_s16le", 16_000, 2), ("agent", "debtor"), {})
    call = LiveCall(spec, zh_engine, zh_asr, zh_settings)
    assert [t.language for t in call.transcribers] == ["zh", "zh"]

    events = call.start()
    for offset in range(0, length, 1600):  # 100 ms frames, as a telephony client sends them
        call.feed(pcm(audio[:, offset : offset + 1600]))
        events += call.process()
    events += call.finish()

    assert asked and set(asked) == {"zh"}  # the language is fixed, never detected
    assert events[-1].type == "scorecard" and call.finished
    assert not [e for e in events if e.type == "error"]
    assert all(e.call_id == "zh-live" for e in events)
    for speaker, text, start, end in call.transcript:
        assert speaker in ("agent", "debtor") and isinstance(text, str) and text and 0 <= start < end
    assert len([e for e in events if e.type == "utterance"]) == len(call.transcript)
    json.dumps([e.model_dump(mode="json") for e in events])  # every event serialises for the wire


def test_chinese_without_a_configured_model_is_a_config_error():
    with pytest.raises(ConfigError, match="no speech model is configured for 'zh'") as error:
        load_speech_model("zh", Settings(asr_model_zh=""))
    assert "COACH_ASR_MODEL_ZH" in str(error.value) and error.value.exit_code == 5


def test_chinese_live_audio_without_a_model_is_refused_at_start(zh_engine):
    from fastapi.testclient import TestClient

    from server.app import create_app

    start = {"type": "start", "call_id": "zh-none", "language": "zh", "encoding": "pcm_s16le", "sample_rate": 16000,
             "channels": 1, "channel_roles": ["debtor"]}
    app = create_app(Settings(asr_model_zh="", allow_anonymous_stream=True), preload=())
    with TestClient(app) as client, client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps(start))
        event = json.loads(ws.receive_text())
    assert event["type"] == "error" and event["code"] == "bad_start"
    assert "no speech model is configured for 'zh'" in event["message"] and "COACH_ASR_MODEL_ZH" in event["message"]


def test_an_english_only_model_is_refused_for_chinese():
    with pytest.raises(ConfigError, match="English-only"):
        load_speech_model("zh", Settings(asr_model_zh="tiny.en"))


def _characters_found(reference: str, heard: str) -> float:
    """Share of the reference's characters that the transcript has, in order (1 - a rough CER)."""
    from difflib import SequenceMatcher

    reference = reference.replace(" ", "")
    matcher = SequenceMatcher(None, reference, heard.replace(" ", ""), autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(reference)


def test_chinese_speech_is_transcribed_out_of_the_box(tmp_path):
    """The default settings transcribe Mandarin offline: Whisper base, assembled from its two PyPI
    packages, decoding with the language fixed to Chinese, Simplified characters out."""
    from pypinyin import Style, lazy_pinyin

    from coach.audio.asr import accept

    settings = Settings(cache_dir=tmp_path, asr_workers=1)
    assert settings.asr_model_zh == "whisper-base"
    asr = load_speech_model("zh", settings)
    sentence = "我上个月已经还过了 你们别再打电话了"
    pinyin = " ".join(lazy_pinyin(sentence.replace(" ", ""), style=Style.TONE3, neutral_tone_with_five=True))
    audio = np.concatenate([silence(0.3), speak(pinyin, "cmn-latn-pinyin+f3"), silence(0.3)])
    text = accept(asr.recognize(audio, "zh"), "zh")
    assert text and _characters_found(sentence, text) >= 0.7, text


def test_traditional_characters_are_stored_as_simplified():
    from coach.audio.asr import accept

    heard = Recognition(text="我們已經還過了，別再打電話了", avg_logprob=-0.2, no_speech_prob=0.01, compression_ratio=1.1)
    assert accept(heard, "zh") == "我们已经还过了，别再打电话了"
    assert accept(Recognition(text="I already paid", avg_logprob=-0.2, no_speech_prob=0.01, compression_ratio=1.1),
                  "en") == "I already paid"
