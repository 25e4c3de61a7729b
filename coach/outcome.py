"""What a finished call came to (a promise, a refusal, a dispute, ...) and a short factual summary.

The outcome rests on the engine's events, never on a model of its own: the debtor's decisive intents
(the last one said wins: a refusal followed by a promise is a promise), plus the agent's payment
recap ("just to confirm, $200 on March 16th"), which is also where the amount and the date are
best read, because agents restate the terms precisely while debtors are vague. Dates are resolved
against the call's start, so "next Friday" and "下周五" become calendar dates.

Dates are read by a small grammar of our own: ``dateparser`` reads neither the ordinal words speech
recognition writes ("March sixteenth", "the fifteenth", "end of the month") nor Chinese numerals
(三月十号, 十五号, 下周五, 月底). English amounts in words go through ``text2num``; Chinese ones through
:func:`coach.text.amounts.chinese_number`.
"""

from __future__ import annotations

import calendar
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from text_to_num import alpha2digit

from coach.events import BaseEvent, ComplianceEvent, IntentEvent, ScorecardEvent, SentimentEvent, UtteranceEvent
from coach.languages import language_pack
from coach.text.amounts import chinese_number, money_figures

OutcomeKind = Literal[
    "promise_to_pay", "payment_made", "refusal", "callback", "dispute", "wrong_party", "no_contact", "none"
]

#: The debtor intents (fixed ids of the taxonomy) that settle what the call came to. A lawyer ends
#: direct collection, so it counts as a refusal; a claim of having paid already is a dispute until
#: checked; a deceased debtor means the right party cannot be reached.
DECISIVE_INTENTS: dict[str, OutcomeKind] = {
    "promise_to_pay": "promise_to_pay",
    "refuse_to_pay": "refusal",
    "stop_calling": "refusal",
    "legal_representation": "refusal",
    "bad_time": "callback",
    "dispute_amount": "dispute",
    "not_my_debt": "dispute",
    "request_validation": "dispute",
    "already_paid": "dispute",
    "time_barred": "dispute",
    "wrong_party": "wrong_party",
    "deceased": "wrong_party",
}
#: Kinds whose terms (amount, date) are looked for.
_WITH_TERMS = ("promise_to_pay", "payment_made", "callback")
_DEFAULT_CURRENCY = {"en": "USD", "zh": "CNY"}
#: Confidence of the signals that are not intents: an agent's recap of the terms, an agent's
#: confirmation that a payment went through (and a debtor's, less sure), and no decisive signal.
_RECAP_CONFIDENCE = 0.7
_AGENT_PAYMENT_CONFIDENCE = 0.85
_DEBTOR_PAYMENT_CONFIDENCE = 0.6
_NONE_CONFIDENCE = 0.5


class Outcome(BaseModel):
    """What the call came to, with the words it rests on."""

    kind: OutcomeKind
    amount: float | None = None
    currency: str | None = None
    due_date: date | None = None
    #: The words the date was read from ("next friday", "下周五"), even when no start time resolves it.
    due_text: str | None = None
    #: The decisive utterance's text and index.
    evidence: str = ""
    utterance_id: int | None = None
    confidence: float = Field(default=0.0, ge=0, le=1)
    #: What the outcome rests on: an intent id, "agent_recap" or "payment_confirmation".
    source: str | None = None
    #: The utterance the amount and date were read from (often the agent's recap).
    terms_utterance_id: int | None = None


@dataclass(frozen=True)
class _Signal:
    kind: OutcomeKind
    utterance_id: int
    confidence: float
    source: str


#: A promised amount above this multiple of the call's balance (when the call's metadata has one) is
#: a misheard figure, not a promise: digits that speech recognition ran together ("还 五千二百三" heard
#: as "海5200348" on a 5,230 yuan balance), a phone or card number.
PLAUSIBLE_BALANCE_MULTIPLE = 1.5


def determine_outcome(events: Iterable[BaseEvent], language: str, started_at: datetime | None = None,
                      balance: float | None = None) -> Outcome:
    """The outcome of a finished call from its events; relative dates resolve against ``started_at``,
    and an amount far above ``balance`` is not taken for the promised one."""
    events, language = list(events), _language(language)
    utterances = {e.utterance_id: e for e in events if isinstance(e, UtteranceEvent) and e.utterance_id is not None}
    if not any(u.speaker != "agent" and u.text.strip() for u in utterances.values()):
        return Outcome(kind="no_contact", confidence=1.0)
    signals = _signals(events, utterances, language)
    if not signals:
        return Outcome(kind="none", confidence=_NONE_CONFIDENCE)
    episode = _episode(signals)
    # The debtor's own words are the evidence; the agent's recap only when the debtor said nothing decisive.
    spoken = [s for s in episode if s.source != "agent_recap" and s.kind == episode[-1].kind]
    winner = spoken[-1] if spoken else episode[-1]
    outcome = Outcome(
        kind=winner.kind,
        evidence=utterances[winner.utterance_id].text,
        utterance_id=winner.utterance_id,
        confidence=_confidence(winner, episode),
        source=winner.source,
    )
    if winner.kind in _WITH_TERMS:
        usable = balance if balance is not None and math.isfinite(balance) and balance > 0 else None
        _read_terms(outcome, episode, utterances, language, started_at.date() if started_at else None, usable)
    return outcome


