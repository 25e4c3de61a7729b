"""Offensive-language detection: real models (profanity-check, the shipped COLD model) on call lines."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import ROOT

from coach.errors import CoachError, ConfigError, ModelUnavailableError
from coach.text.normalize import normalize
from coach.text.offensive import (
    LEXICON_PROBABILITY,
    METHOD_EN_MODEL,
    METHOD_LEXICON,
    METHOD_ZH_MODEL,
    THRESHOLD,
    ZH_MODEL_PATH,
    LinearTextModel,
    OffensiveLanguageDetector,
    OffensiveLexicon,
    OffensiveScore,
)

COLD = ROOT.parent / "shared" / "data" / "cold"

# Ordinary collection talk, agent and debtor, including hardship, complaints and the words the
# models learnt from online abuse ("mother", "sick", 骂, 垃圾).
ORDINARY_EN = [
    "Hi, this is Mark calling from Crestline Recovery. May I speak with Dana Reyes?",
    "i'm calling about the debt",
    "I'm calling about the debt on your Visa account.",
    "This is an attempt to collect a debt and any information obtained will be used for that purpose.",
    "Your balance is $1,243.50 and it is ninety days past due.",
    "Can you make a payment today?",
    "We can set up a payment plan that fits your budget.",
    "no one is going to hurt you",
    "No one is going to hurt you, I just want to help you resolve this.",
    "Could you please verify the last four digits of your social security number?",
    "I understand this is a difficult time for you.",
    "If you'd like, I can send you a validation notice in writing.",
    "You have the right to dispute this debt within thirty days.",
    "This call may be recorded for quality assurance.",
    "Would a payment on the fifteenth work for you?",
    "I can offer you a settlement of sixty percent of the balance.",
    "Thank you for your time, have a good day.",
    "Let me check whether any hardship program applies to your account.",
    "What is the best time to reach you?",
    "I lost my job last month and I can't pay anything right now.",
    "I already paid this, I have the receipt.",
    "Please stop calling me at work.",
    "I'm going to talk to my lawyer about this.",
    "I can pay fifty dollars on Friday.",
    "This isn't my debt, I've never had an account with them.",
    "My husband passed away and I'm dealing with a lot right now.",
    "I don't have the money, I'm barely making rent.",
    "Why do you keep calling me three times a day?",
    "I'm really stressed out about this whole thing.",
    "I'm at the hospital with my mom, can you call back tomorrow?",
    "My mother is sick and I can't work.",
    "The interest on this is killing me.",
    "I'm not refusing to pay, I just need more time.",
    "Who is the original creditor?",
]
ORDINARY_ZH = [
    "您好，这里是招商银行信用卡中心，请问是张先生吗？",
    "您的信用卡已经逾期了",
    "逾期了",
    "我们会上报征信",
    "您这笔欠款已经逾期三十天了，最低还款额是两千元。",
    "请问您今天能还多少？",
    "如果继续逾期，可能会影响您的个人征信记录。",
    "我们可以帮您申请分期还款。",
    "不会骂你的",
    "您放心，我们不会骂你的，只是提醒您还款。",
    "这通电话可能会被录音。",
    "请您核实一下身份证后四位。",
    "还款的账户是尾号1234的储蓄卡。",
    "请问你妈在家吗？",
    "你妈妈的电话是多少？",
    "我们是银行委托的催收机构，合法合规。",
    "我最近失业了，实在没钱还。",
    "我下个月发工资了就还。",
    "你们别再打电话了，我会还的。",
    "我已经还过了，你们查一下。",
    "我妈妈住院了，手头很紧。",
    "我要找律师咨询一下。",
    "利息太高了，利滚利我根本还不起。",
    "你们天天发垃圾短信，烦死了。",
    "能不能减免一点罚息？",
    "我现在在开会，晚点再打给我。",
    "这个钱不是我借的，是我前夫借的。",
    "我要投诉你们。",
    "我可以先还五百吗？",
    "我是河南人，现在在上海打工。",
    "女人和男人都要按时还款。",
    "好的，那我明天下午三点前转账。",
    "我的USB键盘坏了，网银登不上去。",
    "請問您這個月能還多少錢？",
]
OFFENSIVE_EN = [
    ("You're a deadbeat and everyone knows it.", "deadbeat"),
    ("You people never pay your bills.", "you people"),
    ("What a pathetic excuse.", "pathetic"),
    ("Listen, you lowlife, pay up.", "lowlife"),
    ("You're nothing but a scumbag.", "scumbag"),
    ("Stop being such a loser and pay.", "loser"),
    ("Deadbeats like you make me laugh.", "deadbeats"),
    ("Shut up and listen to me.", "shut up"),
    ("Pay your damn bill, you fucking moron.", "fucking"),
    ("This is bullshit, stop calling me.", "bullshit"),
    ("Go to hell.", "go to hell"),
    ("You worthless piece of trash.", "worthless"),
]
OFFENSIVE_ZH = [
    ("你算什么东西 也配跟我谈条件", "算什么东西"),
    ("书白念了吧 都念到狗肚子里了", "狗肚子里"),
    ("讲话跟个傻子一样", "傻子"),  # likened, with no one else named: the listener
    ("你他妈的赶紧还钱", "他妈的"),
    ("你个傻逼", "傻逼"),
    ("傻B", "傻b"),
    ("你真是sb", "sb"),
    ("滚！", "滚"),
    ("你怎么不去死", "去死"),
    ("你就是个废物", "废物"),
    ("你就是个老赖", "老赖"),
    ("欠钱不还，臭不要脸", "臭不要脸"),
    ("畜生", "畜生"),
    ("王八蛋，还钱", "王八蛋"),
    ("你是不是神经病", "神经病"),
    ("操你妈", "操你妈"),
    ("你是在找死", "找死"),
    ("你就是个垃圾", "垃圾"),
    ("白痴", "白痴"),
    ("混蛋", "混蛋"),
    ("狗东西", "狗东西"),
    ("贱人", "贱"),
    ("他媽的，還錢", "他妈的"),  # traditional characters, as Whisper sometimes writes Mandarin
    ("你這個廢物", "废物"),
]


@pytest.fixture(scope="module")
def en():
    return OffensiveLanguageDetector.for_language("en")


@pytest.fixture(scope="module")
def zh():
    return OffensiveLanguageDetector.for_language("zh")


@pytest.mark.parametrize(("text", "evidence"), OFFENSIVE_EN)
def test_english_insults_and_profanity_score_high_with_evidence(en, text, evidence):
    [score] = en.score([text])
    assert score.probability >= LEXICON_PROBABILITY
    assert (score.evidence, score.method) == (evidence, METHOD_LEXICON)


@pytest.mark.parametrize(("text", "evidence"), OFFENSIVE_ZH)
def test_chinese_insults_and_profanity_score_high_with_evidence(zh, text, evidence):
    [score] = zh.score([text])
    assert score.probability >= LEXICON_PROBABILITY
    assert (score.evidence, score.method) == (evidence, METHOD_LEXICON)


def test_ordinary_collection_talk_scores_low(en, zh):
    assert len(ORDINARY_EN) >= 30 and len(ORDINARY_ZH) >= 30
    for detector, lines in ((en, ORDINARY_EN), (zh, ORDINARY_ZH)):
        scores = detector.score(lines)
        high = [(line, s) for line, s in zip(lines, scores) if s.probability >= THRESHOLD or s.evidence]
        assert not high
        assert {s.method for s in scores} == {detector.model_method}


def test_the_model_alone_catches_profanity_and_group_abuse_and_names_the_word(en, zh):
    [english] = en.score(["you little whore"])
    assert english.method == METHOD_EN_MODEL and english.probability >= THRESHOLD and english.evidence == "whore"
    [chinese] = zh.score(["你们河南人偷鸡摸狗，一个比一个无耻"])  # no listed term (骗子 is one)
    assert chinese.method == METHOD_ZH_MODEL and chinese.probability >= THRESHOLD and chinese.evidence


def test_a_lexicon_hit_keeps_the_models_support(en):
    strong, weak = en.score(["you fucking deadbeat", "you deadbeat"])
    assert strong.evidence == "fucking" and weak.evidence == "deadbeat"
    assert strong.probability > weak.probability >= LEXICON_PROBABILITY


def test_benign_phrases_that_contain_a_term_are_not_hits(en, zh):
    for text in ("利滚利", "你妈妈的病好了吗", "我去死也还不起啊", "usb接口", "垃圾短信", "借网贷只会越滚越大",
                 "逾期越久费用越多 别再往上滚了"):
        assert zh.score([text])[0].evidence is None, text
    for text in ("we had to shut up shop", "my mom is sick", "this is a moment", "thats a bum deal im sorry",
                 "you said youre driving do you want me to call back once youre parked"):
        assert en.score([text])[0].evidence is None, text
    # ... but a term that only overlaps one still is.
    assert zh.score(["操你妈妈的"])[0].evidence == "操你妈"
    assert en.score(["you make me sick"])[0].evidence == "you make me sick"


@pytest.mark.parametrize(("language", "text", "term"), [
    # a term said of no one: an agent's reassurance, a debtor defending themselves
    ("en", "im not calling you a liar i just need the receipt", None),
    ("en", "nobody is saying you are a deadbeat", None),
    ("en", "you're not a deadbeat, things happen", None),
    ("en", "nobody here thinks you're a loser", None),
    ("en", "don't let anyone call you a deadbeat over this", None),
    ("en", "if anyone calls you a deadbeat, report them", None),
    # ... or of the speaker ("i feel like an idiot, i read the wrong number")
    ("en", "i feel like an idiot, i read the wrong number", None),
    ("en", "im such an idiot i misread it", None),
    # ... or of how someone feels, how no one is treated, what no one is told, what the debtor called us
    ("en", "i know you feel like a loser right now but you're not", None),
    ("en", "a lot of people feel worthless when the bills pile up", None),
    ("en", "we don't treat people like deadbeats here", None),
    ("en", "i'm not going to tell you to shut up, go ahead", None),
    ("en", "you called me a jerk and that's fine, i still want to help", None),
    ("zh", "我们没有把您当老赖", None),
    ("zh", "没人说你是老赖", None),
    ("zh", "我不是老赖 我只是暂时没钱", None),
    ("zh", "我不会叫您老赖 谁都有难处", None),
    # ... or what someone else said
    ("en", "you said were crooks and liars and i get why", None),
    ("en", "you said the last agent called you a deadbeat and im sorry", None),
    ("zh", "您说上次那个人骂您是老赖 这是不对的", None),
    ("zh", "您之前让我滚 我不介意", None),
    # ... unless the denial is rhetorical, a question, or no denial at all
    ("en", "they call you a loser and they are right", "loser"),
    ("en", "you said youd pay you deadbeat", "deadbeat"),
    ("en", "you're a deadbeat", "deadbeat"),
    ("en", "what kind of deadbeat doesnt pay", "deadbeat"),
    ("en", "i'm calling you an idiot", "idiot"),
    ("en", "im talking to a deadbeat", "deadbeat"),
    ("en", "you stupid idiot", "you stupid"),
    ("en", "let them call you a deadbeat then", "deadbeat"),
    ("en", "you should feel worthless", "worthless"),
    ("en", "you must feel like a loser", "loser"),
    ("en", "i told you to shut up", "shut up"),
    # said of the speaker
    ("en", "i'd hate to come across as a jerk on a monday morning", None),
    ("en", "i'd be an idiot to promise you that", None),
    ("en", "my kids call me a clown", None),
    ("en", "don't feel like a loser, this happens to lots of people", None),
    ("en", "theres nothing pathetic about asking for help", None),
    ("en", "you paid nothing, clown", "clown"),
    # what the debtor said, reported back
    ("en", "you said quote go to hell, id still like to help", None),
    ("en", "you told me to shut up last time", None),
    ("en", "you told me to get lost, well go to hell", "go to hell"),
    ("en", "i think you are being an idiot", "idiot"),
    ("en", "you were being a jerk", "jerk"),
    ("en", "i hope you dont feel like a loser because you are one", "loser"),
    ("en", "dont be an idiot", "idiot"),
    ("en", "i was a total idiot", None),
    ("en", "losing a job doesnt make you a bum", None),
    ("en", "there is no such thing as a deadbeat on my list", None),
    ("en", "you told me you feel worthless about it", None),
    ("en", "your sister called you a loser, i am sorry", None),
    ("en", "i called you a loser", "loser"),
    ("en", "you seem worried we think youre a freeloader", None),
    ("en", "what a clown i am this morning", None),
    ("en", "we would never call a customer a liar", None),
    ("en", "somebody labeled you a lowlife in the notes", None),
    ("en", "getting called a parasite must have hurt", None),
    ("en", "i sounded like an idiot", None),
    ("en", "id be ashamed to be a deadbeat like you", "deadbeat"),
    ("en", "i think yall are being idiots", "idiots"),
    ("en", "dont feel like a loser you are one", "loser"),
    ("en", "its nothing idiot", "idiot"),
    ("zh", "你不是老赖谁是老赖", "老赖"),
    ("zh", "你不是老赖吗", "老赖"),
    ("zh", "你是不是傻逼", "傻逼"),
    ("zh", "你连这个都不会 白痴", "白痴"),
    ("zh", "没见过你这种老赖", "老赖"),
    # the listener's own words reported
    ("en", "so i heard you call this bullshit, fair enough", None),
    ("en", "you said this whole thing is a crock of shit and i get that", None),
    ("en", "nobody's calling you a liar, i just need the date", None),
    ("en", "the last agent had no right to call you stupid", None),
    ("en", "we had no reason to call you a liar and i'm sorry", None),
    ("en", "i have every right to call you stupid", "you stupid"),
    ("en", "no reason to call you an idiot except that you are one", "idiot"),
    ("en", "you said it is bullshit and it is bullshit", "bullshit"),  # the second time it is the agent's
    ("zh", "您刚才说去你妈的 我知道是气话", None),
    ("zh", "您说你们不得好死 这句我当没听见", None),
    ("zh", "我宁可去死也不想拖累孩子", None),  # despair, not a curse
    ("zh", "你去死吧", "去死"),
])
def test_a_term_said_of_no_one_is_not_a_hit(language, text, term):
    lexicon = OffensiveLexicon.load(language)
    assert lexicon.find(normalize(text, language)) == term


def test_empty_text_scores_zero_and_results_keep_order(en):
    scores = en.score(["", "  ...  ", "you loser", "thanks"])
    assert [s.probability for s in scores[:2]] == [0.0, 0.0]
    assert scores[2].evidence == "loser" and scores[3].evidence is None
    assert en.score([]) == []


def test_scores_are_frozen_dataclasses(en):
    [score] = en.score(["you loser"])
    assert isinstance(score, OffensiveScore)
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.probability = 0.0  # type: ignore[misc]


def test_detectors_are_loaded_once_per_language():
    assert OffensiveLanguageDetector.for_language("zh") is OffensiveLanguageDetector.for_language("zh-CN")
    assert OffensiveLanguageDetector.for_language("en") is OffensiveLanguageDetector.for_language("en-US")
    with pytest.raises(ConfigError, match="languages: en, zh"):
        OffensiveLanguageDetector.for_language("fr")


def test_scoring_from_many_threads_gives_the_same_results(en, zh):
    lines = [t for t, _ in OFFENSIVE_EN] + ORDINARY_EN
    expected = en.score(lines), zh.score(ORDINARY_ZH)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: (en.score(lines), zh.score(ORDINARY_ZH)), range(32)))
    assert all(r == expected for r in results)


def test_english_numpy_scorer_equals_profanity_check(en):
    from profanity_check import predict_prob

    lines = ORDINARY_EN + [t for t, _ in OFFENSIVE_EN] + ["", "Ünïcode Straße", "you little whore"]
    ours = [en.model.predict(line)[0] for line in lines]
    assert np.allclose(ours, predict_prob(lines), rtol=0, atol=1e-9)


def test_the_english_model_is_read_from_the_package_once_then_from_the_cache(tmp_path, monkeypatch):
    """Unpickling profanity-check's model imports scikit-learn (over a second of a start): its arrays
    are kept in the cache and score the same; a cached copy that cannot be read is made again."""
    from coach.text import offensive

    lines = ORDINARY_EN + [t for t, _ in OFFENSIVE_EN] + ["you little whore"]
    first = offensive._cached_profanity_check_model(tmp_path)
    (cached,) = (tmp_path / "models").glob("profanity-check-*.npz")
    reads = []
    package_model = offensive._profanity_check_model
    monkeypatch.setattr(offensive, "_profanity_check_model", lambda: reads.append(1) or package_model())
    again = offensive._cached_profanity_check_model(tmp_path)
    assert reads == [] and [again.predict(t) for t in lines] == [first.predict(t) for t in lines]
    cached.write_bytes(cached.read_bytes()[:100])  # cut short
    mended = offensive._cached_profanity_check_model(tmp_path)
    assert reads == [1] and [mended.predict(t) for t in lines] == [first.predict(t) for t in lines]
    assert LinearTextModel.load(cached).terms == first.terms


def _sklearn_pipeline(model: LinearTextModel):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=model.ngram_range, sublinear_tf=model.sublinear_tf,
                                 vocabulary=model.index)
    vectorizer.idf_ = model.idf
    classifier = LogisticRegression()
    classifier.coef_, classifier.intercept_, classifier.classes_ = model.coef, model.intercept, np.array([0, 1])
    return lambda texts: classifier.predict_proba(vectorizer.transform(texts))[:, 1]


def _cold_sample(split: str, n: int) -> list[str]:
    import csv

    with open(COLD / f"{split}.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return [row["TEXT"] for row in rows[:: max(1, len(rows) // n)]][:n]


def test_chinese_numpy_scorer_equals_sklearn_on_the_shipped_model(zh):
    from coach.text.normalize import normalize

    texts = ORDINARY_ZH + [t for t, _ in OFFENSIVE_ZH] + ["", "a  b", "ABC abc 123"]
    if (COLD / "test.csv").is_file():
        texts += _cold_sample("test", 400)
    texts = [normalize(t, "zh") for t in texts]
    reference = _sklearn_pipeline(zh.model)(texts)
    assert np.allclose([zh.model.predict(t)[0] for t in texts], reference, rtol=0, atol=1e-9)
    assert len(zh.model.terms) <= 30_000 and ZH_MODEL_PATH.stat().st_size < 5_000_000


def test_a_model_saved_and_loaded_scores_as_sklearn_does(tmp_path):
    """The path the training script takes, on a toy corpus."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = ["他们都是坏人", "这里的人都很懒", "那个地方的人不行", "今天天气很好", "我去上班了", "谢谢你的帮助"] * 3
    labels = [1, 1, 1, 0, 0, 0] * 3
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, max_features=50)
    classifier = LogisticRegression(C=4).fit(vectorizer.fit_transform(texts), labels)
    model = LinearTextModel(vectorizer.get_feature_names_out(), vectorizer.idf_, classifier.coef_,
                            classifier.intercept_, analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    model.save(tmp_path / "toy.npz", note="toy")
    loaded = LinearTextModel.load(tmp_path / "toy.npz")
    probes = texts[:6] + ["坏人很懒", "天气", "xyz"]
    expected = classifier.predict_proba(vectorizer.transform(probes))[:, 1]
    assert np.allclose([loaded.predict(t)[0] for t in probes], expected, rtol=0, atol=1e-12)
    with np.load(tmp_path / "toy.npz", allow_pickle=False) as data:  # arrays only: no pickle needed
        assert "vocabulary" in data.files


def test_a_missing_model_is_a_clear_coach_error(tmp_path):
    with pytest.raises(ModelUnavailableError, match="missing") as info:
        OffensiveLanguageDetector.load("zh", model_path=tmp_path / "offensive_zh.npz")
    assert "train_offensive_zh.py" in str(info.value) and isinstance(info.value, CoachError)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_arrays", "pickled"])
def test_a_corrupt_model_is_a_clear_coach_error(tmp_path, damage):
    path = tmp_path / "offensive_zh.npz"
    if damage == "garbage":
        path.write_bytes(b"not a model at all")
    elif damage == "truncated":
        path.write_bytes(ZH_MODEL_PATH.read_bytes()[:50_000])
    elif damage == "wrong_arrays":
        np.savez(path, vocabulary=np.array(["a", "b"]), idf=np.ones(3), coef=np.ones((1, 2)), intercept=np.zeros(1))
    else:
        np.savez(path, vocabulary=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelUnavailableError, match="unreadable"):
        OffensiveLanguageDetector.load("zh", model_path=path)


@pytest.mark.parametrize("of_others", [
    "  of_others:\n    - pattern: '(?:some {insult}|those {insult})'\n  of_others_not_before: 'x'\n",  # {insult} twice
    "  of_others:\n    - pattern: 'some {insult}'\n      not_after: '(unclosed'\n  of_others_not_before: 'x'\n",
    "  of_others:\n    - pattern: 'some {insult}'\n",  # no of_others_not_before
])
def test_a_lexicon_with_a_broken_of_others_entry_is_a_clear_coach_error(tmp_path, of_others):
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text("en:\n  terms: [idiot]\n  insults: [jerk]\n" + of_others, encoding="utf-8")
    with pytest.raises(ModelUnavailableError, match="lexicon"):
        OffensiveLexicon.load("en", lexicon)


def test_a_broken_lexicon_or_a_missing_package_is_a_clear_coach_error(tmp_path, monkeypatch):
    broken = tmp_path / "lexicon.yaml"
    broken.write_text("en: [unclosed\n", encoding="utf-8")
    with pytest.raises(ModelUnavailableError, match="lexicon"):
        OffensiveLanguageDetector.load("en", lexicon_path=broken)
    # not installed: neither importable nor known to the package metadata (a copy cached from an
    # earlier install is not used then)
    import importlib.metadata

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setitem(sys.modules, "profanity_check", None)
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    with pytest.raises(ModelUnavailableError, match="alt-profanity-check"):
        OffensiveLanguageDetector.load("en")


#: Lines, the lexicon's hit on them, and how it reads them with the excused insult taken off the listener.
INSULTS_OF_OTHERS_EN = [
    # an insult said of someone else reads as "person" ...
    ("some jerk stole your identity", None, "some person stole your identity"),
    ("the crook who took your wallet used the card", None, "the person who took your wallet used the card"),
    ("those scumbags at the other agency lied to you", None, "those people at the other agency lied to you"),
    # ... but not of the person on the line, nor profanity
    ("youre just some loser", "loser", None),
    ("you are some kind of idiot", "idiot", None),
    ("those deadbeats like you never pay", "deadbeats", None),
    ("the idiot that you are", "idiot", None),
    ("some fucking idiot stole your card", "fucking", None),
    ("some asshole stole your card", "asshole", None),
    ("the other guy was a real jerk", None, "the other guy was a real person"),  # a third person's
    ("my computer is being a real jerk today", None, "my computer is being a real person today"),
    ("you really are a clown", "clown", None),
    ("you were a jerk", "jerk", None),
    ("he is such an idiot and so are you", "idiot", None),
    ("the old company were a bunch of clowns", None, "the old company were a bunch of people"),
    ("a thief used your card in ohio", None, "a person used your card in ohio"),
    ("you and your sister are both bums", "bums", None),
    ("people like you are freeloaders", "freeloaders", None),
    ("some lowlifes skip out and you seem to be one of them", "lowlifes", None),
    ("youre really some kind of idiot", "idiot", None),  # the listener, words before
    ("you are like the other deadbeats", "deadbeats", None),
    ("another deadbeat that cant pay", "deadbeat", None),
    ("the deadbeat who owes this debt is you", "deadbeat", None),  # the listener, words after
    ("other deadbeats pay why cant you", "deadbeats", None),
    ("identity thieves can be real idiots", None, "identity thieves can be real people"),
    ("you can be a real idiot sometimes", "idiot", None),
    ("you guys can be real idiots", "idiots", None),
    # what an excused word other than an insult is read as: nothing
    ("you told me to go to hell last time", None, "you told me to   last time"),
    ("you called me a jackass", None, "you called me a  "),
]

INSULTS_OF_OTHERS_ZH = [
    # fraudsters, thieves and third parties: the insult reads as 人 ...
    ("最近骗子特别多有人让您转账千万别信", None, "最近人特别多有人让您转账千万别信"),
    ("小心那些冒充客服的骗子", None, "小心那些冒充客服的人"),
    ("您钱包是被小偷偷走的吧", None, "您钱包是被人偷走的吧"),
    ("隔壁那个司机真是混蛋", None, "隔壁那个司机真是人"),
    ("我真是个笨蛋把日期看错了", None, "我真是个人把日期看错了"),  # the speaker
    ("您朋友骂您是废物那是他不对", None, "您朋友骂您是人那是他不对"),  # someone else's words
    ("您说房东是个无赖押金一直不退", None, "您说房东是个人押金一直不退"),  # the listener's own words, reported
    ("对方跟个无赖似的 押金一直不退", None, "对方跟个人似的 押金一直不退"),  # likened, someone else named
    # ... but not when it is the person on the line
    ("你这个老赖还好意思说", "老赖", None),
    ("像你这种骗子我见得多了", "骗子", None),
    ("那些老赖说的就是你", "老赖", None),
    ("那个骗子就是你吧", "骗子", None),
    ("你们一家都是无赖", "无赖", None),
    ("你这人真是个废物", "废物", None),
    ("你说说你这个老赖", "老赖", None),
    ("谁说你不是骗子", "骗子", None),  # a rhetorical denial is an accusation
]


@pytest.mark.parametrize(("language", "text", "hit", "read_as"), [("en", *case) for case in INSULTS_OF_OTHERS_EN]
                         + [("zh", *case) for case in INSULTS_OF_OTHERS_ZH])
def test_an_insult_said_of_someone_else_is_not_a_hit(language, text, hit, read_as):
    lexicon = OffensiveLexicon.load(language)
    assert lexicon.find(text) == hit
    assert lexicon.reading(text)[1] == read_as


@pytest.mark.parametrize(("text", "hit"), [
    ("您放心，那些骗子不会知道您的账户信息", None),  # the listener is in the clause before
    ("您放心 那些骗子的短信我们也提醒过很多客户", None),  # a recogniser's space between the phrases
    ("你们，这些骗子", "骗子"),  # the listener, named just before the break
    ("那些老赖，说的就是你", "老赖"),  # and just after it
    ("你 老赖", "老赖"),
])
def test_the_chinese_lexicon_reads_a_line_clause_by_clause(zh, text, hit):
    """Normalising drops the punctuation and the spaces between Chinese phrases; read so, "您放心，那些骗子"
    had 您 four characters before 那些骗子, and the insult was said to the listener."""
    score = zh.score([text])[0]
    assert (score.evidence if score.method == METHOD_LEXICON else None) == hit
    assert (score.probability >= THRESHOLD) is (hit is not None)


def test_the_english_model_reads_an_excused_insult_as_person():
    """profanity-check alone reads "idiot" at 0.89 and 0.99 here, whoever it is said of."""
    detector = OffensiveLanguageDetector.for_language("en")
    assert detector.score(["if some idiot at the store charged you twice we can dispute that"])[0].probability < 0.5
    assert detector.score(["sorry, i'm such an idiot, i read the wrong account"])[0].probability < 0.5
    assert detector.score(["if you idiot had paid we would not be here"])[0].probability >= 0.9


@pytest.mark.parametrize(("text", "read_as"), [
    # said of a thing, or of no one: read as "person", so the model no longer hears it
    ("our stupid system logged me out", "our person system logged me out"),
    ("sorry, my dumb headset again", "sorry my person headset again"),
    ("the system's being dumb today", "the systems being person today"),
    ("you're not stupid for asking", "youre not person for asking"),
    ("sorry the system is so stupid today", "sorry the system is so person today"),
    # said to the listener, or of what they did: no hit of its own, the model decides
    ("you're being stupid", None),
    ("that was a stupid thing to do", None),
    ("stop being dumb and pay", None),
    ("your stupid phone", None),
    ("stay on the line stupid", None),  # a thing named just before, said to the listener
    ("don't give me that stupid line again", None),  # the line is the listener's excuse
])
def test_a_soft_insult_is_excused_of_a_thing_and_otherwise_left_to_the_model(en, text, read_as):
    """profanity-check reads "stupid" and "dumb" at 0.76-0.94 in "our stupid system logged me out";
    listed as hits, they would stay abuse in a lawful kind of line ("dumb question on my part")."""
    lexicon = OffensiveLexicon.load("en")
    clean = normalize(text, "en")
    assert lexicon.find(clean) is None
    assert lexicon.reading(clean)[1] == read_as
    score = en.score([text])[0]
    assert (score.probability >= THRESHOLD) is (read_as is None)
    assert score.method != METHOD_LEXICON


def test_lexicon_matches_whole_words_and_plurals():
    lexicon = OffensiveLexicon("en", ["loser", "you people"], ["my people"])
    assert lexicon.find("you losers") == "losers"
    assert lexicon.find("closer to the date") is None
    assert lexicon.find("what do you people want") == "you people"
    assert OffensiveLexicon("en", []).find("anything") is None


def test_the_wheel_carries_the_model_and_the_lexicon(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(ROOT)],
        check=True, timeout=300,
    )
    wheel = next(tmp_path.glob("coach-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"coach/text/data/offensive_zh.npz", "coach/text/data/offensive_lexicon.yaml"} <= set(names)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    probe = ("import coach.text.offensive as o; print(o.__file__); "
             "print(o.OffensiveLanguageDetector.for_language('zh').score(['你个傻逼'])[0].evidence)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}).stdout
    assert str(target) in out and "傻逼" in out
