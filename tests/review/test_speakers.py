"""Who is speaking in a mono recording (coach.review.speakers), on real speech and the real tiny.en.

The bundled sample calls have the agent on the left channel and the debtor (and any third party) on
the right, in different espeak-ng voices; mixed down to mono they are what a mono recorder gives.
The truth comes from the timed transcript the synthesiser wrote next to each file.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from coach.audio.files import RATE, load_audio
from coach.review.recording import Clip, transcribe_channels
from coach.review.speakers import assign_speakers, role_texts, turn_posteriors

AUDIO = Path(__file__).resolve().parents[2] / "examples" / "audio"
#: Two calls: a short one, and a three-minute one with a full cooperative conversation.
MIXED_CALLS = ("en-short-call", "en-cooperative")
MIN_ACCURACY = 0.85


@pytest.fixture(scope="module")
def asr():
    from coach.audio.asr import load_asr

    return load_asr("tiny.en", workers=2)


@pytest.fixture(scope="module")
def mixed_calls(asr) -> dict[str, tuple[np.ndarray, list[Clip], list[dict]]]:
    """Each call mixed down to mono and transcribed once: (audio, clips, true timeline)."""
    calls = {}
    for name in MIXED_CALLS:
        mono = load_audio(AUDIO / f"{name}.flac").sum(axis=0, keepdims=True)
        timeline = json.loads((AUDIO / f"{name}.json").read_text(encoding="utf-8"))["utterances"]
        calls[name] = (mono, transcribe_channels(mono, asr, "en"), timeline)
    return calls


def accuracy(clips: list[Clip], roles: list[str], timeline: list[dict]) -> float:
    """Share of clip-seconds attributed right: each second of a clip counts for whoever was really
    speaking then (left channel: the agent; right channel: the debtor or a third party)."""
    right = total = 0.0
    for clip, role in zip(clips, roles):
        for turn in timeline:
            overlap = max(0.0, min(clip.end, turn["end"]) - max(clip.start, turn["start"]))
            total += overlap
            right += overlap * ((turn["speaker"] == "agent") == (role == "agent"))
    return right / total


@pytest.mark.parametrize("name", MIXED_CALLS)
def test_mixed_down_sample_calls_are_split_by_voice(name, mixed_calls, en_engine):
    audio, clips, timeline = mixed_calls[name]
    result = assign_speakers(audio, clips, en_engine)
    score = accuracy(clips, result.roles, timeline)
    print(f"\n{name}: {len(clips)} clips, accuracy {score:.3f}, {result.method}, confidence {result.confidence}: {result.detail}")
    assert len(result.roles) == len(clips) and set(result.roles) == {"agent", "debtor"}
    assert result.method == "voice+text"
    assert "2 voices" in result.detail and "agent = voice" in result.detail
    assert score >= MIN_ACCURACY
    assert result.confidence >= 0.8


def test_text_alone_also_separates_the_mixed_calls(mixed_calls, en_engine):
    """Silence instead of the audio forces the text-only path on the same transcripts."""
    for name, (audio, clips, timeline) in mixed_calls.items():
        result = assign_speakers(np.zeros_like(audio), clips, en_engine)
        score = accuracy(clips, result.roles, timeline)
        print(f"\n{name} (text only): accuracy {score:.3f}, confidence {result.confidence}")
        assert result.method == "text"
        assert score >= 0.8


def speak(text: str, voice: str = "en-us", speed: int = 160) -> np.ndarray:
    """espeak-ng speech as float32 mono at 16 kHz."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text], capture_output=True, check=True).stdout
    raw = subprocess.run(["sox", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1", "-"],
                         input=wav, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def test_one_voice_for_both_parties_falls_back_to_text(asr, en_engine):
    """The short sample call spoken by one espeak-ng voice for both parties: no voice split can be
    trusted, so the roles come from the words and turn-taking, and the result says so."""
    turns = json.loads((AUDIO / "en-short-call.json").read_text(encoding="utf-8"))["utterances"]
    pieces, timeline, clock = [np.zeros(RATE, np.float32)], [], 1.0
    for turn in turns:
        speech = speak(turn["text"])
        timeline.append({"speaker": turn["speaker"], "start": clock, "end": clock + len(speech) / RATE})
        clock += len(speech) / RATE + 0.6
        pieces += [speech, np.zeros(int(0.6 * RATE), np.float32)]
    audio = np.concatenate(pieces)[None, :]
    clips = transcribe_channels(audio, asr, "en")
    result = assign_speakers(audio, clips, en_engine)
    score = accuracy(clips, result.roles, timeline)
    print(f"\none voice: accuracy {score:.3f}, confidence {result.confidence}: {result.detail}")
    assert result.method == "text"
    assert "no reliable 2-voice split" in result.detail
    assert score >= 0.8


def made_up(lines: list[tuple[str, str]]) -> tuple[list[Clip], list[str]]:
    """Clips 3 s apart from (role, text) pairs, and the roles."""
    clips = [Clip(0, 3.0 * i, 3.0 * i + 2.5, text) for i, (_, text) in enumerate(lines)]
    return clips, [role for role, _ in lines]


EN_LINES = [
    ("agent", "good afternoon my name is jordan calling from crestline recovery services may i speak with angela morales"),
    ("debtor", "yeah this is angela"),
    ("agent", "this is an attempt to collect a debt and any information obtained will be used for that purpose"),
    ("debtor", "i already paid that last month i have the receipt"),
    ("agent", "thank you for letting me know can you tell me the date and the amount so i can look it up"),
    ("debtor", "stop calling me i dont want any more calls"),
]
ZH_LINES = [
    ("agent", "您好 我是锦程银行信用卡中心的王敏 请问是赵国强先生吗"),
    ("debtor", "嗯 我是"),
    ("agent", "本次通话会被录音 您的信用卡已经逾期三个月 今天来电是提醒您还款"),
    ("debtor", "我最近失业了 实在没钱还"),
    ("agent", "理解您的困难 我们可以帮您申请分期还款"),
    ("debtor", "你们别再打电话了 再打我就投诉"),
]


@pytest.mark.parametrize(("engine_fixture", "lines"), [("en_engine", EN_LINES), ("zh_engine", ZH_LINES)])
def test_text_path_reads_roles_from_the_playbook(engine_fixture, lines, request):
    engine = request.getfixturevalue(engine_fixture)
    clips, truth = made_up(lines)
    silent = np.zeros((1, int(20 * RATE)), np.float32)
    result = assign_speakers(silent, clips, engine)
    assert result.roles == truth
    assert result.method == "text"
    assert 0.5 <= result.confidence <= 1.0
    assert "too little speech for voices" in result.detail


def test_text_path_does_not_need_strict_alternation(en_engine):
    """Two agent clips in a row (a long turn cut at a pause) keep their role when the words are clear."""
    clips, truth = made_up([EN_LINES[0], EN_LINES[1], EN_LINES[2], EN_LINES[4], EN_LINES[5]])
    result = assign_speakers(np.zeros((1, 20 * RATE), np.float32), clips, en_engine)
    assert result.roles == truth


def test_no_clips(en_engine):
    result = assign_speakers(np.zeros((1, RATE), np.float32), [], en_engine)
    assert result.roles == [] and result.method == "none" and result.confidence == 0.0


@pytest.mark.parametrize(("line", "role"), [(EN_LINES[2], "agent"), (EN_LINES[5], "debtor")])
def test_one_clip(line, role, en_engine):
    result = assign_speakers(np.zeros(3 * RATE, np.float32), [Clip(0, 0.2, 2.8, line[1])], en_engine)
    assert result.roles == [role]
    assert result.method == "text"


def test_turn_posteriors_smooth_weak_evidence_towards_alternation():
    # Strong agent, undecided, strong agent: the middle clip is most likely the debtor's reply.
    posterior = turn_posteriors(np.array([3.0, 0.0, 3.0]))
    assert posterior[0] > 0.9 and posterior[1] < 0.5 and posterior[2] > 0.9
    assert turn_posteriors(np.zeros(0)).shape == (0,)


def test_role_texts_come_from_both_sides_of_the_playbook(en_engine, zh_engine):
    for engine in (en_engine, zh_engine):
        agent, debtor = role_texts(engine.playbook)
        assert len(agent) > 100 and len(debtor) > 300
        assert not set(agent) & set(engine.playbook.intents[0].examples)


def test_the_role_classifier_is_fitted_once_and_cached_beside_the_engine(small_zh_book, tmp_path, monkeypatch):
    """A mono recording's roles need a classifier over every text of the playbook: fitted once, then
    every later process loads it (with the engine) instead of embedding the playbook again."""
    from coach.config import Settings
    from coach.engine import CoachEngine
    from coach.review import speakers

    settings = Settings(cache_dir=tmp_path, embedding_model_zh="none")
    first = CoachEngine(small_zh_book, settings)
    fitted = speakers.role_classifier(first)
    assert list((tmp_path / "engines").glob("small-zh-roles@*.pkl"))
    second = CoachEngine(small_zh_book, settings)  # as a new process would build it

    def no_fitting(engine):
        raise AssertionError("fitted again")

    monkeypatch.setattr(speakers, "_fit_role_classifier", no_fitting)
    loaded = speakers.role_classifier(second)
    texts = ["您好 我是银行信用卡中心的", "我没钱 下个月再说"]
    features = second.space.encode(texts).classifier_input()
    assert np.allclose(loaded.decision_function(features), fitted.decision_function(features))
    assert speakers.agent_log_odds(second, texts)[0] > speakers.agent_log_odds(second, texts)[1]
