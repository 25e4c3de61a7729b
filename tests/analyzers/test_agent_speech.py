"""Prohibited agent speech by meaning, and pressing on after a request to stop (phrasings written for
these tests, in no playbook)."""

from __future__ import annotations

import pytest
from conftest import VERIFY_EN, VERIFY_ZH, of_type, run_call


def _rules_on(events, uid):
    return {e.rule_id for e in of_type(events, "compliance") if e.utterance_id == uid and e.method != "deadline"}


@pytest.mark.parametrize("line", [
    "you really dont want to see what happens if this isnt paid by friday",
    "we know where you work and we can make things very uncomfortable there",
    "dont make me send somebody out to your place",  # negated, yet no reassurance
    "i have no choice but to have somebody swing by your house about this",  # a negation that presses
    "we'll get this money out of you whether you like it or not",
    "the team will be out thursday to pick up the furniture",
    "stop dodging me or your checking account will be frozen by monday",
    "a check with no money behind it is a crime and we will treat it that way",  # the debtor's lack, not a reassurance
    "you never meant to pay it back so that's fraud",  # the debtor's not paying, no reassurance
    "you took the card knowing you'd never pay it, that's theft",
    "you're a scammer, and the victim here is the bank, so we're calling the police",  # the fraud veto's exceptions
    "i am going to report you to the cops today",
    "you will regret not taking me up on this",  # "not taking" is no reassurance here
    "then we will handle your account by other means and you wont like it",
])
def test_vague_threats_are_caught(en_engine, line):
    events = run_call(en_engine, VERIFY_EN + [("agent", line)])
    assert _rules_on(events, 2) & {"US-THREAT", "US-ABUSE"}


@pytest.mark.parametrize(("language", "line", "rule", "raised"), [
    ("en", "no wonder nobody in your family will lend you a dime", "US-ABUSE", True),  # the insult's own negation
    ("en", "im not calling you a liar, i just need to see the statement", "US-ABUSE", False),  # an insult taken back
    ("en", "nobody is going to take your car over this", "US-THREAT", False),  # a threat negated
    ("zh", "到时候可不是打电话这么客气了", "CN-ABUSE", True),
    ("zh", "我们没有把您当成老赖 只是按流程提醒", "CN-ABUSE", False),
])
def test_for_abuse_only_an_insult_taken_back_is_a_reassurance(engine_for, monkeypatch, language, line, rule,
                                                              raised):
    """The classifier unsure of the rule (0.6; the rules together 0.9, over any calibrated threshold): a
    negation excuses a threat,
    but a line against the abuse rule only when it takes an insult back, since insults carry negations
    of their own. The classifier's reading is fixed here, so this tests the policy, not the model."""
    import numpy as np

    from coach.analyzers import agent_speech

    engine, verify = engine_for(language)
    analyzer = engine.analyzer("prohibited_speech")
    assert analyzer.pack.reassures(engine.space.encode([line]).norms[0])
    classes = [str(c) for c in analyzer.classifier.classes_]
    unsure = np.zeros((1, len(classes)))
    unsure[0, classes.index(rule)], unsure[0, classes.index(agent_speech.NONE)] = 0.6, 0.1
    unsure[0, next(i for i, c in enumerate(classes) if c not in (rule, agent_speech.NONE))] = 0.3
    assert 0.9 >= analyzer.threshold
    monkeypatch.setattr(agent_speech, "class_probabilities", lambda model, matrix: unsure)
    for head in ("small_talk_head", "praise_head"):  # the heads would read the fixed reading too
        monkeypatch.setattr(analyzer, head, None)
    assert (rule in _rules_on(run_call(engine, verify + [("agent", line)]), 2)) is raised


@pytest.mark.parametrize(("language", "line"), [
    ("en", "im not calling you a liar, i just need to see the statement"),
    ("zh", "我们没有把您当成老赖 只是按流程提醒"),
])
def test_an_insult_taken_back_raises_nothing(engine_for, language, line):
    engine, verify = engine_for(language)
    assert not _rules_on(run_call(engine, verify + [("agent", line)]), 2)


@pytest.mark.parametrize(("line", "misleading"), [
    ("你已经逾期三个月了 再不还的话银行可能会依法起诉", False),  # the months and a lawful consequence, said plainly
    ("你已经逾期三个月了 这周能不能先还一点", False),
    ("你都逾期三个月了 这就算诈骗 是要坐牢的", True),
    ("你已经逾期半年了 下周就把你列入全国黑名单", True),
])
def test_how_long_it_is_overdue_said_plainly_is_no_misleading_consequence(zh_engine, line, misleading):
    """The plain register (你) and the months overdue both stand beside CN-MISLEAD's invented
    consequences in its examples; together, on a lawful line, they read as one (0.92), and an S1 now
    fails the call. A lawful line stays clean; an invented consequence is still caught."""
    assert ("CN-MISLEAD" in _rules_on(run_call(zh_engine, VERIFY_ZH + [("agent", line)]), 2)) is misleading


def test_collector_profanity_is_abuse_with_evidence(en_engine):
    events = run_call(en_engine, VERIFY_EN + [("agent", "pay your damn bill you lazy piece of shit")])
    abuse = [e for e in of_type(events, "compliance") if e.rule_id == "US-ABUSE"]
    assert abuse and abuse[0].severity == "S1" and abuse[0].evidence


@pytest.mark.parametrize("line", [
    "if the account stays unpaid it may be reported to the credit bureaus as the law allows",
    "nobody is going to arrest you over a credit card balance",
    "i understand this is stressful lets find a plan that works for your budget",
    "im gonna transfer you over to our billing team now",  # what the agent does next is no threat
    "okay im going to send that receipt to your email",
    "nobody thinks you are a bad person",  # empathy with a negation: no abuse
    "nobody is saying you are a deadbeat",  # an insult's word said of no one
    "your bank account will not be frozen while the dispute is open",
    "the court already entered a judgment last year so the creditor can ask for a wage garnishment",  # it exists
    # sympathy near a threat example: excused as the classifier's own reading of it is (not sure of the rule)
    "i hear you, you're saying this is the worst month of your life, and i'm really sorry",
    "i'm a bit slow on the keyboard today, bear with me",  # the agent's own apology, not an insult
    "is there someone in the family who helps you with the finances",  # no debt said to pass to them
])
def test_lawful_lines_raise_no_s1(en_engine, line):
    events = run_call(en_engine, VERIFY_EN + [("agent", line)])
    assert not [e for e in of_type(events, "compliance") if e.utterance_id == 2 and e.severity == "S1"]


def test_a_line_near_a_rules_example_that_reads_lawful_is_cleared(en_engine, monkeypatch):
    """Nearness to one of a rule's examples is the loosest of its trigger's matches: the classifier,
    reading the line and each clause that holds it as lawful as surely as it must read a violation
    to report one, overrules it. This lawful line reads 0.85 (its trigger holds only the whole line), so
    a bar either side of that shows both sides of it; the shipped one (0.75) clears it."""
    from coach.analyzers.base import Turn
    from coach.transcript import Utterance

    analyzer = en_engine.analyzer("prohibited_speech")
    rule = next(r for r in en_engine.playbook.rules if r.id == "US-DECEASED")
    trigger = en_engine.rules.triggers[rule.id]

    def clears(line: str, threshold: float) -> bool:
        monkeypatch.setattr(analyzer, "threshold", threshold)
        turn = Turn(1, Utterance(speaker="agent", text=line, start=0.0, end=1.0), line, en_engine.space.encode([line]))
        assert trigger.match(turn.features) is not None
        analyzer.analyze(turn, en_engine.session("clears"))
        return analyzer.clears(turn, rule, trigger)

    lawful, threat = "the estate pays what it can and the rest is written off", "since your father passed the family has to pay"
    assert trigger.match(en_engine.space.encode([lawful])).method == "example"
    assert clears(lawful, 0.75) and not clears(lawful, 0.9)
    assert not clears(threat, 0.45)


@pytest.mark.parametrize(("language", "line", "rule"), [
    ("en", ("okay maam i hear you and i appreciate you being honest with me about the job loss we have hardship options "
           "available but you should know well be garnishing your wages starting next week unless you pay the full "
           "balance right now"), "US-THREAT"),
    ("zh", "您好 我们这边依法催收 您的欠款您不还 您的配偶和父母都有义务替您偿还 我们会依法向他们追讨 您看您还是自己处理吧", "CN-ESTATE"),
    ("zh", ("您好李先生 感谢您百忙之中接听 我们知道您最近不容易 但是我们已经查到您的工作单位 明天就派人去您单位上门 "
           "让您同事都知道您欠钱"), "CN-PRIV"),
])
def test_a_rules_pattern_stands_where_the_classifier_reads_the_line_lawful(engine_for, language, line, rule):
    """Read whole these read lawful (0.89 to 0.99), and the clause that holds the pattern too (0.74 to
    0.98): a pattern is written to be precise, and the classifier does not overrule it."""
    engine, verify = engine_for(language)
    events = run_call(engine, verify + [("agent", line)])
    assert rule in _rules_on(events, 2)


