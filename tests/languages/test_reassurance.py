"""A negated line is a reassurance ("nobody is going to arrest you") only when what it negates is the
harm: a negated command, the debtor's not paying, or a sweeping consequence keep a threat a threat.
(Lines written for these tests, in no playbook.)"""

from __future__ import annotations

import pytest

from coach.languages import language_pack
from coach.text.normalize import normalize


@pytest.mark.parametrize(("language", "line"), [
    ("en", "nobody is going to arrest you over a credit card balance"),
    ("en", "dont worry we will not contact your employer about this"),
    ("en", "your benefits are protected and we cant touch them"),
    ("zh", "您放心 我们不会去您单位"),
    ("zh", "这个不会影响您家人 您别担心"),
    ("en", "nobody is going to arrest you for not paying a credit card"),  # "not paying" after "for"
    ("en", "you cant go to jail for not paying this debt"),
    ("en", "dont think of this as a threat we will never sue you"),
    ("zh", "您放心 我们再也不会打给您单位了"),
    ("zh", "您别担心 都不会再打扰您家人"),
    ("en", "no one is coming to take your car or your house we dont do that"),  # a list, not "or your car goes"
    ("en", "you asked if we can take your house no we cant"),   # a question reported, not a condition
    ("en", "you didnt pick up earlier so im trying again, nobody will come to your door"),
    ("en", "you want me to not call anymore okay nobody here will phone you again"),  # the request said back
    ("en", "i hear you, but no one from our office will ever knock on your door"),  # a contrast before the negation
    ("zh", "我理解 但是您单位那边我们是不会联系的"),
])
def test_a_negated_harm_reassures(language, line):
    assert language_pack(language).reassures(line)


@pytest.mark.parametrize(("language", "line"), [
    ("en", "dont make me drive out there myself"),          # a negated command
    ("en", "dont you dare test me on this"),
    ("en", "folks who dont pay us tend to regret it"),     # the debtor's not paying
    ("en", "you borrowed it knowing you would never pay it back"),
    ("en", "we will not stop until this is paid if thats what it takes"),  # a condition
    ("en", "you could end up arrested for not paying this"),      # only the debtor's not paying is negated
    ("en", "not paying this is a crime in most states"),
    ("en", "so not paying this is a crime"),
    ("en", "you could end up arrested for not repaying this"),
    ("en", "you can go to jail for not making your payments"),
    ("zh", "今天还三千 剩下的就不用还了"),                    # promises what the bank will not give
    ("zh", "要是不还 后果不是你能承担的"),
    ("en", "ive got no choice but to send someone out to your house"),  # a negation that presses
    ("en", "im not kidding well have the car picked up"),
    ("zh", "我们也没办法 只能派人去您家里了"),
    ("zh", "我不是吓唬您 明天就有人上门"),
    ("en", "dont miss your payment or your car gets towed"),
    # the debtor out of reach: a negation about the debtor, not the harm
    ("en", "since youre never home well have somebody wait by your moms place"),
    ("en", "you wont pick up so a couple of our guys will stop by your job"),
    ("en", "you dont return calls so next time it wont be a phone call"),
    # a contrast after the negation takes it back
    ("en", "nobody here will sue you, but we know which school your kids go to"),
    ("en", "we wont call your boss. however, your boss might just hear about it anyway"),
    ("zh", "我们不会告您 但是您孩子在哪上学我们都清楚"),
    ("zh", "放心 不会找您麻烦 不过您老婆上下班那条路我们可都熟"),
])
def test_a_negation_that_keeps_the_threat_does_not_reassure(language, line):
    assert not language_pack(language).reassures(line)


@pytest.mark.parametrize(("language", "line", "pauses"), [
    ("en", "understood we wont call this number again", True),
    ("en", "ive put the account on hold while the dispute is reviewed", True),
    ("en", "no one will ask you for payment while the dispute is open", True),
    ("en", "we wont stop calling until this is paid", False),                # a condition
    ("en", "no i hear you but how much can you pay today", False),          # a negation, then the demand
    ("en", "we dont want to keep calling you so lets settle it now", False),  # a condition
    ("en", "you want us to quit phoning, fine, we wont call you again", True),     # the debtor's request said back
    ("en", "alright, our side holds off until you have gotten a reply from us", True),
    ("en", "the account sits paused until youve received the written validation", True),
    ("en", "none of that is expected while the claim is being investigated", True),
    ("en", "we need something from you while the claim is being investigated", False),   # no negation: a demand
    ("zh", "好的 核实期间我们不会再催您还款", True),
    ("zh", "我这边先给您暂停催收 等核实结果", True),
    ("zh", "这不是小数目 您今天能还多少", False),
    # a pause taken back or traded for a payment
    ("en", "ive marked it as disputed but we still need the payment today", False),
    ("en", "i wont bother you again once you make the payment", False),
    ("en", "i cant pause the account you need to pay", False),
    ("zh", "不会再催您 但您今天得先还五百", False),
    ("zh", "暂停是不可能的 您今天必须还", False),
])
def test_a_pause_in_collection_is_told_apart_from_any_negation(language, line, pauses):
    """After a request to stop, only a line that says collection stops or waits excuses collection
    words in it; any other negation ("这不是小数目") does not."""
    assert language_pack(language).pauses_collection(line) is pauses


