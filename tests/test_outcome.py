"""Call outcome and summary: hand-built events for each outcome, date and amount reading, and the
real engine on the bundled sample calls in both languages."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from conftest import EXAMPLES, run_call

from coach.events import CheckResult, ComplianceEvent, IntentEvent, ScorecardEvent, SentimentEvent, UtteranceEvent
from coach.outcome import determine_outcome, find_amount, find_due_date, is_recap, stated_amounts, summarize
from coach.transcript import load_call

STARTED = datetime(2026, 3, 10, 14, 5)  # a Tuesday
BASE = STARTED.date()


class Call:
    """Builds a call's events by hand: utterances numbered in order, intents on the last one."""

    def __init__(self) -> None:
        self.events: list = []
        self.next_id = 0

    def say(self, speaker: str, text: str, intent: str | None = None, confidence: float = 0.9, name: str = "",
            kind: str = "objection", emotion: str | None = None) -> Call:
        uid = self.next_id
        self.next_id += 1
        self.events.append(UtteranceEvent(call_id="c", utterance_id=uid, time=uid, speaker=speaker, text=text,
                                          start=uid, end=uid + 1))
        if emotion:
            self.events.append(SentimentEvent(call_id="c", utterance_id=uid, speaker=speaker, label=emotion, valence=0,
                                              confidence=0.8, method="lexical"))
        if intent:
            self.events.append(IntentEvent(
                call_id="c", utterance_id=uid, intent=intent, name=name or intent, kind=kind, confidence=confidence,
                evidence="a playbook example", method="lexical", suggestions=[], ref=f"p@1#intents/{intent}",
            ))
        return self

    def violation(self, rule_id: str, severity: str) -> Call:
        self.events.append(ComplianceEvent(
            call_id="c", utterance_id=self.next_id - 1, rule_id=rule_id, name=rule_id, severity=severity, message="m",
            evidence="e", citation="c", confidence=1, method="phrase", ref="r",
        ))
        return self

    def scorecard(self, score: float, identity_verified: bool = True) -> Call:
        self.events.append(ScorecardEvent(
            call_id="c", utterance_id=None, score=score, stages=[], metrics={}, violations={}, objections={}, ref="r",
            checks=[CheckResult(id="identity_verified", name="Identity verified", passed=identity_verified, weight=1)],
        ))
        return self


# -- outcomes from hand-built events -------------------------------------------------------------


def test_promise_in_english_reads_terms_from_the_agent_recap():
    call = (Call().say("agent", "how much can you pay")
            .say("debtor", "i can do two hundred on friday", "promise_to_pay", 0.8, kind="commitment")
            .say("agent", "great just to confirm you will pay $200 on friday march 13th by debit card")
            .say("debtor", "yes"))
    outcome = determine_outcome(call.events, "en", STARTED)
    assert outcome.kind == "promise_to_pay"
    assert (outcome.amount, outcome.currency) == (200.0, "USD")
    assert outcome.due_date == date(2026, 3, 13) and outcome.due_text == "friday march 13th"
    assert outcome.utterance_id == 1 and outcome.evidence == "i can do two hundred on friday"
    assert outcome.terms_utterance_id == 2
    assert outcome.confidence == pytest.approx(0.9)  # the debtor's 0.8, confirmed by the recap


def test_promise_in_chinese_with_relative_date():
    call = (Call().say("agent", "您看什么时候能还")
            .say("debtor", "我下周五发工资 下周五还两千", "promise_to_pay", kind="commitment")
            .say("agent", "好的 跟您确认一下 您下周五通过手机银行还款两千元 对吗").say("debtor", "对"))
    outcome = determine_outcome(call.events, "zh", STARTED)
    assert outcome.kind == "promise_to_pay"
    assert (outcome.amount, outcome.currency) == (2000.0, "CNY")
    assert outcome.due_date == date(2026, 3, 20) and outcome.due_text == "下周五"


def test_promise_without_recap_reads_the_debtor_and_the_agents_proposal():
    call = (Call().say("agent", "could you do $150 by the end of the month")
            .say("debtor", "yeah that works", "promise_to_pay", 0.7, kind="commitment"))
    outcome = determine_outcome(call.events, "en", STARTED)
    assert outcome.kind == "promise_to_pay" and outcome.amount == 150
    assert outcome.due_date == date(2026, 3, 31) and outcome.terms_utterance_id == 0