def _signals(events: list[BaseEvent], utterances: dict[int, UtteranceEvent], language: str) -> list[_Signal]:
    """Every decisive moment of the call, in order. A third party's words decide nothing except
    that the debtor was not reached, and a "wrong party" is forgotten once the debtor is verified
    and speaks after it."""
    intents: list[_Signal] = []
    cues: list[_Signal] = []
    read: set[int] = set()  # utterances whose top hint was seen: a second objection decides nothing
    for event in events:
        uid = event.utterance_id
        if uid is None or uid not in utterances:
            continue
        speaker = utterances[uid].speaker
        if isinstance(event, IntentEvent):
            if uid in read:
                continue
            read.add(uid)
            kind = DECISIVE_INTENTS.get(event.intent)
            if event.intent == "stop_calling" and _names_a_place(utterances[uid].text, language):
                continue  # "stop calling my work": where to call, not whether to pay
            if kind is not None and (speaker in ("debtor", "unknown") or kind == "wrong_party"):
                intents.append(_Signal(kind, uid, event.confidence, event.intent))
        elif isinstance(event, UtteranceEvent):
            cues += _speech_signals(uid, event, language)
    # In one utterance a cue ("I just paid it") outranks the intent read from the same words.
    ranked = sorted([(s, 0) for s in intents] + [(s, 1) for s in cues], key=lambda p: (p[0].utterance_id, p[1]))
    signals = [signal for signal, _ in ranked]
    if _identity_verified(events):
        # The debtor was reached: a death they speak of is someone else's (a bereavement), and a
        # "wrong party" they take back by speaking on is forgotten.
        debtor_turns = [uid for uid, u in utterances.items() if u.speaker == "debtor"]
        signals = [s for s in signals if s.kind != "wrong_party"
                   or (s.source != "deceased" and not any(t > s.utterance_id for t in debtor_turns))]
    return signals


def _names_a_place(text: str, language: str) -> bool:
    place = language_pack(language).contact_place
    return place is not None and place.search(text.lower()) is not None


def _speech_signals(uid: int, utterance: UtteranceEvent, language: str) -> list[_Signal]:
    """An agent confirming a payment or recapping the terms; a debtor saying the payment is made."""
    text = utterance.text.lower()
    patterns = _PATTERNS[language]
    if utterance.speaker == "agent":
        if patterns.agent_paid.search(text):
            return [_Signal("payment_made", uid, _AGENT_PAYMENT_CONFIDENCE, "payment_confirmation")]
        if is_recap(text, language):
            return [_Signal("promise_to_pay", uid, _RECAP_CONFIDENCE, "agent_recap")]
    elif utterance.speaker in ("debtor", "unknown") and patterns.debtor_paid.search(text):
        return [_Signal("payment_made", uid, _DEBTOR_PAYMENT_CONFIDENCE, "payment_confirmation")]
    return []


def _language(language: str) -> str:
    return "zh" if language.lower().startswith("zh") else "en"


def _identity_verified(events: list[BaseEvent]) -> bool:
    for event in events:
        if isinstance(event, ScorecardEvent):
            return any(c.id == "identity_verified" and c.passed for c in event.checks)
    return False


def _episode(signals: list[_Signal]) -> list[_Signal]:
    """The last run of signals of the winning kind (a promise and the recap that confirms it).
    A payment made and the promise that led to it belong together."""
    kinds = {signals[-1].kind} | ({"promise_to_pay"} if signals[-1].kind == "payment_made" else set())
    episode: list[_Signal] = []
    for signal in reversed(signals):
        if signal.kind not in kinds:
            break
        episode.insert(0, signal)
    return episode


def _confidence(winner: _Signal, episode: list[_Signal]) -> float:
    """The winning signal's confidence; a promise the agent recapped and the debtor made is surer."""
    sources = {s.source for s in episode}
    best = max(s.confidence for s in episode if s.kind == winner.kind)
    if winner.kind == "promise_to_pay" and "agent_recap" in sources and len(sources) > 1:
        return round(min(1.0, best + 0.1), 3)
    return round(best, 3)


def _read_terms(
    outcome: Outcome, episode: list[_Signal], utterances: dict[int, UtteranceEvent], language: str, base: date | None,
    balance: float | None = None,
) -> None:
    """Amount and due date: from the agent's recap first, then the debtor's words, then what the
    agent proposed just before (a bare "yes that works" carries no figure)."""
    order = [s.utterance_id for s in reversed(episode) if s.source == "agent_recap"]
    order += [s.utterance_id for s in reversed(episode) if s.source != "agent_recap"]
    order += [s.utterance_id + 1 for s in episode if outcome.kind == "callback"]  # "sure, I'll call you tomorrow"
    order += [s.utterance_id - 1 for s in reversed(episode)]
    seen: set[int] = set()
    for uid in order:
        if uid in seen or uid not in utterances:
            continue
        seen.add(uid)
        text = utterances[uid].text
        found = find_due_date(text, language, base) if outcome.due_text is None else None
        if found:
            outcome.due_date, outcome.due_text = found
            if outcome.terms_utterance_id is None:
                outcome.terms_utterance_id = uid
        amount = find_amount(text, language) if outcome.amount is None and outcome.kind != "callback" else None
        if amount and balance and amount[0] > PLAUSIBLE_BALANCE_MULTIPLE * balance:
            amount = None  # a misheard figure: the next utterance in line may say the real one
        if amount:
            outcome.amount, outcome.currency = amount
            outcome.terms_utterance_id = uid


