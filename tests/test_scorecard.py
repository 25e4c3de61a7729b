"""The QA scorecard: metrics on hand-made timelines, and what each check applies to on real engines."""

import re

import pytest

from coach.scorecard import interruptions, silences, talk_ratio


def test_talk_ratio():
    assert talk_ratio([("agent", 0, 6), ("debtor", 6, 10)]) == 0.6
    assert talk_ratio([]) is None


def test_interruptions_count_agent_talking_over_debtor():
    turns = [("debtor", 0, 5), ("agent", 3, 6), ("debtor", 6, 8), ("agent", 8.1, 9)]
    assert interruptions(turns) == 1


def test_long_silences():
    turns = [("agent", 0, 2), ("debtor", 12, 13), ("agent", 13.5, 14)]
    assert silences(turns, 8) == [(2, 10)]


# -- what a check applies to (a reviewer's "not applicable"), through the real engine -----------------

def _checks(engine, turns):
    from conftest import of_type, run_call

    card = of_type(run_call(engine, turns), "scorecard")[0]
    return {c.id: c for c in card.checks}


def test_a_wrong_number_is_not_failed_on_what_it_could_not_reach(en_engine):
    checks = _checks(en_engine, [
        ("agent", "hi this is dana with northside recovery may i speak with carl brooks please"),
        ("debtor", "you got the wrong number theres no carl here"),
        ("agent", "oh im sorry about that ill take this number off our list have a good day"),
    ])
    for check_id in ("required_disclosure", "reason_for_arrears", "payment_plan", "recap"):
        assert checks[check_id].passed is None, check_id
        assert checks[check_id].detail.startswith("not applicable"), checks[check_id].detail
    assert "never verified" in checks["payment_plan"].detail
    assert checks["identity_verified"].passed is False  # the right party was not reached: that stays a fail


def test_a_lawyer_ends_collection_and_what_would_follow_it(en_engine):
    checks = _checks(en_engine, [
        ("agent", "hi this is dana with northside recovery am i speaking with carl brooks"),
        ("debtor", "yes this is carl"),
        ("agent", "thanks carl this is an attempt to collect a debt and any information obtained will be used for that purpose"),
        ("debtor", "my attorney is handling this you need to talk to her not me"),
        ("agent", "understood can i get your attorneys name and number and we will contact her directly"),
        ("debtor", "its linda park at 555 0134"),
        ("agent", "thank you ive noted that have a good day"),
    ])
    assert checks["payment_plan"].passed is None and "legal_representation" in checks["payment_plan"].detail
    assert checks["reason_for_arrears"].passed is None
    assert checks["recap"].passed is None and "no payment was agreed" in checks["recap"].detail


def test_a_debtor_who_takes_collection_up_again_is_owed_the_plan(en_engine):
    checks = _checks(en_engine, [
        ("agent", "hi this is dana with northside recovery am i speaking with carl brooks"),
        ("debtor", "yes this is carl"),
        ("agent", "thanks carl this is an attempt to collect a debt and any information obtained will be used for that purpose"),
        ("debtor", "that balance looks wrong to me i thought it was way less"),
        ("agent", "i can send you an itemized statement"),
        ("debtor", "honestly even if it is right i just cant afford to pay anything right now i lost my job"),
        ("agent", "ok thanks for letting me know goodbye"),
    ])
    # the dispute was the debtor's last word on it no more: money talk went on and no plan was offered
    assert checks["payment_plan"].passed is False
    assert checks["recap"].passed is None


def test_a_promise_without_its_terms_read_back_fails_the_recap(zh_engine):
    checks = _checks(zh_engine, [
        ("agent", "您好 我是锦程银行信用卡中心的小王 请问是张伟先生本人吗"),
        ("debtor", "对 是我"),
        ("agent", "张先生 您的信用卡本期账单已经逾期了 今天来电是想跟您商量一下还款"),
        ("debtor", "我这周五发工资 发了就先还两千"),
        ("agent", "好的 那就先这样 再见"),
    ])
    assert checks["recap"].passed is False