def test_a_figure_far_above_the_balance_is_misheard_not_promised():
    """Speech recognition ran "还 五千二百三是吧" together into "海5200348" (the zh-cooperative sample,
    a 5,230 yuan balance): not a promise of 5.2 million; the agent's proposal before it is read instead."""
    call = (Call().say("agent", "您看今天能还五千二百三十元吗")
            .say("debtor", "我今天下午去用手机银行海5200348", "promise_to_pay", kind="commitment"))
    assert determine_outcome(call.events, "zh", STARTED).amount == 5200348  # no balance known: as heard
    outcome = determine_outcome(call.events, "zh", STARTED, balance=5230.0)
    assert outcome.kind == "promise_to_pay" and outcome.amount == 5230 and outcome.terms_utterance_id == 0
    for unusable in (0.0, -5.0, float("nan")):  # metadata accepts any float: such a balance says nothing
        assert determine_outcome(call.events, "zh", STARTED, balance=unusable).amount == 5200348
    paying_it_all = Call().say("debtor", "ill pay the whole 1240 today", "promise_to_pay", kind="commitment")
    assert determine_outcome(paying_it_all.events, "en", STARTED, balance=1243.5).amount == 1240


def test_without_a_start_time_the_date_stays_text():
    call = Call().say("debtor", "ill pay fifty dollars next friday", "promise_to_pay", kind="commitment")
    outcome = determine_outcome(call.events, "en")
    assert outcome.due_date is None and outcome.due_text == "next friday" and outcome.amount == 50


def test_the_last_decisive_intent_wins():
    refusal_then_promise = (Call().say("debtor", "im not paying", "refuse_to_pay")
                            .say("debtor", "fine ill pay a hundred tomorrow", "promise_to_pay", kind="commitment"))
    outcome = determine_outcome(refusal_then_promise.events, "en", STARTED)
    assert outcome.kind == "promise_to_pay" and outcome.due_date == date(2026, 3, 11) and outcome.amount == 100
    promise_then_refusal = (Call().say("debtor", "ok ill pay a hundred tomorrow", "promise_to_pay", kind="commitment")
                            .say("debtor", "actually no forget it stop calling me", "stop_calling"))
    outcome = determine_outcome(promise_then_refusal.events, "en", STARTED)
    assert outcome.kind == "refusal" and outcome.amount is None and outcome.source == "stop_calling"


def test_a_second_objection_of_the_same_turn_decides_nothing():
    """The turn's top hint (its first intent event) decides; an objection said beside it does not."""
    call = Call().say("debtor", "ill pay it friday and take me off your list", "promise_to_pay", kind="commitment")
    call.events.append(IntentEvent(call_id="c", utterance_id=0, intent="stop_calling", name="stop_calling",
                                   kind="objection", confidence=0.85, evidence="take me off your list", method="keyword",
                                   suggestions=[], ref="p@1#intents/stop_calling"))
    assert determine_outcome(call.events, "en", STARTED).kind == "promise_to_pay"


def test_objections_that_decide_nothing_leave_no_outcome():
    call = Call().say("debtor", "i lost my job", "cannot_afford").say("debtor", "let me think about it", "stalling")
    outcome = determine_outcome(call.events, "en", STARTED)
    assert outcome.kind == "none" and outcome.utterance_id is None


@pytest.mark.parametrize(
    ("intent", "kind"),
    [("refuse_to_pay", "refusal"), ("stop_calling", "refusal"), ("legal_representation", "refusal"),
     ("dispute_amount", "dispute"), ("not_my_debt", "dispute"), ("request_validation", "dispute"),
     ("already_paid", "dispute"), ("bad_time", "callback"), ("wrong_party", "wrong_party")],
)
def test_intent_to_outcome(intent, kind):
    call = Call().say("agent", "hello").say("debtor", "some words", intent, 0.8)
    outcome = determine_outcome(call.events, "en", STARTED)
    assert outcome.kind == kind and outcome.confidence == pytest.approx(0.8) and outcome.utterance_id == 1


