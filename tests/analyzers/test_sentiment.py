"""The debtor's emotion and valence, offline, in both languages."""

from __future__ import annotations

import pytest

from coach.analyzers.sentiment import AcousticCues
from coach.text.valence import text_valence


def _analyze(engine, text, acoustic=None):
    return engine.sentiment.analyze(engine.space.encode([text]), acoustic)


@pytest.mark.parametrize(
    "text,labels",
    [
        ("this is bullshit youre a bunch of crooks", {"angry"}),
        ("i dont know how im going to feed my kids i just cant go on like this", {"distressed", "anxious"}),
        ("am i going to be arrested is this going to ruin my credit", {"anxious"}),
        ("i already told you three times i sent it", {"frustrated", "angry"}),
    ],
)
def test_english_emotions(en_engine, text, labels):
    result = _analyze(en_engine, text)
    assert result.label in labels and result.valence < 0


@pytest.mark.parametrize(
    "text,labels",
    [
        ("你们这帮骗子滚", {"angry"}),
        ("我真的活不下去了家里老人还在住院", {"distressed"}),
        ("这个会不会上征信啊会不会坐牢", {"anxious"}),
    ],
)
def test_chinese_emotions(zh_engine, text, labels):
    result = _analyze(zh_engine, text)
    assert result.label in labels and result.valence < 0


def test_calm_cooperation_is_positive(en_engine, zh_engine):
    assert _analyze(en_engine, "ok sure that works thank you for your help").valence > 0
    assert _analyze(zh_engine, "好的没问题谢谢你").valence > 0


def test_evidence_names_the_words(en_engine):
    assert _analyze(en_engine, "this is bullshit youre a bunch of crooks").evidence


def test_acoustic_cues_raise_arousal(en_engine):
    text = "i already told you i dont have it"
    calm_voice = _analyze(en_engine, text, AcousticCues(loudness_z=-1.5, pitch_z=-1.5, rate_z=-1.0, pause_ratio=0.5))
    loud_voice = _analyze(en_engine, text, AcousticCues(loudness_z=2.5, pitch_z=2.0, rate_z=1.5))
    assert loud_voice.label in {"angry", "frustrated", "anxious"}
    assert "acoustic" in loud_voice.method and calm_voice.label != loud_voice.label or loud_voice.confidence != calm_voice.confidence


def test_chinese_negation_flips_valence():
    assert text_valence("服务很好", "zh")[0] > 0
    assert text_valence("服务不好", "zh")[0] < 0
    assert text_valence("不满意", "zh")[0] < 0
