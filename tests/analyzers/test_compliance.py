"""Compliance rules as a supervisor relies on them: what fires, when, with what evidence."""

from __future__ import annotations

import pytest
from conftest import VERIFY_ZH, of_type, run_call

VERIFY_EN = [
    ("agent", "hi this is sam calling from crestline recovery services may i speak with dana reyes"),
    ("debtor", "yes speaking"),
]


def _rules(events):
    return [e.rule_id for e in of_type(events, "compliance")]


def test_third_party_disclosure_before_verification(en_engine):
    events = run_call(en_engine, [
        ("agent", "hi may i speak with dana reyes"),
        ("third_party", "shes not here this is her brother"),
        ("agent", "tell her she owes a past due balance on her credit card account"),
    ])
    hits = [e for e in of_type(events, "compliance") if e.rule_id == "US-3P"]
    assert hits and hits[0].severity == "S1" and hits[0].utterance_id == 2
    assert "past due balance" in hits[0].evidence and "1692" in hits[0].citation
    assert hits[0].ref == "en-US-collections@1.0.0#rules/US-3P"


def test_a_relatives_yes_does_not_verify_identity(en_engine):
    events = run_call(en_engine, [
        ("agent", "hi may i speak with dana reyes"),
        ("third_party", "yes"),
        ("agent", "this is about the balance you owe on your account"),
    ])
    assert "US-3P" in _rules(events)


@pytest.mark.parametrize(("engine_name", "turns", "rule"), [
    ("en", [("agent", "hi is tony there"), ("debtor", "he's at work who is this"),
            ("agent", "tony is three payments behind on the truck loan"),
            ("debtor", "what? he told me that was taken care of"),
            ("agent", "well its not, the past due balance is eighteen ninety")], "US-3P"),
    ("zh", [("agent", "喂 请问是王刚吗"), ("debtor", "他不在 你哪位"),
            ("agent", "王刚的信用卡已经逾期三个月了"),
            ("debtor", "啥 一万多 他没跟我说过啊 是不是搞错了"),
            ("agent", "没搞错 欠款一万二 你让他赶紧还")], "CN-3P"),
])
def test_an_objection_said_of_someone_else_verifies_no_one(en_engine, zh_engine, engine_name, turns, rule):
    """An objection only the debtor would raise identifies the speaker as the debtor ("I already paid
    that"), but not one said of him or her: the wife who says "he told me that was taken care of" is
    still a third party, and the balance said to her next still discloses the debt."""
    engine = en_engine if engine_name == "en" else zh_engine
    events = run_call(engine, turns)
    last = max(e.utterance_id for e in events if e.utterance_id is not None)
    assert rule in {e.rule_id for e in of_type(events, "compliance") if e.utterance_id == last}


def test_same_words_after_verification_are_fine(en_engine):
    events = run_call(en_engine, VERIFY_EN + [
        ("agent", "this is an attempt to collect a debt and any information obtained will be used for that purpose"),
        ("agent", "im calling about the past due balance on your credit card account"),
    ])
    assert "US-3P" not in _rules(events) and "US-MINI" not in _rules(events)


def test_threat_and_impersonation(en_engine):
    events = run_call(en_engine, VERIFY_EN + [("agent", "this is officer grant and if you dont pay today you will go to jail")])
    rules = _rules(events)
    assert "US-THREAT" in rules and "US-IMPERS" in rules


def test_pressing_after_stop_calling_is_a_duty_breach(en_engine):
    events = run_call(en_engine, VERIFY_EN + [
        ("debtor", "stop calling me i dont want any more calls"),
        ("agent", "so how much can you pay today"),
    ])
    cease = [e for e in of_type(events, "compliance") if e.rule_id == "US-CEASE"]
    assert cease and "stop calling me" in cease[0].evidence


def test_acknowledging_stop_calling_is_fine(en_engine):
    events = run_call(en_engine, VERIFY_EN + [
        ("debtor", "stop calling me i dont want any more calls"),
        ("agent", "understood i will note your request and we will not call this number again"),
    ])
    assert "US-CEASE" not in _rules(events)


@pytest.mark.parametrize(("line", "breach"), [
    # the request said back starts the duty in the agent's own words, however the debtor put it
    ("i get that you wanna stop the calls. tough, i will ring every day until this is paid", True),
    ("so you want me to not call anymore? sure, that's on file, this number won't be rung again", False),
    ("you wanna stop the calls, fine, that's on file and we won't phone you again", False),
    ("you want to stop the interest from piling up, then a plan is the way", False),  # no call stopped
    ("you dont want me to stop by your work, believe me", True),  # no request said back: a menace,
])
def test_the_request_to_stop_said_back_starts_the_duty(en_engine, line, breach):
    rules = set(_rules(run_call(en_engine, VERIFY_EN + [("agent", line)])))
    assert bool(rules & {"US-CEASE", "US-THREAT"}) is breach, rules


def test_the_request_said_back_after_the_debtor_made_it_is_no_breach(en_engine):
    events = run_call(en_engine, VERIFY_EN + [
        ("debtor", "quit ringing me, i mean it"),
        ("agent", "you want me to not call anymore, okay, that's on your file and nobody here will phone you again"),
    ])
    assert "US-CEASE" not in _rules(events)


def test_bankruptcy_starts_only_the_bankruptcy_duty(en_engine):
    events = run_call(en_engine, VERIFY_EN + [
        ("debtor", "i filed chapter 7 last month"),
        ("agent", "ok but can you make a payment today"),
    ])
    rules = _rules(events)
    assert "US-BANKRUPTCY" in rules and "US-ATTY" not in rules


@pytest.mark.parametrize(("engine_name", "said", "represented"), [
    ("en", "nope, i never hired an attorney for any of this", False),
    ("en", "lawyers cost money, i couldnt even afford a lawyer if i wanted one", False),
    ("en", "do i need to get a lawyer for something like this", False),
    ("en", "no, i got a lawyer, his name is frank", True),
    ("en", "i couldnt afford a lawyer so legal aid is representing me now", True),
    ("en", "no, attorney mark davis is handling this, call him", True),
    ("en", "you'll have to talk to my attorney about that", True),
    ("zh", "律师我可请不起 房租都快交不上了", False),
    ("zh", "这种情况我要不要请个律师啊", False),
    ("zh", "这个我委托了律师 你们直接找律所吧", True),
    ("zh", "我是请不起律师 但法律援助那边已经在帮我处理了", True),
])
def test_a_lawyer_named_only_to_say_there_is_none_starts_no_duty(request, engine_name, said, represented):
    """"No, I don't have a lawyer", "I can't afford one", "should I get one?": nobody represents the
    debtor, and the payment talk that follows is no breach; a lawyer the debtor has stops it."""
    engine = request.getfixturevalue(f"{engine_name}_engine")
    verify = VERIFY_EN if engine_name == "en" else VERIFY_ZH
    ask = "ok so how much can you pay toward it today" if engine_name == "en" else "那您今天能先还多少"
    rules = set(_rules(run_call(engine, verify + [("debtor", said), ("agent", ask)])))
    duty = {"US-ATTY"} if engine_name == "en" else {"CN-CEASE"}
    assert bool(rules & duty) == represented, rules


@pytest.mark.parametrize(("engine_name", "said", "line", "rule"), [
    ("en", "yes speaking", "this is officer grant with the county, do you have an attorney", "US-IMPERS"),
    ("en", "yes speaking", "are you represented? because the sheriff will be serving you papers tomorrow", "US-IMPERS"),
    ("zh", "以后别往我公司打了", "行 以后不打您单位了 那您今天能还多少", "CN-CEASE"),
    ("zh", "以后别往我公司打了", "我们不打你的通讯录了 直接把你欠钱的事发朋友圈", "CN-PRIV"),
    ("zh", "以后别往我公司打了", "不告诉你同事也行 今天必须把钱还清", "CN-CEASE"),
])
def test_a_lawful_clause_never_excuses_a_breach_in_the_same_line(request, engine_name, said, line, rule):
    """The vetoes for a lawful question or promise (asking about a lawyer, not calling the workplace)
    read the whole line: an authority claimed, a payment asked or a threat made beside them still counts."""
    engine = request.getfixturevalue(f"{engine_name}_engine")
    verify = VERIFY_EN if engine_name == "en" else VERIFY_ZH
    assert rule in _rules(run_call(engine, verify + [("debtor", said), ("agent", line)]))


def test_noting_where_not_to_call_is_no_pressing(zh_engine):
    """"别打我单位电话" asks for one number not to be used: saying so and naming the one still used
    narrows contact, it asks for no payment."""
    asked = VERIFY_ZH + [("debtor", "以后别往我公司打了 同事都听见了")]
    for line in ("行 我这边记一下 您单位那边我们不再联系 后面就打您这个号码", "您别担心 我们不会让您的同事知道这件事"):
        assert not {"CN-CEASE", "CN-PRIV"} & set(_rules(run_call(zh_engine, asked + [("agent", line)]))), line
    assert {"CN-CEASE", "CN-PRIV"} <= set(_rules(run_call(zh_engine, asked + [("agent", "你不还 我就打你单位 告诉你们领导")])))