def test_callback_date_from_the_debtor_or_the_agents_answer():
    call = Call().say("debtor", "im driving right now can you call me back tomorrow", "bad_time")
    outcome = determine_outcome(call.events, "en", STARTED)
    assert outcome.kind == "callback" and outcome.due_date == date(2026, 3, 11) and outcome.amount is None
    call = Call().say("debtor", "我在开会 不方便", "bad_time").say("agent", "好的 那我明天下午再给您打过来")
    outcome = determine_outcome(call.events, "zh", STARTED)
    assert outcome.kind == "callback" and outcome.due_date == date(2026, 3, 11) and outcome.due_text == "明天"


def test_a_third_partys_words_decide_only_wrong_party():
    call = (Call().say("third_party", "he doesnt owe anything", "not_my_debt")
            .say("third_party", "he isnt here", "wrong_party"))
    assert determine_outcome(call.events, "en").kind == "wrong_party"
    # the debtor came to the phone and was verified: the earlier "not here" no longer counts
    call.say("debtor", "yes this is him").say("debtor", "i cant afford it", "cannot_afford").scorecard(80)
    assert determine_outcome(call.events, "en").kind == "none"


def test_a_verified_debtor_speaking_of_a_death_was_reached():
    """"My husband passed away" from the verified debtor is a bereavement, not a wrong party."""
    call = (Call().say("debtor", "yes this is laura").say("debtor", "we lost my father in law in the spring", "deceased")
            .scorecard(80))
    assert determine_outcome(call.events, "en").kind == "none"
    never_verified = Call().say("debtor", "he passed away in june", "deceased").scorecard(30, False)
    assert determine_outcome(never_verified.events, "en").kind == "wrong_party"


def test_asking_not_to_be_called_at_work_keeps_the_promise():
    """Where not to be called says nothing about paying: the promise before it stands."""
    for language, promise, place in (("en", "i can pay one hundred dollars on friday", "please stop calling my work"),
                                     ("zh", "我周五还一百", "别再打到我单位了")):
        call = (Call().say("debtor", promise, "promise_to_pay", kind="commitment")
                .say("debtor", place, "stop_calling"))
        assert determine_outcome(call.events, language, STARTED).kind == "promise_to_pay", language
    # a place named beside a refusal is still a refusal
    for language, refusal in (("en", "i lost my job so stop calling me"), ("zh", "我被公司开除了 别再打了")):
        call = (Call().say("debtor", "ok ill pay fifty on friday", "promise_to_pay", kind="commitment")
                .say("debtor", refusal, "stop_calling"))
        assert determine_outcome(call.events, language, STARTED).kind == "refusal", language


def test_wrong_party_stays_when_identity_was_never_verified():
    call = Call().say("debtor", "wrong number", "wrong_party").say("debtor", "no idea who that is").scorecard(40, False)
    assert determine_outcome(call.events, "en").kind == "wrong_party"


def test_no_contact_when_only_the_agent_speaks():
    call = Call().say("agent", "hi this message is for john smith please call us back")
    assert determine_outcome(call.events, "en").kind == "no_contact"
    assert determine_outcome([], "zh").kind == "no_contact"


def test_payment_made_during_the_call():
    call = (Call().say("debtor", "ok run my card for three hundred now", "promise_to_pay", kind="commitment")
            .say("agent", "thank you your payment of $300 has been processed and your confirmation number is 5521"))
    outcome = determine_outcome(call.events, "en", STARTED)
    assert outcome.kind == "payment_made" and outcome.amount == 300 and outcome.source == "payment_confirmation"
    call = (Call().say("debtor", "好 我现在就转", "promise_to_pay", kind="commitment")
            .say("agent", "好的 已经收到您的还款一千元 谢谢"))
    outcome = determine_outcome(call.events, "zh", STARTED)
    assert outcome.kind == "payment_made" and outcome.amount == 1000 and outcome.currency == "CNY"


