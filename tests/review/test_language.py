"""A recording reviewed in the wrong language says so; ``--language auto`` reviews it in its own."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from coach.config import Settings
from coach.errors import InputError
from coach.review.pipeline import ReviewRequest, review_file
from tests.audio.test_streaming import silence, speak


def _pinyin(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(text.replace(" ", ""), style=Style.TONE3, neutral_tone_with_five=True))


@pytest.fixture(scope="module")
def chinese_call(tmp_path_factory):
    """A short two-channel Mandarin call (agent left, debtor right), as a 16 kHz WAV."""
    voice = "cmn-latn-pinyin+f3"
    agent = np.concatenate([silence(0.5), speak(_pinyin("您好 这里是招商银行信用卡中心 请问是李明先生本人吗"), voice)])
    debtor = speak(_pinyin("我上个月已经还过了 你们别再打电话了 我现在真的没有钱"), voice)
    length = len(agent) + len(debtor) + 16_000
    stereo = np.zeros((length, 2), dtype=np.float32)
    stereo[: len(agent), 0] = agent
    stereo[len(agent) + 8_000 : len(agent) + 8_000 + len(debtor), 1] = debtor
    folder = tmp_path_factory.mktemp("zh-call")
    raw, wav = folder / "call.raw", folder / "zh-call.wav"
    (np.clip(stereo, -1, 1) * 32767).astype("<i2").tofile(raw)
    subprocess.run(["sox", "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "2", str(raw), str(wav)], check=True)
    return wav


def test_chinese_reviewed_as_english_is_flagged(chinese_call):
    reviewed = review_file(chinese_call, ReviewRequest(language="en"))
    (warning,) = [w for w in reviewed.call.warnings if w.code == "language_mismatch"]
    assert "sounds like Chinese" in warning.message and "--language zh" in warning.message


def test_auto_reviews_the_recording_in_the_language_it_is_spoken_in(chinese_call):
    reviewed = review_file(chinese_call, ReviewRequest(language="auto"))
    assert reviewed.call.language == "zh" and not reviewed.call.warnings
    assert reviewed.playbook.startswith("zh-CN")
    assert sum("\u4e00" <= ch <= "\u9fff" for u in reviewed.call.utterances for ch in u.text) > 10


def test_without_a_language_the_recording_is_reviewed_in_the_one_heard(chinese_call):
    """A Chinese recording reviewed with no --language is reviewed in Chinese, not English gibberish."""
    reviewed = review_file(chinese_call, ReviewRequest())
    assert reviewed.call.language == "zh" and not reviewed.call.warnings


def test_without_a_language_a_playbook_says_it(chinese_call):
    """--playbook names the language (the Chinese call reviewed with the English playbook: English,
    with the mismatch named)."""
    reviewed = review_file(chinese_call, ReviewRequest(playbook="en-US-collections"))
    assert reviewed.call.language == "en" and reviewed.playbook.startswith("en-US")
    (warning,) = reviewed.call.warnings
    assert warning.code == "language_mismatch" and "--language zh" in warning.message
    assert "a Chinese playbook (or without --playbook)" in warning.message  # --language zh alone is refused


def test_english_in_which_chinese_hears_nothing_is_refused_with_the_language_heard(tmp_path):
    """English reviewed as Chinese can give no usable words at all: the refusal names the language
    heard and how to review it, instead of blaming the recording."""
    english = np.concatenate([
        speak("Hello, this is Mark from Northside Recovery calling about your account balance of two hundred dollars. "
              "Can you make a payment today?", speed=175), silence(0.5),
        speak("I already paid that last month and I have the receipt. Please stop calling me at work.", speed=175)])
    raw, wav = tmp_path / "call.raw", tmp_path / "english.wav"
    (np.clip(english, -1, 1) * 32767).astype("<i2").tofile(raw)
    subprocess.run(["sox", "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1", str(raw), str(wav)], check=True)
    with pytest.raises(InputError, match="no speech was recognised in Chinese: the speech sounds like English") as refused:
        review_file(wav, ReviewRequest(language="zh"))
    assert refused.value.hint == "review it again with --language en (or auto)"


def test_a_channel_heard_in_another_language_is_not_called_silent():
    """The bundled English call reviewed as Chinese: the agent's channel has speech that gave no
    Chinese words, which is no unrecorded party."""
    from tests.conftest import EXAMPLES

    reviewed = review_file(EXAMPLES / "audio" / "en-short-call.flac", ReviewRequest(language="zh"))
    found = {w.code for w in reviewed.call.warnings}
    assert "language_mismatch" in found and "silent_channel" not in found
    assert "unrecognised_channel" in found


@pytest.mark.parametrize(("probabilities", "declared", "contradicts"), [
    ({"zh": 0.94, "en": 0.01}, "en", True),    # another language, surely
    ({"zh": 0.79, "en": 0.06}, "en", True),    # likely, and the declared one very unlikely (zh-cooperative)
    ({"zh": 0.79, "en": 0.15}, "en", False),   # likely, but the declared one is not ruled out
    ({"la": 0.45, "en": 0.40}, "en", False),   # unsure
    ({"en": 0.80, "la": 0.12}, "en", False),   # the declared one
])
def test_a_mismatch_is_another_language_heard_surely_or_the_declared_one_ruled_out(probabilities, declared, contradicts):
    from coach.review.language import SpokenLanguage

    assert SpokenLanguage.heard(probabilities).contradicts(declared) is contradicts


def test_auto_without_a_language_model_is_a_clear_error(chinese_call):
    with pytest.raises(InputError, match="cannot tell which language") as error:
        review_file(chinese_call, ReviewRequest(language="auto"), Settings(language_id_model=""))
    assert "--language" in error.value.hint


def test_english_reviewed_as_english_has_no_warning():
    from conftest import EXAMPLES

    reviewed = review_file(EXAMPLES / "audio" / "en-short-call.flac", ReviewRequest(language="en"))
    assert not reviewed.call.warnings


class ScriptedListener:
    """A language-identification model that answers the quick listen and the full one from a script."""

    def __init__(self, quick: tuple[str, float], full: tuple[str, float]) -> None:
        self.answers = {"quick": quick, "full": full}
        self.heard: list[tuple[str, float]] = []

    def detect_language(self, audio: np.ndarray, seconds: float = 30.0) -> dict[str, float]:
        kind = "quick" if seconds < 30 else "full"
        self.heard.append((kind, round(min(len(audio) / 16_000, seconds), 1)))
        code, probability = self.answers[kind]
        return {code: probability, "cy": 1 - probability}


@pytest.mark.parametrize(("quick", "expected", "listens"), [
    (("en", 0.97), ("en", 0.97), ["quick"]),                # sure at once: one short listen
    (("en", 0.62), ("zh", 0.91), ["quick", "full"]),        # unsure: the full 30 s decide
    (("zh", 0.90), ("zh", 0.90), ["quick"]),                # another language, surely: a mismatch at once
])
def test_a_quick_listen_settles_a_sure_language_and_an_unsure_one_is_heard_in_full(monkeypatch, quick, expected, listens):
    import coach.live
    from coach.review.language import QUICK_SAMPLE_SECONDS, spoken_language

    listener = ScriptedListener(quick=quick, full=("zh", 0.91))
    monkeypatch.setattr(coach.live, "speech_model_named", lambda name, settings: listener)
    audio = np.zeros((2, 60 * 16_000), np.float32)
    speech = [[(0.0, 25.0)], [(30.0, 50.0)]]

    heard = spoken_language(audio, speech, Settings())

    assert (heard.code, heard.probability) == expected
    assert [kind for kind, _ in listener.heard] == listens
    assert listener.heard[0] == ("quick", QUICK_SAMPLE_SECONDS)
    if len(listens) > 1:
        assert listener.heard[1] == ("full", 30.0)


def test_whisper_tells_english_from_a_short_listen():
    from coach.live import speech_model_named

    model = speech_model_named(Settings().language_id_model, Settings())
    english = speak("I already paid this account last month, please stop calling me at work.", "en-us")
    probabilities = model.detect_language(np.concatenate([english, silence(1.0)]), 15)
    assert max(probabilities, key=probabilities.get) == "en" and probabilities["en"] > 0.5
    assert list(probabilities.values()) == sorted(probabilities.values(), reverse=True) and "zh" in probabilities


def test_a_review_in_a_contradicted_language_is_replaced_when_the_language_is_left_to_the_speech(chinese_call, tmp_path):
    """A Chinese recording stored as an English review (language_mismatch) is not a duplicate to a
    request that leaves the language to the speech: it is reviewed again, in Chinese, and replaces it.
    A review in the language heard is a duplicate as before."""
    from coach.review.pipeline import review_into_store
    from coach.storage import CallStore

    settings = Settings(data_dir=tmp_path)
    store = CallStore(settings.database(), settings)
    wrong = review_into_store(store, chinese_call, ReviewRequest(language="en"), source="cli", settings=settings)
    again = review_into_store(store, chinese_call, ReviewRequest(), source="cli", settings=settings)
    assert not again.duplicate and again.replaced == wrong.call_id
    assert store.get_call(again.call_id).language == "zh" and not store.get_call(again.call_id).warnings
    assert review_into_store(store, chinese_call, ReviewRequest(), source="cli", settings=settings).duplicate
    store.close()


@pytest.mark.parametrize(("message", "advised"), [
    ("the speech sounds like Chinese (91%), but the call was reviewed as English: its transcript is most likely "
     "wrong; review it again with --language zh (or auto)", "zh"),
    ("the speech sounds like Spanish (88%), but the call was reviewed as English: its transcript is most likely wrong",
     None),  # reviewed again it would be English again, with the same warning
    ("the transcript's text is Chinese, but the call was analysed as English: ...; analyse it as Chinese "
     "(--language zh)", None),  # a transcript keeps its own language
])
def test_only_a_recording_heard_in_english_or_chinese_is_reviewed_again(message, advised):
    from coach.review.pipeline import _language_advised

    assert _language_advised(message) == advised