@pytest.mark.parametrize("line", [
    "before we get into it, are you represented by an attorney on this account",
    "do you have a lawyer or a credit counselor handling your debts",
    "is an attorney representing you on this one",
    # a rank-like word that names a collector, and a filing explained
    "this is agent delgado with harbor point recovery, a debt collector",
    "if the creditor ever files a civil case against you, you'd be served papers before anything else",
])
def test_asking_whether_the_debtor_has_a_lawyer_is_no_impersonation(en_engine, line):
    assert "US-IMPERS" not in _rules(run_call(en_engine, VERIFY_EN + [("agent", line)]))


@pytest.mark.parametrize(("request_to_stop", "line", "rule"), [
    ("please deal with my attorney from now on", "the lawyer thing is your call of course, anyway when can we expect the first installment", "US-ATTY"),
    ("i dispute this, i never owed that", "a dispute takes weeks to sort out, so why not clear it today and be done", "US-DISPUTE"),
    ("i filed chapter 7 last month", "thanks for letting me know about the filing, please send us the case number when you have it", None),
    ("please deal with my attorney from now on", "got it, your lawyer's office will hear from us, and i won't discuss the account with you further", None),
    # the agent's promise to call the lawyer, then the turn to money
    ("my lawyer is handling this now", "i'll get in touch with your attorney, but honestly you'd save money paying the six hundred today", "US-ATTY"),
    ("my lawyer is handling this now", "we'll reach out to them, and i won't discuss the account with you any further", None),
])
def test_pressing_in_one_clause_of_an_unsure_line_is_a_duty_breach(en_engine, request_to_stop, line, rule):
    """A line the pressing head is unsure of as a whole (0.44-0.48 for these two) is read clause by
    clause: the ask for money after an aside. A lawful answer reads far lower whole and stays clear."""
    rules = _rules(run_call(en_engine, VERIFY_EN + [("debtor", request_to_stop), ("agent", line)]))
    assert (rule in rules) if rule else not {"US-ATTY", "US-DISPUTE", "US-BANKRUPTCY", "US-CEASE"} & set(rules)


def test_missing_mini_miranda_is_reported_after_its_deadline(en_engine):
    events = run_call(en_engine, VERIFY_EN + [("agent", "ok thanks")] * 60)
    mini = [e for e in of_type(events, "compliance") if e.rule_id == "US-MINI"]
    assert len(mini) == 1 and mini[0].method == "deadline"
    assert mini[0].utterance_id is not None  # raised live, at the first utterance past the deadline


def test_the_disclosure_as_speech_recognition_hears_it_is_still_the_disclosure(en_engine):
    """tiny.en's transcript of en-short-call: "may speak with" (the "I" lost) still asks for the
    right party, and "an attempt to collect a net" is still the mini-Miranda, so the recording gets the
    events its transcript and its live replay get (no false S2 US-MINI)."""
    events = run_call(en_engine, [
        ("agent", "The load is in Sam calling from Kressine Recovery Services May speak with Dana Ray's."),
        ("debtor", "Yes, this is Dana."),
        ("agent", "Thank you Dana, this is an attempt to collect a net and then information obtained will be used "
                  "for net purpose."),
        ("debtor", "Look I lost my job last month and I cannot pay anything right now."),
    ] + [("agent", "ok thanks")] * 40)
    assert "US-MINI" not in _rules(events) and "US-3P" not in _rules(events)


def test_wrong_amount(en_engine):
    events = run_call(en_engine, VERIFY_EN + [("agent", "your balance is $2,400.00")], metadata={"balance": 1687.2})
    amount = [e for e in of_type(events, "compliance") if e.rule_id == "US-AMT"]
    assert amount and "1687.2" in amount[0].evidence
    right = run_call(en_engine, VERIFY_EN + [("agent", "your balance is $1,687.20")], metadata={"balance": 1687.2})
    assert "US-AMT" not in _rules(right)


@pytest.mark.parametrize(("line", "wrong"), [
    ("the balance is now seven hundred forty dollars", True),
    ("you owe nine hundred and twelve dollars as of today", True),
    ("your balance is six forty", False),
    ("your balance is six hundred forty dollars and it's been ninety days", False),
    ("the last four of your card are 5567 and your balance is 640", False),
])
def test_a_balance_quoted_in_words_is_checked_too(en_engine, line, wrong):
    """Speech recognition writes some sums in words: they are checked against the balance as digits are."""
    events = run_call(en_engine, VERIFY_EN + [("agent", line)], metadata={"balance": 640})
    assert ("US-AMT" in _rules(events)) is wrong


def test_metadata_gates(en_engine):
    events = run_call(en_engine, VERIFY_EN, metadata={"local_time": "21:40", "calls_last_7d": 9})
    gates = [e for e in of_type(events, "compliance") if e.utterance_id is None and e.method == "metadata"]
    assert {"US-TIME", "US-FREQ"} <= {e.rule_id for e in gates}
    assert events[0].type == "compliance"  # reported before the first word
    fine = run_call(en_engine, VERIFY_EN, metadata={"local_time": "10:00", "calls_last_7d": 2})
    assert not {"US-TIME", "US-FREQ"} & set(_rules(fine))


def test_local_time_from_timezone(en_engine):
    from datetime import datetime, timezone

    session = en_engine.session("t", metadata={"debtor_timezone": "America/Los_Angeles"},
                                started_at=datetime(2026, 3, 10, 5, 30, tzinfo=timezone.utc))
    assert "US-TIME" in [e.rule_id for e in session.start()]  # 22:30 the evening before in LA


def test_time_barred_suit_threat_only_when_flagged(en_engine):
    lines = VERIFY_EN + [("agent", "if you dont pay we will file a lawsuit against you in court")]
    assert "US-TBD" in _rules(run_call(en_engine, lines, metadata={"time_barred": True}))
    assert "US-TBD" not in _rules(run_call(en_engine, lines, metadata={"time_barred": False}))


def test_chinese_prohibitions(zh_engine):
    events = run_call(zh_engine, [
        ("agent", "您好请问是王磊先生吗"),
        ("debtor", "是我"),
        ("agent", "你再不还钱就等着坐牢吧我们会把你拉进全国黑名单"),
        ("agent", "我明天就去你公司找你领导"),
        ("agent", "你加我微信我们私下聊"),
    ])
    rules = _rules(events)
    assert "CN-MISLEAD" in rules and "CN-CHANNEL" in rules


def test_chinese_third_party_disclosure(zh_engine):
    events = run_call(zh_engine, [
        ("agent", "您好请问是王磊先生吗"),
        ("third_party", "我是他妈妈他不在家"),
        ("agent", "他信用卡逾期欠款五千多了让他赶紧还钱"),
    ])
    assert "CN-3P" in _rules(events)


@pytest.mark.parametrize(("check", "reply", "disclosed"), [
    ("你好 请问系唔系黄伟强先生 我哋系招行卡中心打嚟嘅", "系呀 我系黄伟强 乜嘢事", False),
    ("喂 你係咪黄生本人啊", "係啊 边位", False),
    ("你好 请问系唔系黄伟强先生 我哋系招行卡中心打嚟嘅", "佢唔喺度 我系佢老婆", True),
])
def test_an_identity_check_asked_and_answered_in_cantonese(zh_engine, check, reply, disclosed):
    """Cantonese asks with 系/係 where Mandarin says 是: the check and a yes to it verify the borrower."""
    events = run_call(zh_engine, [("agent", check), ("debtor", reply),
                                  ("agent", "黄生 你张尾号八八嘅卡仲欠三万二 逾期六十几日喇")])
    assert ("CN-3P" in _rules(events)) is disclosed


@pytest.mark.parametrize(("line", "disclosed"), [
    # asking a relative to pay for him tells them of the debt, with no debt word said
    ("那行 你做姐姐的先替他把这期的钱垫上", True),
    ("他电话老不通 那只能叫他爸妈来还了", True),
    ("那麻烦您帮他记个号码 叫他有空打给我们", False),
    # 还 as "still" or "or", 交 as "hand over": no one asked to pay
    ("麻烦您帮他捎个话 他到现在还没给我们回电", False),
    ("让他爸还是他自己回电都可以", False),
    ("那麻烦您帮他转交一下我们寄的信", False),
    # a message to pass on that he should pay, however many words come between
    ("那你转告他 让他抓紧把网贷的钱还了", True),
])
def test_asking_a_relative_to_pay_for_him_is_disclosure(zh_engine, line, disclosed):
    events = run_call(zh_engine, [("agent", "喂 孙志远在吗 我找他本人"), ("third_party", "他出门了 我是他大姐"),
                                  ("agent", line)])
    assert ("CN-3P" in _rules(events)) is disclosed