def test_asking_for_a_confirmation_number_is_no_payment():
    """"Do you have a confirmation number" checks a payment the debtor says they made before the call:
    the call came to a dispute, not a payment taken."""
    call = (Call().say("debtor", "i sent that money back in february", "already_paid")
            .say("agent", "ok can you give me the confirmation number from that payment so i can trace it"))
    assert determine_outcome(call.events, "en", STARTED).kind == "dispute"
    for asked in ("do you have a confirmation number for that payment", "whats the confirmation number for that one"):
        call = Call().say("debtor", "i sent that money back in february", "already_paid").say("agent", asked)
        assert determine_outcome(call.events, "en", STARTED).kind == "dispute", asked
    for given in ("done, the confirmation number for today's payment is 7 7 1 2", "here's your confirmation number: 4 4 7 1.",
                  "okay, you're all set. confirmation number is 7712."):
        call = Call().say("debtor", "ok put it on my visa", "promise_to_pay", kind="commitment").say("agent", given)
        assert determine_outcome(call.events, "en", STARTED).kind == "payment_made", given


def test_a_balance_statement_is_not_a_recap():
    assert not is_recap("just to confirm your balance as of today is $500", "en")
    assert is_recap("just to confirm you will pay $200 on march 16th", "en")
    assert is_recap("so thats $75 on friday april third from your checking account", "en")
    assert not is_recap("跟您确认一下 您目前的欠款总额是三千元", "zh")
    assert is_recap("跟您确认一下 您四月一号之前还款三百元 对吗", "zh")


@pytest.mark.parametrize(("text", "language", "recap"), [
    ("行 我给您登记一下 下周三之前先还两千", "zh", True),  # terms written down are terms restated
    ("那就说定了 十五号还一千五", "zh", True),
    ("我登记一下您律师的电话", "zh", False),  # no date, no payment
    ("我登记一下 您说上周三已经还过五百了", "zh", False),  # a payment already made
    ("那就后天这个时候再给您打电话", "zh", False),  # the next call
    ("那就周四之前全还上 不然我们就派人上门", "zh", False),  # a demand with a threat
    ("ok ill put you down for one fifty on the twentieth", "en", True),
    ("let me go over it, if you dont pay by monday this goes to our attorneys", "en", False),
    ("to summarize, the payment due on the fifth was missed", "en", False),
])
def test_terms_written_down_are_a_recap(text, language, recap):
    assert is_recap(text, language) is recap


# -- dates and amounts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "phrase"),
    [
        ("ill pay friday", date(2026, 3, 13), "friday"),
        ("next friday", date(2026, 3, 20), "next friday"),
        ("this friday", date(2026, 3, 13), "this friday"),
        ("on the 15th", date(2026, 3, 15), "the 15th"),
        ("on the fifteenth", date(2026, 3, 15), "the fifteenth"),
        ("on the 9th", date(2026, 4, 9), "the 9th"),  # already passed this month
        ("by the end of the month", date(2026, 3, 31), "the end of the month"),
        ("tomorrow", date(2026, 3, 11), "tomorrow"),
        ("tonight", date(2026, 3, 10), "tonight"),
        ("in two weeks", date(2026, 3, 24), "in two weeks"),
        ("in 3 days", date(2026, 3, 13), "in 3 days"),
        ("November 30", date(2026, 11, 30), "November 30"),
        ("march thirty first", date(2026, 3, 31), "march thirty first"),
        ("the 2nd of april", date(2026, 4, 2), "the 2nd of april"),
        ("on 4/15", date(2026, 4, 15), "4/15"),
        ("the first friday in april", date(2026, 4, 3), "the first friday in april"),
        ("march 1st", date(2027, 3, 1), "march 1st"),  # passed this year
        ("next week", date(2026, 3, 16), "next week"),
        ("next month", date(2026, 4, 1), "next month"),
    ],
)
def test_english_dates(text, expected, phrase):
    assert find_due_date(text, "en", BASE) == (expected, phrase)


@pytest.mark.parametrize(
    ("text", "expected", "phrase"),
    [
        ("我下周五还", date(2026, 3, 20), "下周五"),
        ("明天就还", date(2026, 3, 11), "明天"),
        ("后天", date(2026, 3, 12), "后天"),
        ("15号之前", date(2026, 3, 15), "15号"),
        ("二十号", date(2026, 3, 20), "二十号"),
        ("月底之前还清", date(2026, 3, 31), "月底"),
        ("下个月底", date(2026, 4, 30), "下个月底"),
        ("三月十号", date(2026, 3, 10), "三月十号"),
        ("四月一号之前", date(2026, 4, 1), "四月一号"),
        ("下个月一号", date(2026, 4, 1), "下个月一号"),
        ("这周五", date(2026, 3, 13), "这周五"),
        ("星期天", date(2026, 3, 15), "星期天"),
        ("三天之内", date(2026, 3, 13), "三天之内"),
        ("2026年5月3日", date(2026, 5, 3), "2026年5月3日"),
        ("今天下午 也就是三月十号", date(2026, 3, 10), "三月十号"),
    ],
)
def test_chinese_dates(text, expected, phrase):
    assert find_due_date(text, "zh", BASE) == (expected, phrase)


