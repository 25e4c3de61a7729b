"""The commitment head: a promise to pay read from what was said, with its terms.

A debtor who says "put two hundred on my visa friday", reads out a card number, or answers the
agent's proposal with "ok let's do that" has made a commitment, whatever the objection classifier
thinks of the words. This head finds the terms (amount and date with the grammar of
:mod:`coach.outcome`, a payment channel, card or account digits, a commitment verb) and leaves them in
``turn.facts["commitment"]``; the objection head (:mod:`coach.analyzers.intent`) makes it the top hint
when the classifier is unsure, and attaches the terms to every ``promise_to_pay`` event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from coach.analyzers.base import DEBTOR_SIDE, Analyzer, Turn, register
from coach.events import BaseEvent
from coach.languages import LanguagePack, language_pack
from coach.outcome import find_amount, find_due_date

if TYPE_CHECKING:
    from coach.engine import CallSession, CoachEngine

COMMITMENT_INTENT = "promise_to_pay"


@dataclass(frozen=True)
class Commitment:
    """Terms found in one debtor utterance, and whether they add up to a promise."""

    amount: float | None
    currency: str | None
    due: str | None
    channel: str | None
    digits: bool
    verb: str | None
    vetoed: bool
    #: The agent's question for a payment term this reply answers ("when can you do it" - "um friday").
    answers: str | None = None

    @property
    def is_promise(self) -> bool:
        if self.vetoed:
            return False
        terms = self.amount is not None or self.due is not None
        if self.answers is not None and (terms or self.channel):
            return True
        return bool(self.digits or (terms and (self.channel or self.verb)) or (self.channel and self.verb))

    def details(self) -> dict:
        found = {"amount": self.amount, "currency": self.currency, "due": self.due, "channel": self.channel,
                 "card_or_account_digits": self.digits or None}
        return {k: v for k, v in found.items() if v is not None}

    def evidence(self) -> str:
        parts = []
        if self.amount is not None:
            parts.append(f"amount {self.amount:g} {self.currency or ''}".strip())
        if self.due:
            parts.append(f"date {self.due!r}")
        if self.channel:
            parts.append(f"channel {self.channel!r}")
        if self.digits:
            parts.append("card or account digits given")
        if self.verb:
            parts.append(f"commitment {self.verb!r}")
        if self.answers is not None:
            parts.append(f"answers {self.answers!r}")
        return "; ".join(parts)


def read_commitment(text: str, language: str, asked: str | None = None, proposed: bool = False) -> Commitment:
    """``asked``: the agent's line just before, when the debtor answers it: digits given for a phone
    number or a verification detail are no payment details, a short cvv named as one is; a date, an
    amount or a way to pay given to a question for one ("when can you do it" - "um friday") is a term
    agreed. ``proposed``: that line put a payment to the debtor; its amount or date said back, with no
    question or refusal ("could we do forty on the tenth" - "ok forty on the tenth, fine"), is the
    proposal taken up."""
    pack = language_pack(language)
    lowered = text.lower()
    amount = find_amount(text, language)
    due = find_due_date(text, language, None)
    channel = pack.payment_channel.search(lowered) if pack.payment_channel else None
    question = (asked or "").lower()
    asks = _asks(pack, lowered)
    answers = asked if pack.payment_terms_question is not None and pack.payment_terms_question.search(question) else None
    if answers is not None and channel is None and pack.payment_method is not None:
        channel = pack.payment_method.search(lowered)  # "card or bank?" - "card, i'll call in each time"
    verb = pack.promise_verb.search(lowered) if pack.promise_verb else None
    if answers is not None and asks:
        answers = None  # "a hundred bucks? where am i supposed to find a hundred bucks": a question back
    if answers is None and proposed and _takes_up(pack, lowered, asks) and _says_back(text, language, asked or "",
                                                                                     amount, due):
        answers = asked
    if answers is not None and amount is None and channel is None and (
        due is None or not (verb or _only_the_date(pack, lowered, due[1])
                    or pack.names_payment(lowered))
    ):
        answers = None  # "今天下雨 路上堵死了" to "when can you pay": a day named in passing answers nothing
    digits = bool(pack.card_digits.search(lowered)) if pack.card_digits else False
    named = pack.payment_details.search(lowered) if pack.payment_details else None
    if named and not digits and pack.digit_count(lowered[named.end():]) >= 3 and not pack.question.search(lowered):
        digits = True  # "the cvv is three four seven", "exp date is oh four twenty nine"
    count = pack.digit_count(lowered)
    if not named and 3 <= count < CARD_LENGTH and _asked_for_other_digits(pack, question):
        # "is there a good callback number" - "five eight seven four ...": the digits are that detail,
        # neither a card nor an amount, and "account number" in the reply names no way to pay
        digits, amount, channel = False, None, None
    vetoed = bool(pack.commitment_veto.search(lowered)) if pack.commitment_veto else False
    if amount is None and due is None and not digits and asks:
        vetoed = True  # "支付宝能还吗", "can i pay with my card?": asking how to pay promises nothing
    if digits:  # a card number read out is not an amount
        amount = None
    return Commitment(
        amount=amount[0] if amount else None, currency=amount[1] if amount else None, due=due[1] if due else None,
        channel=channel.group(0) if channel else None, digits=digits, verb=verb.group(0) if verb else None,
        vetoed=vetoed, answers=answers,
    )


def _takes_up(pack: LanguagePack, lowered: str, asks: bool) -> bool:
    """A yes beside the terms, and no question, refusal or hedge ("sixty on the twelfth? too much")."""
    return (pack.assent is not None and pack.assent.search(lowered) is not None and not asks
            and not pack.asks_open_question(lowered) and not pack.turns_down(lowered))


def _says_back(text: str, language: str, proposal: str, amount: tuple[float, str] | None,
               due: tuple[date | None, str] | None) -> bool:
    """The reply names the proposal's own amount or day, and no other amount ("ok forty on the twelfth"
    to sixty on the twelfth is a counter-offer). Days are compared as dates ("the 12th", "the twelfth")."""
    offered = find_amount(proposal, language)
    if amount is not None and (offered is None or amount[0] != offered[0]):
        return False
    said = find_due_date(text, language, _DAY_BASE) if due is not None else None
    put = find_due_date(proposal, language, _DAY_BASE)
    if said is not None and put is not None:
        resolved = said[0] is not None and put[0] is not None
        if not (said[0] == put[0] if resolved else said[1].lower() == put[1].lower()):
            return False  # another day: a counter-offer
    return amount is not None or (said is not None and put is not None)


#: Any fixed day: the reply's and the proposal's days are resolved against the same one to compare them.
_DAY_BASE = date(2024, 1, 1)


def _only_the_date(pack, lowered: str, date_words: str) -> bool:
    """The reply is the date and little else ("um friday", "下周五吧", "the 20th yeah the 20th", "月底吧 三十号")."""
    rest = lowered.replace(date_words.lower(), " ")
    for _ in range(3):  # the day said again, or said two ways
        found = find_due_date(rest, pack.code, None)
        if found is None:
            break
        rest = rest.replace(found[1].lower(), " ")
    words = [w for w in re.split(r"[\W_]+", rest) if w and w not in pack.fillers]
    return (sum(map(len, words)) if pack.code == "zh" else len(words)) <= BARE_DATE_REST


def _asks(pack, lowered: str) -> bool:
    """The line, or a clause of it, is a question ("我用支付宝能还吗 还是只能去柜台": asking which way
    to pay, the question first)."""
    return bool(pack.question.search(lowered.strip())) or any(
        pack.question.search(clause.strip()) for clause in pack.clauses(lowered))


#: Words (characters in Chinese) beside a date that still leave a reply a bare date ("friday i guess", "下周五吧").
BARE_DATE_REST = 3

#: Digits said at once that can only be a card (phone numbers have 11 at most, ID numbers are asked as such).
CARD_LENGTH = 13


def _asked_for_other_digits(pack, question: str) -> bool:
    """The agent asked to verify a detail, or for a phone number and not for a card or a bank account."""
    if pack.verification_request is not None and pack.verification_request.search(question):
        return True
    if pack.contact_request is None or not pack.contact_request.search(question):
        return False
    return not any(p is not None and p.search(question) for p in (pack.payment_details, pack.payment_channel))


@register
class CommitmentAnalyzer(Analyzer):
    name = "commitment"
    speakers = DEBTOR_SIDE
    order = 35

    def __init__(self, engine: CoachEngine) -> None:
        super().__init__(engine)
        self.enabled = any(i.id == COMMITMENT_INTENT for i in engine.playbook.intents)

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        if self.enabled:
            asked = session.last_agent_text
            proposed = asked is not None and session.offers_payment(asked)
            turn.facts["commitment"] = read_commitment(turn.text, self.engine.language, asked, proposed)
        return []