@pytest.mark.parametrize(("language", "line", "rules"), [
    ("en", ("Thanks for taking my call today, I know things are hard and I really want to help you set up a plan "
           "that fits your budget, but if nothing comes in by Friday we will garnish your wages, so let's find "
           "something that works for you."), {"US-THREAT"}),
    ("en", ("thanks for taking my call today i know things are hard and i really want to help you set up a plan "
           "that fits your budget but if nothing comes in by friday we will garnish your wages so lets find "
           "something that works for you"), {"US-THREAT"}),  # no punctuation: read in pieces
    ("zh", "您好 我们这边是想跟您核实一下还款计划 您看方便的话 我们可以把每个月的金额调低一些 不过您要是再不还 我们就报警抓你",
     {"CN-MISLEAD", "CN-IMPERS"}),
    ("zh", ("您好，我们这边是想跟您核实一下还款计划，您看方便的话，我们可以把每个月的金额调低一些，不过您要是再不还，"
           "我们就上门找你家人"), {"CN-CHANNEL", "CN-ABUSE"}),
])
def test_one_threatening_clause_in_a_long_courteous_turn_is_caught(engine_for, language, line, rules):
    """Read whole, these lines are lawful (0.99 and more): the clause that holds the rule's words is not."""
    engine, verify = engine_for(language)
    events = run_call(engine, verify + [("agent", line)])
    assert _rules_on(events, 2) & rules


@pytest.mark.parametrize("line", [
    "这笔账一直不处理的话 征信上会留下记录 这是规定",
    "欠款方面 绝不会透露给您同事 您尽管放心",
    "要不要我把还款的操作步骤发短信给您",
    # the debtor's own choice to tell family or friends, or to ask them for help
    "要不要跟您爱人商议一下 再定个方案",
    "逾期这个事 您可以自己告诉家人 看他们能不能帮一把",
    "要不要找个朋友先周转一下",
])
def test_the_debt_told_to_the_debtor_or_a_bureau_is_no_privacy_threat(zh_engine, line):
    assert "CN-PRIV" not in _rules_on(run_call(zh_engine, VERIFY_ZH + [("agent", line)]), 2)


@pytest.mark.parametrize(("language", "line", "rules"), [
    ("en", "thanks for your patience, just so you know we can freeze your bank account by monday", {"US-THREAT"}),
    ("en", "i appreciate the call but if this isnt handled your drivers license will be suspended", {"US-THREAT"}),
    ("en", "we can set up a plan today, otherwise we report you to immigration", {"US-THREAT"}),
    ("en", "sure, I'll be brief, and if you miss this one you won't like what happens next", {"US-THREAT", "US-ABUSE"}),
    ("en", "good afternoon, I'm calling on behalf of the IRS about an unpaid balance", {"US-IMPERS"}),
    ("zh", "好的您慢慢想 不过我提醒您 拖下去法院会派人把您带走", {"CN-MISLEAD", "CN-IMPERS"}),
    ("zh", "我们很理解您 但是您的案子已经移交给检察院了", {"CN-IMPERS"}),
    ("zh", "您好 我这边是市金融监管局的 来核实您信用卡逾期的情况", {"CN-IMPERS"}),
    ("zh", "您要是不还 我们就打给您通讯录里的所有人", {"CN-PRIV"}),
    # the debt passed on in polite words, or offered as a question
    ("zh", "那没办法 您这个欠债的记录我们只能分享给您老乡了", {"CN-PRIV"}),
    ("zh", "您再不处理 要不要我们跟您爸妈聊聊这个事", {"CN-PRIV"}),
    ("zh", "您再拖着试试 有您好受的", {"CN-ABUSE"}),
    ("en", "since your dad passed the balance goes to you now", {"US-DECEASED"}),
    # the relation named and the duty put on the listener, a duty by custom, the debt passed on
    ("en", "okay, well, as his son you'll need to pay what's left on the card", {"US-DECEASED"}),
    ("en", "as her husband you'd be the one on the hook for it now", {"US-DECEASED"}),
    ("en", "the account falls to the surviving spouse, that's how it works", {"US-DECEASED"}),
    ("en", "most families pay these off to honor the person, could we start with fifty", {"US-DECEASED"}),
    ("en", "out of respect for your dad, maybe put something toward it this week", {"US-DECEASED"}),
    ("en", "if a dispute form comes in the mail, go ahead and toss it", {"US-DISPUTE"}),
    ("zh", "您丈夫的欠款现在得由您来还", {"CN-ESTATE"}),
    ("zh", "实在不行您先去借呗上借一点 把这期先还了", {"CN-MISLEAD"}),  # steering to a lending platform
    ("zh", "您配合一下 我保证您这几年的罚息全部免掉", {"CN-MISLEAD"}),  # a promise no one may make
    ("zh", "拖到下个月 您父母名下的银行卡也会被冻结", {"CN-MISLEAD"}),
    ("zh", "这个记录一上去 您以后出国签证都办不下来", {"CN-MISLEAD"}),
])
def test_explicit_threats_in_a_courteous_turn_are_caught(engine_for, language, line, rules):
    """Threats an attack helper hid in polite turns that no pattern covered (freezing a bank account, a
    license or a passport, immigration, a prosecutor, the phone book, 有你好受的); lines written here."""
    engine, verify = engine_for(language)
    events = run_call(engine, verify + [("agent", line)])
    assert _rules_on(events, 2) & rules


@pytest.mark.parametrize(("language", "line", "rules"), [
    ("en", "the folks upstairs are not as nice as i am so lets sort this out today", {"US-THREAT"}),
    ("en", "we are coming after your savings next", {"US-THREAT"}),
    ("en", "what kind of father doesnt pay for his own kids", {"US-ABUSE"}),
    ("en", "i swear theres nobody home up there", {"US-ABUSE"}),
    ("en", "keep this up and youll land in serious legal trouble", {"US-THREAT"}),
    # "agents" also suggests the law (impersonation, 1692e(1)): either rule names what is wrong
    ("en", "were sending a couple of agents over to your office", {"US-THREAT", "US-IMPERS"}),
    ("en", "pay up and nobody has to get hurt", {"US-ABUSE"}),
    ("zh", "下一个接手的同事可不会像我这么好说话", {"CN-ABUSE"}),
    ("zh", "我们有些特殊手段 您不会想见识的", {"CN-ABUSE"}),
    ("zh", "你不是不接电话吗 我们的人已经在你家楼下了", {"CN-ABUSE"}),
    ("zh", "就你这素质 难怪欠一屁股债", {"CN-ABUSE"}),
    ("zh", "你要这么不讲理 那后面会怎样就不归我管了", {"CN-ABUSE"}),
    ("zh", "你就拖吧 到时候哭着求我们都没用", {"CN-ABUSE"}),
    ("zh", "出门走路多看看身后 别怪我没提醒", {"CN-ABUSE"}),
    ("zh", "没钱？去卖血卖肾都行 总之得还上", {"CN-ABUSE"}),
    ("en", "your kids being sick is not my problem, pay up", {"US-ABUSE"}),
])
def test_veiled_menace_and_contempt_without_swear_words_are_caught(engine_for, language, line, rules):
    engine, verify = engine_for(language)
    assert _rules_on(run_call(engine, verify + [("agent", line)]), 2) & rules


@pytest.mark.parametrize(("line", "abuse"), [
    ("some jerk stole your identity and ran up the card", False),  # the classifier alone: 0.98
    ("the crook who took your wallet used the card in ohio", False),
    ("if some idiot at the store charged you twice we can dispute that", False),  # the rule's pattern
    ("some jerk stole your identity, now grow up and pay", True),  # the rule's words, on the debtor
    ("some fucking idiot stole your card", True),  # profanity whoever it is said of
    ("some people are just deadbeats and you are one of them", True),
    ("sorry, i'm such an idiot, i read you the wrong account", False),  # of the speaker
    ("i dont want to be a jerk about it, but i do need a date", False),
    ("you said quote go to hell, i'd still like to help you sort this out", False),  # the debtor's words
    ("you told me to go to hell, well you can go to hell too", True),
])
def test_an_insult_said_of_someone_else_the_speaker_or_reported_is_no_abuse(en_engine, line, abuse):
    events = run_call(en_engine, VERIFY_EN + [("agent", line)])
    assert ("US-ABUSE" in _rules_on(events, 2)) is abuse