@pytest.mark.parametrize(("language", "line", "said"), [
    ("en", "man thats a tough spot, is the truck running at all", True),
    ("en", "dont apologize, youre going through a lot right now", True),
    ("en", "ok the balance is four hundred, when can you pay it", False),
    ("zh", "这段时间压力肯定不小 您也别太焦虑", True),
    ("zh", "阿姨您这几天也辛苦了", True),
    ("zh", "好的 您这期欠款是两千 什么时候能还", False),
])
def test_sympathy_said_in_everyday_words_is_the_empathy_cue(en_engine, zh_engine, language, line, said):
    engine = en_engine if language == "en" else zh_engine
    checks = _checks(engine, [("agent", line), ("debtor", "ok" if language == "en" else "嗯")])
    assert checks["empathy"].passed is said


def test_an_agent_who_gives_a_staff_number_has_greeted(en_engine):
    """"This is agent 4471 with ..." names the agent as much as a first name does."""
    checks = _checks(en_engine, [
        ("agent", "thank you for taking the call this is agent 4471 with front range billing recovery who am i speaking with"),
        ("debtor", "this is rosa"),
    ])
    assert checks["greeting"].passed is True, checks["greeting"].detail


@pytest.mark.parametrize(("language", "opening", "greeted", "missing"), [
    ("en", "morning, my name is tasha and i'm calling from bluewater recovery, is this owen", True, None),
    ("en", "hey its lou with riverbend credit partners, you got a second", True, None),
    ("en", "hi im calling for owen dunmore, is he around", False, "no name or company"),
    ("en", "hello this is ray, is owen there", False, "the company not said"),
    ("en", "hi this is bluewater recovery services calling for owen dunmore", False, "the agent's own name not said"),
    ("en", "this is deputy harlan with the county court office, we need to talk about your case", False,
     "the agent's own name not said"),
    ("en", "hi im noor from lakeview account services", True, None),
    ("en", "thanks for calling lakeview account services, this is noor speaking", True, None),
    ("en", "lakeview account services, noor speaking, how can i help", True, None),
    ("en", "im obligated to tell you this is lakeview account services calling", False, "the agent's own name not said"),
    ("en", "this is noor with some news about your account", False, "the company not said"),
    ("zh", "您好，我是锦程银行信用卡中心的周敏，请问是陈晓燕女士吗", True, None),
    ("zh", "您好 我是和信消费金融的客户经理刘畅", True, None),
    ("zh", "你好 我叫你半天了 你在不在 你那张银行卡的事", False, "no name or company"),
    ("zh", "你的工号多少跟我没关系 请问是陈晓燕吗", False, "no name or company"),
    ("zh", "您好 我是锦程银行信用卡中心的 我姓宋 请问是陈晓燕女士吗", True, None),
    ("zh", "喂 这边是和信消费金融贷后部 我叫刘畅 找一下陈晓燕", True, None),
    ("zh", "喂 是陈晓燕吗 我是锦程银行的", False, "the agent's own name not said"),
    ("zh", "喂 您好 请问是陈晓燕女士吗", False, "no name or company"),
])
def test_a_greeting_gives_the_agents_name_and_the_company(engine_for, language, opening, greeted, missing):
    """As a QA reviewer scores it: the agent's own name (or staff number) and the company, in the
    agent's first two turns; hello and the bank's name alone is no introduction."""
    engine, _ = engine_for(language)
    answer = "yeah who is this" if language == "en" else "对 你哪位"
    greeting = _checks(engine, [("agent", opening), ("debtor", answer)])["greeting"]
    assert greeting.passed is greeted, greeting.detail
    if missing:
        assert missing in greeting.detail, greeting.detail