# -- recaps and payment cues ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Patterns:
    recap: re.Pattern[str]
    pay: re.Pattern[str]
    #: A figure that is the balance, not a payment.
    balance: re.Pattern[str]
    agent_paid: re.Pattern[str]
    debtor_paid: re.Pattern[str]
    #: What makes a line with a recap phrase and a date something else: a payment missed or already
    #: made, a demand with a threat ("let me go over your options, if you dont pay by friday this goes
    #: to legal"), a call back ("那就明天还是这个时间给您打电话").
    not_recap: re.Pattern[str]


_PATTERNS = {
    "en": _Patterns(
        recap=re.compile(
            r"\b(just to (confirm|recap|recap that|make sure)|to confirm|to recap"
            r"|so (that'?s|thats|that is|you will|you'?ll)|let me (repeat|confirm|read)|confirming"
            r"|you('ll| will) (be paying|pay|make)|you('re| are) (going to|gonna) pay"
            r"|i have you down for|i('ve| have) (set|scheduled|got) (up )?(you|that|the payment)"
            r"|(i.?ll|i will|let me) (put you down|mark you down)"
            r"|(let me|i.?ll|i will|lets) (go over|read back|run through|recap|summari[sz]e)|here.?s what we have"
            r"|so we have you|to summari[sz]e)\b"
        ),
        balance=re.compile(r"\b(balance|you owe|owing|outstanding)\b"),
        pay=re.compile(r"\b(pay|paying|payment|payments|debit|charge|charged|transfer|send|mail|check|portal|card)\b"),
        agent_paid=re.compile(
            r"\b(payment|it|that) (has|have)? ?(been |just |now )?(went|gone|go) through\b"
            r"|\b(payment|it) (has been|was|is) (processed|approved|posted|received|successful|accepted|completed)\b"
            # a confirmation number given (its digits said), not one asked for ("do you have a
            # confirmation number" for a payment the debtor says was made before the call)
            r"|\bconfirmation (number|code|#)\b[^?]{0,30}?(\d{3,}|\b(zero|oh|one|two|three|four|five|six|seven|eight|nine|\d)"
            r"([\s,.-]+(zero|oh|one|two|three|four|five|six|seven|eight|nine|\d)\b){2,})"
            r"|\bi('ve| have) (processed|posted|taken|run) (the|your|that) (payment|card)\b"
            r"|\bthank you for (your|the|that) payment\b"
        ),
        debtor_paid=re.compile(
            r"\b(i just (paid|sent|made the payment)|it went through|payment went through|i paid it just now)\b"
        ),
        not_recap=re.compile(
            r"\b(missed|was due|were due|last payment|already (paid|sent|made)|refus\w*"
            r"|if you (dont|don t|do not|cant|cannot|wont|won t)|or else|otherwise|goes to legal|attorneys?|lawsuit|sue)\b"
        ),
    ),
    "zh": _Patterns(
        # 我先登记您这个月底前还三千: terms written down are terms restated
        recap=re.compile(r"确认一下|跟您确认|和您确认|再确认|核对一下|跟您核对|复述一下|也就是说|我重复一下|总结一下"
                         r"|(?:给|帮)?(?:您|你)?(?:登记|备注一下|备注上)|(?:那)?(?:就)?(?:这么)?(?:说定|约定)了(?!.{0,12}(?:结果|但是|可是|又))"
                         # 我再跟您说一遍 / 那就周五 两千: the terms said back
                         r"|再(?:跟|和|给)?(?:您|你)?(?:说|讲|念|重复|复述)一(?:遍|下)"
                         r"|那(?:就|咱们就|我们就)(?=.{0,6}(?:号|周|星期|礼拜|明天|今天|后天|月底|下周|下个月))"),
        balance=re.compile(r"欠款|账单金额|总额|余额|欠了"),
        pay=re.compile(r"还款|还上|还清|还(?![是没有在要])|转账|转过去|扣款|存入|存到|支付"),
        agent_paid=re.compile(
            r"(扣款|还款|支付|转账|付款)(已经)?成功|已经(收到|到账|入账)|(收到|查到)(了)?(您的)?(还款|款项|转账)|款项已到账"
        ),
        debtor_paid=re.compile(r"(刚刚|刚才|已经)(转|还|付)(过去|好)了|(转|还|付)过去了(你|您)(看|查)一下"),
        not_recap=re.compile(r"已经还|还过|没还|不然|否则|要不然|上门|起诉|法院|律师|(给|跟)(您|你)打电话|回访"),
    ),
}


def is_recap(text: str, language: str) -> bool:
    """An agent's restatement of payment terms: a recap phrase and a date, with a payment word or an
    amount. "Just to confirm, your balance as of today is $500" is not one: the figure is the balance."""
    lowered, language = text.lower(), _language(language)
    patterns = _PATTERNS[language]
    if not patterns.recap.search(lowered) or find_due_date(lowered, language, None) is None:
        return False
    if patterns.not_recap.search(lowered):
        return False
    if patterns.pay.search(lowered):
        return True
    return find_amount(lowered, language) is not None and not patterns.balance.search(lowered)


# -- amounts -------------------------------------------------------------------------------------