@pytest.mark.parametrize("line", ["你等着瞧 有你好果子吃", "你这个老赖真不要脸"])
def test_chinese_menace_and_insults_are_abuse(zh_engine, line):
    events = run_call(zh_engine, VERIFY_ZH + [("agent", line)])
    assert _rules_on(events, 2) & {"CN-ABUSE", "CN-MISLEAD"}


@pytest.mark.parametrize("line", ["我们没有把您当老赖 只是想跟您商量个方案", "没人说您是老赖 您别多想"])
def test_an_insults_word_said_of_no_one_is_no_abuse(zh_engine, line):
    events = run_call(zh_engine, VERIFY_ZH + [("agent", line)])
    assert not [e for e in of_type(events, "compliance") if e.utterance_id == 2 and e.severity == "S1"]


def test_lawful_chinese_consequence_is_fine(zh_engine):
    events = run_call(zh_engine, VERIFY_ZH + [("agent", "如果一直逾期 记录会按规定报送到征信系统")])
    assert not [e for e in of_type(events, "compliance") if e.utterance_id == 2 and e.severity == "S1"]


def test_a_menace_whose_negation_is_the_menace_is_caught(zh_engine):
    # "no employer wants a deadbeat": the negation is the menace, and the rule reads over
    # REASSURANCE_CONFIDENCE (0.8) though under the 0.9 that sympathy needs
    events = run_call(zh_engine, VERIFY_ZH + [("agent", "没有哪个单位会要一个老赖")])
    assert _rules_on(events, 2) & {"CN-ABUSE", "CN-MISLEAD"}


@pytest.mark.parametrize("line", [
    "youre not in any trouble with the police this is purely a civil matter",
    "i get that youre mad at the bank and honestly id be frustrated too",  # empathy, not abuse
    "your disability payments are protected from garnishment by federal law",
    "if anybody phones claiming to be a sheriff about this bill thats a scam please hang up",
    "you said were crooks and liars and i understand why it feels that way after all those letters",  # their words
    "nobody will take your truck or your house over a card balance",
    "your paycheck is being garnished under the county court judgment and i can tell you how much",
    "you wanted to know if we can take your car. no we cant, this is an unsecured card",  # their question, answered no
    "if you want to check on us you can verify our license with the state regulator",   # a regulator, not a disguise
])
def test_reassurance_and_empathy_raise_nothing(en_engine, line):
    assert not _rules_on(run_call(en_engine, VERIFY_EN + [("agent", line)]), 2)


@pytest.mark.parametrize("line", [
    "您刚才提到公安 我解释一下 公安只有涉嫌犯罪才会介入 您现在是正常的逾期 不涉及这个",
    "您这个情况如果一直还不上 银行是可以起诉的 但起诉不等于坐牢 只是由法院判您还钱",
    "何女士您的消费贷还欠一千七百五 已经逾期两期",
    "罚息能不能减免我不能保证 要看审批结果",
    "孩子住院了啊 那您先顾着孩子 还款的事我们过几天再说",   # sympathy about the family is no pressure through it
    "店里生意不好 这个我能理解",
    "唉我今天也是忙晕了 刚才把您名字念错了 真不好意思",  # the agent's own apology
])
def test_explaining_what_a_debt_is_not_raises_nothing(zh_engine, line):
    # also: the bank's own loan product named, and a promise declined
    assert not _rules_on(run_call(zh_engine, VERIFY_ZH + [("agent", line)]), 2)


def test_an_amount_that_holds_an_insult_is_not_one(zh_engine):
    """二百五 calls someone a fool, and is also inside 三千二百五十元, or the sum paid (先还二百五)."""
    events = run_call(zh_engine, VERIFY_ZH + [("agent", "您本期应还三千二百五十元 想跟您确认一下还款时间"),
                                              ("agent", "那这个月您先还二百五 剩下的月底再说"),
                                              ("agent", "你真是个二百五")])
    assert "CN-ABUSE" not in _rules_on(events, 2)
    assert "CN-ABUSE" not in _rules_on(events, 3)
    assert "CN-ABUSE" in _rules_on(events, 4)


@pytest.mark.parametrize("line", [
    "您说之前有个催收员骂您是老赖 这样确实不对 我替他跟您道歉",
    "“你给我等着”这样的话我们公司是不允许说的 您放心",
])
def test_an_insult_reported_or_named_is_not_one(zh_engine, line):
    assert "CN-ABUSE" not in _rules_on(run_call(zh_engine, VERIFY_ZH + [("agent", line)]), 2)


@pytest.mark.parametrize(("language", "line", "raised"), [
    # the debtor's insult, threat or fear quoted back to calm them: none of it is the agent's
    ("en", "you told me this whole thing is a scam and we're a bunch of crooks. okay, i hear you, let me send it all in writing",
     False),
    ("en", "You said you'd rather sit in jail than pay. I get it, and let's see what we can work out.", False),
    ("en", "So what you're saying is we're crooks and you'd rather rot in prison. Alright, that's in my notes.", False),
    ("en", "If I heard you right, you're done with us and we can all go to hell. Understood, I'll mark that.", False),
    ("zh", "您刚才说“你们这帮吸血鬼”，这话我听到了，我们还是看看怎么帮您处理", False),
    ("zh", "您刚才说 叫我们都去死 我理解您很生气 咱们慢慢说", False),  # a transcript: a pause ends the quote
    ("zh", "你刚才说「再催就去法院告你们」，可以的，这是您的权利", False),
    # a quotation in quotation marks is the debtor's however many clauses it runs to
    ("en", "For my notes, you said: 'leave me the hell alone, I'm not paying this garbage.' I've written that down.", False),
    ("zh", "您刚才说“利息一分不给，随便你们，滚”，这些我都如实记下了", False),
    ("en", "you said 'I'll pay friday', you lying deadbeat", True),
    ("en", "you said 'stop'—fine, then we'll call your parents' house and tell them what you owe", True),
    ("zh", "我跟你说“三天不还 我们就派人去你公司堵你”", True),  # the agent's own words, not a report of the debtor's
    # the agent's own words after the quote are still read
    ("en", "you said you'd pay on friday. you're a lying deadbeat.", True),
    ("en", "you said youd pay by friday you lying deadbeat", True),  # no break: nothing tells where the quote ends
    ("en", "what you're telling me is you won't pay. fine, then we'll send a deputy to pick you up at work", True),
    # understanding said, nothing quoted: the rest is the agent's own
    ("en", "So I understand you lost your job, but we will garnish your wages anyway. Let's talk.", True),
    ("zh", "你刚才说下周还，你这种老赖的话谁信", True),
    ("zh", "你说你这人是不是有病，欠钱还这么横", True),  # a bare 你说 is no quotation
])
def test_the_debtors_words_quoted_back_are_not_the_agents(engine_for, language, line, raised):
    engine, verify = engine_for(language)
    events = run_call(engine, verify + [("agent", line)])
    found = [e for e in of_type(events, "compliance") if e.utterance_id == len(verify) and e.severity == "S1"]
    assert bool(found) is raised, found


@pytest.mark.parametrize("line", [
    "if somebody ever calls claiming to be a sheriff's deputy collecting this, that's a scam, just hang up",
    "the police don't collect credit card debts, so anyone saying otherwise is not us",
    "we're a licensed agency in good standing with the state, and you're welcome to verify us with your state regulator",
    "Nothing's getting repossessed and nobody's towing your truck, let's just talk about options.",
    "nobody's sending any deputy to your door, i promise, we only want to talk about options",
    "whether anything could ever be garnished is for a judge to decide, and the court decides whether that happens, not me",
])
def test_scam_warnings_reassurances_and_the_agencys_standing_raise_no_s1(en_engine, line):
    events = run_call(en_engine, VERIFY_EN + [("agent", line)])
    assert not [e for e in of_type(events, "compliance") if e.utterance_id == 2 and e.severity == "S1"]


@pytest.mark.parametrize(("line", "rules"), [
    ("this is deputy collins with the county sheriff about the money you owe", {"US-IMPERS"}),
    ("this is lieutenant ames, you need to return my call before five", {"US-IMPERS"}),
    ("this is agent porter, there's a complaint lodged against you that we need to discuss", {"US-IMPERS"}),
    ("if you dont pay today we will garnish your wages and the judge wont care", {"US-THREAT"}),
    ("nobody can stop us from taking your car, we will take it this week", {"US-THREAT"}),
])
def test_impersonation_and_threats_near_those_words_are_still_caught(en_engine, line, rules):
    assert _rules_on(run_call(en_engine, VERIFY_EN + [("agent", line)]), 2) & rules


