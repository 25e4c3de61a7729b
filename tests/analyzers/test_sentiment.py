"""The debtor's emotion and valence, offline, in both languages."""

from __future__ import annotations

import pytest

from coach.analyzers.sentiment import AcousticCues
from coach.text.valence import text_valence
from coach.transcript import Utterance


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


def test_calibration_lines_train_the_emotion_head(en_engine):
    playbook = en_engine.playbook
    labelled = [e for e in playbook.calibration_examples if e.emotion is not None]
    assert labelled
    assert len(en_engine.sentiment.training_texts) == sum(len(e.examples) for e in playbook.emotions) + len(labelled)


@pytest.mark.parametrize(("language", "text", "label"), [
    ("en", "yeah yeah just get to the point", "frustrated"),
    ("zh", "知道了知道了 你到底啥事", "frustrated"),
    ("en", "wow ok im hanging up", "frustrated"),
    ("en", "ugh fine im just gonna hang up then", "frustrated"),
])
def test_an_impatience_cue_is_heard_in_a_turn_with_no_objection(en_engine, zh_engine, language, text, label):
    engine = en_engine if language == "en" else zh_engine
    result = engine.sentiment.analyze(engine.space.encode([text]))
    assert result.label == label and result.evidence


@pytest.mark.parametrize(("language", "text"), [
    ("en", "ugh, this is the fifth call today. fine, say it quick"),
    ("zh", "唉 又是这事 说吧说吧"),
])
def test_a_frustrated_turn_with_no_objection_is_not_read_as_calm(en_engine, zh_engine, language, text):
    """Most calibration turns that carry no objection are calm; a turn carrying none is not calm
    for that (the emotion is read from the turn and the conversation, not the objection's mix)."""
    engine = en_engine if language == "en" else zh_engine
    session = engine.session("no-objection-frustrated")
    session.start()
    events = session.process(Utterance(speaker="debtor", text=text, start=0.0, end=2.0))
    assert not [e for e in events if e.type == "intent"]
    assert [e.label for e in events if e.type == "sentiment"] == ["frustrated"]


def test_emotion_examples_widen_the_emotion_head_only(en_engine):
    """The emotion head reads words in a vocabulary of its own: more emotion examples do not move the
    shared vocabulary that the objection and rule heads read."""
    from coach.analyzers.features import FeatureSpace
    from coach.analyzers.sentiment import SentimentAnalyzer
    from coach.engine import playbook_corpus

    playbook = en_engine.playbook
    emotions = [e.model_copy(update={"examples": e.examples + ["zorblatt zorblatt this whole thing is a nightmare"]})
                if e.id == "frustrated" else e for e in playbook.emotions]
    widened = playbook.model_copy(update={"emotions": emotions})
    assert playbook_corpus(widened) == playbook_corpus(playbook)
    space = FeatureSpace("en", playbook_corpus(widened), None)
    assert "w:zorblatt" not in space.lexical.vocabulary
    head = SentimentAnalyzer(widened, space)
    assert "w:zorblatt" in head.lexical.vocabulary
    assert head.analyze(space.encode(["zorblatt zorblatt"])).label == "frustrated"


def test_the_emotion_head_hears_a_question_in_its_mark(zh_engine):
    """The playbook's anxious debtors ask more than its calm ones: the same words read more anxious
    with a question mark, which only this head's vocabulary keeps."""
    from coach.analyzers.features import class_probabilities

    head = zh_engine.sentiment
    assert "p:?" in head.lexical.vocabulary and "p:?" not in zh_engine.space.lexical.vocabulary

    def anxious(text: str) -> float:
        probabilities = class_probabilities(head.classifier, head.classifier_input(zh_engine.space.encode([text])))[0]
        return float(dict(zip(head.classifier.classes_, probabilities))["anxious"])

    assert anxious("那我的卡怎么办？") > anxious("那我的卡怎么办")


@pytest.mark.parametrize(("language", "line", "problem"), [
    ("zh", "你是王磊吧", None),                       # read angry at 0.77 by the debtor's emotion head
    ("zh", "那您看什么时候方便 把这笔还上", None),
    ("zh", "你这个老赖 赶紧还钱", "uncivil language"),
    ("en", "is this dana reyes", None),
    ("en", "pay your damn bill you deadbeat", "uncivil language"),
    ("en", "i am sick and tired of your excuses, this is ridiculous", "sounded angry"),  # cue and words
])
def test_agent_tone_needs_something_to_show_for_it(en_engine, zh_engine, language, line, problem):
    """The QA check "respectful agent tone" fails on uncivil words or anger the line shows, not on the
    debtor emotion head's reading of an ordinary question."""
    from coach.transcript import Utterance

    session = (en_engine if language == "en" else zh_engine).session("tone")
    session.start()
    session.process(Utterance(speaker="agent", text=line, start=0.0, end=1.5))
    problems = session.record.agent_tone_problems
    assert (problems[0].split(": ")[1].split(" (")[0] if problems else None) == problem



@pytest.mark.parametrize(("language", "line"), [("zh", "是我……什么事……"), ("en", "yeah... i'm here...")])
def test_a_pause_written_into_the_transcript_weighs_towards_low_energy(en_engine, zh_engine, monkeypatch, language, line):
    """An ellipsis is a pause the transcript kept (domain.md: distressed speech has long pauses): it
    takes from a calm reading and names itself in the evidence; the words still decide."""
    from coach.analyzers import sentiment

    engine = en_engine if language == "en" else zh_engine
    paused = _analyze(engine, line)
    monkeypatch.setattr(sentiment, "PAUSE_BOOST", {})
    unmarked = _analyze(engine, line)
    assert sentiment.PAUSE_EVIDENCE in paused.evidence
    assert paused.label == unmarked.label == "calm" and paused.confidence < unmarked.confidence


@pytest.mark.parametrize(("language", "line", "asked"), [
    ("zh", "那我以后还能贷款吗？孩子上学会不会受影响？", True),
    ("zh", "会不会上征信 会不会影响我买房", True),  # a transcript without marks: each clause asks
    ("zh", "会不会上征信啊？", False),  # one question, however it is marked
    ("en", "is this going on my credit? can they take my car?", True),
    ("en", "is this going on my credit?", False),
])
def test_question_after_question_is_named_as_anxious_evidence(en_engine, zh_engine, language, line, asked):
    """domain.md's anxious debtor asks fast, repeated questions: two or more in a turn weigh towards
    anxious, and say so in the evidence."""
    from coach.analyzers import sentiment

    result = _analyze(en_engine if language == "en" else zh_engine, line)
    assert (sentiment.QUESTIONS_EVIDENCE in result.evidence) is asked
    if asked:
        assert result.label == "anxious"


@pytest.mark.parametrize(("language", "line"), [("zh", "凭什么要我还？你们有证据吗？"),
                                                ("en", "who the hell do you think you are? you deaf or what?")])
def test_questions_fired_in_anger_stay_angry(en_engine, zh_engine, language, line):
    from coach.analyzers import sentiment

    result = _analyze(en_engine if language == "en" else zh_engine, line)
    assert sentiment.QUESTIONS_EVIDENCE not in result.evidence or result.label != "anxious"
