"""The engine's heads on a debtor's turn: objection, tone, commitment and dialogue act, each as a
user relies on it (phrasings written for these tests, in no playbook)."""

from __future__ import annotations

import pytest
from conftest import of_type, run_call

from coach.analyzers.commitment import read_commitment
from coach.analyzers.features import class_probabilities
from coach.analyzers.tone import TONE_THRESHOLD
from coach.analyzers.dialogue import identity_reply
from coach.languages import language_pack
from coach.text.normalize import normalize


def _intents(events, uid):
    return [e for e in of_type(events, "intent") if e.utterance_id == uid]


def test_a_hostile_objection_keeps_the_objection_as_the_top_hint(en_engine):
    events = run_call(en_engine, [("debtor", "i already paid this bill you useless idiot")])
    intents = [e.intent for e in _intents(events, 0)]
    assert intents[0] == "already_paid" and "hostile" in intents


def test_profanity_alone_is_a_hostile_tone(en_engine):
    events = run_call(en_engine, [("debtor", "go fuck yourself")])
    hostile = [e for e in _intents(events, 0) if e.intent == "hostile"]
    assert hostile and hostile[0].evidence


def test_chinese_profanity_is_a_hostile_tone(zh_engine):
    events = run_call(zh_engine, [("debtor", "你他妈的烦不烦啊")])
    assert "hostile" in [e.intent for e in _intents(events, 0)]


@pytest.mark.parametrize(("text", "hostile"), [
    ("我凭啥相信你 你该不会是骗子吧", False),   # suspicion in the word for a swindler
    ("这年头骗子太多了 你先说说你是哪个行的", False),
    ("你这个骗子 滚", True),                   # said to the agent's face
    ("你他妈就是个骗子吧", True),               # profanity beside it
])
def test_a_scam_suspected_in_the_word_for_a_swindler_is_no_hostile_tone(zh_engine, text, hostile):
    intents = [e.intent for e in _intents(run_call(zh_engine, [("debtor", text)]), 0)]
    assert ("hostile" in intents) is hostile, intents


@pytest.mark.parametrize(("text", "hostile"), [
    ("is your company gonna sue me", False),   # a frightened question, no question mark
    ("am i gonna get sued for this", False),
    ("Is your company going to drag me into court?", False),
    ("you wanna drag me into court? go ahead, i dare you", True),  # defiance beside the question
    ("drag me in front of a judge then, i dont give a damn", True),
])
def test_a_frightened_question_of_court_or_jail_is_no_hostile_tone(en_engine, text, hostile):
    """The hostile examples' own words (court, sue) asked of in fear: a question for the agent to
    answer, no tone for the supervisor, although the tone head reads the words as hostile; said in
    defiance they stay hostile."""
    tone = en_engine.analyzer("tone")
    words = class_probabilities(tone.classifier, en_engine.space.encode([text]).classifier_input())[0][1]
    events = run_call(en_engine, [("agent", "this is about the balance on your card"), ("debtor", text)])
    assert ("hostile" in [e.intent for e in _intents(events, 1)]) is hostile
    if not hostile:
        assert words >= TONE_THRESHOLD, "the words alone must read hostile for this to test the question"


@pytest.mark.parametrize(("text", "asks", "fears"), [
    ("am i going to lose my paycheck to garnishment", True, True),
    ("So what happens with my credit score", True, True),
    ("is the bank even allowed to sue me over a 2011 debt", False, False),  # the right doubted: an objection
    ("will i be arrested? will i lose my job?", True, True),
    ("so sue me then", False, False),
    ("will you send me the letter", False, False),                  # a question, no consequence
])
def test_english_questions_of_consequences_without_a_question_mark(text, asks, fears):
    pack, norm = language_pack("en"), normalize(text, "en")
    assert pack.asks_of_consequences(text, norm) is asks
    assert pack.fears_consequences(text, norm) is fears