@pytest.mark.parametrize(
    ("text", "language"),
    [("thirty days", "en"), ("the first payment", "en"), ("may i speak with john", "en"), ("尾号八八一二", "zh"),
     ("逾期三个多月", "zh"), ("十一点了", "zh"), ("工号三零二一", "zh")],
)
def test_not_dates(text, language):
    assert find_due_date(text, language, BASE) is None


@pytest.mark.parametrize(
    ("text", "language", "amount"),
    [
        ("so two hundred on the sixteenth", "en", 200),
        ("you will pay $1,243.50 on march 16th", "en", 1243.5),
        ("seventy five i could probably do that", "en", 75),
        ("ill pay 2k friday", "en", 2000),
        ("card ending in 1111 two hundred", "en", 200),
        ("12 payments of 100 dollars", "en", 100),
        ("two fifty on the 15th", "en", 250),  # hundreds left unsaid, as prices are said
        ("three seventy five on the first", "en", 375),
        ("last four 8812 take two hundred today", "en", 200),  # the card's digits are no amount
        ("i get paid at 2 30 so i can do 100", "en", 100),  # nor a time
        ("先还三百可以吗", "zh", 300),
        ("尾号八八一二的信用卡还款五千二百三十元", "zh", 5230),
        ("我这个月二十号之前还两千", "zh", 2000),
        ("我十五号还2000块", "zh", 2000),
        ("一万五", "zh", 15000),
    ],
)
def test_amounts(text, language, amount):
    found = find_amount(text, language)
    assert found is not None and found[0] == amount


def test_no_amount():
    assert find_amount("i get paid on the fifteenth", "en") is None
    assert find_amount("分十二期", "zh") is None
    assert find_amount("put it on my card the last four are 5567", "en") is None
    assert find_amount("call me back at two thirty", "en") is None
    assert find_amount("two fifteen pm works", "en") is None


# -- summary -------------------------------------------------------------------------------------


def _sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.。])\s*", text) if s])


def test_summary_in_english():
    call = (Call().say("debtor", "i lost my job", "cannot_afford", name="Cannot afford", emotion="anxious")
            .say("agent", "you will go to jail").violation("US-THREAT", "S1").violation("US-THREAT", "S1")
            .say("debtor", "ok ill pay $100 on the 15th", "promise_to_pay", name="Promise to pay", kind="commitment",
                 emotion="calm")
            .say("debtor", "thanks", emotion="calm").scorecard(42.4))
    outcome = determine_outcome(call.events, "en", STARTED)
    text = summarize(call.events, outcome, "en")
    assert text == (
        "Outcome: the debtor promised to pay $100 on Sunday, March 15, 2026. Objections raised: Cannot afford. "
        "The debtor was calm in 2 of 3 turns, anxious in 1; ended calm. Compliance issues: 2 S1 (US-THREAT); QA score 42/100."
    )


def test_a_call_that_turned_hostile_is_not_summarised_as_calm():
    """Identity answers and dates read calm: the summary counts each feeling instead of saying
    "mostly calm" about a debtor who got angry and hung up."""
    call = Call()
    for text in ("yes who is this", "why", "fine july ninth", "its dana"):
        call = call.say("debtor", text, emotion="calm")
    call = (call.say("debtor", "i said talk to my lawyer", emotion="angry")
            .say("debtor", "i dont have to tell you that", emotion="evasive")
            .say("debtor", "wow ok im hanging up", emotion="frustrated"))
    text = summarize(call.events, determine_outcome(call.events, "en", STARTED), "en")
    assert "The debtor was calm in 4 of 7 turns, frustrated in 1, evasive in 1, angry in 1; ended frustrated." in text