_EN_MARKED = re.compile(
    r"\$\s?(\d[\d,]*(?:\.\d{1,2})?)(\s?(?:k|thousand|grand)\b)?|(\d[\d,]*(?:\.\d{1,2})?)\s?(?:dollars?|bucks|usd)\b"
)
_EN_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d{1,2})?(?![\d])")
#: Numbers that count something other than money.
_EN_NOT_MONEY = re.compile(
    r"^\s?(?:days?|weeks?|months?|years?|payments?|installments?|instalments?|times|percent|%|st|nd|rd|th|am|pm|a\.m|p\.m"
    r"|o'?clock|:|digits?|minutes?|hours?)\b",
)
#: Digits that identify rather than count: "the last four digits 4418", "ending in 1111".
_EN_IDENTIFIER = re.compile(r"\b(?:digits?|ending in|ends in|last four|zip(?: code)?|number|extension|ext|id)\s*$")
#: Card or account digits read out after "the last four (digits of my card) are": not an amount.
_EN_CARD_DIGITS = re.compile(
    r"\b(?:last|final) (?:four|4|two|2|three|3|five|5|six|6)(?: digits?)?"
    r"(?: (?:of|on) (?:my|the|your) (?:card|account|social|ssn|debit card|credit card))?(?: (?:is|are|be))?"
    r"(?:[\s,:-]+(?:\d+|zero|oh|one|two|three|four|five|six|seven|eight|nine))*"
)
_EN_DIGIT_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine)"
#: "two fifty", "three seventy five": hundreds said without the word, as people say prices (not a time:
#: "at two thirty", "two fifteen pm").
_EN_HUNDREDS_UNSAID = re.compile(
    rf"(?<!\bat )(?<!\bby )\b({_EN_DIGIT_WORD}) ((?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen"
    rf"|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[ -]{_EN_DIGIT_WORD})?)\b"
    r"(?! ?(?:am|pm|a\.m|p\.m|o.?clock|in the (?:morning|afternoon|evening))\b)(?![ -]?(?:hundred|thousand)\b)"
)
#: A time of day ("at 2 30", "by 5", "2 15 pm"): no amount.
_EN_CLOCK = re.compile(
    r"\b(?:at|by|around) (?:1[0-2]|0?[1-9])(?:[: ][0-5]\d)?(?: ?(?:am|pm|a\.m\.?|p\.m\.?|o.?clock))?(?![\d,.])"
    r"|(?<![$\d])\b(?:1[0-2]|0?[1-9])(?:[: ][0-5]\d)? ?(?:am|pm|a\.m\.?|p\.m\.?|o.?clock)\b"
)
_ZH_NUMERAL = r"\d[\d,]*(?:\.\d+)?\s?(?:万|千)?|[零〇一二两三四五六七八九十百千万亿点]+"
_ZH_MARKED = re.compile(rf"({_ZH_NUMERAL})\s?(?:元|块|圆|人民币)")
_ZH_NUMBER = re.compile(_ZH_NUMERAL)
_ZH_NOT_MONEY = re.compile(r"^\s?(?:个|期|天|年|次|号|日|点|分|岁|%|周|星期|礼拜|月|位|倍|成|折|小时)")
#: Digits that identify rather than count: card and staff numbers.
_ZH_IDENTIFIERS = re.compile(r"(尾号|工号|后四位|卡号|账号|编号)[零〇一二两三四五六七八九幺0-9]+")


def find_amount(text: str, language: str) -> tuple[float, str] | None:
    """The money figure in a payment phrase and its currency, or None. A figure marked as money
    ("$200", "75 dollars", "三百元") wins over a bare one ("two hundred a month", "先还三百")."""
    language = _language(language)
    cleaned = _undated(text, language)
    if language == "zh":
        return _amount_zh(_ZH_IDENTIFIERS.sub(lambda m: " " * len(m.group(0)), cleaned))
    return _amount_en(_en_figures(cleaned))


def stated_amounts(text: str, language: str) -> list[float]:
    """Every sum of money a line states, in digits or in words ("seven hundred forty dollars", "six
    forty"), without dates, times of day, card digits or counts ("30 days"): what an amount rule
    compares with the balance on file. Chinese: every figure, as before."""
    if _language(language) == "zh":
        return money_figures(text)
    return list(_en_bare_amounts(_en_figures(_undated(text, "en"))))


def _undated(text: str, language: str) -> str:
    """``text`` lowercased, its dates blanked out (a day of the month is no sum)."""
    lowered = text.lower()
    return _blank(lowered, [m.span() for m in _date_matches(lowered, language)])


def _en_figures(text: str) -> str:
    """English numbers as digits, with card digits and times of day blanked out."""
    text = _EN_CARD_DIGITS.sub(lambda m: " " * len(m.group(0)), text)
    digits = alpha2digit(_EN_HUNDREDS_UNSAID.sub(r"\1 hundred \2", text), "en")
    return _EN_CLOCK.sub(lambda m: " " * len(m.group(0)), digits)


def _en_bare_amounts(text: str) -> Iterator[float]:
    """Each number in ``text`` that may be a sum: not a count ("30 days") nor an identifier ("ending in 1111")."""
    for match in _EN_NUMBER.finditer(text):
        if _EN_NOT_MONEY.match(text[match.end() :]) or _EN_IDENTIFIER.search(text[: match.start()]):
            continue
        figures = money_figures(text[match.start() : match.end() + 10])
        if figures:
            yield figures[0]


def _amount_en(text: str) -> tuple[float, str] | None:
    marked = _EN_MARKED.search(text)
    if marked:
        figure = marked.group(1) or marked.group(3)
        value = float(figure.replace(",", ""))
        if marked.group(2):
            value *= 1000
        return value, "USD"
    value = next(_en_bare_amounts(text), None)
    return None if value is None else (value, "USD")


def _amount_zh(text: str) -> tuple[float, str] | None:
    marked = _ZH_MARKED.search(text)
    if marked:
        value = _zh_value(marked.group(1))
        if value:
            return value, "CNY"
    for match in _ZH_NUMBER.finditer(text):
        token = match.group(0)
        if _ZH_NOT_MONEY.match(text[match.end() :]) or (len(token) < 2 and not token.isdigit()):
            continue
        value = _zh_value(token)
        if value and value >= 10:
            return value, "CNY"
    return None