@pytest.mark.parametrize(("language", "turns", "disclosure"), [
    # the check asked for a colleague or a roommate: their yes verifies them, not the debtor
    ("zh", [("agent", "请问是刘涛的同事孙先生吗"), ("debtor", "是我 怎么了"),
            ("agent", "刘涛的卡上有笔六千的欠款 麻烦您提醒他")], "CN-3P"),
    ("en", [("agent", "hi, is this jordan's roommate, alex?"), ("debtor", "yes that's me"),
            ("agent", "jordan owes us twelve hundred on his card, can you nudge him to pay")], "US-3P"),
    # the one who said yes misheard and says who they are: what follows is said to a third party
    ("zh", [("agent", "请问是周强先生吗"), ("debtor", "是的"), ("agent", "周先生 您的车贷本期逾期了"),
            ("debtor", "啊 不是我 我是他弟弟 听岔了"), ("agent", "那您跟他讲 车贷已经逾期 尽快还款")], "CN-3P"),
    ("en", [("agent", "am i speaking with sam lee"), ("debtor", "yes"), ("agent", "sam, your balance of four hundred is past due"),
            ("debtor", "oh sorry, i misheard, i am his brother and he's at work"),
            ("agent", "okay, well tell him his balance of four hundred is past due")], "US-3P"),
    # a mishearing of something else, a dispute: the debtor stays verified
    ("zh", [("agent", "请问是周强先生吗"), ("debtor", "是的"), ("agent", "周先生 您的车贷本期逾期了"),
            ("debtor", "我听错了 你说多少钱"), ("agent", "这个月应还三千二")], None),
    ("zh", [("agent", "请问是周强先生吗"), ("debtor", "是的"), ("agent", "周先生 您的车贷本期逾期了"),
            ("debtor", "你们找错人了 我没办过车贷"), ("agent", "系统里这笔车贷登记在您名下 欠款三千二")], None),
    ("en", [("agent", "am i speaking with sam lee"), ("debtor", "yes"), ("agent", "sam, your balance of four hundred is past due"),
            ("debtor", "sorry i misheard you, what's the total"), ("agent", "it's four hundred twelve")], None),
    ("en", [("agent", "am i speaking with sam lee"), ("debtor", "yes"), ("agent", "sam, your balance of four hundred is past due"),
            ("debtor", "no, this debt is not mine at all"), ("agent", "the account is listed under your name")], None),
])
def test_who_said_yes_decides_whom_the_debt_was_told(engine_for, language, turns, disclosure):
    """A yes verifies whoever the check asked for; a verified listener who says they misheard and are
    someone else is a third party again (CBA-G, 1692c(b))."""
    engine, _ = engine_for(language)
    found = set(_rules(run_call(engine, turns)))
    if disclosure:
        assert disclosure in found
    else:
        assert not found & {"CN-3P", "US-3P"}


def test_a_disclosure_as_speech_recognition_writes_it_is_still_one(zh_engine):
    """逾期 and 欠款 come out of the recogniser as 鱼期 and 前款; said to a wife they still tell her the debt."""
    events = run_call(zh_engine, [("agent", "您好请问是王磊先生吗"), ("third_party", "我是他老婆 他出差了"),
                                  ("agent", "那您跟他说一声 他那张卡前款两万 已经鱼期了")])
    assert "CN-3P" in _rules(events)


DEATH_HANDLED = {
    "en": ("hello, is this martin cole", "martin died last month, this is his sister", "this is his coworker, he's in a meeting",
           ["i'll put a note on the file and stop any further collection calls on his account",
            "just so you know, you're not personally liable for what he owed, his estate deals with it",
            "when you get a chance, send a copy of the death certificate and we'll pass his account to our estates team"],
           ["i'm sorry for your loss, but could you pay his card balance of nine hundred dollars for him",
            "we'll stop collection, though you would need to cover the balance yourself",
            "his account with harbor bank is ninety days past due",
            "i'm sorry for your loss. he had about two thousand dollars past due with us on that card",
            "we won't stop collection calls on his account until someone pays it",
            "you don't have to pay his balance all at once, maybe fifty a month"]),
    "zh": ("喂 是赵立新吗", "他前几天已经去世了 我是他女儿", "我是他同事 他在开会",
           ["这个账户我们会马上停止所有催收电话",
            "您不用担心 他欠的钱家里人不用自己掏钱替他还 最多只在他留下的遗产里处理",
            "麻烦您有空的时候把死亡证明拍一下发过来 他那笔欠款我们这边好按身故办理"],
           ["请节哀 不过他欠的一万二 您做女儿的看能不能先垫上",
            "家属按法律没有还款义务 可是你们家里总得有人出面把这钱还了",
            "他那张信用卡逾期了四个月 欠款一万二",
            "请节哀 跟您说一下 他那张卡逾期三个月了 一共欠了八千多",
            "请节哀 我们会暂停催收电话 您看能不能先帮他把这个月的还了",
            "他去世了我们也不会停止催收 欠款还是得有人还"]),
}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_handling_of_a_death_told_to_the_family_is_no_disclosure(request, language):
    """Once the one on the line says the debtor died, collection stopped, the estate and a death
    certificate are what the agent owes the family (the rule's ``after_death``), and so is a line that
    itself speaks of the death (the death heard, if not by us); asking the family to pay, or the
    debt's details said for themselves, still break the third-party rule. Said to a coworker, stopping
    collection on "his account" still tells a stranger of a debt."""
    engine = request.getfixturevalue(f"{language}_engine")
    rule = "US-3P" if language == "en" else "CN-3P"
    question, death, coworker, handled, pressed = DEATH_HANDLED[language]
    for line in handled:
        assert rule not in _rules(run_call(engine, [("agent", question), ("third_party", death), ("agent", line)])), line
    said_to_a_coworker = [rule in _rules(run_call(engine, [("agent", question), ("third_party", coworker), ("agent", line)]))
                          for line in handled]
    assert said_to_a_coworker == [True, False, False]
    for line in pressed:
        assert rule in _rules(run_call(engine, [("agent", question), ("third_party", death), ("agent", line)])), line


@pytest.mark.parametrize("line", [
    "out of respect for your loss, we'll put a hold on all collection calls",
    "as his wife, you won't have to pay anything on this",
    "many families settle the estate through probate first, so take your time",
    "if you get a letter from someone claiming to be us, just ignore it and call our main number",
])
def test_the_handling_of_a_death_and_a_scam_warning_break_no_rule(en_engine, line):
    events = run_call(en_engine, [("agent", "hello, is this martin cole"), ("third_party", "martin died last month, this is his wife"),
                                  ("agent", line)])
    assert not {"US-DECEASED", "US-DISPUTE", "US-3P"} & set(_rules(events)), line


def test_chinese_hours_gate(zh_engine):
    events = run_call(zh_engine, [("agent", "您好")], metadata={"local_time": "22:40", "attempts_today": 8})
    assert {"CN-HOURS", "CN-FREQ"} <= set(_rules(events))
    consented = run_call(zh_engine, [("agent", "您好")], metadata={"local_time": "22:40", "consent_outside_hours": True})
    assert "CN-HOURS" not in _rules(consented)


@pytest.mark.parametrize(("engine_name", "line", "rule"), [
    ("en", "i know you told me not to ring you while you're at the office, but this will only take a minute", "US-TIME"),
    ("en", "it's just past six in the morning but i wanted to get you before your shift", "US-TIME"),
    ("en", "sure, i'll try you around eleven tonight", "US-TIME"),
    ("en", "we'll keep ringing your number every hour till you answer", "US-FREQ"),
    ("en", "this makes the seventh call this morning", "US-FREQ"),
    ("en", "you withdrew your consent last week, but the dialer is still set to call this number", "US-TCPA"),
    ("en", "relax, we are not collectors, we just look after your account", "US-MINI"),
    ("en", "this has nothing to do with collections, i just want to check in about the balance", "US-MINI"),
    ("en", "don't worry, it's only a social call, how are things going with the car payment", "US-MINI"),
    ("en", "i'm an old buddy of the family, just wanted a word about what's owed", "US-MINI"),
    ("en", "this is julia over at your credit union, not a collection agency or anything", "US-MINI"),
    ("en", "we're only a payment reminder service for the dental office", "US-MINI"),
    ("zh", "都夜里十一点半了，咱们把还款日期定下来", "CN-HOURS"),
    ("zh", "明天一大早六点我再给您打过去", "CN-HOURS"),
    ("zh", "您不接的话我们每隔半小时就给您打一次", "CN-FREQ"),
    ("zh", "这已经是今天打给您的第七个电话了", "CN-FREQ"),
])
def test_the_agents_own_words_break_a_metadata_or_required_rule(request, engine_name, line, rule):
    """Hours, frequency and autodialler gates read the call's metadata, which a recorded call often
    lacks and which cannot know what the consumer said about a time or a place; a disclosure made
    cannot be taken back. The agent's own words show them (``Rule.anytime``), with the line as
    evidence, whatever the metadata says."""
    engine = request.getfixturevalue(f"{engine_name}_engine")
    verify = VERIFY_EN if engine_name == "en" else VERIFY_ZH
    clean = {"local_time": "11:00", "calls_last_7d": 1, "attempts_today": 1}
    events = run_call(engine, verify + [("agent", line)], metadata=clean)
    hits = [e for e in of_type(events, "compliance") if e.rule_id == rule]
    assert hits and hits[0].utterance_id == len(verify) and hits[0].method.startswith("anytime:"), _rules(events)
    assert line in hits[0].evidence