@pytest.mark.parametrize("text, language, amount, channel", [
    ("ok put two hundred on my visa this friday", "en", 200.0, "visa"),
    ("i can do fifty bucks on the fifteenth through zelle", "en", 50.0, "zelle"),
    ("我这周五用支付宝先还两千", "zh", 2000.0, "支付宝"),
])
def test_commitment_terms_are_read(text, language, amount, channel):
    commitment = read_commitment(text, language)
    assert commitment.is_promise and commitment.amount == amount and commitment.channel == channel


@pytest.mark.parametrize("text", [
    "行 没问题 月底前一次性结清",            # agreement and a settlement verb, no amount
    "好 那我明天中午之前转五百",              # a time said before the verb
    "这个月二十号换款 你帮我记一下",          # 还款 heard as 换款
    "卡号我念一下 六二二五 八八零一 三四五六 七七八",  # a card number read out in groups
    "我下了班去取款机存两千进去",              # a channel and an amount
    "一分不少 下周三全部还上",                # 不 inside 一分不少 is no refusal
])
def test_chinese_promises_in_everyday_words_are_read(text):
    assert read_commitment(text, "zh").is_promise


@pytest.mark.parametrize("text, language", [
    ("i cant pay two hundred on friday", "en"),
    ("i already paid fifty dollars with my card", "en"),
    ("这个月我真的还不了五千", "zh"),
    ("我昨天用支付宝还了一千", "zh"),           # a payment already made
    ("我手机号是一三八 一二三四 五六七八", "zh"),  # digits given for verification
    ("没钱 下个月也没钱", "zh"),
    ("我都不认了 明天去银行", "zh"),               # 行 closing 银行 is no "OK"
    ("还款可以用哪些方式 支付宝能还吗", "zh"),      # a question about how to pay, no terms
    ("我用支付宝能还吗 还是只能去柜台", "zh"),      # the question first, then the other way (a new user's line)
    ("so i can pay it with zelle?", "en"),
])
def test_refusals_with_terms_are_not_promises(text, language):
    assert not read_commitment(text, language).is_promise


@pytest.mark.parametrize(("text", "language", "asked", "promise"), [
    ("it's uh the cvv is two nine one", "en", "and the three digits on the back", True),          # few digits, named
    ("exp date is oh four twenty nine", "en", "when does the card expire", True),
    ("four oh four five five five two six seven one", "en", "whats the best number to reach you", False),
    ("six one seven two two three three four four five", "en", "whats the card number", True),  # asked for a card
    ("一三九 八八七六 五四三二", "zh", "您现在用的手机号码是多少", False),
    ("安全码是四五六", "zh", "卡背面的三位数字麻烦报一下", True),
    ("卡号一会儿给你", "zh", None, False),                                             # a number word, no digits
    ("that debt is from 2015, its past the expiration date for collecting", "en", None, False),
    ("oh whats the security code", "en", None, False),
    # a card read out in full stays a card, whatever was asked
    ("four one two one three three four four five five six six seven seven eight eight", "en",
     "are you ok giving me the card over the phone", True),
    ("my account number? its 4 5 6 7 8 9 1 2", "en", "can you verify the last four of your account number", False),
])
def test_digits_are_payment_details_by_what_was_asked_or_named(text, language, asked, promise):
    """A phone number read out for a callback is no card; a cvv is one however short."""
    assert read_commitment(text, language, asked).is_promise is promise