def test_a_call_failed_on_a_critical_check_is_summarised_so():
    call = Call().say("agent", "we will have you arrested").violation("US-THREAT", "S1")
    call.events.append(ScorecardEvent(
        call_id="c", utterance_id=None, score=0.0, stages=[], metrics={}, violations={}, objections={}, ref="r",
        checks=[CheckResult(id="no_prohibited", name="No S1 violations", passed=False, weight=3, fails_call=True)],
        auto_failed=["no_prohibited"]))
    text = summarize(call.events, determine_outcome(call.events, "en", STARTED), "en")
    assert text.endswith("Compliance issues: 1 S1 (US-THREAT); QA score 0/100 (failed on: No S1 violations).")
    assert summarize(call.events, determine_outcome(call.events, "zh", STARTED), "zh").endswith(
        "质检得分0分（一票否决：No S1 violations）。")


def test_summary_in_chinese():
    call = (Call().say("debtor", "不是我刷的", "not_my_debt", name="否认欠款", emotion="angry")
            .say("agent", "你再不还就坐牢").violation("CN-MISLEAD", "S1")
            .say("agent", "加我微信").violation("CN-CHANNEL", "S2")
            .say("debtor", "别再打了", "stop_calling", name="要求停止来电", emotion="frustrated").scorecard(30))
    outcome = determine_outcome(call.events, "zh", STARTED)
    text = summarize(call.events, outcome, "zh")
    assert text == (
        "结果：客户拒绝还款。客户提出的异议：否认欠款、要求停止来电。客户2句话中不满1句、愤怒1句，结束时不满。"
        "合规问题：S1 1项（CN-MISLEAD），S2 1项（CN-CHANNEL）；质检得分30分。"
    )


def test_summary_of_a_quiet_call_has_two_sentences():
    call = Call().say("agent", "hello is anyone there")
    text = summarize(call.events, determine_outcome(call.events, "en"), "en")
    assert text == "Outcome: no contact; nobody but the agent spoke. No compliance issues were found."
    assert _sentences(text) == 2


# -- the real engine -----------------------------------------------------------------------------


def _analyze(engine, name):
    call = load_call(EXAMPLES / name)
    events = list(engine.analyze(call))
    return events, determine_outcome(events, call.language, call.started_at)


def test_sample_calls_in_english(en_engine):
    events, outcome = _analyze(en_engine, "en-cooperative.json")
    assert (outcome.kind, outcome.amount, outcome.currency) == ("promise_to_pay", 200, "USD")
    assert outcome.due_date == date(2026, 3, 16)
    summary = summarize(events, outcome, "en")
    assert summary.startswith("Outcome: the debtor promised to pay $200 on Monday, March 16, 2026.")
    assert 2 <= _sentences(summary) <= 4

    _, outcome = _analyze(en_engine, "en-hardship.json")
    assert (outcome.kind, outcome.amount, outcome.due_date) == ("promise_to_pay", 75, date(2026, 4, 3))

    events, outcome = _analyze(en_engine, "en-violations.json")
    assert outcome.kind in ("dispute", "refusal") and outcome.amount is None
    summary = summarize(events, outcome, "en")
    assert "S1 (" in summary and "US-THREAT" in summary and "QA score" in summary


def test_sample_calls_in_chinese(zh_engine):
    events, outcome = _analyze(zh_engine, "zh-cooperative.json")
    assert (outcome.kind, outcome.amount, outcome.currency) == ("promise_to_pay", 5230, "CNY")
    assert outcome.due_date == date(2026, 3, 10)
    summary = summarize(events, outcome, "zh")
    assert summary.startswith("结果：客户承诺于2026年3月10日还款5,230元。") and 2 <= _sentences(summary) <= 4

    _, outcome = _analyze(zh_engine, "zh-hardship.json")
    assert (outcome.kind, outcome.amount, outcome.due_date) == ("promise_to_pay", 300, date(2026, 4, 1))

    events, outcome = _analyze(zh_engine, "zh-violations.json")
    assert outcome.kind == "refusal"
    assert "CN-MISLEAD" in summarize(events, outcome, "zh")