@pytest.mark.parametrize("line", [
    "the store that sold you the couch is not a collection agency, but we are, and this is an attempt to collect a debt",
    "i'm a customer service rep here at delmar collections, a debt collector",
])
def test_saying_who_is_not_a_collector_takes_nothing_back(en_engine, line):
    events = run_call(en_engine, VERIFY_EN + [("agent", line)])
    assert not [e for e in of_type(events, "compliance") if e.rule_id == "US-MINI" and e.method.startswith("anytime")]


@pytest.mark.parametrize(("engine_name", "line"), [
    ("en", "you asked us not to call you at work, so i've noted that and we'll use your mobile in the evening"),
    ("en", "we can't call before eight in the morning or after nine at night, so when is best for you?"),
    ("en", "you revoked consent for autodialed calls, so the system won't dial your cell again"),
    ("en", "we won't keep calling you every day, i'll send a letter instead"),
    ("en", "i'm not a lawyer, i'm a debt collector, so i can't give legal advice"),
    ("en", "i'm calling about a personal business matter, could you ask him to call me back"),
    ("en", "this isn't a personal call, i'm a debt collector with summit recovery"),
    ("zh", "我们不会在晚上十点以后给您打电话"),
    ("zh", "您说早上七点半比较方便，那我们就那个时间给您打"),
    ("zh", "我一直打不通您的电话，所以发了短信"),
    ("zh", "这是您第五期的账单，金额跟上期一样"),
])
def test_lawful_words_about_hours_calls_and_disclosure_break_no_rule(request, engine_name, line):
    engine = request.getfixturevalue(f"{engine_name}_engine")
    verify = VERIFY_EN if engine_name == "en" else VERIFY_ZH
    events = run_call(engine, verify + [("agent", line)], metadata={"local_time": "11:00", "calls_last_7d": 1})
    spoken = [e.rule_id for e in of_type(events, "compliance") if (e.method or "").startswith("anytime:")]
    assert not spoken


@pytest.mark.parametrize("line", [
    "you'll never get a car loan again, not a house, not an apartment, nothing",
    "we can pull it right out of your wages, no court order needed",
    "believe me you don't want this to get ugly",
    "i'm referring your account to the prosecutor's office today",
    "we don't even need a court order to take it out of your paycheck",
    "your landlord is gonna get a letter about what you owe",
])
def test_a_negation_that_makes_the_threat_bigger_is_still_a_threat(en_engine, line):
    """"never", "no court needed", "don't want this to get ugly": the negation is the menace, not a reassurance."""
    assert "US-THREAT" in _rules(run_call(en_engine, VERIFY_EN + [("agent", line)]))


def test_reassurance_is_not_a_threat(en_engine):
    events = run_call(en_engine, VERIFY_EN + [("agent", "nobody is going to arrest you and we wont garnish anything")])
    assert "US-THREAT" not in _rules(events)


def test_explaining_that_a_judgment_comes_before_any_garnishment_is_not_a_threat(en_engine):
    line = "a court judgment would have to happen first before anything like garnishment, and that's not happening now"
    assert "US-THREAT" not in _rules(run_call(en_engine, VERIFY_EN + [("agent", line)]))


@pytest.mark.parametrize(("line", "threat"), [
    ("if this isnt paid by friday im going to call your mother and tell her", True),
    ("we'll report this to your employer", True),
    ("ill let your boss know you dont pay your bills", True),
    ("we are going to contact your landlord about this", True),
    ("you asked if ill call your mother no we wont", False),
    ("we will not call your mother or your employer", False),
    ("your boss will never hear about this from us", False),
    ("your boss won't be happy when he hears about this", True),
    ("you might want to talk to your family first before you decide", False),
])
def test_a_threat_to_tell_family_or_employer_is_a_threat(en_engine, line, threat):
    """Telling the debtor's mother, boss or landlord is a threat to shame them into paying (1692c(b), 1692d)."""
    assert ("US-THREAT" in _rules(run_call(en_engine, VERIFY_EN + [("agent", line)]))) is threat


@pytest.mark.parametrize(("line", "fee"), [
    ("there's a 35 dollar convenience fee for paying by phone", True),
    ("we've added a two hundred dollar processing fee since it came to us", True),
    ("i'll add a daily fee of ten dollars until it's paid", True),
    ("with our fees the balance is now about double", True),
    ("there is no fee for paying online", False),
    ("we don't charge any convenience fee", False),
    ("we waived the collection fee for you", False),
    ("there's a twenty five dollar fee to pay over the phone", True),
    ("paying online costs an extra nine ninety nine", True),
    ("the original creditor charged late fees under your agreement, those are already in the balance", False),
    # a penalty, a fee per call or letter, a charge for the trouble, interest the agency added, a fee
    # that comes unless the debtor pays by a date, fees lumped in, a balance that jumps tomorrow
    ("a collection penalty of seventy five dollars goes on the account next", True),
    ("every call we make costs a ten dollar call fee, so let's settle it now", True),
    ("there's a fifteen dollar charge for each letter we send you", True),
    ("i'm adding forty bucks for all the trouble this has caused", True),
    ("that total has interest our office has put on since the bank sent it over", True),
    ("a two hundred dollar legal fee gets charged if the account is not cleared by tomorrow", True),
    ("it's nine hundred with the fees and everything", True),
    ("pay today, because tomorrow the balance doubles", True),
    ("there won't be any penalty if you miss this one payment", False),
    ("there's no interest from us on top of what the bank sent", False),
    ("the interest was added by the bank under your card agreement before it came to us", False),
    ("if you can round your payment up to fifty a month you'll be done sooner", False),
    ("our calls and our letters come free of charge", False),
    ("sorry for all the trouble, let me fix that for you", False),
    # a reviewer's lines near the new words: a denial, the creditor's own penalty, a card charged, a court's rate
    ("per our terms there's a processing fee for phone payments", True),
    ("we never round the balance up, it's exactly five twelve thirty seven", False),
    ("the bank put a late payment penalty on the card back in march before we got the account", False),
    ("we'll charge the card on the first unless you tell us not to by friday", False),
    ("the interest we've applied is the judgment rate the court set", False),
])
def test_a_fee_added_on_top_of_the_balance_breaks_the_amount_rule_whatever_the_balance(en_engine, line, fee):
    """No balance on file says a pay-by-phone or collection fee is authorised (1692f(1)): flagged with or without one."""
    for metadata in ({}, {"balance": 640}):
        events = run_call(en_engine, VERIFY_EN + [("agent", line)], metadata=metadata)
        found = [e for e in of_type(events, "compliance") if e.rule_id == "US-AMT"]
        assert bool(found) is fee and all("fee on top of the balance" in e.evidence for e in found)


@pytest.mark.parametrize(("language", "line", "rule"), [
    ("en", "you can just toss that validation notice, it's only paperwork", "US-DISPUTE"),
    ("en", "go ahead and dispute it all you want, the balance is still due on friday", "US-DISPUTE"),
    ("en", "we don't send out proof, you'll have to take my word on the balance", "US-DISPUTE"),
    ("en", "we are not mailing out any proof, the balance stands", "US-DISPUTE"),
    ("en", "disputes dont work here just so you are aware", "US-DISPUTE"),
    ("en", "forget the notice, what matters is what you owe", "US-DISPUTE"),
    ("en", "the 30 day window doesnt apply, this is due now", "US-DISPUTE"),
    ("en", "even if you contest it you still have to pay by monday", "US-DISPUTE"),
    ("en", "no need to dispute anything, just pay it and move on", "US-DISPUTE"),
    ("en", "by the time your letter gets here it will be too late", "US-DISPUTE"),
    ("zh", "申诉也没用，卡在您名下就得您还", "CN-DISPUTE"),
    ("zh", "是不是被冒用那都是后话，您先还清了再去申诉", "CN-DISPUTE"),
    ("zh", "哪有什么投诉渠道 你先把钱转过来", "CN-DISPUTE"),
    ("zh", "交易记录我们不提供 钱你是欠了的", "CN-DISPUTE"),
    ("zh", "您不用核对了 就按这个数还", "CN-DISPUTE"),
    # the debtor's dispute said by the agent, and the money asked for anyway or the dispute waved off
    ("zh", "您讲的冒用那回事 也得先还 查清楚了再退给您", "CN-DISPUTE"),
    ("zh", "利息不认是您的事 我们只负责催收", "CN-DISPUTE"),
    ("zh", "拿不出证据就乖乖还钱", "CN-DISPUTE"),
    ("zh", "报警是你自己的事 欠的钱一样要还", "CN-DISPUTE"),
    # the forms belittled, the window said not to apply, a dispute said to hurt the debtor's credit (session 61)
    ("en", "those validation forms, nobody looks at them, just send the money", "US-DISPUTE"),
    ("en", "the 30 day period doesn't even apply to you", "US-DISPUTE"),
    ("en", "if you contest it, it'll hurt your credit, so just pay", "US-DISPUTE"),
])
def test_words_that_deny_the_right_to_dispute_break_it_before_any_dispute(en_engine, zh_engine, language, line, rule):
    """Overshadowing needs no dispute before it: the line itself tells the debtor their right is worthless."""
    engine, verify = (en_engine, VERIFY_EN) if language == "en" else (zh_engine, VERIFY_ZH)
    hits = [e for e in of_type(run_call(engine, verify + [("agent", line)]), "compliance") if e.rule_id == rule]
    assert hits and hits[0].utterance_id == 2 and "whatever the debtor said before" in hits[0].evidence