@pytest.mark.parametrize(("text", "language", "asked", "promise"), [
    # the term the agent asked for, given: a day, a way to pay, an amount
    ("um friday", "en", "a hundred works when can you do it", True),
    ("Next Friday.", "en", "Seventy-five every two weeks works. When's your next payday?", True),
    ("Card, I'll call in each time.", "en", "Okay, and do you want to pay by card or bank?", True),
    ("下周五吧", "zh", "那您什么时候能还上", True),
    ("用支付宝", "zh", "您是用支付宝还是银行卡还", True),
    ("月底 一千五", "zh", "您这个月大概能拿出来多少", True),
    # the same words unasked, a day named in passing, a hedge, a question back
    ("um friday", "en", "how have you been", False),
    ("card", "en", None, False),
    ("今天下雨 路上堵死了", "zh", "那您打算什么时候处理这笔钱", False),
    ("i'm at work today so call me later", "en", "when can you pay", False),
    ("i don't know, maybe next month", "en", "when can you make a payment", False),
    ("我也不知道哪天", "zh", "那您什么时候能还上", False),
    ("what day?", "en", "what day works for you", False),
    ("i'll have to check with my wife, she does the bills", "en", "how would you like to pay", False),
    ("a hundred bucks? where am i supposed to find a hundred bucks", "en", "how much can you put down today", False),
    ("uh probably the 20th yeah the 20th", "en", "what's a realistic date for you", True),
    ("就月底吧 三十号", "zh", "还款日您定在哪天比较合适", True),
])
def test_an_answer_to_the_agents_payment_question_commits_to_it(text, language, asked, promise):
    """"When can you do it" - "um friday": the debtor agreed the date, in the only words it needed."""
    assert read_commitment(text, language, asked).is_promise is promise


@pytest.mark.parametrize(("text", "language", "asked", "proposed", "promise"), [
    # the proposal's own amount or day said back: taken up
    ("right, sixty on the twelfth works", "en", "could we do sixty on the twelfth", True, True),
    ("ok so ninety by next wednesday", "en", "how about ninety by next wednesday", True, True),
    ("行 八百 二十号", "zh", "二十号之前先转八百过来 您看行不行", True, True),
    # said back as a question, refused, or after a line that proposed nothing
    ("sixty on the twelfth? that's way too much", "en", "could we do sixty on the twelfth", True, False),
    ("sixty on the twelfth is impossible for me", "en", "could we do sixty on the twelfth", True, False),
    ("八百 二十号 我哪里拿得出来", "zh", "二十号之前先转八百过来 您看行不行", True, False),
    ("right, sixty on the twelfth", "en", "the statement showed sixty on the twelfth", False, False),
    ("ok the 12th", "en", "could we do sixty on the twelfth", True, True),           # the same day, in digits
    ("ok forty on the twelfth", "en", "could we do sixty on the twelfth", True, False),  # a counter-offer
    ("sixty bucks is a lot", "en", "could we do sixty on the twelfth", True, False),
    ("八百太多了", "zh", "二十号之前先转八百过来 您看行不行", True, False),
])
def test_the_proposals_terms_said_back_take_it_up(text, language, asked, proposed, promise):
    """"Could we do sixty on the twelfth" - "right, sixty on the twelfth works": the terms said back are
    the agreement; said back as a question or with a refusal, or after a line that proposed nothing, not."""
    assert read_commitment(text, language, asked, proposed).is_promise is promise


def test_card_number_read_out_is_a_promise_with_its_terms(en_engine):
    events = run_call(en_engine, [
        ("agent", "would you like to take care of the two hundred today"),
        ("debtor", "yeah the card is four one two one three three four four five five six six seven seven"),
    ])
    top = _intents(events, 1)[0]
    assert top.intent == "promise_to_pay" and top.details["card_or_account_digits"] is True


def test_promise_event_carries_amount_date_and_channel(en_engine):
    events = run_call(en_engine, [("debtor", "alright put two hundred on my debit card next friday")])
    top = _intents(events, 0)[0]
    assert top.intent == "promise_to_pay"
    assert top.details["amount"] == 200.0 and top.details["channel"] == "debit card" and top.details["due"]


VERIFIES = {"identity_confirm", "identity_answer"}