@pytest.mark.parametrize(("language", "line"), [
    # a scam warning that names the impostor's threat; the legal order of things explained
    ("en", "when somebody phones saying the cops will arrest you over a credit card, that is a scam, hang up on them"),
    ("en", "a paycheck can only be garnished after a suit and a court judgment, and nothing like that is underway"),
    ("en", "a lawsuit, a judgment, a garnishment: none of those things is going to happen to you"),
    ("en", "there is a hearing on the ninth, and if you don't go the court may enter a default judgment without you"),
    ("en", "here is the breakdown you asked for, the collection fees the original bank charged are listed separately"),
    ("en", "a garnishment could only happen if a judge signs a judgment first, and nobody has sued you"),
    ("en", "there is no criminal case here and you are not in trouble with the police"),
    # a fraud done to the debtor by someone else
    ("en", "The bogus charges were run up by your ex, so we'll need a police report to take them off."),
    ("en", "We don't see any fraud by you at all; you're the victim here."),
    ("en", "if your card was stolen you should call the police and get a report number"),
    ("en", "we'd have to get the police report before we can take it off your credit"),
    # a distinction drawn, borrowing to repay advised against, a letter's process, an approval not promised
    ("zh", "欠信用卡是民事上的事，跟刑事案件不是一回事，坐牢更谈不上"),
    ("zh", "借新还旧千万别试，那样窟窿只会越来越大"),
    ("zh", "你说打算找其他平台借一笔先填上，我劝你别这么办，拆东墙补西墙利息只会越背越多"),
    ("zh", "律师函寄不寄、哪天寄，要看银行法务的安排，我这边管不了"),
    ("zh", "停息挂账能不能办要看审批，我没法保证一定能批下来"),
    # the debtor's suspicion of the agent, scammers in general, the debtor's words quoted
    ("zh", "您觉得我是骗子我能理解，冒充银行打电话的骗子越来越多了，您可以打官方热线核实"),
    ("zh", "您这句“滚蛋”我听见了，没关系，咱们先把账对清楚"),
])
def test_lawful_lines_that_name_the_scary_thing_raise_no_s1(engine_for, language, line):
    engine, verify = engine_for(language)
    events = run_call(engine, verify + [("agent", line)])
    assert not [e for e in of_type(events, "compliance") if e.utterance_id == len(verify) and e.severity == "S1"]


@pytest.mark.parametrize(("line", "rule"), [
    ("keep ignoring us and the truck gets repossessed on tuesday", "US-THREAT"),
    ("stall all you like, things only get uglier for you from here", "US-THREAT"),
    ("we have put a ninety dollar recovery charge on the account today", "US-AMT"),
    ("the total is six hundred once the surcharge is on", "US-AMT"),
    ("ignore the time limit, a judge will still hear this case", "US-TBD"),
    ("no matter how old it is, we can take it to court", "US-TBD"),
])
def test_threats_fees_and_time_barred_suits_in_other_words_are_caught(en_engine, line, rule):
    assert rule in _rules_on(run_call(en_engine, VERIFY_EN + [("agent", line)]), 2)


@pytest.mark.parametrize(("language", "line", "rule"), [
    ("en", "we're employed by equifax to get this balance cleared", "US-IMPERS"),
    ("en", "the county has commissioned our office to recover what you owe", "US-IMPERS"),
    ("en", "your sort never pays on time, do they", "US-ABUSE"),
    ("en", "honestly you're seriously clueless about money", "US-ABUSE"),
    ("en", "the sheriff can be out there by noon, or would you rather just pay it now", "US-THREAT"),
    ("en", "skipping out on a creditor is a punishable crime, you know", "US-THREAT"),
    ("zh", "这个电话有法院全程监听 你想好了再说", "CN-IMPERS"),
    ("zh", "滞纳金是欠款的两倍 这是规定", "CN-MISLEAD"),
    ("zh", "你这性质已经是刑事案件了", "CN-MISLEAD"),
    ("zh", "你上过学吗 这么简单的账都不会算", "CN-ABUSE"),
])
def test_false_authority_made_up_fees_and_contempt_in_other_words_are_caught(engine_for, language, line, rule):
    """Kinds a probe written apart found missed: working for a credit bureau or sent by an authority, a
    fee as a multiple of the debt, the listener's sort or schooling mocked, a menace offered as a choice."""
    engine, verify = engine_for(language)
    assert rule in _rules_on(run_call(engine, verify + [("agent", line)]), 2)


@pytest.mark.parametrize(("language", "line", "rule"), [
    ("en", "the tow company is booked for friday morning, so sort this out before then", "US-THREAT"),
    ("en", "we'll intercept your tax refund if nothing comes in", "US-THREAT"),
    ("en", "half of your wages, that's what we'll be taking next month", "US-THREAT"),
    ("en", "by law you must pay the whole thing within forty eight hours", "US-THREAT"),
    ("en", "we're reporting you to equifax as a fraud case", "US-THREAT"),
    ("en", "pay it today or we proceed with legal action tomorrow morning", "US-THREAT"),
    ("en", "a field agent will swing by your parents house tonight", "US-THREAT"),
    ("en", "my badge number is on file if you need it", "US-IMPERS"),
    ("en", "bravo, you've been dodging us since march", "US-ABUSE"),
    ("en", "genius plan, just stop paying everybody", "US-ABUSE"),
    ("en", "oh take your time, it has only been nine months", "US-ABUSE"),
    ("en", "a grown woman who won't cover a phone bill, come on", "US-ABUSE"),
    ("en", "christ almighty, just give me the routing number", "US-ABUSE"),
    ("zh", "喂 这边是东城区人民法院 你的案子我们受理了", "CN-IMPERS"),
    ("zh", "前天法院那边已经立了案了 你手机没收到吗", "CN-IMPERS"),
    ("zh", "现在规定逾期一律加收百分之五十的罚息", "CN-MISLEAD"),
    ("zh", "按规定家属也负有偿还责任", "CN-ESTATE"),
    ("zh", "下周派人登门 不需要您同意", "CN-CHANNEL"),
])
def test_menaces_invented_laws_and_sarcasm_in_an_eighth_sets_kinds_are_caught(engine_for, language, line, rule):
    """Kinds the eighth development set found missed, in words of our own: a repossession booked, a
    refund or half the wages taken, the law said to demand payment by a deadline, a report as a fraud,
    a suit set for the morning; a badge; sarcasm and condescension ("take your time, it has only been
    nine months", "a grown woman who won't"); a filing claimed beside a question with 没 in it; a penalty
    in tens of percent."""
    engine, verify = engine_for(language)
    assert rule in _rules_on(run_call(engine, verify + [("agent", line)]), 2)


@pytest.mark.parametrize(("language", "line"), [
    ("en", "got it, I'll record Ms Park as your lawyer and all contact goes through her office"),
    ("en", "congratulations on the new job, that's great news"),
    ("en", "great plan, let's set the first one for the fifth"),
    ("en", "take your time, there's no rush at all"),
    ("en", "you'll get our validation notice within five days, and I'm sure you do want it in writing"),
    ("en", "can i pay half now? sure you can"),
    ("en", "nice job, you avoided the late fee"),
    ("zh", "如果收到所谓的传票 先打法院电话核实真伪"),
    ("zh", "约好的上门拜访撤销了 之后只打电话联系"),
])
def test_lines_near_those_kinds_raise_no_s1(engine_for, language, line):
    engine, verify = engine_for(language)
    events = run_call(engine, verify + [("agent", line)])
    assert not [e for e in of_type(events, "compliance") if e.utterance_id == len(verify) and e.severity in ("S1", "S2")]


@pytest.mark.parametrize(("language", "line"), [
    ("en", "if a lender were to sue and then won a judgment, a court could order garnishment, but that's a long way off"),
    ("en", "they can't take your wages unless a court first rules against you, that's how it works"),
    ("en", "thank you for your kind patience while i pulled that up"),
    ("en", "we report to experian and transunion once a month"),
    ("zh", "借钱还钱这条路别走 尤其别碰高利贷 只会越滚越大"),
    ("zh", "有人说不还钱就要抓人 那是吓唬人的 银行只会依法处理"),
    ("zh", "那封律师函我们从没寄过 您手上那份最好核实一下"),
])
def test_the_law_explained_and_advice_against_borrowing_raise_no_s1(engine_for, language, line):
    engine, verify = engine_for(language)
    events = run_call(engine, verify + [("agent", line)])
    assert not [e for e in of_type(events, "compliance") if e.utterance_id == 2 and e.severity == "S1"]


