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


def test_auto_without_a_language_model_is_a_clear_error(chinese_call):
    with pytest.raises(InputError, match="cannot tell which language") as error:
        review_file(chinese_call, ReviewRequest(language="auto"), Settings(language_id_model=""))
    assert "--language" in error.value.hint


def test_english_reviewed_as_english_has_no_warning():
    from conftest import EXAMPLES

    reviewed = review_file(EXAMPLES / "audio" / "en-short-call.flac", ReviewRequest(language="en"))
    assert not reviewed.call.warnings