def test_an_introduction_cut_into_segments_is_read_as_one(en_engine, zh_engine):
    """Speech recognition cuts an opening where the agent pauses: segments said before the other side
    speaks are one turn, and a name and a company split over them still count."""
    split = [("agent", "hello"), ("agent", "good afternoon"), ("agent", "this is noor"), ("agent", ""),
             ("agent", "with lakeview account services"), ("debtor", "yes"), ("agent", "is this owen"), ("debtor", "yes")]
    greeting = _checks(en_engine, split)["greeting"]
    assert greeting.passed is True, greeting.detail
    assert "this is noor" in greeting.detail and "lakeview" in greeting.detail
    split_zh = [("agent", "喂 您好"), ("agent", "我是锦程银行信用卡中心的"), ("agent", "我姓周"), ("debtor", "嗯")]
    assert _checks(zh_engine, split_zh)["greeting"].passed is True


def test_an_introduction_may_take_the_agents_second_turn_but_not_later(en_engine):
    late = [("agent", "hello"), ("debtor", "hi"), ("agent", "is this owen"), ("debtor", "yes"),
            ("agent", "this is ray with bluewater recovery"), ("debtor", "ok")]
    assert _checks(en_engine, late)["greeting"].passed is False
    second = [("agent", "hello is this owen"), ("debtor", "who is this"),
              ("agent", "sorry, this is ray with bluewater recovery"), ("debtor", "ok")]
    assert _checks(en_engine, second)["greeting"].passed is True


def test_a_check_quotes_the_agents_own_words(engine_for):
    """A coach checks a passed check against the call: its detail quotes what the agent said, not the
    playbook example the line resembled."""
    for language, calls, asked in (
        ("en", [("agent", "good morning you've reached priya at front range billing recovery am i talking to rosa"),
                ("debtor", "yes this is rosa")],
         "so what happened that made the payments stop"),
        ("zh", [("agent", "您好 这里是锦程银行信用卡中心 我是客服小周 请问是陈晓燕女士吗"), ("debtor", "对 是我")],
         "方便说一下最近是遇到什么情况了吗"),
    ):
        engine, _ = engine_for(language)
        checks = _checks(engine, [*calls, ("agent", asked), ("debtor", "ok" if language == "en" else "嗯")])
        greeting, reason = checks["greeting"], checks["reason_for_arrears"]
        opening = engine.space.encode([calls[0][1]]).norms[0]
        name, company = re.fullmatch(r"name '(.+)', company '(.+)'", greeting.detail).groups()
        assert greeting.passed is True and name in opening and company in opening, greeting.detail
        assert reason.passed is True and repr(asked) in reason.detail, reason.detail


def test_a_plan_agreed_turn_by_turn_owes_its_recap(en_engine):
    """The debtor gave the date asked for: a promise was made, so reading the terms back applies."""
    checks = _checks(en_engine, [
        ("agent", "hi this is eric with best buy card services am i speaking with dana"),
        ("debtor", "yeah"),
        ("agent", "there's a balance of two hundred dollars can we get something on it today"),
        ("debtor", "maybe like a hundred"),
        ("agent", "a hundred works when can you do it"),
        ("debtor", "um friday"),
        ("agent", "alright thanks have a good one"),
    ])
    assert checks["recap"].passed is False, checks["recap"].detail
    assert checks["payment_plan"].passed is True, checks["payment_plan"].detail


@pytest.mark.parametrize(("language", "said_back", "recapped"), [
    ("en", "ok so here's what we have you down for, a hundred on friday by debit card", True),
    ("en", "i see a payment of a hundred from last friday but it bounced", False),  # talk of paying, no terms
    ("zh", "行 那我跟您再说一遍 这周五 两千 在手机银行还", True),
    ("zh", "系统里没看到您上周五那两千的还款记录", False),
])
def test_the_recap_is_the_terms_said_back(engine_for, language, said_back, recapped):
    """Talk about payments reached the commitment stage, and that had passed the recap: the check
    wants the agreed terms restated (a recap phrase, a date, an amount or a way to pay)."""
    engine, _ = engine_for(language)
    promise = "yeah i can do a hundred on friday" if language == "en" else "行 周五我还两千"
    greet = ("hi this is eric with harbor card services am i speaking with dana" if language == "en"
             else "您好 我是锦程银行信用卡中心的小王 请问是张伟先生本人吗")
    checks = _checks(engine, [("agent", greet), ("debtor", "yes" if language == "en" else "对 是我"),
                              ("debtor", promise), ("agent", said_back)])
    assert checks["recap"].passed is recapped, checks["recap"].detail