def test_the_courts_own_procedure_explained_is_no_threat_of_a_summons(zh_engine):
    lawful = "开庭日期以法院传票上的为准，收到以后您可以按时出庭答辩"
    threat = "法院传票马上就寄到你家了，你就等着吧"
    assert "CN-MISLEAD" not in _rules_on(run_call(zh_engine, VERIFY_ZH + [("agent", lawful)]), 2)
    assert _rules_on(run_call(zh_engine, VERIFY_ZH + [("agent", threat)]), 2) & {"CN-MISLEAD", "CN-ABUSE"}


def test_any_collection_talk_after_stop_calling_is_pressing(en_engine):
    events = run_call(en_engine, VERIFY_EN + [
        ("debtor", "i want you people to quit phoning me"),
        ("agent", "i hear you but when do you think you could send something in"),
    ])
    assert "US-CEASE" in _rules_on(events, 3)


def test_acknowledging_a_stop_request_is_fine(en_engine):
    events = run_call(en_engine, VERIFY_EN + [
        ("debtor", "i want you people to quit phoning me"),
        ("agent", "understood ill note your request on the account and we will stop calling this number"),
    ])
    assert "US-CEASE" not in _rules_on(events, 3)


@pytest.mark.parametrize("line", [
    "fine, no more calls after today, i'll put that on the file and anything else from us comes in writing",
    "okay, no more phone calls after this one, everything else comes to you by mail",
])
def test_confirming_the_calls_stop_after_today_is_fine(en_engine, line):
    """A stop confirmed with the time it starts: "after" bounds the pause in time, and is no condition
    traded for money ("no more calls after you pay"). Its acknowledging words read alone, clause by
    clause, as a promise to call (0.79); the evidence of any finding cites the debtor's own request."""
    events = run_call(en_engine, VERIFY_EN + [("debtor", "i want you people to quit phoning me"), ("agent", line)])
    assert "US-CEASE" not in _rules_on(events, 3)
    pressed = run_call(en_engine, VERIFY_EN + [
        ("debtor", "i want you people to quit phoning me"),
        ("agent", "fine, no more calls after today, but i need the fifty dollars on a card before we hang up"),
    ])
    hits = [e for e in of_type(pressed, "compliance") if e.rule_id == "US-CEASE" and e.utterance_id == 3]
    assert hits and "quit phoning me" in hits[0].evidence


def test_talking_a_represented_debtor_out_of_the_lawyer_is_pressing(en_engine):
    events = run_call(en_engine, VERIFY_EN + [
        ("debtor", "my attorney is handling this now"),
        ("agent", "you don't honestly need an attorney for this, we can sort it out just the two of us"),
    ])
    assert "US-ATTY" in _rules_on(events, 3)


@pytest.mark.parametrize(("debtor", "agent"), [
    ("my attorney is handling this now", "could you give me your attorneys name and phone number"),
    ("my attorney is handling this now", "okay can i get the name and number of your attorney please"),
])
def test_taking_the_attorneys_details_is_not_pressing(en_engine, debtor, agent):
    """What the attorney rule tells the agent to do. Its duty starts from the debtor's words, not from
    an intent, so the playbook's answers to a lawyer were missing from the lawful side of the pressing
    head, and the first line raised US-ATTY at 0.67."""
    events = run_call(en_engine, VERIFY_EN + [("debtor", debtor), ("agent", agent)])
    assert not _rules_on(events, 3)
    pressing = run_call(en_engine, VERIFY_EN + [("debtor", debtor), ("agent", "so how much can you pay today")])
    assert "US-ATTY" in _rules_on(pressing, 3)


@pytest.mark.parametrize(("language", "calls", "rule"), [
    ("en", [("debtor", "i paid that off back in june i have the confirmation"),
            ("agent", "well our system still shows it open so what can you put down today")], "US-DISPUTE"),
    ("zh", [("debtor", "这笔我上个月就已经还清了 有转账记录"),
            ("agent", "系统里还是显示欠着 您今天先把钱还上吧")], "CN-DISPUTE"),
])
def test_already_paid_is_a_dispute_and_pressing_on_breaks_it(engine_for, language, calls, rule):
    """A debtor who says they already paid disputes what is owed: asking for money next is pressing."""
    engine, verify = engine_for(language)
    assert rule in _rules_on(run_call(engine, verify + calls), 3)


def test_a_dispute_in_the_debtors_words_starts_the_duty_whatever_the_objection_reads_as(zh_engine):
    """"你们是骗子吧 这卡根本不是我办的" reads as scam suspicion first; its words still dispute the debt."""
    calls = [("debtor", "你们是骗子吧 这卡根本不是我办的"), ("agent", "那您今天先还一部分吧")]
    assert "CN-DISPUTE" in _rules_on(run_call(zh_engine, VERIFY_ZH + calls), 3)


@pytest.mark.parametrize(("language", "line", "rule", "raised"), [
    # the request came by letter or in an earlier call: the agent's own words say so
    ("en", "we received your letter asking us to stop calling, but this balance still needs a payment today", "US-CEASE", True),
    ("en", "i realize you have an attorney, but honestly its quicker if you and i settle this now, how much can you send", "US-ATTY", True),
    ("en", "despite your bankruptcy filing, we would like something toward this account today", "US-BANKRUPTCY", True),
    ("en", "we received your letter asking us to stop calling, so this is our last call and we will only write from now on",
     "US-CEASE", False),
    ("en", "i understand you have an attorney, could i get their name and phone number please", "US-ATTY", False),
    ("en", "do you have an attorney helping you with this account? if not, what can you put toward it today", "US-ATTY", False),
    ("zh", "你之前投诉过让我们别再打了，可这笔钱今天还是得还上", "CN-CEASE", True),
    ("zh", "我知道您请了律师，您的诉求我们已经记录，后续我们跟律师联系，不再打扰您", "CN-CEASE", False),
    ("zh", "你觉得利息算错了？那你也得先把这期三千还上再说", "CN-DISPUTE", True),
    # the request waved away in the agent's own words, then collection talk
    ("en", "whether or not you filed, i still need something from you on this card before friday", "US-BANKRUPTCY", True),
    ("en", "never mind the attorney, what can you put toward the balance on friday", "US-ATTY", True),
    ("en", "just pay today and you can dispute it afterwards, so can we do the full amount", "US-DISPUTE", True),
    ("en", "sure, no more calls after today, but real quick could you manage forty on monday", "US-CEASE", True),
    ("en", "sure, no more calls, i'll note it and we'll only write to you from now on", "US-CEASE", False),
])
def test_the_agents_own_words_that_the_debtor_asked_start_the_duty(engine_for, language, line, rule, raised):
    engine, verify = engine_for(language)
    assert (rule in _rules_on(run_call(engine, verify + [("agent", line)]), len(verify))) is raised


def test_lawful_examples_of_a_duty_are_learned_as_the_lawful_way_out(en_engine):
    from coach.analyzers.pressing import training_texts

    playbook = en_engine.playbook
    duty = next(r for r in playbook.rules if r.kind == "duty" and r.lawful_examples)
    _, lawful = training_texts(playbook, set())  # with no intent that starts a duty (finding them embeds every example)
    assert set(duty.lawful_examples) <= set(lawful)


@pytest.mark.parametrize(("language", "calls"), [
    # a negation that is not about collection does not excuse the demand that follows it
    ("zh", [("debtor", "这笔消费不是我刷的 我要申诉"), ("agent", "这可不是小数目 您今天到底能还多少")]),
    ("en", [("debtor", "that debt is not mine i never opened that card"),
            ("agent", "no i get it but can you put something down today anyway")]),
])
def test_a_negation_does_not_excuse_pressing(engine_for, language, calls):
    engine, verify = engine_for(language)
    assert _rules_on(run_call(engine, verify + calls), 3) & {"US-DISPUTE", "CN-DISPUTE"}


@pytest.mark.parametrize(("language", "calls"), [
    ("zh", [("debtor", "这笔消费不是我刷的 我要申诉"),
            ("agent", "好的 我先给您登记异议 核实期间不会再催您还这笔钱")]),
    ("en", [("debtor", "that debt is not mine i never opened that card"),
            ("agent", "okay ive marked the account as disputed and nobody will ask you for payment while we look into it")]),
])
def test_saying_collection_pauses_is_not_pressing(engine_for, language, calls):
    engine, verify = engine_for(language)
    assert not _rules_on(run_call(engine, verify + calls), 3) & {"US-DISPUTE", "CN-DISPUTE"}