@pytest.mark.parametrize(("language", "line"), [
    ("en", "you have thirty days to dispute it in writing, and we'll mail you the validation notice today"),
    ("en", "please don't ignore the letter, it explains your rights"),
    ("en", "how much can you pay today"),  # pressing, but nobody disputed anything
    ("en", "nobody is saying you can't dispute it, you absolutely can"),
    ("en", "if you ignore the letter, we'll assume the debt is valid after thirty days"),
    ("en", "you don't have to take my word for it, the validation notice will show the itemized balance"),
    ("en", "dispute it if you want, either way we pause collection until we respond"),
    ("en", "please disregard the notice we sent on the 3rd, it had a typo; a corrected one is on its way"),
    ("en", "if theres nothing to dispute we can set up the plan"),
    ("en", "you dont have to dispute anything, the fee came off already"),
    ("en", "forget the notice from april, the new one has the right address on it"),
    ("en", "ok so theres nothing to dispute then, great, lets set up the plan"),
    ("en", "the dispute wont do anything to your credit score, it just pauses collection"),
    ("en", "if you dispute it, the bureau will show it as disputed while we check"),
    ("en", "forget that letter we sent, it showed the wrong balance, a corrected one is in the mail"),
    ("en", "im not showing any validation request here"),
    ("en", "the thirty days dont count until you actually receive the notice"),
    ("en", "disputing it wont stop the calls unless you put it in writing"),
    ("zh", "如果您对这笔消费有异议，可以拨打客服热线申请调查，核实期间我们不会催收"),
    ("zh", "这张卡是在您名下办理的，所以我们联系的是您本人"),
    ("zh", "首先还是再核实一下您的身份"),
    ("zh", "提出异议不影响您的征信"),
    ("zh", "如果是盗刷，先冻结卡片，别的都是后话"),
    ("zh", "无论是不是您本人办的，核实期间您都不必先还"),
    ("zh", "明细我们会通过短信发给您 您对哪笔有疑问可以拨打客服"),
    ("zh", "投诉渠道是我行官方客服热线 您也可以到网点书面申请"),
    ("zh", "您可以报警 报警回执请通过官方渠道提交 核实期间不催收"),
    ("zh", "您说卡被冒用了 那这笔先不用还 我马上提交核查"),
    ("zh", "如果确认是盗刷 这笔您就不用还 我们会出书面结果"),
])
def test_telling_the_debtor_their_rights_breaks_no_duty(en_engine, zh_engine, language, line):
    engine, verify = (en_engine, VERIFY_EN) if language == "en" else (zh_engine, VERIFY_ZH)
    rules = _rules(run_call(engine, verify + [("agent", line)]))
    assert not set(rules) & {"US-DISPUTE", "CN-DISPUTE"}


@pytest.mark.parametrize("line", [
    "this card was charged off back in 2011, and our attorneys can still file a lawsuit if you refuse",
    "debts like this never expire, so legal action is always on the table",
    "it doesn't matter how old the balance is, we can still go to court",
    "the time limit won't protect you, we are ready to sue",
    # the year in words or before the account, the limit denied in other words
    "that card is from two thousand seven but we can still file suit on it",
    "we are taking the 2009 loan to court next month",
    "old account or not the judge will side with us",
    "there is no time limit on old loans, so court is always possible",
    "the creditor can sue you on it any time they want",
    "even if its over the statute youll still end up in court",
    # the limit granted, then a suit anyway
    "the statute ran out years ago, sure, but we can still haul you before a judge",
    "its time barred, whatever, we are still filing suit",
    "the limitations period expired but our lawyers can still haul you into court",
    "the statute of limitations is up, we will file suit anyway",
    # a judge or the lawyers named beside the age, the limit said not to stop a suit, a taunt
    "the card is from 2005, though any judge would make you pay it",
    "you stopped paying in 2011, so this goes to our attorneys to file",
    "even if it is over the limit, court is still on the table",
    "the limit on this one ran out, which won't stop the bank from filing",
    "statute of limitations? tell it to the judge",
    "the debt is from 2009, the statute is no defense, our lawyers will file suit",
])
def test_a_line_that_shows_the_debt_is_time_barred_breaks_the_rule_without_the_flag(en_engine, line):
    """Most calls carry no time_barred flag (or send it empty); a line that names the debt's age and
    threatens suit, or denies any limit on suing, shows it. On a call flagged time-barred it counts too."""
    for metadata, evidence in ((None, "no time_barred flag"), ({"time_barred": None}, "no time_barred flag"),
                               ({"time_barred": True}, "")):
        events = run_call(en_engine, VERIFY_EN + [("agent", line)], metadata=metadata)
        hits = [e for e in of_type(events, "compliance") if e.rule_id == "US-TBD"]
        assert hits and evidence in hits[0].evidence, metadata
        assert hits[0].method.startswith("anytime:") or metadata == {"time_barred": True}  # the trigger may say it first


@pytest.mark.parametrize(("line", "metadata"), [
    ("because this account dates from 2008, we will not sue you and we can't take you to court", None),
    ("in some states making a payment on an old debt can restart the time to sue, so you may want advice first", None),
    ("the judgment was entered in 2012, so we are collecting under the court order", None),
    ("if we can't agree on a plan we may have to file a lawsuit", None),  # no age named: only the flag tells
    # a reviewer's lawful lines about old debts, judgments and years
    ("There's a court judgment from 2014 on this account, so we're collecting on that judgment.", None),
    ("Your last payment was back in 2016, and we're not taking any legal action.", None),
    ("I see the original loan from 2008; we have no plans to file a lawsuit.", None),
    ("It's an old account, so legal action isn't an option for us.", None),
    ("I'm calling about the card ending in 2012; your court date is March 5th.", None),
    ("There's no time limit on disputing this with the credit bureaus.", None),
    ("Once you set up autopay it never expires unless you cancel it.", None),
    ("this account is from two thousand seven, because of its age we cannot sue you", None),
    # amounts read as years, a suit with no age named
    ("i can bring the balance from two thousand four hundred down to eighteen hundred, if not the client may file a lawsuit", None),
    ("your 2000 balance is with our legal team and they may file suit", None),
    ("the creditor could take legal action at any time if the account stays unpaid", None),
    ("there is no limit on the balance you can pay online, and no lawsuit is planned", None),
    ("the 2015 account you asked about has no lawsuit on it", None),
    ("Your last payment was in March of 2016, and the court awarded the judgment in 2018.", None),
    ("since this debt is time barred, a payment from you might give the creditor fresh time to sue you, but that's your call",
     None),  # the disclosure Reg F asks for
    ("this one is time barred so no suit can come of it, though paying is up to you", None),
    ("its time barred, still, if you ever get sued over it, go to court and say so, it's a defense", None),
    ("the statute of limitations expired, so whatever you decide nobody can sue you over it", None),
    ("its time barred, but we cannot sue you on it anyway", None),
    ("the statute of limitations is a defense, and you could raise it before a judge", None),
    ("the account is from 2008 and a judge dismissed that case years ago", None),
    ("this card dates from 2008 and the judge in your divorce gave it to you", None),
    ("since the debt is years old, if your attorney wants to file a dispute here's our address", None),
    ("this card was charged off back in 2011, and our attorneys can still file a lawsuit if you refuse",
     {"time_barred": False}),  # the account says it is not
])
def test_a_suit_mentioned_without_a_time_barred_debt_is_not_that_rule(en_engine, line, metadata):
    events = run_call(en_engine, VERIFY_EN + [("agent", line)], metadata=metadata)
    assert "US-TBD" not in {e.rule_id for e in of_type(events, "compliance")}


@pytest.mark.parametrize(("language", "request_line", "goodbye", "pressing"), [
    ("zh", "你们别再打了 天天打烦死了", "那就这样 辛苦你了 拜拜", False),
    ("zh", "你们别再打了 天天打烦死了", "那就这样吧 再见", False),
    ("zh", "你们别再打了 天天打烦死了", "那就这样 你尽快还款 再见", True),   # asks for money on the way out
    ("en", "stop calling me", "okay have a good day", False),
])
def test_a_goodbye_after_a_request_to_stop_is_no_pressing(en_engine, zh_engine, language, request_line, goodbye, pressing):
    engine = en_engine if language == "en" else zh_engine
    events = run_call(engine, [("agent", "先跟您说一下 这期账单还没还" if language == "zh" else "this is about your balance"),
                               ("debtor", request_line), ("agent", goodbye)])
    flagged = {e.rule_id for e in of_type(events, "compliance") if e.utterance_id == 2 and e.method != "deadline"}
    assert bool(flagged & {"CN-CEASE", "US-CEASE"}) is pressing, flagged