@pytest.mark.parametrize(("language", "line", "why"), [
    ("en", "ma'am like i just said your name is on the loan it's your loan do you follow", "disrespectful"),
    ("en", "well if you wanna pay a lawyer to sit on it that's on you", "disrespectful"),
    ("zh", "那是你的事 借钱的时候怎么不想想", "disrespectful"),
    ("zh", "你说还了就还了？每个人都这么说", "disrespectful"),
    ("en", "you're a worthless deadbeat and everybody knows it", "abuse"),
])
def test_condescension_sarcasm_and_abuse_fail_the_agents_tone(engine_for, language, line, why):
    """A reviewer fails the tone on a condescending or sarcastic line with no swear word in it, and on
    abuse the rule classifier caught whatever the offensive-language model made of it."""
    engine, verify = engine_for(language)
    tone = _checks(engine, verify + [("agent", line)])["agent_tone"]
    assert tone.passed is False and why in tone.detail, tone.detail


@pytest.mark.parametrize(("language", "line"), [
    ("en", "okay i apologize for the bother sir i'll get this number taken off our list"),
    ("en", "as i mentioned the balance is four hundred, would a payment plan help"),
    ("zh", "您说的情况我记下了 这是您的权利 您可以随时拨打客服热线"),
])
def test_courtesy_and_firm_facts_keep_the_tone(engine_for, language, line):
    engine, verify = engine_for(language)
    tone = _checks(engine, verify + [("agent", line)])["agent_tone"]
    assert tone.passed is True, tone.detail


def test_an_s1_violation_fails_the_call_whatever_else_went_well(en_engine):
    """A critical check (the playbook's fails_call) fails the call: score 0, and which check did it."""
    opening = [("agent", "hi this is dana with northside recovery am i speaking with carl brooks"),
               ("debtor", "yes this is carl"),
               ("agent", "thanks carl this is an attempt to collect a debt and any information obtained will be used for that purpose")]
    from conftest import of_type, run_call

    threat = of_type(run_call(en_engine, [*opening, ("debtor", "i cant pay right now"),
                                          ("agent", "if you dont pay today we will have you arrested")]), "scorecard")[0]
    assert threat.score == 0.0 and threat.auto_failed == ["no_prohibited"]
    assert next(c for c in threat.checks if c.id == "no_prohibited").fails_call is True
    calm = of_type(run_call(en_engine, [*opening, ("debtor", "i cant pay right now"),
                                        ("agent", "i understand, what could you manage this month")]), "scorecard")[0]
    assert calm.score > 0 and calm.auto_failed == []


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_balance_said_before_verifying_the_debtor_is_too_early_not_a_third_party_breach(engine_for, language):
    """Said to the one who then proves to be the debtor, the balance came too early (identity first
    fails) but reached no one else: the call is not failed as a disclosure. Said to whoever answered
    before a wrong-party answer, it is."""
    from conftest import of_type, run_call

    early = {
        "en": [("agent", "hi its sam with lakeview recovery about the six hundred dollar balance on the card, is this rita"),
               ("debtor", "yes this is rita"), ("agent", "thanks rita whats your date of birth"), ("debtor", "june ninth eighty one")],
        "zh": [("agent", "您好 我是华夏银行信用卡中心的小刘 工号八一二 您的卡欠款六千二已经逾期两个月 请问是刘芳女士吗"),
               ("debtor", "对 我就是刘芳"), ("agent", "刘女士 麻烦报一下身份证后四位"), ("debtor", "三七一五")],
    }[language]
    engine, _ = engine_for(language)
    card = of_type(run_call(engine, early), "scorecard")[0]
    checks = {c.id: c for c in card.checks}
    assert checks["identity_before_disclosure"].passed is False
    assert checks["no_prohibited"].passed is True and "before verifying" in checks["no_prohibited"].detail
    assert card.auto_failed == []
    wrong = {
        "en": [early[0], ("debtor", "no this is her brother she doesnt live here anymore")],
        "zh": [early[0], ("debtor", "我不是她 我是她哥哥 她不住这儿了")],
    }[language]
    card = of_type(run_call(engine, wrong), "scorecard")[0]
    assert card.auto_failed == ["no_prohibited"]
    # whoever answered fetched the debtor: the one who heard the balance was someone else
    handed = {
        "en": [early[0], ("debtor", "hang on let me go get her"), *early[1:]],
        "zh": [early[0], ("debtor", "稍等 我去叫她"), *early[1:]],
    }[language]
    card = of_type(run_call(engine, handed), "scorecard")[0]
    assert card.auto_failed == ["no_prohibited"]
    # on another channel than the debtor's, or a speaker nobody knows
    for speaker in ("third_party", "unknown"):
        card = of_type(run_call(engine, [early[0], (speaker, "mm"), *early[1:]]), "scorecard")[0]
        assert card.auto_failed == ["no_prohibited"], speaker