EN_OPENING = [
    ("agent", "hi this is sam from crestline recovery services am i speaking with john smith"),
    ("debtor", "yes this is john"),
    ("agent", ("thanks john this is an attempt to collect a debt and any information obtained will be used for that"
               " purpose")),
]
ZH_OPENING = [("agent", "您好 我是锦程银行信用卡中心的客服小李 请问是张伟先生本人吗"), ("debtor", "是我")]


@pytest.mark.parametrize(
    ("lines", "kind", "due"),
    [
        ([("agent", "your balance is $500 how would you like to take care of that"),
          ("debtor", "im not paying that and you cant make me")], "refusal", None),
        ([("agent", "i am calling about your northgate account"),
          ("debtor", "im driving right now can you call me back tomorrow")], "callback", date(2026, 3, 11)),
        ([("agent", "your balance is $500"), ("debtor", "that is not my debt i never opened that account")],
         "dispute", None),
        ([("agent", "how are you doing today"), ("debtor", "im ok thanks")], "none", None),
        ([("agent", "can we set up a payment"), ("debtor", "ok i can pay two hundred next friday"),
          ("agent", "great just to confirm you will pay $200 next friday by debit card"), ("debtor", "yes")],
         "promise_to_pay", date(2026, 3, 20)),
    ],
)
def test_engine_outcomes_in_english(en_engine, lines, kind, due):
    events = run_call(en_engine, EN_OPENING + lines)
    outcome = determine_outcome(events, "en", STARTED)
    assert outcome.kind == kind and outcome.due_date == due


@pytest.mark.parametrize(
    ("lines", "kind", "due"),
    [
        ([("agent", "您的信用卡已经逾期 账单金额三千元 请问什么时候能还"), ("debtor", "我不会还的 你们爱怎么样怎么样")],
         "refusal", None),
        ([("agent", "您的信用卡已经逾期了"), ("debtor", "我在开车 你明天下午再打给我")], "callback", date(2026, 3, 11)),
        ([("agent", "您的信用卡已经逾期 账单金额三千元"), ("debtor", "这钱不是我刷的 我从来没办过这张卡")],
         "dispute", None),
        ([("agent", "您的信用卡已经逾期 账单金额三千元 请问什么时候能还"), ("debtor", "我下周五发工资 下周五还两千"),
          ("agent", "好的 跟您确认一下 您下周五通过手机银行还款两千元 对吗"), ("debtor", "对")],
         "promise_to_pay", date(2026, 3, 20)),
    ],
)
def test_engine_outcomes_in_chinese(zh_engine, lines, kind, due):
    events = run_call(zh_engine, ZH_OPENING + lines)
    outcome = determine_outcome(events, "zh", STARTED)
    assert outcome.kind == kind and outcome.due_date == due


@pytest.mark.parametrize(("text", "amounts"), [
    ("you owe nine hundred and twelve dollars as of today", [912.0]),
    ("your balance of six forty has been past due for ninety days", [640.0]),
    ("your balance is 640 and you have 30 days to dispute it", [640.0]),
    ("call me at 5 about your balance of 640", [640.0]),
    ("your balance is two thousand dollars", [2000.0]),
])
def test_the_sums_a_line_states_in_digits_or_words(text, amounts):
    """What the amount rule compares with the balance: no count of days, time of day or card digits."""
    assert stated_amounts(text, "en") == amounts



@pytest.mark.parametrize(("text", "language", "phrase"), [
    ("so fifty dollars this friday by card and well call you on the thirtieth to set up the rest", "en", "this friday"),
    ("ill check in with you on the thirtieth, pay the fifty by friday", "en", "friday"),
    ("ok fifty by phone on friday and one fifty next month", "en", "friday"),  # paying by phone is no call back
    ("周五联系我们还款五百 三十号再给您打电话", "zh", "周五"),  # the debtor calling to pay is no call back
    ("ill call you back on friday", "en", "friday"),  # a call back only: still its day
    ("周五先还五百 三十号再给您打电话", "zh", "周五"),
    ("那我们下周一再联系", "zh", "下周一"),
])
def test_the_day_of_a_call_back_yields_to_the_day_of_a_payment(text, language, phrase):
    """A recap names the payment day and the next call's: the payment's is the promise's due date,
    however explicit the other ("the thirtieth" outranks "this friday" otherwise)."""
    assert find_due_date(text, language, BASE)[1] == phrase