@pytest.mark.parametrize(("language", "turns", "rule", "raised"), [
    ("zh", [("agent", "请问是刘建国先生吗"), ("debtor", "嗯"), ("agent", "麻烦您报一下身份证后四位"), ("debtor", "三九二七"),
            ("agent", "跟我们系统里的对不上 算了 我直接跟您说 您的贷款欠了一万二 逾期两个月了")], "CN-3P", True),
    ("en", [("agent", "hi this is sam with crestline, can you confirm your date of birth"), ("debtor", "june ninth seventy four"),
            ("agent", "hmm, that date doesn't line up with our records, anyway the balance on the account is 812 dollars")], "US-3P", True),
    ("en", [("agent", "hi this is sam with crestline, can you confirm your date of birth"), ("debtor", "june ninth seventy four"),
            ("agent", "thank you, that matches. the balance on the account is 812 dollars")], "US-3P", False),
    # a plain yes: the mismatch is about the payment, not who is on the line
    ("zh", [("agent", "请问是刘建国先生吗"), ("debtor", "是我 我上周就还了"),
            ("agent", "您说的还款跟系统记录对不上 我帮您查一下 目前显示欠款一万二")], "CN-3P", False),
])
def test_the_agent_saying_the_details_do_not_match_takes_the_verification_back(engine_for, language, turns, rule, raised):
    engine, _ = engine_for(language)
    events = run_call(engine, turns)
    found = {e.rule_id for e in of_type(events, "compliance") if e.utterance_id == len(turns) - 1}
    assert (rule in found) is raised, found



@pytest.mark.parametrize(("language", "complaint", "asked_to_stop", "line", "rule"), [
    ("en", "i dont have it in front of me and honestly im tired of you people calling my house and talking to my husband",
     "stop calling me, do not call this number again",
     "i hear you but the balance of eight hundred is still open, can we set something up today", "US-CEASE"),
    ("zh", "你们又打来干什么", "以后别再给我打电话了", "您这笔欠款八千二 今天能先还一部分吗", "CN-CEASE"),
])
def test_a_complaint_about_the_calls_read_unsurely_starts_no_duty(en_engine, zh_engine, language, complaint,
                                                                  asked_to_stop, line, rule):
    """A grumble about the calls (stop_calling read at 0.40 / 0.52) is a hint for the agent, not a request
    that makes every later word about the balance an S1; a request to stop still is."""
    engine, verify = (en_engine, VERIFY_EN) if language == "en" else (zh_engine, VERIFY_ZH)
    assert rule not in _rules(run_call(engine, verify + [("debtor", complaint), ("agent", line)]))
    assert rule in _rules(run_call(engine, verify + [("debtor", asked_to_stop), ("agent", line)]))


@pytest.mark.parametrize(("line", "pressing"), [
    ("i get that it's not your debt, but could you put fifty down while the bank looks into it", True),
    ("i understand this is not your account, so collection stops and proof goes out by mail", False),
])
def test_a_dispute_granted_in_a_word_and_pressed_past_breaks_its_duty(en_engine, line, pressing):
    """The agent's own words say the debtor disputes ("it's not yours"), or ask for a payment while it is
    checked: asking for money in the same breath breaks the dispute duty (1692g(b))."""
    assert ("US-DISPUTE" in _rules(run_call(en_engine, VERIFY_EN + [("agent", line)]))) is pressing


def test_a_dispute_spread_over_its_intents_still_starts_its_duty(en_engine):
    """A dispute reads as several intents at once (not mine, wrong amount, show me proof): together
    they start the duty though none alone is sure."""
    said = "i dont owe this and im disputing it"
    events = run_call(en_engine, VERIFY_EN + [("debtor", said), ("agent", "ok but lets get a payment set up today anyway")])
    assert "US-DISPUTE" in _rules(events)


@pytest.mark.parametrize("question", ["alright and how much is on that card at the moment",
                                      "sure, remind me which store that card was from"])
def test_an_ordinary_question_about_the_bill_starts_no_duty(en_engine, question):
    """The readings a dispute is spread over stay under "no objection" on a plain question: the
    balance asked for, a payment proposed after it, no dispute to breach."""
    events = run_call(en_engine, VERIFY_EN + [("debtor", question),
                                              ("agent", "it comes to four ten, shall we book a payment for friday")])
    assert "US-DISPUTE" not in _rules(events)


def test_granting_the_point_then_pressing_is_a_duty_breach(en_engine, monkeypatch):
    """"got it but ... just settle this with me tonight": the concession dilutes the whole line (read
    lawful at 0.14), so a line that grants a point and turns to payment is read clause by clause; one
    that turns to a disclosure owed is not pressing."""
    import dataclasses

    asked = VERIFY_EN + [("debtor", "i already have a lawyer handling all of this")]
    line = ("got it but honestly between you and me it would be a lot easier if you just settled this with me "
            "tonight lawyers just drag it out")
    assert "US-ATTY" in _rules(run_call(en_engine, asked + [("agent", line)]))
    disclosure = "i understand but i do have to let you know this is an attempt to collect a debt"
    assert "US-ATTY" not in _rules(run_call(en_engine, asked + [("agent", disclosure)]))
    pressing = en_engine.analyzer("pressing")
    monkeypatch.setattr(pressing, "pack", dataclasses.replace(pressing.pack, concedes_then_turns=None))
    assert "US-ATTY" not in _rules(run_call(en_engine, asked + [("agent", line)]))  # the concession is what counts


@pytest.mark.parametrize(("line", "threat"), [
    ("just so you know if it isnt paid we might have to let your employer know about it", True),
    ("if this doesnt get handled we will be forced to contact your employer", True),
    ("we will never let your employer know about this account", False),
    ("nobody is going to call your job about this", False),
    ("maybe talk to your husband about it and give me a call back tomorrow", False),
    ("if you dont want us to call your work just let me know and we will stop", False),
])
def test_telling_the_employer_or_family_about_the_debt_is_a_threat(en_engine, line, threat):
    """Telling a third party about the debt is what the law forbids (1692c(b)): threatening it is a
    threat of unlawful action; saying it will not happen is the reassurance it sounds like."""
    assert ("US-THREAT" in _rules(run_call(en_engine, VERIFY_EN + [("agent", line)]))) is threat


@pytest.mark.parametrize("line", [
    "利息是按您签的合约算的 我可以把各项费用的清单发给您核对",
    "这个数您有疑问的话 我先记下来提交核查 查清楚之前这部分不找您要",
])
def test_explaining_the_fees_after_a_dispute_is_no_pressing(zh_engine, line):
    """Answering a fee dispute with where the figure comes from and an itemised statement is how the
    duty is met, not collection talk."""
    disputed = VERIFY_ZH + [("debtor", "怎么多出来这么多 利息罚息也太离谱了 我不认")]
    assert "CN-DISPUTE" not in _rules(run_call(zh_engine, disputed + [("agent", line)]))
    for demand in ("不管多少 今天先把八千还上", "违约金是照合同条款收的 您这个礼拜之内得全部还清"):
        assert "CN-DISPUTE" in _rules(run_call(zh_engine, disputed + [("agent", demand)])), demand


@pytest.mark.parametrize(("line", "discloses"), [
    ("this is kevin from ridgeline, its about the mastercard he has with lakeshore bank, please have him ring us", True),
    ("its the visa he opened with summit credit union", True),
    ("could you tell him its the lakeshore card, he needs to take care of it", True),
    ("could you have him call kevin back about a personal business matter", False),
])
def test_naming_the_creditors_product_to_a_third_party_is_disclosure(en_engine, line, discloses):
    """The account "he has with lakeshore bank" names the creditor: to a spouse who answered, that is
    the debt disclosed (1692b(2)), as "he needs to take care of it" implies one."""
    answered = [("agent", "hi may i speak with tom reyes"), ("third_party", "hes at work this is his wife")]
    assert ("US-3P" in _rules(run_call(en_engine, answered + [("agent", line)]))) is discloses


def _s1(events):
    return [e.rule_id for e in of_type(events, "compliance") if e.severity == "S1"]