def _zh_value(token: str) -> float | None:
    token = token.replace(" ", "")
    if token[0].isdigit():
        figures = money_figures(token)
        return figures[0] if figures else None
    return chinese_number(token)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


# -- dates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DateMatch:
    start: int
    end: int
    text: str
    #: 0 an explicit calendar date, 1 a day of the month, 2 a weekday or relative phrase.
    rank: int
    resolve: Callable[[date], date | None]

    def span(self) -> tuple[int, int]:
        return self.start, self.end


def find_due_date(text: str, language: str, base: date | None) -> tuple[date | None, str] | None:
    """The date a phrase names and the words naming it; the date is None when there is no ``base``
    to resolve it against. The most explicit date wins ("friday april third", "今天 也就是三月十号"),
    then the first one said; a day named for a call back only where no other is."""
    lowered = text.lower()
    matches = _date_matches(lowered, _language(language))
    if not matches:
        return None
    # the day someone will call back yields to the day of a payment said beside it
    pack = language_pack(_language(language))
    paying = [m for m in matches if not pack.names_a_callback(lowered[:m.start], lowered[m.end:])]
    best = min(paying or matches, key=lambda m: (m.rank, m.start))
    phrase = text[best.start : best.end].strip()
    return (best.resolve(base) if base else None), phrase


def _date_matches(text: str, language: str) -> list[_DateMatch]:
    grammar = _ZH_GRAMMAR if language == "zh" else _EN_GRAMMAR
    matches: list[_DateMatch] = []
    for pattern, rank, builder in grammar:
        for m in pattern.finditer(text):
            resolver = builder(m)
            if resolver is not None:
                matches.append(_DateMatch(m.start(), m.end(), m.group(0), rank, resolver))
    return matches