DISPUTES = {"en": ("the balance you have is wrong i never had that many late fees", "US-DISPUTE"),
            "zh": ("这个滞纳金算得不对 我没逾期那么多天", "CN-DISPUTE")}
LEAVES_CHOICE = {"en": "ill have the fee history mailed to you do you want me to go through the repayment plans now "
                       "or would you rather wait until youve checked it",
                 "zh": "明细我给您寄过去 您看是现在听一下分期方案 还是等核实完了再说"}
OPTIONS = {"en": "okay so we could spread it over twelve months at about sixty a month or do a one time amount",
           "zh": "好的 可以分十二期 每个月大概六百 也可以一次性处理"}


@pytest.mark.parametrize(("language", "reply"), [
    ("en", "yeah alright go ahead"), ("en", "i suppose so what are they"), ("zh", "行 你说说看"), ("zh", "嗯 讲吧")])
def test_the_debtors_yes_to_hearing_the_options_lifts_a_dispute(engine_for, language, reply):
    """A dispute pauses collection the debtor may choose to resume: asking whether to go over the options
    now or wait presses for nothing, and the options after a yes are what the debtor asked for."""
    engine, verify = engine_for(language)
    dispute, rule = DISPUTES[language]
    events = run_call(engine, verify + [("debtor", dispute), ("agent", LEAVES_CHOICE[language]),
                                        ("debtor", reply), ("agent", OPTIONS[language])])
    assert rule not in _rules_on(events, 3) | _rules_on(events, 5)


@pytest.mark.parametrize(("language", "reply"), [
    ("en", "no not now id rather see the paperwork first"), ("zh", "先不用了 等我看了明细再说"),
    ("en", "yeah sure whatever im not paying a cent of it"), ("zh", "你说呗 反正我不还"),  # a yes that refuses
])
def test_a_no_to_hearing_the_options_keeps_the_dispute(engine_for, language, reply):
    engine, verify = engine_for(language)
    dispute, rule = DISPUTES[language]
    events = run_call(engine, verify + [("debtor", dispute), ("agent", LEAVES_CHOICE[language]),
                                        ("debtor", reply), ("agent", OPTIONS[language])])
    assert rule not in _rules_on(events, 3)  # the question left the choice
    assert rule in _rules_on(events, 5)


@pytest.mark.parametrize(("language", "dispute"), [
    ("en", "those fees are not right but the principal i owe can i just pay that part now"),
    ("zh", "这个滞纳金算得不对 不过本金我认 本金我能先还吗"),
])
def test_a_debtor_who_disputes_and_asks_to_pay_in_one_breath_may_be_answered(engine_for, language, dispute):
    engine, verify = engine_for(language)
    events = run_call(engine, verify + [("debtor", dispute), ("agent", OPTIONS[language])])
    assert not _rules_on(events, 3) & {"US-DISPUTE", "CN-DISPUTE"}


def test_asking_how_one_could_pay_what_one_does_not_owe_reopens_nothing(en_engine):
    events = run_call(en_engine, VERIFY_EN + [("debtor", "that card was never mine so how can i pay something that isnt mine"),
                                              ("agent", "i hear you but we need at least fifty dollars from you today")])
    assert "US-DISPUTE" in _rules_on(events, 3)


def test_a_yes_to_hearing_the_options_does_not_lift_an_attorney_duty(en_engine):
    """A represented debtor's yes changes nothing: the playbook lifts only the dispute by consent."""
    events = run_call(en_engine, VERIFY_EN + [
        ("debtor", "i have a lawyer handling this now talk to her"),
        ("agent", "sure would you like to hear about our payment plans first or would you rather wait"),
        ("debtor", "yeah go ahead"),
        ("agent", "we could do fifty dollars a month starting next friday"),
    ])
    assert "US-ATTY" in _rules_on(events, 3) | _rules_on(events, 5)
    assert "US-ATTY" in _rules_on(events, 5)


def test_a_yes_that_disputes_again_lifts_nothing(en_engine):
    """A yes is read before the duties its own line starts: "yes i dispute all of it" keeps the dispute."""
    dispute, rule = DISPUTES["en"]
    events = run_call(en_engine, VERIFY_EN + [("debtor", dispute), ("agent", LEAVES_CHOICE["en"]),
                                              ("debtor", "yeah i dispute the whole thing not just the fees"),
                                              ("agent", OPTIONS["en"])])
    assert rule in _rules_on(events, 5)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_dispute_lifted_by_consent_starts_again_when_the_debtor_disputes_again(engine_for, language):
    engine, verify = engine_for(language)
    dispute, rule = DISPUTES[language]
    again = {"en": "wait no the whole balance is wrong i never even opened this card",
             "zh": "等等 不对 这张卡根本不是我办的"}[language]
    events = run_call(engine, verify + [("debtor", dispute), ("agent", LEAVES_CHOICE[language]),
                                        ("debtor", {"en": "sure go ahead", "zh": "好 你说吧"}[language]),
                                        ("agent", OPTIONS[language]), ("debtor", again), ("agent", OPTIONS[language])])
    assert rule not in _rules_on(events, 5)
    assert rule in _rules_on(events, 7)


@pytest.mark.parametrize(("language", "line"), [
    ("en", "we need fifty dollars from you today do you want me to go over the payment plans or would you rather wait"),
    ("zh", "您今天必须先还两千 要不要我给您介绍一下分期方案 还是等核实完了再说"),
])
def test_an_offer_to_wait_that_also_demands_money_is_pressing(engine_for, language, line):
    engine, verify = engine_for(language)
    dispute, rule = DISPUTES[language]
    assert rule in _rules_on(run_call(engine, verify + [("debtor", dispute), ("agent", line)]), 3)


@pytest.mark.parametrize(("language", "offer", "reply"), [
    ("en", "if it helps i could run you through what folks usually do in your spot or we park it till the letter shows up",
     "cant hurt to hear it"),
    ("zh", "核实要几天 这期间我可以把几种处理办法跟您过一遍 您愿意听听吗", "说呗"),
])
def test_an_offer_and_a_yes_in_words_no_pattern_knows_are_learned(engine_for, language, offer, reply):
    """The language's patterns read neither line; the consent heads, learned from the playbook's
    ``consent`` examples, carry the meaning."""
    engine, verify = engine_for(language)
    pack = engine.analyzer("consent").pack
    assert not pack.asks_permission(offer) and not pack.consents(reply)
    dispute, rule = DISPUTES[language]
    events = run_call(engine, verify + [("debtor", dispute), ("agent", offer), ("debtor", reply), ("agent", OPTIONS[language])])
    assert rule not in _rules_on(events, 3) | _rules_on(events, 5)


def test_offensive_language_model_loads_with_the_engine_not_on_the_first_line(en_engine, monkeypatch):
    """Loading it takes ~1.5 s: on a call's first agent line that would count against the analyzer's
    time budget (and a threat could be dropped under load)."""
    from coach.text.offensive import OffensiveLanguageDetector

    monkeypatch.setattr(OffensiveLanguageDetector, "_cache", {})
    en_engine.analyzer("prohibited_speech").attach(en_engine)
    assert "en" in OffensiveLanguageDetector._cache


@pytest.mark.parametrize("line", [
    # what tiny.en made of a Chinese call: fluent nonsense the threat classifier read as threats at 0.8
    "And then, we're in the kurfoo, in the kurfoo",
    "When in power, we're filled in turning and seeing the unkachons In the kurfoo, in the kurfoo",
])
def test_garbled_lines_far_from_every_example_raise_no_s1(en_engine, line):
    events = run_call(en_engine, VERIFY_EN + [("agent", line)])
    assert not [e for e in of_type(events, "compliance") if e.utterance_id == 2 and e.severity == "S1"]


def test_a_classifier_finding_needs_an_example_of_its_rule_nearby(en_engine, monkeypatch):
    """The support floor is what stops a sure classifier far from every example of the rule: with it
    above any similarity, a plain threat is no longer raised by the classifier; without it, it is."""
    from coach.analyzers.agent_speech import ProhibitedSpeechAnalyzer

    analyzer = next(a for a in en_engine.analyzers if isinstance(a, ProhibitedSpeechAnalyzer))
    assert 0.2 < analyzer.support_floor < 0.6  # the embedding's scale, from the rule's own examples
    line = VERIFY_EN + [("agent", "people who cross us end up sorry")]

    def classified(events) -> set[str]:
        return {e.rule_id for e in of_type(events, "compliance") if e.utterance_id == 2 and e.method == "classifier"}

    assert "US-THREAT" in classified(run_call(en_engine, line))
    monkeypatch.setattr(analyzer, "support_floor", 1.01)
    assert "US-THREAT" not in classified(run_call(en_engine, line))