@pytest.mark.parametrize(("language", "line", "rule"), [
    # the family asked to come forward for the one who died
    ("en", "now that he's passed we'd really like his children to chip in and cover the rest", "US-DECEASED"),
    ("en", "we'll keep her account open until somebody in the family makes a payment", "US-DECEASED"),
    # an attorney, a credit bureau or a hearing on the line
    ("en", "hi, this is attorney Delgado calling about your account", "US-IMPERS"),
    ("en", "please stay on the line for our attorney", "US-IMPERS"),
    ("en", "we're the credit reporting agency, so your score is up to us", "US-IMPERS"),
    ("en", "you have a court hearing next tuesday at nine", "US-IMPERS"),
    # menace left to the imagination, a visit in person, the credit ruined on purpose, the home taken
    ("en", "you ought to be scared right now", "US-THREAT"),
    ("en", "the collections crew is scheduled to knock on your door at work monday", "US-THREAT"),
    ("en", "we can collect the payment in person on friday", "US-THREAT"),
    ("en", "i'll see to it that your credit score is ruined", "US-THREAT"),
    ("en", "no lender will ever approve you after this", "US-THREAT"),
    ("en", "the family house could be seized over this", "US-THREAT"),
    # an agency that says it is the bank, or speaks for a court
    ("zh", "我是正经的交通银行在编员工 可不是第三方", "CN-IMPERS"),
    ("zh", "我们和银行是一家 您直接还给我们就行", "CN-IMPERS"),
    ("zh", "我们这次是代表法院来通知您的", "CN-IMPERS"),
    # sent to borrow elsewhere, a visit with consent waved away
    ("zh", "您可以去借贷平台拆借一点 应应急", "CN-MISLEAD"),
    ("zh", "我们下周安排外访 这个不需要征得您同意", "CN-CHANNEL"),
    # menace that names no step, a taunt
    ("zh", "等到了下一步 那个代价您可担不起", "CN-ABUSE"),
    ("zh", "再这么拖下去 您的生活可就没那么太平了", "CN-ABUSE"),
    ("zh", "后面的处理方式 你肯定不想见到", "CN-ABUSE"),
    ("zh", "我们会用尽一切手段", "CN-ABUSE"),
    ("zh", "你不是很能说吗 继续编", "CN-ABUSE"),
])
def test_menace_and_false_authority_in_plain_words(engine_for, language, line, rule):
    """No legal step named, yet a menace ("you ought to be scared", 后面的处理方式 你肯定不想见到) or a false
    authority ("this is attorney ...", an agency that says it is the bank): 1692d, 1692e(3), 1692e(5), Reg F's
    rule on a dead debtor's family, CBA-G. Chinese negations ("不是第三方", "不需要您同意") are the breach, not a
    reassurance."""
    engine, verify = engine_for(language)
    assert rule in _rules(run_call(engine, verify + [("agent", line)]))


@pytest.mark.parametrize(("language", "line"), [
    ("en", "his brothers aren't expected to chip in at all, that's the estate's job"),
    ("en", "if theres nothing in the estate, relatives are not expected to cover it"),
    ("en", "if you ever get a court date, please go to it"),
    ("en", "you can check our license with the attorney general"),
    ("en", "i'd be worried too if i got a letter like that"),
    ("en", "it's normal to be nervous about this, let's go through it"),
    ("en", "we don't have field agents and no one will come to your house"),
    ("en", "you can pay in person at any of our branches"),
    ("en", "your home can't be taken for an unpaid card balance"),
    ("zh", "我们是银行找来帮忙提醒还款的机构 并非银行职员"),
    ("zh", "这条提醒并不代表法院立了案"),
    ("zh", "请别为了还我们这笔钱去找网贷"),
    ("zh", "您之前是不是去借了网贷"),
    ("zh", "上门之前我们会先征得您的同意"),
    ("zh", "逾期会上报征信 这是实际的后果 您心里有个数"),
    ("zh", "您可以找身边的人商量一下"),
    ("zh", "咱们换个办法解决 帮您把这笔分成几期"),
    ("zh", "这事没完全弄清楚以前 谁也不会催您"),
])
def test_lawful_lines_in_those_words_raise_no_s1(engine_for, language, line):
    engine, verify = engine_for(language)
    assert not _s1(run_call(engine, verify + [("agent", line)]))


@pytest.mark.parametrize(("line", "rule"), [
    # a card drawn on to pay another, a fee by the day, a suit filed by "the system", a record erased, a
    # raised limit guaranteed; a neighbourhood office or a court's line, the agency's name withheld; a
    # boss or a spouse told, silence sold for payment; the family left to decide who pays; complaints
    # waved off; a call promised for late at night or at dawn, or after three conversations today
    ("从其他信用卡取现 把这期补上", "CN-MISLEAD"),
    ("晚还一天就多收您三百块的罚款", "CN-MISLEAD"),
    ("到了月底系统会自动立案", "CN-MISLEAD"),
    ("结清那天我找人把您的不良记录删除", "CN-MISLEAD"),
    ("只要还上 我打包票给您提额", "CN-MISLEAD"),
    ("我们是街道办的 过来问问您这笔账", "CN-IMPERS"),
    ("这边是公安的专线 您的问题已经登记", "CN-IMPERS"),
    ("我们单位名称您不用管 有事找我就行", "CN-IMPERS"),
    ("要不要让您的领导也看看您这笔账", "CN-PRIV"),
    ("照片我发给您老板欣赏一下", "CN-PRIV"),
    ("这个月还了 我就不跟您家里人说", "CN-PRIV"),
    ("您那些资料泄露出去 我们管不了", "CN-PRIV"),
    ("我们只要一个电话就可以让您家人知道", "CN-PRIV"),
    ("他留下的欠款 你们姐弟几个定一下谁还", "CN-ESTATE"),
    ("这笔欠款随着家庭走 谁也躲不开", "CN-ESTATE"),
    ("异议电话用不着了 这个月照常还", "CN-DISPUTE"),
    ("投诉也白搭 钱还是要还的", "CN-DISPUTE"),
    ("我晚上十一点再给您打一个", "CN-HOURS"),
    ("明早五点多给您打过来", "CN-HOURS"),
    ("上午您接了我们四通电话 下午继续给您打", "CN-FREQ"),
])
def test_chinese_false_promises_posing_disclosure_threats_hours_in_plain_words(zh_engine, line, rule):
    """CBA-G's false consequences and promises, fees and borrowing to repay; posing as an authority or
    hiding the agency; PIPL disclosure threats; Civil Code 1161; CCM 69; the hours and frequency limits."""
    assert rule in _rules(run_call(zh_engine, VERIFY_ZH + [("agent", line)]))


@pytest.mark.parametrize("line", [
    "套现还款风险太大 我们不建议",
    "信用记录里的不良信息五年后才删除",
    "提额要看银行的审批 我没法保证",
    "每日万分之五的罚息写在您签的合同里",
    "我姓王 在一家催收公司上班 受托联系您 并不是法院",
    "我们不是街道办的 是一家催收公司",
    "您放心 这件事不会让您的同事知道",
    "您可以把账单发给家人看看 一起商量",
    "遗产以外的部分您家人不用承担 也不用决定谁来还",
    "晚上十点以后 这边不再给您来电",
    "您说晚上十一点方便 那我十一点给您打",
    "今天跟您已经聊了三次 今天不会再打了",
])
def test_lawful_chinese_lines_near_those_words_raise_nothing_new(zh_engine, line):
    """Advice against drawing on a card, the record's own five years, a limit left to approval, interest by
    the contract, an agency that says what it is, a promise not to tell, consent to a late call."""
    found = set(_rules(run_call(zh_engine, VERIFY_ZH + [("agent", line)])))
    assert not found & {"CN-MISLEAD", "CN-IMPERS", "CN-PRIV", "CN-ESTATE", "CN-DISPUTE", "CN-HOURS", "CN-FREQ"}


@pytest.mark.parametrize(("line", "rule"), [
    ("i get that youre in chapter thirteen, but i'll still need a payment by thursday", "US-BANKRUPTCY"),
    ("your bankruptcy filing doesn't matter to us, we need the money by thursday", "US-BANKRUPTCY"),
    ("we won't need your attorneys, just pay the balance today", "US-ATTY"),
    ("you cannot just ask me to quit calling, this balance is still due", "US-CEASE"),
    # the request heard, the debtor taken off the list, a letter or a filing granted in a word (session 61)
    ("i really hear you about the calls, but can you set a payment date first", "US-CEASE"),
    ("we have the email you sent saying not to ring you, have you thought any more about paying", "US-CEASE"),
    ("i know your attorneys handling it, but what could you send us this week", "US-ATTY"),
    ("i understand you already filed, but we'd still want something paid on it by the fifteenth", "US-BANKRUPTCY"),
    ("chapter thirteen, okay, but a small payment to us on the side would help", "US-BANKRUPTCY"),
    # the filing said back with no pressing after it
    ("so youve filed for chapter seven, i'll route the account to our bankruptcy team", None),
    ("i do hear you about the calls, it's noted, nobody here will phone you again", None),
    ("we're taking you off our call list today, you can write to us if you need anything", None),
    ("we have the letter you sent asking us to stop calling, which we have honored", None),
    # a reviewer's lines: a bankruptcy only thought about, a complaint filed, calls to work only
    ("you're thinking about bankruptcy, okay, before you decide could we try a payment plan", None),
    ("i see you filed a complaint about us, shall we look at the balance together", None),
    ("sure, we will stop the calls to your work number, what about a payment today", None),
])
def test_a_request_said_back_and_brushed_aside_is_pressing(en_engine, line, rule):
    """The agent's own words say the debtor filed, has a lawyer or asked to stop (the request may have
    come by letter or in an earlier call): asking for money in the same breath breaks the duty."""
    assert _s1(run_call(en_engine, VERIFY_EN + [("agent", line)])) == ([rule] if rule else [])


