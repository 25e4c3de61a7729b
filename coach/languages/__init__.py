"""What the engine knows about a language beyond its playbooks: fillers, how an answer to an identity
question looks, the stages that propose a payment. One module per language, so a third language is a
new module and a new playbook, not edits across the engine."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import lru_cache

from coach.errors import ConfigError


@dataclass(frozen=True)
class LanguagePack:
    code: str
    #: Words that carry no meaning in a short answer ("um", "嗯").
    fillers: tuple[str, ...]
    #: An answer that gives identifying details: a date, digits, an address, a name ("march third
    #: eighty", "尾号三七二一", "我叫张伟").
    identity_details: re.Pattern[str]
    #: A reply that denies being the person asked for, or says they are not there.
    identity_denial: re.Pattern[str]
    #: A question back ("who is this", "你是谁"): not an answer.
    question: re.Pattern[str]
    #: Longest reply (in words, or characters for languages without spaces) read as a bare name.
    name_reply_max: int
    #: Words of a name reply ("this is", "我叫").
    name_reply: re.Pattern[str] | None = None
    #: A reply that opens by saying yes to "am I speaking with ...?" ("yeah it is", "that would be
    #: me", "是啊 快说", "本人接听") whatever follows, unless it brings in someone else.
    identity_affirm: re.Pattern[str] | None = None
    #: The agent accepting a verification answer ("that matches", "thanks for verifying", "对上了",
    #: "核实通过"): the reply before it verified the debtor, in words the dialogue act did not read.
    identity_accepted: re.Pattern[str] | None = None
    #: The agent saying the reply that just verified the debtor does not match the records ("that doesn't
    #: match what I have", "生日对不上"): the verification is taken back.
    identity_rejected: re.Pattern[str] | None = None
    #: Someone other than the speaker: a relative, a colleague, "he", "let me get her".
    third_party: re.Pattern[str] | None = None
    #: The speaker naming themselves in the third person ("this is she", "我是她本人"): removed
    #: before looking for a third party.
    self_reference: re.Pattern[str] | None = None
    #: Someone spoken of in the third person ("he", "她"): a line about the debt said of him or her is a
    #: third party's, whatever objection it raises.
    third_person: re.Pattern[str] | None = None
    #: A commitment to pay: a payment channel or a "i'll pay / let's do" verb (with an amount or a
    #: date, see :mod:`coach.analyzers.commitment`), or card / account digits read out.
    payment_channel: re.Pattern[str] | None = None
    promise_verb: re.Pattern[str] | None = None
    card_digits: re.Pattern[str] | None = None
    #: One digit as said or written ("four", "4", "四", "幺"): how many a reply reads out.
    spoken_digit: re.Pattern[str] | None = None
    #: Card or account particulars named ("the cvv is ...", "卡号", "有效期"): digits said with them are
    #: payment details however few they are.
    payment_details: re.Pattern[str] | None = None
    #: An agent asking for a phone number or a verification detail ("best number to reach you", "身份证后
    #: 四位"): the digits in the reply are not a card to pay from.
    contact_request: re.Pattern[str] | None = None
    #: An agent asking to verify a detail ("the last four of your account number", "尾号"): digits in the
    #: reply are the detail, not a card to pay from, whatever the question names.
    verification_request: re.Pattern[str] | None = None
    #: The agent asking for a term of the payment: when ("when can you do it", "什么时候能还"), how much
    #: ("how much could you put down", "能拿出来多少") or how ("card or bank?", "用支付宝还是银行卡"). A
    #: reply that gives the term asked for ("um friday", "card", "月底 一千五") commits to it.
    payment_terms_question: re.Pattern[str] | None = None
    #: A way to pay named in one word ("card", "bank", "卡"): a payment term only in a reply to such a
    #: question ("i'll check tomorrow" names no cheque).
    payment_method: re.Pattern[str] | None = None
    #: Words that turn a would-be promise into its opposite ("i can't pay 50", "我还不了").
    commitment_veto: re.Pattern[str] | None = None
    #: Words that take up what the agent just proposed ("go ahead and set it up", "就按你说的办"):
    #: a reply to a payment proposal that says them is a promise, even when not only yes-words.
    proposal_acceptance: re.Pattern[str] | None = None
    #: A plain yes beside the proposal's terms said back ("ok sixty on the twelfth", "行 八百 二十号"): the
    #: terms alone may be a refusal's ("sixty bucks is a lot", "八百太多了").
    assent: re.Pattern[str] | None = None
    #: How an agent puts a payment to the debtor ("could you do", "how about", "分六期 您看行吗"): with
    #: an amount or a date in the same line, the line proposes a payment whatever stage it reads as.
    payment_offer: re.Pattern[str] | None = None
    #: What such an offer is about (pay, 还, an amount of money), and a callback that is no offer.
    payment_term: re.Pattern[str] | None = None
    callback: re.Pattern[str] | None = None
    #: The agent asking whether the debtor wants to go over payment options now ("would you like to hear
    #: about the hardship options", "要不要我给您介绍一下分期方案"), and the choice to wait it may leave
    #: ("or would you rather wait until you've seen the statement", "还是等核实完再说").
    permission_question: re.Pattern[str] | None = None
    wait_offer: re.Pattern[str] | None = None
    #: A reply that takes up such an offer beyond a bare yes ("i guess tell me", "go ahead", "你说吧"),
    #: and what turns it down ("not now", "先不用").
    consent: re.Pattern[str] | None = None
    consent_veto: re.Pattern[str] | None = None
    #: The debtor asking how they could pay ("can i just pay the principal", "有没有分期", "本金我能先还吗"):
    #: payment talk the debtor opened, whatever else the line says.
    payment_request: re.Pattern[str] | None = None
    #: What makes such a question part of the dispute ("how could i pay what i dont owe", "不是我借的 怎么能还呢").
    payment_request_veto: re.Pattern[str] | None = None
    #: Longest reply (in words, or characters for languages without spaces) read as a consent.
    consent_max_length: int = 16
    #: A place not to be called at ("at work", "my job", "单位"): a request to stop calling there says
    #: where, and refuses nothing.
    contact_place: re.Pattern[str] | None = None
    #: A question that asks for something a yes cannot give ("what's making it hard to pay", "您这个月
    #: 的还款有什么困难吗", "能还多少"): a "yeah" or "嗯" after it agrees to no payment, whatever stage
    #: the line reads as. "How about" and "what if" put a proposal, and are no such question.
    open_question: re.Pattern[str] | None = None
    #: Words that turn taking-up words into their opposite ("no deal", "我不同意", "go ahead and sue me").
    acceptance_veto: re.Pattern[str] | None = None
    #: A negated statement ("your wages are not being garnished", "不会让你坐牢") and a condition that
    #: keeps a threat a threat despite its negation ("if you don't pay", "要是不还").
    negation: re.Pattern[str] | None = None
    condition: re.Pattern[str] | None = None
    #: A contrast after the negation, which brings back what was negated ("we won't take you to court,
    #: but ...", "不会起诉您 不过 ..."): what follows it is what the line says.
    contrast: re.Pattern[str] | None = None
    #: A negation that takes an insult back ("im not calling you a liar", "nobody thinks youre a bad
    #: person", "我不是说您是老赖"): for a rule against abuse the only negation that makes a line a
    #: reassurance. An insult carries negations of its own ("someone who cant even pay a phone bill",
    #: "people like you never learn", "以后可就不是这个态度了").
    insult_denial: re.Pattern[str] | None = None
    #: A contrast or condition that brings the insult back ("im not calling you a liar but ...", "不是说您
    #: 但要是再不还 ...").
    insult_denial_veto: re.Pattern[str] | None = None
    #: Negations that press rather than reassure ("ive got no choice but to", "im not kidding",
    #: "没办法", "不是吓唬您"): they negate nothing the agent threatens.
    emphatic_negation: re.Pattern[str] | None = None
    #: What the debtor does not do: pay ("arrested for not paying", "for never paying it back") or answer
    #: ("since you won't pick up"): a negation about the debtor, not about the harm, so it makes no
    #: reassurance on its own.
    debtor_negation: re.Pattern[str] | None = None
    #: The agent saying collection stops or pauses ("we won't call you again", "no one will ask you
    #: for payment while it's reviewed", "期间不会催您还"): what makes a line after a request to stop
    #: lawful. Narrower than ``negation``: pressing lines carry negations of their own ("这不是小数目").
    collection_pause: re.Pattern[str] | None = None
    #: A pause taken back or traded for a payment ("we won't call again once you pay", "暂停是不可能的").
    pause_veto: re.Pattern[str] | None = None
    #: Sympathy ("i'm sorry to hear that", "孩子生病了啊 那确实要先顾孩子") and what turns it into a lead-in
    #: for pressure ("but", "但是", "要是"): a line that only sympathises reads as abuse only when the
    #: classifier is sure of it, as a reassurance does.
    empathy: re.Pattern[str] | None = None
    empathy_veto: re.Pattern[str] | None = None
    #: Words that speak of the debtor's death ("sorry for your loss", "the estate", "请节哀", "继承遗产"): a
    #: line saying them is said to the family of a debtor who died, whether or not the death itself
    #: was heard (a recognition slip, an excerpt): see ``Rule.after_death``.
    death: re.Pattern[str] | None = None
    #: A death in the speaker's own family ("we buried my grandad last week", "我爸前几天刚走"), and words
    #: that tie a death to the debt or to the one the call is for ("that card was hers", "his estate",
    #: "you keep calling for him", "这卡是他的", "你们找的那个人"): a death said with the first and none of
    #: the second is the debtor's own bereavement, a hardship, not the borrower's death.
    bereavement: re.Pattern[str] | None = None
    death_of_the_borrower: re.Pattern[str] | None = None
    #: Where a line breaks into clauses: punctuation, and the pauses a transcript of a language written
    #: without spaces marks with one.
    clause_break: re.Pattern[str] | None = None
    #: The shortest clause that means something alone (:meth:`length`): shorter ones are read with the
    #: next. The longest read as one: a transcript without punctuation is cut into pieces this long.
    clause_min_length: int = 4
    clause_max_length: int = 10
    #: A question of who is on the line or how they know the debtor, by name or relation ("你是王磊吧",
    #: "你是他什么人"): the rule classifier, whose insults say 你 as often, read these as abuse.
    identity_question: re.Pattern[str] | None = None
    #: An identity check that asks for someone who knows the debtor ("请问是王芳的邻居吗", "is this
    #: Dana's mother"): a yes to it verifies the friend or the relative, not the debtor.
    relation_check: re.Pattern[str] | None = None
    #: The one who said yes saying they misheard and naming who they really are (a brother, a wife): what
    #: follows is said to a third party again.
    identity_disowned: re.Pattern[str] | None = None
    #: A clause that opens by reporting the listener's own words ("you told me this whole thing is a scam",
    #: "您刚才说“你们这帮吸血鬼”"): what follows is theirs, not the agent's (:meth:`unreported`).
    reported_speech: re.Pattern[str] | None = None
    #: The listener's words quoted in quotation marks after a report of them ("for the file, your words
    #: were: 'keep your junk fees, I owe you nothing'", "您说“利息一分不认，爱告就告”"): the whole quotation is
    #: theirs however many clauses it runs to (:meth:`unreported`).
    quotation: re.Pattern[str] | None = None
    #: Whether a line the pressing head is unsure of is also read clause by clause: "the lawyer thing is
    #: your call of course, anyway when can we expect the first installment" reads 0.44 whole, its last
    #: clause 0.95. English only: Chinese clauses read alone raised false alarms on lawful
    #: acknowledgements in every development set and caught nothing more (docs/benchmarks.md section 49).
    pressing_reads_clauses: bool = False
    #: Words just before (``callback_before``, matched at the end of what precedes) or just after
    #: (``callback_after``, at the start of what follows) a date that make it the day of the next call,
    #: not of a payment: "fifty dollars this friday and well call you on the thirtieth to set up the
    #: rest", "周五先还五百 三十号再给您打电话".
    callback_before: re.Pattern[str] | None = None
    callback_after: re.Pattern[str] | None = None
    #: A line that grants the debtor's point and then turns ("got it but honestly it would be a lot
    #: easier if you just settled this with me tonight"): read clause by clause as an acknowledged
    #: request is, since the concession dilutes the whole line's reading (0.14 whole, 0.94 its clause).
    concedes_then_turns: re.Pattern[str] | None = None
    #: Weight of the emotion head's own words (and tone marks) next to the dense block, as a multiple of
    #: the weight the shared feature space chose for the objection head: how a debtor says a thing lies
    #: more in small words (particles, "again", "already") than in what the sentence means, and more so
    #: in Chinese, whose particles (啊, 吧, 呢, 嘛) carry the tone a sentence-embedding blurs
    #: (docs/benchmarks.md sections 37 and 42).
    emotion_words_weight: float = 1.25
    #: How much one small-talk example weighs against one of the rules' examples in the prohibited-speech
    #: analyzer's small-talk head. English doubles it: unweighted, the head read 12 % of the playbook's
    #: own small talk as violations (the rules' ~1,400 examples outweigh its ~240), and unseen chit-chat
    #: raised an S1 on a fifth of devset9's small-talk lines; doubled, six fewer false S1s over nine
    #: development sets for one threat fewer. Chinese keeps one: doubled, it cleared two false S1s and
    #: a menace put as friendly advice, and the playbook's Chinese small talk already reads as such
    #: (docs/benchmarks.md section 67).
    small_talk_weight: float = 1.0
    #: The share (%) of the prohibited-speech rules' examples that may lie further from their nearest
    #: sibling than a line may from the rule's nearest example for the rule classifier's finding to
    #: count (``ProhibitedSpeechAnalyzer._support_floor``). English takes 1 %: lawful chit-chat that
    #: the classifier read as a threat or abuse at 0.9 and more lay 0.37-0.38 from every example of the
    #: rule, where 99 % of the examples lie within 0.384 of a sibling (MiniLM + e5); on ten
    #: development sets two false S1s went and no violation. Chinese keeps the loneliest example
    #: (0 %): on e5 alone its examples crowd into a narrow band (0.418 the loneliest, 0.467 at 1 %),
    #: and 1 % lost a six-character insult and a menace, clearing nothing (docs/benchmarks.md section 71).
    support_percentile: float = 0.0
    #: One question asked (a question mark, or a question word where transcripts drop the mark): a turn
    #: of several at once is the anxious debtor of domain.md ("fast, repeated questions"). Of the six
    #: development sets' debtor turns with two or more, 84 % are anxious in Chinese, 68 % in English.
    question_asked: re.Pattern[str] | None = None
    #: What may happen to the debtor (prison, a lawsuit, the blacklist, the credit record, a card frozen):
    #: asked of in a question ("这样我会被起诉吗", "我这张卡现在是不是被冻结了"), it is a frightened question for the
    #: agent to answer, no objection (:meth:`asks_of_consequences`).
    consequence: re.Pattern[str] | None = None
    #: A question that doubts the creditor's right to the consequence ("are they even allowed
    #: to sue over a debt from 2009"): an objection (the debt too old, not owed), not a frightened question.
    right_challenged: re.Pattern[str] | None = None

    def questions_asked(self, text: str) -> int:
        """How many of the turn's clauses ask a question (:attr:`question_asked`): "要上法院吗？" is one."""
        if self.question_asked is None:
            return 0
        return sum(1 for piece in self.said_clauses(text) if self.question_asked.search(piece))

    def asks_of_consequences(self, text: str, norm: str) -> bool:
        """The turn asks a question (:attr:`question_asked`) and names a consequence (:attr:`consequence`)."""
        return self._names_consequence(norm) and self.questions_asked(text) > 0

    def fears_consequences(self, text: str, norm: str) -> bool:
        """The turn asks, and only asks, of a consequence ("will they put me in jail over this",
        "会被起诉吗 会不会上征信"): a frightened question, not the defiance of "you wanna drag me into
        court? go ahead"."""
        clauses = self.said_clauses(text)
        return (self._names_consequence(norm) and self.question_asked is not None and bool(clauses)
                and all(self.question_asked.search(clause) for clause in clauses))

    def _names_consequence(self, norm: str) -> bool:
        """A consequence named (:attr:`consequence`), the creditor's right to it not doubted."""
        return (self.consequence is not None and self.consequence.search(norm) is not None
                and not (self.right_challenged is not None and self.right_challenged.search(norm)))

    def said_clauses(self, text: str) -> list[str]:
        """The turn's clauses, each with the break that ends it ("要上法院吗？"): unlike :meth:`clauses`,
        which drops the marks, what a clause ends on (a question mark) is kept."""
        if self.clause_break is None:
            return [text] if text.strip() else []
        pieces, start = [], 0
        for found in self.clause_break.finditer(text):
            pieces.append(text[start:found.end()])
            start = found.end()
        pieces.append(text[start:])
        return [piece for piece in pieces if piece.strip()]

    def reassures(self, text: str) -> bool:
        """A negated statement that is not a conditional threat: "nobody is going to arrest you"."""
        negated = self.debtor_negation.sub(" ", text) if self.debtor_negation is not None else text
        if self.emphatic_negation is not None:
            negated = self.emphatic_negation.sub(" ", negated)
        found = self.negation.search(negated) if self.negation is not None else None
        if found is None or (self.condition is not None and self.condition.search(text)):
            return False
        # ... nor one a contrast after it takes back (:attr:`contrast`)
        return not (self.contrast is not None and self.contrast.search(negated, found.end()))

    def denies_insult(self, text: str) -> bool:
        """The line takes an insult back, with no contrast or condition that brings it back."""
        if self.insult_denial is None or not self.insult_denial.search(text):
            return False
        return not (self.insult_denial_veto is not None and self.insult_denial_veto.search(text))

    def sympathises(self, text: str) -> bool:
        """The line says sympathy and nothing that turns it into pressure."""
        if self.empathy is None or not self.empathy.search(text):
            return False
        return not (self.empathy_veto is not None and self.empathy_veto.search(text))

    def speaks_of_death(self, text: str) -> bool:
        """The line speaks of the debtor's death or estate (:attr:`death`)."""
        return self.death is not None and self.death.search(text) is not None

    def own_bereavement(self, text: str) -> bool:
        """The line tells of a death in the speaker's own family and ties it to no debt and to no one the
        call is for (:attr:`bereavement`, :attr:`death_of_the_borrower`)."""
        return (self.bereavement is not None and self.bereavement.search(text) is not None
                and not (self.death_of_the_borrower is not None and self.death_of_the_borrower.search(text)))

    def unreported(self, text: str) -> str | None:
        """The line without its clauses that report the listener's own words, or None when it reports
        none, or has nothing else: an agent who quotes the debtor's insult or threat back to calm them
        ("you told me we're a bunch of crooks. okay, i hear you, let me send it in writing") says none of it. Only where a
        clause break stands between the report and the agent's own words: in one unbroken run ("you
        said youd pay by friday you liar") nothing tells where the quote ends, unless quotation marks
        do (:attr:`quotation`)."""
        if self.reported_speech is None or self.clause_break is None:
            return None
        rest = self.quotation.sub(" ", text) if self.quotation is not None else text
        quoted = rest != text
        clauses = [c.strip() for c in self.clause_break.split(rest) if c.strip()]  # breaks said, not lengths
        kept, quoting = [], False
        for clause in clauses:
            report = self.reported_speech.search(clause.lower())
            if report is None and not quoting:
                kept.append(clause)
            # a report with nothing after it ("您刚才说 叫我们都去死"): the next clause is the words
            quoting = report is not None and report.end() == len(clause)
        if (len(kept) == len(clauses) and not quoted) or not kept:
            return None
        return ", ".join(kept)  # still clauses, for a reader that reads them one by one

    def names_a_callback(self, before: str, after: str) -> bool:
        """The date between ``before`` and ``after`` is when someone will call, not when to pay."""
        return bool((self.callback_before is not None and self.callback_before.search(before))
                    or (self.callback_after is not None and self.callback_after.search(after)))

    def names_payment(self, text: str) -> bool:
        """The words speak of paying (:attr:`payment_term`: pay, 还, an amount of money)."""
        return bool(self.payment_term is not None and self.payment_term.search(text))

    def turns_after_conceding(self, norm: str) -> bool:
        """The line grants a point, then says "but" and speaks of paying (:attr:`concedes_then_turns`):
        "i understand but i do have to let you know this is an attempt to collect a debt" turns to a
        disclosure owed, not to a payment."""
        return bool(self.concedes_then_turns is not None and self.concedes_then_turns.search(norm)) \
            and self.names_payment(norm)

    def pauses_collection(self, text: str) -> bool:
        """The line says collection stops or waits, without a condition attached."""
        if self.collection_pause is None or not self.collection_pause.search(text):
            return False
        if self.pause_veto is not None and self.pause_veto.search(text):
            return False
        return not (self.condition is not None and self.condition.search(text))

    def asks_permission(self, text: str) -> bool:
        """The agent asks whether the debtor wants to hear about payment options: the debtor may say no."""
        return bool(self.permission_question is not None and self.permission_question.search(text.lower()))

    def leaves_choice(self, text: str) -> str | None:
        """The agent asks whether to go over payment options now and offers to wait instead: the
        debtor decides whether payment talk goes on. What else the line says (the offer and the wait
        taken out: "we need fifty dollars today" before it), or None for a line that is no such offer."""
        lowered = text.lower()
        if not self.asks_permission(lowered) or self.wait_offer is None or not self.wait_offer.search(lowered):
            return None
        rest = self.wait_offer.sub(" ", self.permission_question.sub(" ", lowered))  # type: ignore[union-attr]
        return " ".join(rest.split())

    def consents(self, text: str) -> bool:
        """The reply takes up an offer to go over payment options: its consent words and none that
        turn it down. Bare yes-words are the playbook's (``Playbook.affirmations``), read by the caller."""
        text = text.lower().strip()
        if self.consent is None or self.length(text) > self.consent_max_length or not self.consent.search(text):
            return False
        return not (self.consent_veto is not None and self.consent_veto.search(text))

    def asks_to_pay(self, text: str) -> bool:
        """The debtor asks how they could pay, not as part of a dispute."""
        text = text.lower()
        if self.payment_request is None or not self.payment_request.search(text):
            return False
        return not (self.payment_request_veto is not None and self.payment_request_veto.search(text))

    def accepts_proposal(self, text: str) -> bool:
        """The reply takes up a proposal: acceptance words, no veto ("can't", "不同意", "no deal"), not a
        question. ``text`` as said (lower case), so that a question mark still counts."""
        text = text.lower().strip()
        if self.proposal_acceptance is None or not self.proposal_acceptance.search(text):
            return False
        return not self.turns_down(text) and not self.question.search(text)

    def turns_down(self, text: str) -> bool:
        """Words that make a yes no yes: a refusal, inability or hedge (``commitment_veto``) or words
        that turn taking-up into its opposite (``acceptance_veto``). ``text`` in lower case."""
        return any(veto is not None and veto.search(text) for veto in (self.commitment_veto, self.acceptance_veto))

    def offers_payment(self, text: str, money: bool = False) -> bool:
        """An agent line worded as putting a payment to the debtor: an offer's words about paying (or
        ``money``: the caller found an amount in it, "okay two hundred works"), and no callback ("could
        you call us back on monday"). The caller checks for terms (an amount or a date): reading them
        costs more than these words."""
        text = text.lower()
        if self.payment_offer is None or not self.payment_offer.search(text):
            return False
        if not money and self.payment_term is not None and not self.payment_term.search(text):
            return False
        return not (self.callback is not None and self.callback.search(text))

    def asks_open_question(self, text: str) -> bool:
        return bool(self.open_question is not None and self.open_question.search(text.lower()))

    def clauses(self, text: str) -> list[str]:
        """The clauses of ``text`` as said (not normalised: normalising drops the punctuation), none
        longer than :attr:`clause_max_length`."""
        pieces = self.clause_break.split(text) if self.clause_break is not None else [text]
        clauses = []
        for piece in pieces:
            spaced = self._spaced(piece)
            tokens = piece.split() if spaced else list(piece.strip())
            for start in range(0, len(tokens), self.clause_max_length):
                clauses.append((" " if spaced else "").join(tokens[start:start + self.clause_max_length]))
        return clauses

    def clause_run(self, clauses: list[str], start: int, end: int) -> str:
        """Clauses ``start`` to ``end``, grown with the clauses after them (then before them) to
        :attr:`clause_min_length`: a fragment too short to mean anything alone is read with its neighbours."""
        while sum(self.length(c) for c in clauses[start:end]) < self.clause_min_length and (start > 0 or end < len(clauses)):
            if end < len(clauses):
                end += 1
            else:
                start -= 1
        return " ".join(clauses[start:end])

    def clause_runs(self, text: str) -> list[str]:
        """Each clause of ``text`` grown to :attr:`clause_min_length` (:meth:`clause_run`), once each."""
        clauses = self.clauses(text)
        return list(dict.fromkeys(self.clause_run(clauses, start, start + 1) for start in range(len(clauses))))

    def digit_count(self, text: str) -> int:
        return len(self.spoken_digit.findall(text)) if self.spoken_digit is not None else 0

    def affirms_identity(self, norm: str) -> bool:
        """A yes to the identity question that does not hand the call to someone else."""
        return bool(self.identity_affirm is not None and self.identity_affirm.search(norm)) and not self.mentions_other(norm)

    def mentions_other(self, norm: str) -> bool:
        """The reply brings in someone other than the speaker ("yes this is his wife", "我叫他")."""
        return self._says_of_others(self.third_party, norm)

    def speaks_of_someone(self, norm: str) -> bool:
        """The line speaks of someone else in the third person ("he told me that was taken care of",
        "他没跟我说过"), unless the speaker says that is them ("this is he")."""
        return self._says_of_others(self.third_person, norm)

    def _says_of_others(self, pattern: re.Pattern[str] | None, norm: str) -> bool:
        """``pattern`` found once the speaker naming themselves in the third person is taken out."""
        rest = self.self_reference.sub(" ", norm) if self.self_reference is not None else norm
        return bool(pattern is not None and pattern.search(rest))

    def length(self, text: str) -> int:
        return len(text.split()) if self._spaced(text) else len(text.replace(" ", ""))

    def _spaced(self, text: str) -> bool:
        """Whether ``text`` is counted in words (a language written with spaces, or Chinese with
        spaces in it) rather than in characters."""
        return " " in text.strip() or self.code != "zh"


@lru_cache(maxsize=8)
def language_pack(code: str) -> LanguagePack:
    try:
        module = importlib.import_module(f"coach.languages.{code}")
    except ModuleNotFoundError:
        raise ConfigError(f"no language module for {code!r}") from None
    return module.PACK