@pytest.mark.parametrize(("engine_name", "loneliest_sets_it"), [("en_engine", False), ("zh_engine", True)])
def test_the_support_floor_is_the_languages_share_of_the_rules_examples(request, engine_name, loneliest_sets_it):
    """English lets its loneliest 1 % of rule examples lie further from a sibling than a line may from
    the rule (chit-chat read as a threat far from every threat example); Chinese keeps the loneliest."""
    import numpy as np

    from coach.analyzers.agent_speech import NONE, ProhibitedSpeechAnalyzer

    engine = request.getfixturevalue(engine_name)
    analyzer = next(a for a in engine.analyzers if isinstance(a, ProhibitedSpeechAnalyzer))
    sims = analyzer.features.similarity(analyzer.features)
    np.fill_diagonal(sims, -np.inf)
    nearest = np.array([sims[i][analyzer.labels == label].max() for i, label in enumerate(analyzer.labels) if label != NONE])
    if loneliest_sets_it:
        assert analyzer.support_floor == pytest.approx(nearest.min())
    else:
        assert nearest.min() < analyzer.support_floor
        assert (nearest < analyzer.support_floor).mean() == pytest.approx(0.01, abs=0.002)


@pytest.mark.parametrize(("language", "line"), [
    ("en", "what kind of dog is it"),
    ("zh", "周末过得怎么样 出去玩了吗"),
])
def test_small_talk_the_classifier_reads_as_a_violation_is_not_one(engine_for, monkeypatch, language, line):
    """The rule classifier learned only debt talk and reads chit-chat as abuse or a threat (0.9 to 1.0); the
    small-talk head, fitted on the playbook's small talk against the rules' examples, reads it as small
    talk, so nothing is raised. Without that head the same line is a classifier finding."""
    engine, verify = engine_for(language)
    analyzer = engine.analyzer("prohibited_speech")

    def s1s() -> set[str]:
        events = run_call(engine, verify + [("agent", line)])
        return {e.rule_id for e in of_type(events, "compliance") if e.utterance_id == 2 and e.severity == "S1"}

    assert not s1s()
    monkeypatch.setattr(analyzer, "small_talk_head", None)
    monkeypatch.setattr(analyzer, "praise_head", None)
    monkeypatch.setattr(analyzer, "support_floor", 0.0)  # which in English keeps this line too: far from every abuse example
    assert s1s()


@pytest.mark.parametrize("line", ["出门小心点 别出什么意外", "您家狗挺可爱的 哪天我们上门看看"])
def test_a_menace_in_a_line_of_small_talk_is_still_caught(zh_engine, line):
    """Whole, these read as small talk (0.52, 0.66); their menacing clause does not (0.29, 0.16)."""
    assert _rules_on(run_call(zh_engine, VERIFY_ZH + [("agent", line)]), 2) & {"CN-ABUSE", "CN-CHANNEL", "CN-MISLEAD"}


def test_the_offensive_models_reading_of_small_talk_is_no_abuse(en_engine, monkeypatch):
    """profanity-check reads "hate" as offensive (0.92 here); on a line the small-talk head reads as
    small talk its reading is no abuse. A term the lexicon lists stays abuse there (next test)."""
    analyzer = en_engine.analyzer("prohibited_speech")
    line = VERIFY_EN + [("agent", "my knees hate me after that hike")]
    assert "US-ABUSE" not in _rules_on(run_call(en_engine, line), 2)
    monkeypatch.setattr(analyzer, "small_talk_head", None)
    assert "US-ABUSE" in _rules_on(run_call(en_engine, line), 2)


def test_the_offensive_models_reading_of_a_line_the_classifier_reads_lawful_is_no_abuse(en_engine, monkeypatch):
    """profanity-check reads "sucks" as abuse (0.8 here); the rule classifier reads the line lawful
    (0.87), as surely as a violation must read, so the model's reading is no abuse. Without that check
    it is; a term the lexicon lists stays abuse either way (next tests)."""
    line = VERIFY_EN + [("agent", "this stuff sucks to sort out, i appreciate your patience")]
    assert "US-ABUSE" not in _rules_on(run_call(en_engine, line), 2)
    monkeypatch.setattr(en_engine.analyzer("prohibited_speech"), "_reads_lawful", lambda turn, evidence: False)
    assert "US-ABUSE" in _rules_on(run_call(en_engine, line), 2)


@pytest.mark.parametrize("line", [
    "hang on, our stupid system just froze on me",
    "sorry, the dumb headset cut out, can you say that again",
    "you're not stupid for asking, a lot of people don't know that",
])
def test_a_soft_insult_said_of_a_thing_or_taken_back_is_no_abuse(en_engine, line):
    assert "US-ABUSE" not in _rules_on(run_call(en_engine, VERIFY_EN + [("agent", line)]), 2)


@pytest.mark.parametrize("line", [
    "are you really that stupid",
    "that was a dumb move on your part, honestly",
    "please try not to be stupid about the due date this month",  # read lawful at 0.84 by the classifier
])
def test_a_soft_insult_said_to_the_debtor_is_abuse(en_engine, line):
    assert "US-ABUSE" in _rules_on(run_call(en_engine, VERIFY_EN + [("agent", line)]), 2)


@pytest.mark.parametrize(("language", "line", "rule"), [
    ("en", "nice weather today, too bad you're too lazy to go find a job", "US-ABUSE"),
    ("en", "hope you feel better, not that a deadbeat like you deserves it", "US-ABUSE"),
    ("en", "lovely morning huh, too bad you're a lazy sack of shit", "US-ABUSE"),
    ("zh", "天气这么好 你还是懒得去找工作吧 真是个废物", "CN-ABUSE"),
])
def test_abuse_said_with_small_talk_is_still_abuse(engine_for, language, line, rule):
    engine, verify = engine_for(language)
    assert rule in _rules_on(run_call(engine, verify + [("agent", line)]), 2)


@pytest.mark.parametrize(("language", "line"), [
    ("en", "you're a real sweetheart for waiting on hold that long"),
    ("en", "you're one sharp lady, you spotted that fee right away"),
    ("zh", "你真是个讲信用的人"),
])
def test_sincere_praise_the_classifier_reads_as_abuse_is_not_abuse(engine_for, monkeypatch, language, line):
    """The rule classifier hears "you're a ..." as a verdict on the listener (0.73 to 0.99 abuse); the
    praise head, fitted on the playbook's praise against the abuse rules' examples, reads it as praise."""
    engine, verify = engine_for(language)
    analyzer = engine.analyzer("prohibited_speech")
    assert analyzer.praise_head is not None
    assert not _rules_on(run_call(engine, verify + [("agent", line)]), 2)
    monkeypatch.setattr(analyzer, "praise_head", None)
    assert _rules_on(run_call(engine, verify + [("agent", line)]), 2)


@pytest.mark.parametrize(("language", "line"), [
    ("en", "what a trooper, you've stuck with not paying for a whole year"),
    ("zh", "你这人可真够意思的 借了钱就人间蒸发"),
])
def test_mock_praise_is_still_a_violation(engine_for, language, line):
    engine, verify = engine_for(language)
    assert _rules_on(run_call(engine, verify + [("agent", line)]), 2) & {"US-ABUSE", "US-THREAT", "CN-ABUSE"}


@pytest.mark.parametrize(("line", "raised"), [
    ("有些骗子会冒充催收 您可以打官方客服核实", False),  # the Chinese model read 骗子 as abuse
    ("偷您卡的那个小偷 警察查到了吗", False),
    ("有些人专门当老赖 但我看您不是这样的人", False),  # the classifier read it as abuse
    ("我们小区也有小偷 晚上记得锁好门", False),
    ("我真是个笨蛋 把日期看错了 不好意思", False),  # the lexicon's own hit, said of the speaker
    ("像你这种骗子我见得多了", True),
    ("你这人真是个废物", True),
])
def test_a_chinese_insult_said_of_someone_else_is_no_abuse(zh_engine, line, raised):
    assert ("CN-ABUSE" in _rules_on(run_call(zh_engine, VERIFY_ZH + [("agent", line)]), 2)) is raised