@pytest.mark.parametrize(("language", "reply", "accepts"), [
    ("en", "mm ok yeah go ahead and schedule it", True),
    ("en", "ok deal", True),
    ("en", "no deal", False),
    ("en", "that isnt doable", False),
    ("en", "ill deal with it later", False),
    ("en", "go ahead and sue me", False),
    ("en", "that works?", False),                # a question
    ("zh", "行 就按你说的办", True),
    ("zh", "我不同意", False),
    ("zh", "我从来没答应过", False),
    ("zh", "好吧 我再想想", False),
    ("zh", "没问题 你们去告吧", False),
])
def test_taking_up_an_offer_is_told_from_turning_it_down(language, reply, accepts):
    assert language_pack(language).accepts_proposal(reply) is accepts


@pytest.mark.parametrize(("language", "line", "offers"), [
    ("en", "could you do 40 dollars on the 18th", True),
    ("en", "could you call us back on monday", False),            # a callback, not a payment
    ("en", "can you verify the last four of your social", False),
    ("en", "would you like me to mail you a copy, it takes 7 to 10 business days", False),
    ("zh", "分六期 每期一千 您看行吗", True),
    ("zh", "那我们明天下午三点再联系您 您看可以吗", False),
    ("zh", "您这个月的账单是三千元 您看一下", False),               # a balance, not an offer
])
def test_a_payment_offer_is_about_paying(language, line, offers):
    """Every line here has an amount or a date: only an offer's words about paying make it an offer."""
    assert language_pack(language).offers_payment(line) is offers


@pytest.mark.parametrize(("language", "line"), [
    ("en", "what kind of father doesnt pay for his own kids"),   # the negation is the insult
    ("en", "hello is nobody home up there"),
    ("en", "the people upstairs are not as nice as i am"),        # ... or the menace
    ("en", "just pay it and nobody has to get hurt"),
    ("zh", "我们同事上门的时候可不会像我这么客气"),
])
def test_a_negation_that_is_the_insult_or_the_menace_does_not_reassure(language, line):
    assert not language_pack(language).reassures(line)


@pytest.mark.parametrize("line", ["哪天派人去您那坐坐也不是不可能", "你不是不接电话吗 那就上门聊"])
def test_a_double_negation_says_yes(line):
    assert not language_pack("zh").reassures(line)


@pytest.mark.parametrize(("language", "line", "open_question"), [
    ("en", "what's making it hard to pay this month", True),
    ("en", "thanks. so how much could you put toward it", True),
    ("en", "what if we set up a payment plan", False),         # a proposal put as a question
    ("en", "how does fifty on friday sound", False),
    ("en", "could we set something up for when you get paid", False),
    ("zh", "您这个月的还款有什么困难吗", True),
    ("zh", "您看这个月能还多少", True),
    ("zh", "分六期 您看怎么样", False),
])
def test_an_open_question_is_told_from_a_proposal(language, line, open_question):
    """A yes after an open question agrees to no payment (see IntentContext)."""
    assert language_pack(language).asks_open_question(line) is open_question


@pytest.mark.parametrize(("language", "line", "sympathy"), [
    ("zh", "孩子住院了啊 那您先顾着孩子", True),
    ("zh", "店里生意不好 这个我能理解", True),
    ("zh", "我理解您 但是今天必须把钱还上", False),     # sympathy as a lead-in to pressure
    ("en", "im sorry to hear about your mom take care of yourself", True),
    ("en", "i understand but if you dont pay today", False),
])
def test_sympathy_is_told_from_a_lead_in_to_pressure(language, line, sympathy):
    """A line that only sympathises needs a sure classifier to read as abuse (see agent_speech)."""
    assert language_pack(language).sympathises(line) is sympathy


@pytest.mark.parametrize(("language", "line", "denies"), [
    ("en", "im not calling you a liar, i just need the statement", True),
    ("en", "nobody thinks youre a bad person", True),
    ("en", "we werent calling you stupid", True),
    ("en", "i dont blame you one bit", True),
    ("en", "we dont call you at work", False),  # the phone, not a name
    ("en", "we wont call you a second time", False),
    ("en", "i dont think you understand how pathetic you are", False),  # the negation is the insult's
    ("en", "nobody believes you, you deadbeat", False),
    ("en", "im not saying youre a deadbeat but you act like one", False),  # taken back, then said
    ("zh", "我不是说您是老赖 我只是核实一下情况", True),
    ("zh", "我们没把您当成老赖", True),
    ("zh", "没有人认为您是故意不还", True),
    ("zh", "你没说你什么时候还", False),  # no one denies anything
    ("zh", "你根本没把事当成一回事", False),
    ("zh", "我不是说你是老赖 但你要是再不还就别怪我", False),
    ("zh", "不是说你是老赖吗", False),  # rhetorical
])
def test_an_insult_taken_back_is_told_from_an_insults_own_negation(language, line, denies):
    pack = language_pack(language)
    assert pack.denies_insult(normalize(line, language)) is denies