@pytest.mark.parametrize("text, expected", [
    ("speaking", VERIFIES),
    ("yes this is her speaking yeah", VERIFIES),
    ("march third nineteen eighty", VERIFIES),
    ("four two one one", VERIFIES),
    ("1432 elm street", VERIFIES),
    ("seventeen fourteen alder court unit b", VERIFIES),  # an address in number words
    ("dennis walker", VERIFIES),
    ("no hes not here", {"identity_deny"}),
    ("who is this", {None}),
    ("it depends", {None}),  # no name: the words of a hedge
    ("hold on", {None}),
    # a yes first, whatever follows, confirms; a yes that hands the call on does not
    ("that would be me", {"identity_confirm"}),
    ("yeah whos calling", {"identity_confirm"}),
    ("yea yeah it is", {"identity_confirm"}),
    ("you're talking to her", {"identity_confirm"}),
    ("yes this is his wife", {None}),
    ("yeah hold on let me get her", {None}),
])
def test_english_identity_replies(en_engine, text, expected):
    from coach.text.normalize import normalize

    confirmation = en_engine.stages.confirms_identity(en_engine.space.encode([text])) is not None
    assert identity_reply(text, normalize(text, "en"), language_pack("en"), confirmation, False) in expected


@pytest.mark.parametrize("text, expected", [
    ("身份证后四位是三七二一", "identity_answer"),
    ("我叫王芳", "identity_answer"),
    ("不是 我是他老婆", "identity_deny"),
    ("我是她妈妈", "identity_deny"),
    ("你是谁啊", None),
    ("你谁啊", None),  # three characters, but a question, not a name
    ("不方便", None),  # nor is every short reply a name
    ("陈晓燕", "identity_answer"),
    ("金色家园 三栋那个", "identity_answer"),  # the estate asked for
    ("对 我是她本人", "identity_confirm"),
    ("我是她 有事吗", "identity_confirm"),
    ("本人接听 什么事", "identity_confirm"),
    ("是啊 快说 我在上班", "identity_confirm"),
    ("对不起 他出去了", None),
    ("嗯 你稍等 我叫他", None),
    ("係我 乜嘢事啊", "identity_confirm"),  # Cantonese-flavoured 是我
    ("我系黄伟强 有咩事", "identity_confirm"),  # Cantonese 我是
    ("我係黄伟强", "identity_confirm"),
    ("唔系 我系佢老婆", "identity_deny"),
])
def test_chinese_identity_replies(text, expected):
    assert identity_reply(text, text, language_pack("zh"), False, False) == expected


@pytest.mark.parametrize(("reply", "expected"), [
    # a name before a question back still answers; a name asked back does not
    ("This is Marisol Ortega, what is this regarding?", "identity_answer"),
    ("Marisol? who wants to know", None),
    ("this is her cousin, who's asking?", None),
    ("rob here, what's it about?", "identity_answer"),
])
def test_a_name_before_a_question_back_answers(reply, expected):
    from coach.text.normalize import normalize

    assert identity_reply(reply, normalize(reply, "en"), language_pack("en"), False, False) == expected


def test_a_name_and_a_question_back_verify_before_the_disclosure(en_engine):
    """An open "who do I have on the line" answered with a full name and a question back: the agent may
    go on to the debt."""
    opened = run_call(en_engine, [("agent", "hi who do i have on the line"),
                                  ("debtor", "This is Marisol Ortega, what is this regarding?"),
                                  ("agent", "hi marisol, this is a debt collector calling about your past due credit card balance")])
    assert not [e for e in of_type(opened, "compliance") if e.rule_id == "US-3P"]
    asked_back = run_call(en_engine, [("agent", "hi who do i have on the line"),
                                      ("debtor", "Marisol? who wants to know"),
                                      ("agent", "marisol, this is a debt collector calling about your past due credit card balance")])
    assert [e for e in of_type(asked_back, "compliance") if e.rule_id == "US-3P"]