def _safe_date(year: int, month: int, day: int) -> date:
    """The day, or the month's last day when it has fewer ("the 31st" in April)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(base: date, months: int, day: int | None = None) -> date:
    index = base.month - 1 + months
    year, month = base.year + index // 12, index % 12 + 1
    return _safe_date(year, month, day if day is not None else base.day)


def _month_end(base: date, months: int = 0) -> date:
    return _add_months(base, months, 31)


def _month_day(month: int, day: int) -> Callable[[date], date | None]:
    """March 16: this year's, or next year's once it has passed."""

    def resolve(base: date) -> date | None:
        candidate = _safe_date(base.year, month, day)
        return candidate if candidate >= base else _safe_date(base.year + 1, month, day)

    return resolve


def _day_of_month(day: int, months: int | None = None) -> Callable[[date], date | None]:
    """The 15th: this month's, or next month's once it has passed; ``months`` fixes the month."""

    def resolve(base: date) -> date | None:
        if months is not None:
            return _add_months(base, months, day)
        return _safe_date(base.year, base.month, day) if day >= base.day else _add_months(base, 1, day)

    return resolve


def _weekday(weekday: int, week: str) -> Callable[[date], date | None]:
    """``week``: "" the coming one (never today), "this" this week's (today included, else the
    coming one), "next" the one in next week (Monday to Sunday), "after" the week after."""

    def resolve(base: date) -> date | None:
        ahead = (weekday - base.weekday()) % 7
        if week == "":
            return base + timedelta(days=ahead or 7)
        if week == "this":
            return base + timedelta(days=ahead)
        monday = base - timedelta(days=base.weekday()) + timedelta(weeks=2 if week == "after" else 1)
        return monday + timedelta(days=weekday)

    return resolve


def _nth_weekday(
    nth: int, weekday: int, month: int | None = None, months_ahead: int = 0
) -> Callable[[date], date | None]:
    """The first Friday in April (the coming April) or of next month; ``nth`` -1 is the last one.
    Every month has at least four of each weekday, so first to fourth always exist."""

    def resolve(base: date) -> date | None:
        if month is not None:
            first = date(base.year if month >= base.month else base.year + 1, month, 1)
        else:
            first = _add_months(base, months_ahead, 1)
        length = calendar.monthrange(first.year, first.month)[1]
        days = [first + timedelta(days=i) for i in range(length) if (first + timedelta(days=i)).weekday() == weekday]
        return days[nth - 1 if nth > 0 else -1]

    return resolve


def _offset(days: int = 0, weeks: int = 0, months: int = 0) -> Callable[[date], date | None]:
    return lambda base: _add_months(base, months) + timedelta(days=days, weeks=weeks)


# English ----------------------------------------------------------------------------------------

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11,
    "dec": 12,
}
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_UNIT_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
_TEEN_ORDINALS = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
                  "eighteenth", "nineteenth"]
_ORDINALS: dict[str, int] = {word: n for n, word in enumerate(_UNIT_ORDINALS, 1)}
_ORDINALS.update({word: n for n, word in enumerate(_TEEN_ORDINALS, 10)})
_ORDINALS.update({"twentieth": 20, "thirtieth": 30, "thirty first": 31})
_ORDINALS.update({f"twenty {word}": 20 + n for n, word in enumerate(_UNIT_ORDINALS, 1)})
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "a couple of": 2,
           "a couple": 2, "a few": 3, "few": 3}

_ORDINAL_WORDS = "|".join(sorted((w.replace(" ", r"[\s-]") for w in _ORDINALS), key=len, reverse=True))
_DAY = rf"(?:(?P<num>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)|(?P<word>{_ORDINAL_WORDS}))"
_MONTH = rf"(?P<month>{'|'.join(sorted(_MONTHS, key=len, reverse=True))})\.?"
_WEEKDAY = rf"(?P<weekday>{'|'.join(_WEEKDAYS)})"
_COUNT = rf"(?P<count>\d+|{'|'.join(sorted(_COUNTS, key=len, reverse=True))})"
#: "the first payment", "the second friday": an ordinal that is not a day of the month.
_NOT_A_DAY = (
    rf"(?!\s+(?:payment|installment|instalment|one|time|of each|check|bill|thing|week|month|{'|'.join(_WEEKDAYS)})\b)"
)
_YEAR = r"(?:,?\s+(?P<year>20\d\d))?"
_NTH_WEEKDAY = (
    rf"\bthe\s+(?P<nth>first|second|third|fourth|last)\s+{_WEEKDAY}\s+(?:in|of)\s+"
    rf"(?:{_MONTH}|(?P<next>next\s+month)|the\s+month|this\s+month)\b"
)


def _en_day(m: re.Match[str]) -> int | None:
    if m.group("num"):
        day = int(m.group("num"))
    else:
        day = _ORDINALS[re.sub(r"[\s-]+", " ", m.group("word"))]
    return day if 1 <= day <= 31 else None


def _en_month_day(m: re.Match[str]) -> Callable[[date], date | None] | None:
    day = _en_day(m)
    if day is None:
        return None
    month = _MONTHS[m.group("month")]
    year = m.groupdict().get("year")
    if year:
        return lambda base: _safe_date(int(year), month, day)
    return _month_day(month, day)


def _en_numeric(m: re.Match[str]) -> Callable[[date], date | None] | None:
    month, day, year = int(m.group(1)), int(m.group(2)), m.group(3)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if year:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return lambda base: _safe_date(full, month, day)
    return _month_day(month, day)


def _en_nth_weekday(m: re.Match[str]) -> Callable[[date], date | None] | None:
    nth = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}[m.group("nth")]
    weekday = _WEEKDAYS[m.group("weekday")]
    if m.group("month"):
        return _nth_weekday(nth, weekday, month=_MONTHS[m.group("month")])
    return _nth_weekday(nth, weekday, months_ahead=1 if m.group("next") else 0)


def _en_weekday(m: re.Match[str]) -> Callable[[date], date | None] | None:
    modifier = (m.group("modifier") or "").strip()
    week = {"next": "next", "this": "this", "coming": "", "this coming": ""}.get(modifier, "")
    return _weekday(_WEEKDAYS[m.group("weekday")], week)


def _en_in(m: re.Match[str]) -> Callable[[date], date | None] | None:
    raw = m.group("count")
    count = int(raw) if raw.isdigit() else _COUNTS[raw]
    unit = m.group("unit")
    if unit.startswith("day"):
        return _offset(days=count)
    if unit.startswith("week"):
        return _offset(weeks=count)
    return _offset(months=count)


def _fixed(resolve: Callable[[date], date | None]) -> Callable[[re.Match[str]], Callable[[date], date | None]]:
    return lambda m: resolve


_END_OF_WEEK = _weekday(4, "this")  # business week: Friday
_EN_GRAMMAR: list[tuple[re.Pattern[str], int, Callable[[re.Match[str]], Callable[[date], date | None] | None]]] = [
    (re.compile(rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?{_MONTH}\s+(?:the\s+)?{_DAY}{_YEAR}\b"), 0, _en_month_day),
    (re.compile(rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}\b"), 0, _en_month_day),
    (re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d/])"), 0, _en_numeric),
    (re.compile(_NTH_WEEKDAY), 0, _en_nth_weekday),
    (re.compile(rf"\bthe\s+{_DAY}\b{_NOT_A_DAY}"), 1, lambda m: _day_of_month(d) if (d := _en_day(m)) else None),
    (re.compile(rf"\b(?P<modifier>next|this coming|this|coming)?\s*\b{_WEEKDAY}\b"), 2, _en_weekday),
    (re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b"), 2, _fixed(_offset(days=2))),
    (re.compile(r"(?<!after )\btomorrow\b"), 2, _fixed(_offset(days=1))),
    (re.compile(r"\b(?:today|tonight|this\s+(?:morning|afternoon|evening)|later\s+today)\b"), 2,
     _fixed(_offset())),
    (re.compile(r"\b(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?month\b"), 2, _fixed(_month_end)),
    (re.compile(r"\b(?:the\s+)?end\s+of\s+next\s+month\b"), 2, _fixed(lambda b: _month_end(b, 1))),
    (re.compile(r"\b(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?week\b"), 2, _fixed(_END_OF_WEEK)),
    (re.compile(r"\b(?:the\s+)?(?:first|beginning|start)\s+of\s+(?:the\s+)?next\s+month\b|\bnext\s+month\b"), 2,
     _fixed(lambda b: _add_months(b, 1, 1))),
    (re.compile(r"\bnext\s+week\b"), 2, _fixed(_weekday(0, "next"))),
    (re.compile(r"\bthis\s+weekend\b"), 2, _fixed(_weekday(5, "this"))),
    (re.compile(rf"\bin\s+{_COUNT}\s+(?P<unit>days?|weeks?|months?)\b"), 2, _en_in),
    (re.compile(rf"\b{_COUNT}\s+(?P<unit>days?|weeks?|months?)\s+from\s+(?:now|today)\b"), 2, _en_in),
]


# Chinese ----------------------------------------------------------------------------------------

_ZH_NUM = r"[0-9]{1,2}|[零〇一二两三四五六七八九十]{1,3}"
#: 三月十号, 2026年5月3日, 5月20 (but not 三个月, 三月份).
_ZH_MONTH_DAY = (
    rf"(?:(?P<year>20[0-9]{{2}}|二[零〇][零〇一二三四五六七八九]{{2}})年)?(?P<month>{_ZH_NUM})月份?(?P<day>{_ZH_NUM})"
    r"(?:号|日)?(?![0-9零〇一二两三四五六七八九十个])"
)
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6,
                "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_ZH_MONTH_OFFSET = {"这": 0, "这个": 0, "本": 0, "": 0, "下": 1, "下个": 1, "下下": 2, "下下个": 2}


def _zh_int(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    value = chinese_number(token)
    return int(value) if value is not None and value == int(value) else None


def _zh_month_day(m: re.Match[str]) -> Callable[[date], date | None] | None:
    month, day = _zh_int(m.group("month")), _zh_int(m.group("day"))
    if month is None or day is None or not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    year = _zh_int(m.group("year")) if m.group("year") else None
    if year:
        return lambda base: _safe_date(year, month, day)
    return _month_day(month, day)


def _zh_relative_month_day(m: re.Match[str]) -> Callable[[date], date | None] | None:
    day = _zh_int(m.group("day"))
    if day is None or not 1 <= day <= 31:
        return None
    return _day_of_month(day, _ZH_MONTH_OFFSET[m.group("which")])


def _zh_day(m: re.Match[str]) -> Callable[[date], date | None] | None:
    day = _zh_int(m.group("day"))
    return _day_of_month(day) if day is not None and 1 <= day <= 31 else None


def _zh_weekday(m: re.Match[str]) -> Callable[[date], date | None] | None:
    which = m.group("which") or ""
    week = "after" if which.startswith("下下") else "next" if which.startswith("下") else "this"
    return _weekday(_ZH_WEEKDAYS[m.group("day")], week)


def _zh_within(m: re.Match[str]) -> Callable[[date], date | None] | None:
    count = _zh_int(m.group("count"))
    if count is None:
        return None
    unit = m.group("unit")
    if unit in ("天", "日"):
        return _offset(days=count)
    if unit == "月":
        return _offset(months=count)
    return _offset(weeks=count)


def _zh_month_edge(m: re.Match[str]) -> Callable[[date], date | None] | None:
    months = _ZH_MONTH_OFFSET[m.group("which") or ""]
    edge = m.group("edge")
    if edge in ("底", "末"):
        return lambda base: _month_end(base, months)
    if edge == "中":
        return lambda base: _add_months(base, months, 15)
    return lambda base: _add_months(base, months if m.group("which") else 1, 1)  # 月初: the coming 1st


_ZH_GRAMMAR: list[tuple[re.Pattern[str], int, Callable[[re.Match[str]], Callable[[date], date | None] | None]]] = [
    (re.compile(_ZH_MONTH_DAY), 0, _zh_month_day),
    (re.compile(rf"(?P<which>下下个|下下|下个|下|这个|本)月(?P<day>{_ZH_NUM})(?:号|日)"), 0, _zh_relative_month_day),
    (re.compile(rf"(?<![月尾工第])(?P<day>{_ZH_NUM})(?:号|日)(?!子)"), 1, _zh_day),
    (re.compile(r"(?P<which>下下个|下下|下个|下|这个|本)?月(?P<edge>底|末|中|初)"), 1, _zh_month_edge),
    (re.compile(r"(?P<which>下下个?|下个?|这个?|本)?(?:周|星期|礼拜)(?P<day>[一二三四五六日天1-7])"), 2, _zh_weekday),
    (re.compile(r"大后天"), 2, _fixed(_offset(days=3))),
    (re.compile(r"(?<!大)后天"), 2, _fixed(_offset(days=2))),
    (re.compile(r"明天|明早|明晚|明儿|明日"), 2, _fixed(_offset(days=1))),
    (re.compile(r"今天|今晚|今儿|今日|当天"), 2, _fixed(_offset())),
    (re.compile(rf"(?P<count>{_ZH_NUM}|几)个?(?P<unit>天|日|周|星期|礼拜|月)(?:之内|以内|内|后|以后|之后)"), 2,
     _zh_within),
    (re.compile(r"下(?:个)?(?:周|星期|礼拜)(?![一二三四五六日天1-7])"), 2, _fixed(_weekday(0, "next"))),
    (re.compile(r"(?:这|本)(?:个)?(?:周|星期|礼拜)(?:内|之内)"), 2, _fixed(_weekday(6, "this"))),
    (re.compile(r"年底|年末"), 2, _fixed(lambda b: date(b.year, 12, 31))),
]


# -- summary -------------------------------------------------------------------------------------

_EMOTIONS_ZH = {
    "calm": "平静", "anxious": "焦虑", "distressed": "痛苦", "angry": "愤怒", "frustrated": "不满", "evasive": "回避",
}
_SEVERITIES = ("S1", "S2", "S3", "S4")


def summarize(events: Iterable[BaseEvent], outcome: Outcome, language: str) -> str:
    """Two to four factual sentences in the call's language: the outcome, the objections raised,
    the debtor's emotion, and compliance with the QA score. Template-based, so it never says more
    than the events do."""
    events = list(events)
    zh = _language(language) == "zh"
    sentences = [_outcome_sentence(outcome, zh)]
    objections = Counter(e.name for e in events if isinstance(e, IntentEvent) and e.kind == "objection")
    if objections:
        sentences.append(_objections_sentence(objections, zh))
    emotions = [e.label for e in events if isinstance(e, SentimentEvent) and e.speaker == "debtor"]
    if emotions:
        sentences.append(_emotion_sentence(emotions, zh))
    sentences.append(_compliance_sentence(events, zh))
    return " ".join(sentences) if not zh else "".join(sentences)


def _outcome_sentence(outcome: Outcome, zh: bool) -> str:
    amount = _format_amount(outcome, zh) if outcome.amount is not None else ""
    when = _format_date(outcome, zh)
    if zh:
        templates = {
            "promise_to_pay": f"结果：客户承诺{when}还款{amount}。",
            "payment_made": f"结果：客户已在通话中还款{amount}。",
            "refusal": "结果：客户拒绝还款。",
            "callback": f"结果：客户要求{when}再联系。" if when else "结果：客户要求改时间再联系。",
            "dispute": "结果：客户对债务提出异议。",
            "wrong_party": "结果：非本人接听，未联系到债务人。",
            "no_contact": "结果：未接通，无人应答。",
            "none": "结果：未达成还款承诺。",
        }
        return templates[outcome.kind]
    templates = {
        "promise_to_pay": f"Outcome: the debtor promised to pay{_spaced(amount)}{_spaced(when)}.",
        "payment_made": f"Outcome: the debtor paid{_spaced(amount)} during the call.",
        "refusal": "Outcome: the debtor refused to pay.",
        "callback": f"Outcome: the debtor asked to be called back{' ' + when if when else ' later'}.",
        "dispute": "Outcome: the debtor disputed the debt.",
        "wrong_party": "Outcome: wrong party; the debtor was not reached.",
        "no_contact": "Outcome: no contact; nobody but the agent spoke.",
        "none": "Outcome: no payment commitment was reached.",
    }
    return templates[outcome.kind]


def _spaced(text: str) -> str:
    return " " + text if text else ""


def _format_amount(outcome: Outcome, zh: bool) -> str:
    value = outcome.amount or 0.0
    figure = f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
    if outcome.currency == "CNY":
        return f"{figure}元"
    if outcome.currency == "USD":
        return f"${figure}" if not zh else f"{figure}美元"
    return f"{figure} {outcome.currency or ''}".strip()


def _format_date(outcome: Outcome, zh: bool) -> str:
    if outcome.due_date:
        d = outcome.due_date
        return f"于{d.year}年{d.month}月{d.day}日" if zh else f"on {d:%A}, {d:%B} {d.day}, {d.year}"
    if outcome.due_text:
        return f"（{outcome.due_text}）" if zh else f'("{outcome.due_text}")'
    return ""


def _objections_sentence(objections: Counter[str], zh: bool) -> str:
    if zh:
        return "客户提出的异议：" + "、".join(f"{n}（{c}次）" if c > 1 else n for n, c in objections.items()) + "。"
    return "Objections raised: " + "; ".join(f"{n} ({c}x)" if c > 1 else n for n, c in objections.items()) + "."


#: Feelings named in the summary's emotion sentence, most frequent first.
EMOTIONS_NAMED = 4


def _emotion_sentence(labels: list[str], zh: bool) -> str:
    """How many of the debtor's turns read as each feeling, most frequent first, and the one the
    debtor ended on. Counts rather than "mostly calm": identity answers and dates read calm, so a
    call in which the debtor got angry and hung up was summarised as a calm one."""
    counts = Counter(labels)
    last = {label: i for i, label in enumerate(labels)}
    named = sorted(counts, key=lambda label: (-counts[label], -last[label]))[:EMOTIONS_NAMED]
    ending = labels[-1]
    if zh:
        name = _EMOTIONS_ZH.get
        if len(counts) == 1:
            return f"客户情绪始终{name(ending, ending)}。"
        parts = "、".join(f"{name(label, label)}{counts[label]}句" for label in named)
        return f"客户{len(labels)}句话中{parts}，结束时{name(ending, ending)}。"
    if len(counts) == 1:
        return f"The debtor was {ending} throughout."
    first, *rest = named
    parts = f"{first} in {counts[first]} of {len(labels)} turns"
    if rest:
        parts += ", " + ", ".join(f"{label} in {counts[label]}" for label in rest)
    return f"The debtor was {parts}; ended {ending}."


def _compliance_sentence(events: list[BaseEvent], zh: bool) -> str:
    violations = [e for e in events if isinstance(e, ComplianceEvent)]
    cards = [e for e in events if isinstance(e, ScorecardEvent) and e.score is not None]
    score = f"{cards[-1].score:.0f}" if cards else None
    failed_on = [c.name for c in cards[-1].checks if c.id in cards[-1].auto_failed] if cards else []
    parts = []
    for severity in _SEVERITIES:
        found = [e for e in violations if e.severity == severity]
        if found:
            rules = list(dict.fromkeys(e.rule_id for e in found))
            if zh:
                parts.append(f"{severity} {len(found)}项（{'、'.join(rules)}）")
            else:
                parts.append(f"{len(found)} {severity} ({', '.join(rules)})")
    if zh:
        head = "合规问题：" + "，".join(parts) if parts else "未发现合规问题"
        failed = f"（一票否决：{'、'.join(failed_on)}）" if failed_on else ""
        return head + (f"；质检得分{score}分{failed}。" if score else "。")
    head = "Compliance issues: " + ", ".join(parts) if parts else "No compliance issues were found"
    failed = f" (failed on: {', '.join(failed_on)})" if failed_on else ""
    return head + (f"; QA score {score}/100{failed}." if score else ".")