def test_a_check_that_names_the_disclosure_rule_counts_it_whoever_heard_it(en_engine):
    """Only a check by severity asks whether a third party heard it; one naming US-3P asks whether it was said."""
    from coach.playbook.schema import ScorecardCheck
    from coach.scorecard import evaluate
    from coach.transcript import Utterance

    session = en_engine.session("named")
    list(session.start())
    for n, (speaker, text) in enumerate([
        ("agent", "hi its sam with lakeview recovery about the six hundred dollar balance on the card, is this rita"),
        ("debtor", "yes this is rita"), ("agent", "thanks rita whats your date of birth"), ("debtor", "june ninth eighty one"),
    ]):
        session.process(Utterance(speaker=speaker, text=text, start=3.0 * n, end=3.0 * n + 2.5))
    named = ScorecardCheck(id="said_3p", name="No US-3P", kind="rules", rules=["US-3P"])
    playbook = en_engine.playbook.model_copy(update={"scorecard": [*en_engine.playbook.scorecard, named]})
    _, results, _ = evaluate(playbook, session.stages, session.record)
    passed = {r.id: r.passed for r in results}
    assert passed["said_3p"] is False and passed["no_prohibited"] is True


def test_the_agents_own_company_name_is_no_disclosure_but_the_rest_of_the_line_is(en_engine):
    """"I'm with Prairie State Collections" names the agent's employer; the balance said with it does not."""
    from conftest import of_type, run_call

    def disclosed(line: str) -> list[str]:
        return [e.rule_id for e in of_type(run_call(en_engine, [("agent", line)]), "compliance") if e.rule_id == "US-3P"]

    assert disclosed("good morning its maria ortega, im with bluewater collection services, may i speak with dev patel") == []
    assert disclosed("hey this is chris from tri county collections is owen home") == []
    assert disclosed("hi im with bluewater collections calling about owens past due credit card balance") == ["US-3P"]
    assert disclosed("im calling from the collections department at northgate bank for owen") == ["US-3P"]
    # a creditor's name before "collections" is no introduction
    assert disclosed("hi im calling from wells fargo its now in collections is owen around") == ["US-3P"]
    assert disclosed("tell owen his card from citibank went into collections") == ["US-3P"]
    assert disclosed("the loan with ally was assigned to collections, have him call us") == ["US-3P"]