@pytest.mark.parametrize(("language", "line"), [
    # a warning about impostors or a colleague's unlawful words, the law's order of things
    ("en", "if a text ever claims a warrant is out for your arrest, that wasn't us, it's a scam"),
    ("en", "if a collector ever told you you'd be arrested, that was wrong"),
    ("en", "watch out, scammers posing as collectors threaten people with jail, just hang up"),
    ("en", "even if it never gets paid, nobody can take your truck over a credit card"),
    ("en", "a creditor would have to sue and win first before any garnishment"),
    ("en", "if the lender repossesses, they have to follow state law and send you a notice"),
    ("en", "for an unpaid card there's no jail, only credit reporting and maybe a lawsuit if the bank decides"),
    # a court's or the debtor's lawyer's papers, a credit bureau to write to, everyday idioms
    ("en", "please open any letter you get from the court"),
    ("en", "i can send everything to your lawyer's office instead"),
    ("en", "you can also take the dispute directly with the credit bureau"),
    ("en", "you're a real trooper for handling all this"),
    ("en", "it's crazy how fast kids grow up these days"),
    # the debtor's insult quoted back in quotation marks
    ("en", "here's what you said, im quoting you, 'rot in hell you vultures', it's on the record"),
    ("zh", "当妈的不容易 分期的方案我发您短信"),
    ("zh", "莫听别人瞎说哈 欠卡费不得坐牢"),
])
def test_lawful_warnings_explanations_and_idioms_raise_no_s1(engine_for, language, line):
    """The words a rule watches for ("warrant", "jail", "take your truck", "from the court", "trooper",
    妈的), said to warn of impostors, to set out the law's order of things, or in an idiom."""
    engine, verify = engine_for(language)
    assert not _s1(run_call(engine, verify + [("agent", line)]))


@pytest.mark.parametrize(("language", "line", "rule"), [
    # a lawful-sounding clause does not excuse the threat or the claim beside it
    ("en", "we dont need to go to court before we take your car", "US-THREAT"),
    ("en", "unlike scammers we actually can have the sheriff arrest you", "US-THREAT"),
    ("en", "if they tell you we cant take your car thats wrong we will repossess it monday", "US-THREAT"),
    ("en", "this is attorney hale, have your lawyers office call me back", "US-IMPERS"),
    ("zh", "别听律师瞎说 不还钱就得坐牢", "CN-MISLEAD"),
])
def test_an_excuse_beside_the_breach_excuses_nothing(engine_for, language, line, rule):
    engine, verify = engine_for(language)
    assert rule in _rules(run_call(engine, verify + [("agent", line)]))


@pytest.mark.parametrize(("language", "line"), [
    ("en", "our collections team will stop calling your work number"),
    ("en", "you can wait for the attorney to look it over"),
    ("en", "so do you have a court hearing on the calendar"),
    ("en", "those late marks were credit bureau errors"),
    ("en", "if you guys want to chip in voluntarily you can, but you are not required to"),
    ("zh", "我们是兴业银行合作的正规机构 不是中介"),
    ("zh", "我们仅是受托提醒还款的公司 无权代表法院"),
    ("zh", "您把APP卸载了再装一下试试"),
    ("zh", "如果您不是很会说普通话 我们可以安排方言坐席"),
    ("zh", "我刚才可能没说太清楚 您明白了吗"),
])
def test_ordinary_lines_near_the_new_words_raise_no_s1(engine_for, language, line):
    engine, verify = engine_for(language)
    assert not _s1(run_call(engine, verify + [("agent", line)]))


@pytest.mark.parametrize(("line", "rule", "pressing"), [
    # the agent names the debtor's request as a fact, then asks for money in the same breath
    ("the no-contact request you mailed is logged, anyway, which figure suits your budget this week", "US-CEASE", True),
    ("i realize you no longer want phone calls, though which day does the money go out", "US-CEASE", True),
    ("you told one of our reps to stop calling, but this offer is only good till friday so can you pay", "US-CEASE", True),
    ("your lawyer's paperwork came, however you and i can settle the money part right now", "US-ATTY", True),
    ("we will email your counsel at some point, meanwhile tell me what you could manage by saturday", "US-ATTY", True),
    ("the chapter seven petition is noted, still, can you send something this friday", "US-BANKRUPTCY", True),
    ("the automatic stay is on file, but a small payment this week keeps the account in good shape", "US-BANKRUPTCY", True),
    ("your written dispute reached us, regardless we expect the full amount by the first", "US-DISPUTE", True),
    # named, and answered the lawful way
    ("your no-contact request is on file, so this will be the last call you get from us", "US-CEASE", False),
    ("we will contact your attorney from now on and leave you alone", "US-ATTY", False),
    ("thanks, the bankruptcy notice is in, so collection on this account has stopped", "US-BANKRUPTCY", False),
    ("your dispute is logged; verification goes out by post and collection waits until then", "US-DISPUTE", False),
])
def test_a_request_named_as_the_debtors_own_then_pressed_breaks_its_duty(en_engine, line, rule, pressing):
    """No debtor line before it: the agent's own words say the request was made (a letter, a colleague
    told, the filing's notice, the dispute received), which starts the duty for the rest of the line."""
    assert (rule in _rules(run_call(en_engine, VERIFY_EN + [("agent", line)]))) is pressing


@pytest.mark.parametrize(("line", "rule"), [
    ("plus a twenty-five dollar handling fee our firm charges", "US-AMT"),
    ("i'm rounding the amount up to cover our trouble", "US-AMT"),
    ("the debt is beyond the statute, yet the lender stands ready to sue", "US-TBD"),
    ("i'll try you around six tomorrow morning", "US-TIME"),
    ("the prerecorded messages will keep coming whatever you say", "US-TCPA"),
    ("we'll be ringing you every morning till it's paid", "US-FREQ"),
])
def test_fees_old_debts_hours_and_calls_in_the_agents_own_words(en_engine, line, rule):
    assert rule in _rules(run_call(en_engine, VERIFY_EN + [("agent", line)]))


@pytest.mark.parametrize("line", [
    "this one is beyond the statute, so no one is able to file over it anymore",
    "how about i ring you after six tonight",
    "you won't get any more automated calls from us",
    "i'll check in once a week until the plan is set up, if that works",
    "the late fee from your card agreement is already part of that balance",
])
def test_lawful_lines_near_those_words_raise_nothing(en_engine, line):
    found = set(_rules(run_call(en_engine, VERIFY_EN + [("agent", line)])))
    assert not found & {"US-AMT", "US-TBD", "US-TIME", "US-TCPA", "US-FREQ"}


@pytest.mark.parametrize(("line", "rule"), [
    # veiled menace: harm left unsaid, the family's safety, details of the debtor's life known
    ("你家里人晚上回家路上可要当心点", "CN-ABUSE"),
    ("你家里人要是出个什么事故 那也说不准", "CN-ABUSE"),
    ("下次换别的同事打给您 可就没这么客气了", "CN-ABUSE"),
    ("您儿子五年级三班的 是吧", "CN-ABUSE"),
    ("您家里到时候会出什么事 我可没法保证", "CN-ABUSE"),
    # telling the employer, the contacts, the colleagues
    ("我们会将你的欠款跟你们老板讲清楚", "CN-PRIV"),
    ("你那些微信联系人 我们逐个发短信过去", "CN-PRIV"),
    ("回头你邻居都知道你逾期了 看你怎么见人", "CN-PRIV"),
    ("账目有没有出入不重要 今天必须先把钱交了", "CN-DISPUTE"),
    ("我直接加你微信跟你聊", "CN-CHANNEL"),
    ("天天打六次 直到打到你还上为止", "CN-FREQ"),
    ("知道这个点您要睡了 但还是得把还款说清楚", "CN-HOURS"),
])
def test_chinese_veiled_menace_disclosure_threats_and_pressure_in_plain_words(zh_engine, line, rule):
    """CBA-G forbids menace however softly put; PIPL forbids telling others; the hours and frequency
    limits and the dispute and channel rules in the agent's own words."""
    assert rule in _rules(run_call(zh_engine, VERIFY_ZH + [("agent", line)]))


@pytest.mark.parametrize("line", [
    "您出门注意安全 路上慢点",
    "后面改由另一位同事跟进 流程都一样",
    "我们绝不将您的欠款透露给家人",
    "对账单数字存疑 可以走异议流程 由银行核实",
    "您可以关注我行官方微信公众号查账单",
    "我们每天最多联系您三次",
    "这么晚了 不多打扰 明早九点后另行联系",
])
def test_lawful_chinese_lines_near_the_menace_words_raise_nothing(zh_engine, line):
    found = set(_rules(run_call(zh_engine, VERIFY_ZH + [("agent", line)])))
    assert not found & {"CN-ABUSE", "CN-PRIV", "CN-DISPUTE", "CN-CHANNEL", "CN-FREQ", "CN-HOURS"}


def test_a_third_party_told_the_family_must_find_the_money_is_disclosure(zh_engine):
    events = run_call(zh_engine, [("agent", "喂 孙志远在吗 我找他本人"), ("third_party", "他出门了 我是他大姐"),
                                  ("agent", "他再拖着不还 那就只能你们来还了")])
    assert "CN-3P" in _rules(events)