@pytest.mark.parametrize("answer", ["oh four twelve eighty six", "its 1432 elm street apartment 2", "yep thats me"])
def test_an_identity_answer_verifies_and_raises_no_hint(en_engine, answer):
    events = run_call(en_engine, [
        ("agent", "hi this is sam with crestline for verification can you confirm your date of birth or address"),
        ("debtor", answer),
        ("agent", "thank you im calling about the past due balance of 812 dollars on your account"),
    ])
    assert not _intents(events, 1)
    assert "US-3P" not in [e.rule_id for e in of_type(events, "compliance")]


@pytest.mark.parametrize(("engine", "check", "reply", "disclosure", "rule"), [
    # a question back near a playbook confirmation ("this is he whos calling") has no yes in it
    ("en_engine", "hi this is dana with acme recovery am i speaking with john miller", "who's calling",
     "im calling about your past due balance of 1,243 dollars", "US-3P"),
    ("en_engine", "hi this is dana with acme recovery am i speaking with john miller", "what is this about",
     "its about the 1,243 dollar balance you owe", "US-3P"),
    # a hedge or a bare "why" is no name
    ("en_engine", "hi this is dana with acme recovery am i speaking with john miller", "it depends",
     "the balance on the account is 1,243 dollars", "US-3P"),
    ("en_engine", "hi this is dana with acme recovery am i speaking with john miller", "um why",
     "the balance on the account is 1,243 dollars", "US-3P"),
    ("zh_engine", "您好 我是招商银行信用卡中心的 请问是张伟先生吗", "你哪位", "您的信用卡欠款5230元已经逾期了", "CN-3P"),
])
def test_a_question_back_verifies_no_one(engine, check, reply, disclosure, rule, request):
    events = run_call(request.getfixturevalue(engine), [("agent", check), ("debtor", reply), ("agent", disclosure)])
    assert rule in [e.rule_id for e in of_type(events, "compliance")]


def test_a_second_identity_check_after_a_question_back_verifies_the_answer(en_engine):
    """"who wants to know" verifies no one; the agent's second check and a yes then do."""
    events = run_call(en_engine, [
        ("agent", "hi is this marcus lee"),
        ("debtor", "who wants to know"),
        ("agent", "im ray with ridgeline i just have to make sure im talking to marcus before going further"),
        ("debtor", "alright yeah this is marcus"),
        ("agent", "thanks marcus im calling about the 640 dollar balance on your card"),
    ])
    assert "US-3P" not in [e.rule_id for e in of_type(events, "compliance")]


def test_an_identity_check_without_a_question_form_is_still_one(en_engine):
    """"this is for andre thompson" asks for the right party too; his "yup" verifies him."""
    events = run_call(en_engine, [
        ("agent", "hey this is for andre thompson"),
        ("debtor", "yup"),
        ("agent", "andre thanks im calling about your 2,004 balance with the bank"),
    ])
    assert "US-3P" not in [e.rule_id for e in of_type(events, "compliance")]


def test_a_second_check_can_undo_a_verification(en_engine):
    """A son answers to his father's name, then the date-of-birth check shows it: what follows is a
    disclosure to a third party. A bare "no" to a re-check ("no i moved") undoes nothing."""
    said = [("agent", "is this leon watts"), ("debtor", "yeah"), ("agent", "leon can you verify your date of birth for me")]
    told = ("agent", "ok well please tell your dad his balance with the credit union is past due")
    events = run_call(en_engine, said + [("debtor", "oh wait you want my dad im leon junior"), told])
    assert "US-3P" in [e.rule_id for e in of_type(events, "compliance")]
    events = run_call(en_engine, said + [("debtor", "no i moved last year its on oak street now"),
                                         ("agent", "thanks your balance with the credit union is past due")])
    assert "US-3P" not in [e.rule_id for e in of_type(events, "compliance")]


def test_a_yes_that_hands_the_call_on_verifies_nobody(en_engine):
    events = run_call(en_engine, [
        ("agent", "may i speak with dana reyes"),
        ("debtor", "yes this is his wife"),
        ("agent", "ok well dana is behind on the discover card by 900 dollars"),
    ])
    assert "US-3P" in [e.rule_id for e in of_type(events, "compliance")]