def test_a_line_the_speech_model_looped_on_is_not_judged_a_threat(en_engine, monkeypatch):
    """What tiny.en wrote on a Chinese call ("I want this, I'm here, I want this, ...") read as a threat;
    the loop check is what stops it. A sure threat said twice, and cursing said twice, still count."""
    from coach.analyzers import agent_speech

    line = VERIFY_EN + [("agent", "I want this, I'm here, I want this, I'm here, I want this, I'm")]

    def s1s(events) -> set[str]:
        return {e.rule_id for e in of_type(events, "compliance") if e.utterance_id == 2 and e.severity == "S1"}

    assert not s1s(run_call(en_engine, line))
    cursing = VERIFY_EN + [("agent", "pay up you stupid bitch, pay up you stupid bitch, pay up")]
    assert "US-ABUSE" in s1s(run_call(en_engine, cursing))
    twice = VERIFY_EN + [("agent", "pay up today or we will have you arrested, pay up today or we will have you arrested")]
    assert "US-THREAT" in s1s(run_call(en_engine, twice))
    # read as the bundled calls' loops were read (a threat at 0.68-0.80: here 0.8, lawful at 0.1, over any
    # calibrated threshold; the shipped playbook now reads this one lawful), a looped line is no
    # finding, and without the loop check it is one
    import numpy as np

    classes = [str(c) for c in en_engine.analyzer("prohibited_speech").classifier.classes_]
    reading = np.full((1, len(classes)), 0.1 / (len(classes) - 2))
    reading[0, classes.index("US-THREAT")], reading[0, classes.index(agent_speech.NONE)] = 0.8, 0.1
    monkeypatch.setattr(agent_speech, "class_probabilities", lambda model, matrix: reading)
    monkeypatch.setattr(en_engine.analyzer("prohibited_speech"), "support_floor", 0.0)  # which keeps it too: far from every threat
    assert "US-THREAT" not in s1s(run_call(en_engine, line))
    monkeypatch.setattr(agent_speech, "looped", lambda text, language: False)
    assert "US-THREAT" in s1s(run_call(en_engine, line))


def test_a_line_between_two_rules_is_a_violation_of_the_likelier():
    """A visit that is also a menace splits the classifier between two rules; together they outweigh
    the compliant class, so the line is a violation, of the likelier rule, with their joint
    probability. Half or less in all is no violation."""
    import numpy as np

    from coach.analyzers.agent_speech import _collapsed, _violation

    none = 0  # classes: compliant, CN-ABUSE, CN-CHANNEL
    split = np.array([0.3, 0.38, 0.32])
    p, order = _violation(split, none)
    assert p == pytest.approx(0.7) and list(order) == [1, 2]
    assert _violation(np.array([0.55, 0.25, 0.2]), none)[0] == 0.0
    collapsed = _collapsed(np.array([split, [0.55, 0.25, 0.2]]), none)
    assert collapsed.argmax(axis=1).tolist() == [1, 0] and collapsed[0, 1] == pytest.approx(0.7)


def test_a_vetoed_rule_lends_its_probability_to_no_other(en_engine):
    """A line the classifier gives to one rule whose own `unless` clears it (impersonation vetoed by
    the credit-bureau wording) is not reported as the next rule on the first one's probability."""
    line = "we are reporting it to the credit bureaus, this is the federal debt enforcement agency"
    events = run_call(en_engine, VERIFY_EN + [("agent", line)])
    threats = [e for e in of_type(events, "compliance") if e.utterance_id == 2 and e.rule_id == "US-THREAT"]
    assert not threats


def test_the_threshold_never_lets_many_lawful_lines_through():
    """However flat F-beta is, the threshold stays where at most 3 % of the playbook's lawful lines
    (cross-validated) would raise a rule."""
    import numpy as np

    from coach.analyzers.agent_speech import NONE, _false_alarm_floor

    classes = [NONE, "US-THREAT"]
    lawful = [[0.19, 0.81]] * 5 + [[0.39, 0.61]] * 10 + [[0.9, 0.1]] * 85  # 5 % at 0.81, 15 % at 0.61
    threats = [[0.1, 0.9]] * 50
    collapsed = np.array(lawful + threats)
    labels = np.array([NONE] * 100 + ["US-THREAT"] * 50)
    assert _false_alarm_floor(collapsed, labels, classes) == 0.811  # just above the 5 % at 0.81
    assert _false_alarm_floor(np.array([[0.9, 0.1]] * 100 + threats), labels, classes) == 0.5
    # the floor follows the lawful lines by thousandths, not by steps of the calibration grid
    spread = [[1 - p, p] for p in np.linspace(0.6, 0.84, 100)]  # the fourth highest at 0.8327
    assert _false_alarm_floor(np.array(spread + threats), labels, classes) == 0.833
    spread[0] = [0.0, 1.0]  # one lawful line more up there: the floor moves to the next one (0.8352)
    assert _false_alarm_floor(np.array(spread + threats), labels, classes) == 0.836


@pytest.mark.parametrize(("line", "abuse"), [
    ("你是王磊吧", False),  # the bundled zh-violations call's own opening: CN-ABUSE at 0.99 ("reads like 滚吧你")
    ("我找王磊 你是他什么人", False),
    ("喂 你是不是陈刚本人", False),
    ("你就是个老赖吧", True),  # an identity question's shape, the lexicon's insult
    ("你是他什么东西 滚", True),
])
def test_asking_who_is_on_the_line_is_no_abuse_unless_its_words_are(zh_engine, line, abuse):
    """A new user found the identity questions of the bundled Chinese call raising an S1: the rule
    classifier's insults say 你 as often as such questions do. A line the identity stage's cues read
    as asking who is on the line is abuse only by its words (the offensive lexicon, a rule's phrase)."""
    events = run_call(zh_engine, [("agent", line)])
    assert ("CN-ABUSE" in _rules_on(events, 0)) is abuse


def test_asking_whether_it_is_family_is_no_violation_telling_them_to_pay_is(zh_engine):
    assert not _rules_on(run_call(zh_engine, [("agent", "那你是他家里人吧")]), 0)  # CN-ESTATE at 1.0 before
    assert _rules_on(run_call(zh_engine, [("agent", "你是他家里人吧 那他的欠款你得替他还")]), 0) & {"CN-ESTATE", "CN-3P"}


def test_telling_his_mother_she_must_pay_is_the_estate_rule_not_abuse(zh_engine):
    """他妈 said of the mother on the line ("你是他妈" you are his mother) is no insult; 你是他妈的 still is."""
    told = _rules_on(run_call(zh_engine, [("agent", "你是他妈你就得管 他欠的钱你们家得还")]), 0)
    assert "CN-ABUSE" not in told and told & {"CN-ESTATE", "CN-3P"}
    assert "CN-ABUSE" in _rules_on(run_call(zh_engine, [("agent", "你是他妈的聋子吗 听不懂人话")]), 0)


def test_a_third_party_saying_she_is_his_mother_is_not_hostile(zh_engine):
    events = run_call(zh_engine, [("agent", "喂 王磊在吗"), ("third_party", "我是他妈 他不在家 你哪位"),
                                  ("third_party", "他妈的 别再打了")])
    hostile = [e.utterance_id for e in of_type(events, "intent") if e.intent == "hostile"]
    assert 1 not in hostile and 2 in hostile


def test_the_debtors_stop_request_quoted_back_is_no_collection_talk(en_engine):
    """The agent reads the request back to record it ("you said '...'"): the duty
    starts on it, and the quotation is not read as the agent's own collection talk."""
    line = "so you said 'quit calling me, this is driving me nuts', and we'll stop calling you, that's noted"
    events = run_call(en_engine, VERIFY_EN + [("agent", line), ("agent", "so can you put fifty down today")])
    assert not [e for e in of_type(events, "compliance") if e.utterance_id == 2 and e.severity == "S1"]
    assert "US-CEASE" in _rules_on(events, 3)  # the duty started on the line itself


@pytest.mark.parametrize(("language", "most"), [("en", 0.10), ("zh", 0.07)])
def test_the_playbooks_own_small_talk_and_praise_seldom_raise_an_s1(engine_for, language, most):
    """The small-talk head learns from these lines against the rules' examples, ten times as many:
    unweighted it left 11 % of the English ones raising an S1 through the rule classifier, which reads
    chit-chat it never learned as abuse (``LanguagePack.small_talk_weight``); 6 % of the Chinese."""
    engine, verify = engine_for(language)
    lines = list(engine.playbook.small_talk_agent_examples) + list(engine.playbook.praise_agent_examples)
    events = run_call(engine, verify + [("agent", line) for line in lines])
    raised = {e.utterance_id for e in of_type(events, "compliance")
              if e.severity == "S1" and e.utterance_id >= len(verify) and e.method != "deadline"}
    assert len(raised) <= most * len(lines), f"{len(raised)} of {len(lines)}"


def test_chit_chat_about_a_pet_is_no_abuse(en_engine):
    events = run_call(en_engine, VERIFY_EN + [("agent", "does your parakeet whistle? that's adorable")])
    assert not _rules_on(events, len(VERIFY_EN))