@pytest.mark.parametrize("engine_name,debtor,agent,rule", [
    ("en_engine", "i filed chapter seven last month", "ok can i get the case number ill note the account and stop collection", "US-3P"),
    ("zh_engine", "这笔钱我上个月已经还了", "好的 您这笔欠款我们核实一下还款记录", "CN-3P"),
])
def test_speaking_of_the_debt_as_ones_own_identifies_the_debtor(request, engine_name, debtor, agent, rule):
    """A debtor who volunteers "I filed for bankruptcy" before any identity check is the right party:
    the agent's answer about the account discloses nothing to a third party."""
    events = run_call(request.getfixturevalue(engine_name), [("debtor", debtor), ("agent", agent)])
    assert rule not in [e.rule_id for e in of_type(events, "compliance")]


def test_a_third_party_speaking_of_the_debtor_identifies_nobody(en_engine):
    events = run_call(en_engine, [
        ("debtor", "hello"),
        ("debtor", "wrong number there is no dana here"),
        ("agent", "ok well dana is behind on the discover card by 900 dollars"),
    ])
    assert "US-3P" in [e.rule_id for e in of_type(events, "compliance")]


def test_chinese_benshen_verifies(zh_engine):
    events = run_call(zh_engine, [
        ("agent", "您好 这里是招商银行信用卡中心 请问是李明先生本人吗"),
        ("debtor", "嗯 本人"),
        ("agent", "您的信用卡账单已经逾期了 欠款五千三百元"),
    ])
    assert "CN-3P" not in [e.rule_id for e in of_type(events, "compliance")]
    assert not _intents(events, 1)


def test_the_agent_accepting_an_answer_verifies_the_debtor(zh_engine):
    """An answer the dialogue act cannot read ("在锦绣苑那边") still verifies once the agent says it matches."""
    events = run_call(zh_engine, [
        ("agent", "麻烦您说一下账单地址是哪个小区"),
        ("debtor", "就在锦绣那边"),
        ("agent", "对上了 谢谢 您这期的最低还款一千三百元已经逾期了"),
    ])
    assert "CN-3P" not in [e.rule_id for e in of_type(events, "compliance")]
    unanswered = run_call(zh_engine, [
        ("agent", "请问是王强先生吗"),
        ("debtor", "你谁啊"),
        ("agent", "对上了 您这期的最低还款一千三百元已经逾期了"),
    ])
    assert "CN-3P" in [e.rule_id for e in of_type(unanswered, "compliance")]


@pytest.mark.parametrize("question", ["您在我们这边预留的地址是哪个城市", "你登记的单位地址在哪个区啊", "您登记的手机号是多少"])
def test_a_question_about_details_on_file_is_an_identity_check_in_chinese(zh_engine, question):
    """The address or number the debtor left with the bank, asked for: the answer may verify them."""
    found = zh_engine.stages.detect(zh_engine.space.encode([question]))
    assert "identity_verification" in [stage for stage, _ in found]


@pytest.mark.parametrize("question", ["what is the zip code on the account", "can i get the date of birth on file",
                                      "good evening is this priya raman", "can you confirm your street address for me"])
def test_a_question_about_the_accounts_details_is_an_identity_check(en_engine, question):
    found = en_engine.stages.detect(en_engine.space.encode([question]))
    assert "identity_verification" in [stage for stage, _ in found]


def test_a_phone_number_split_from_its_question_is_still_no_card(en_engine):
    """Speech recognition splits replies: the digits answer the agent's last line, not nothing."""
    events = run_call(en_engine, [
        ("agent", "whats the best phone number to reach you"),
        ("debtor", "sure hold on"),
        ("debtor", "five five five one two three four five six seven"),
    ])
    assert "promise_to_pay" not in [e.intent for e in _intents(events, 2)]
