"""Mask personal data (cards, SSNs, Chinese ID numbers, phones, e-mails, bank accounts) in call text.

Stored transcripts, reports and API answers must not carry a debtor's card or ID number, yet a
reviewer still needs to see that one was said, and an agent still needs "the card ending in 1111".
So each value is replaced by a short mask (the last four digits kept for cards, accounts and phones)
and recorded as a :class:`Redaction`: its kind, where it was in the original text, and a keyed hash
that links repeats of the same value (within a call or across calls) without storing the value.

Text comes from speech recognition as well as from typed transcripts, so numbers are read in three
spellings and any mix of them: digits with spaces or dashes ("4111 1111 1111 1111", "123-45-6789"),
English spoken digits ("four one one one", "oh" for zero, "double five", "twelve thirty four") and
Chinese digits (一二三四五六七八九零〇幺两). Each run of digits is then checked against the rules of
each kind (Luhn for cards, the GB 11643 checksum and birth date for Chinese IDs, the SSA's area,
group and serial rules, ``phonenumbers`` for phones), so money amounts, dates, times and short
numbers ("30 days", "case 12345", "press 1") stay as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal, get_args

from coach.events import (
    BaseEvent,
    ComplianceEvent,
    IntentEvent,
    PartialEvent,
    ScorecardEvent,
    SentimentEvent,
    UtteranceEvent,
)

PiiKind = Literal["card", "ssn", "cn_id", "phone", "email", "bank_account"]
ALL_KINDS: tuple[PiiKind, ...] = get_args(PiiKind)

#: The key used when an operator sets none (``COACH_REDACTION_KEY`` empty). It is public, so with it
#: a digest of a short value (an SSN has at most 10^9) can be reversed by trying every value; set
#: your own secret key in production so digests only link repeats inside your installation.
DEFAULT_KEY = b"coach-redaction-default-key-v1"

#: Overlapping matches: the earlier kind in this order wins, then the longer span.
PRIORITY: tuple[PiiKind, ...] = ("email", "card", "cn_id", "ssn", "phone", "bank_account")

_LABELS: dict[str, str] = {
    "card": "CARD", "ssn": "SSN", "cn_id": "CN_ID", "phone": "PHONE", "email": "EMAIL", "bank_account": "ACCOUNT",
}
#: Kinds whose mask keeps the last four digits, so "the card ending in 1111" can still be confirmed.
_KEEP_LAST4 = {"card", "phone", "bank_account"}


@dataclass(frozen=True)
class Redaction:
    """One masked value. ``start``/``end`` are character offsets in the original text (of ``field``
    for an event); ``digest`` is a keyed hash of the normalised value, never the value itself."""

    kind: PiiKind
    start: int
    end: int
    replacement: str
    digest: str
    #: For events: which field the offsets refer to ("text", "evidence", "evidence[1]", ...).
    field: str = ""


@dataclass
class RedactedText:
    text: str
    redactions: list[Redaction] = field(default_factory=list)


def redact(text: str, kinds: Collection[PiiKind] = ALL_KINDS, *, key: bytes = DEFAULT_KEY) -> RedactedText:
    """Mask every value of ``kinds`` in ``text``.

    All kinds are detected even when only some are masked, so that a card number is never masked
    as a "bank account" just because cards were switched off.
    """
    unknown = set(kinds) - set(ALL_KINDS)
    if unknown:
        raise ValueError(f"unknown PII kinds: {', '.join(sorted(unknown))}; expected some of {', '.join(ALL_KINDS)}")
    chosen = [m for m in _resolve(_find_all(text)) if m.kind in kinds]
    redactions = [
        Redaction(m.kind, m.start, m.end, replacement=_mask(m.kind, m.value), digest=digest(m.value, key))
        for m in chosen
    ]
    parts: list[str] = []
    position = 0
    for item in redactions:
        parts += [text[position : item.start], item.replacement]
        position = item.end
    parts.append(text[position:])
    return RedactedText(text="".join(parts), redactions=redactions)


def digest(value: str, key: bytes = DEFAULT_KEY) -> str:
    """HMAC-SHA256 of the normalised value, first 12 hex digits: links repeats, reveals nothing
    without the key. The kind is not hashed in, so the same digits read once as a card and once as
    an account still link."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def redact_event(
    event: BaseEvent, kinds: Collection[PiiKind] = ALL_KINDS, key: bytes = DEFAULT_KEY
) -> tuple[BaseEvent, list[Redaction]]:
    """A copy of ``event`` with its free-text fields masked, and what was masked (``field`` says where).

    Covers what people said as it reaches events: utterance and partial text, intent and compliance
    evidence, sentiment evidence, and the scorecard's stage evidence and check details (the identity
    check quotes the reply that verified the debtor, often a date of birth or card digits).
    """
    updates: dict[str, object] = {}
    found: list[Redaction] = []

    def clean(name: str, value: str) -> str:
        result = redact(value, kinds, key=key)
        found.extend(replace(r, field=name) for r in result.redactions)
        return result.text

    if isinstance(event, (UtteranceEvent, PartialEvent)):
        updates["text"] = clean("text", event.text)
    if isinstance(event, PartialEvent):
        updates["stable_text"] = clean("stable_text", event.stable_text)
    if isinstance(event, (IntentEvent, ComplianceEvent)):
        updates["evidence"] = clean("evidence", event.evidence)
    if isinstance(event, SentimentEvent):
        updates["evidence"] = [clean(f"evidence[{n}]", text) for n, text in enumerate(event.evidence)]
    if isinstance(event, ScorecardEvent):
        stages = []
        for n, stage in enumerate(event.stages):
            evidence = stage.get("evidence")
            if isinstance(evidence, str):
                stage = {**stage, "evidence": clean(f"stages[{n}].evidence", evidence)}
            stages.append(stage)
        updates["stages"] = stages
        updates["checks"] = [
            check.model_copy(update={"detail": clean(f"checks[{n}].detail", check.detail)}) if check.detail else check
            for n, check in enumerate(event.checks)
        ]
    if not found:
        return event, []
    return event.model_copy(update=updates), found


# -- candidates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    kind: PiiKind
    start: int
    end: int
    #: Normalised value: digits (and a final X) for numbers, E.164 for phones, the address for e-mail.
    value: str


def _find_all(text: str) -> list[_Match]:
    return _find_emails(text) + _find_numbers(text)


def _resolve(matches: list[_Match]) -> list[_Match]:
    """Keep non-overlapping matches, by kind priority then length; return them in text order."""
    ranked = sorted(matches, key=lambda m: (PRIORITY.index(m.kind), -(m.end - m.start), m.start))
    kept: list[_Match] = []
    for match in ranked:
        if all(match.end <= k.start or match.start >= k.end for k in kept):
            kept.append(match)
    return sorted(kept, key=lambda m: m.start)


def _mask(kind: str, value: str) -> str:
    label = _LABELS[kind]
    if kind in _KEEP_LAST4:
        digits = re.sub(r"\D", "", value)
        return f"[{label} ••••{digits[-4:]}]"
    return f"[{label}]"


# -- e-mail --------------------------------------------------------------------------------------

_ATOM = r"[a-z0-9]+"
_SPELLED = r"[a-z0-9](?:\s[a-z0-9])+"  # "j o h n"
_PART = rf"(?:{_SPELLED}|{_ATOM})"
_DOT = r"(?:\s*(?<![a-z])dot(?![a-z])\s*|\s*[.。]\s*|\s*点\s*)"
_JOIN_WORD = r"(?<![a-z])(?:underscore|under\s+score|dash|hyphen)(?![a-z])"
_JOIN = rf"(?:{_DOT}|\s*(?:{_JOIN_WORD}|[_-])\s*)"
_AT = r"(?:\s*(?<![a-z])at(?:\s+sign)?(?![a-z])\s*|\s*@\s*|\s*艾特\s*)"
_TLD = r"(?:com|net|org|edu|gov|mil|io|co|cn|us|uk|ca|info|biz|me|ai|app|dev|xyz|hk|tw|jp|de|fr|au|in|sg)"
_DOMAIN = rf"{_PART}(?:{_DOT}{_PART})*{_DOT}{_TLD}"
_EMAIL = re.compile(
    rf"(?<![a-z0-9._%+-])(?P<local>(?:[a-z0-9%+]+(?:[._-][a-z0-9%+]+)*|{_PART}(?:{_JOIN}{_PART})*))"
    rf"(?P<at>{_AT})(?P<domain>{_DOMAIN})(?![a-z0-9])",
    re.IGNORECASE,
)
_DOMAIN_AFTER_AT = re.compile(rf"{_DOMAIN}(?![a-z0-9])", re.IGNORECASE)
#: "i ordered it at amazon dot com" names a site, not an address.
_NOT_A_MAILBOX = {
    "it", "me", "us", "you", "him", "her", "them", "this", "that", "is", "was", "are", "am", "m", "s", "one", "stuff",
}


_AT_MARK = re.compile(_AT, re.IGNORECASE)
#: How far around an "at" an address may reach; searching only there keeps long texts linear.
_EMAIL_REACH = 160


def _find_emails(text: str) -> list[_Match]:
    found: dict[tuple[int, int], _Match] = {}
    for at in _AT_MARK.finditer(text):
        if not _DOMAIN_AFTER_AT.match(text, at.end()):
            continue
        window = (max(0, at.start() - _EMAIL_REACH), min(len(text), at.end() + _EMAIL_REACH))
        for m in _EMAIL.finditer(text, *window):
            if not m.start() <= at.start() < m.end() or m.span() in found:
                continue
            local = _email_part(m.group("local"))
            if local not in _NOT_A_MAILBOX:
                found[m.span()] = _Match("email", m.start(), m.end(), f"{local}@{_email_part(m.group('domain'))}")
    return list(found.values())


def _email_part(spoken: str) -> str:
    """``john dot smith`` -> ``john.smith``; ``j o h n`` -> ``john``."""
    text = spoken.lower()
    text = re.sub(_DOT, ".", text)
    text = re.sub(r"\s*(?<![a-z])(?:underscore|under\s+score)(?![a-z])\s*", "_", text)
    text = re.sub(r"\s*(?<![a-z])(?:dash|hyphen)(?![a-z])\s*", "-", text)
    return re.sub(r"\s+", "", text)


# -- numbers: tokens -----------------------------------------------------------------------------

_EN_DIGITS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
              "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_EN_TEENS = {"ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
             "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19"}
_EN_TENS = {"twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6", "seventy": "7", "eighty": "8",
            "ninety": "9"}
_ZH_DIGITS = {"零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
              "六": "6", "七": "7", "八": "8", "九": "9"}
_ONE_TO_NINE = "one|two|three|four|five|six|seven|eight|nine"
_DIGIT_WORD = "zero|oh|o|" + _ONE_TO_NINE
_TOKEN = re.compile(
    rf"(?P<arabic>[0-9０-９]+)"
    rf"|(?P<repeat>\b(?:double|triple)\s+(?:{_DIGIT_WORD})\b)"
    rf"|(?P<hundred>\b(?:{_ONE_TO_NINE})\s+hundred\b)"
    rf"|(?P<tens>\b(?:{'|'.join(_EN_TENS)})(?:[\s-]+(?:{_ONE_TO_NINE}))?\b)"
    rf"|(?P<teen>\b(?:{'|'.join(_EN_TEENS)})\b)"
    rf"|(?P<word>\b(?:{_DIGIT_WORD})\b)"
    rf"|(?P<zh>[{''.join(_ZH_DIGITS)}])"
    rf"|(?P<check>(?<=[0-9０-９{''.join(_ZH_DIGITS)}])[xX叉](?![a-zA-Z]))",
    re.IGNORECASE,
)
#: What may stand between the digits of one number: spaces, dashes, commas (ASR punctuation),
#: brackets; dots too, but only between spoken digits ("$12.50" must stay two numbers).
_GAP = re.compile(r"[\s,，、\-–—()]{0,4}")
_WORD_GAP = re.compile(r"[\s,，、.。\-–—]{0,4}")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    digits: str
    #: "arabic" (only these carry a visible grouping such as 123-45-6789), "en" (spoken English
    #: digits), "zh" (Chinese digits) or "check" (the X ending a Chinese ID).
    script: str

    @property
    def arabic(self) -> bool:
        return self.script == "arabic"


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for m in _TOKEN.finditer(text):
        kind, raw = m.lastgroup, m.group(0).lower()
        words = raw.replace("-", " ").split()
        if kind == "arabic":
            digits = "".join(str(int(c)) for c in raw)  # full-width digits too
        elif kind == "repeat":
            digits = _EN_DIGITS[words[-1]] * (2 if words[0] == "double" else 3)
        elif kind == "hundred":
            digits = _EN_DIGITS[words[0]] + "00"
        elif kind == "tens":
            digits = _EN_TENS[words[0]] + (_EN_DIGITS[words[1]] if len(words) > 1 else "0")
        elif kind == "teen":
            digits = _EN_TEENS[raw]
        elif kind == "word":
            digits = _EN_DIGITS[raw]
        elif kind == "zh":
            digits = _ZH_DIGITS[raw]
        else:
            digits = "X"
        script = {"arabic": "arabic", "zh": "zh", "check": "check"}.get(kind or "", "en")
        tokens.append(_Token(m.start(), m.end(), digits, script))
    return tokens


def _runs(text: str, tokens: list[_Token]) -> list[list[tuple[str, _Token]]]:
    """Consecutive tokens joined by short gaps: each run is a list of (gap before, token)."""
    runs: list[list[tuple[str, _Token]]] = []
    for token in tokens:
        if runs:
            last = runs[-1][-1][1]
            if _joins(last, text[last.end : token.start], token):
                runs[-1].append((text[last.end : token.start], token))
                continue
        runs.append([("", token)])
    return runs


def _joins(left: _Token, gap: str, right: _Token) -> bool:
    """Whether two digit tokens belong to one number. Chinese digits join only Chinese digits: in
    "张三 110105..." the 三 is part of a name."""
    if right.script == "check":
        return gap == ""
    if left.script == "check":  # the X ends an ID
        return False
    if (left.script == "zh") != (right.script == "zh"):
        return False
    if left.script == "arabic" or right.script == "arabic":
        return bool(_GAP.fullmatch(gap))
    return bool(_WORD_GAP.fullmatch(gap))


# -- numbers: classification ---------------------------------------------------------------------

_MONEY_BEFORE = re.compile(r"(?:[$¥￥€£]|\b(?:usd|rmb|cny)\b)\s*$", re.IGNORECASE)
_MONEY_AFTER = re.compile(
    r"^\s*(?:dollars?\b|bucks\b|cents?\b|usd\b|rmb\b|percent\b|%|元|块|圆|万|千|百|亿|角|毛|美元|美金|人民币)",
    re.IGNORECASE,
)
#: Letters glued to the number: a reference code such as "INV-2026-000123", not personal data.
_CODE_BEFORE = re.compile(r"[A-Za-z][_-]?$")
_CODE_AFTER = re.compile(r"^[_-]?(?![xX](?![A-Za-z]))[A-Za-z]")  # a lone X ends a Chinese ID
_SSN_CONTEXT = re.compile(r"\b(?:ssn|social|social security|ss number)\b", re.IGNORECASE)
_ACCOUNT_CONTEXT = re.compile(
    r"\b(?:account|acct|a/c|routing|aba|iban|checking|savings|bank)\b|账号|帐号|账户|帐户|卡号|银行卡|储蓄卡|借记卡|收款账|对公账",
    re.IGNORECASE,
)


def _find_numbers(text: str) -> list[_Match]:
    matches = []
    for run in _runs(text, _tokens(text)):
        if sum(len(t.digits) for _, t in run) < 7:
            continue
        matches += _classify_run(text, run)
    return matches


def _classify_run(text: str, run: list[tuple[str, _Token]]) -> list[_Match]:
    """What a run of digits is; a run that is none of the kinds as a whole may hold several numbers
    split by commas ("415-555-2671, 94110"), and a leading "oh" may be an interjection."""
    first, last = run[0][1], run[-1][1]
    before, after = text[max(0, first.start - 40) : first.start], text[last.end : last.end + 25]
    if _MONEY_BEFORE.search(before) or _MONEY_AFTER.search(after) or _is_date(run):
        return []
    if (first.arabic and _CODE_BEFORE.search(before)) or (last.arabic and _CODE_AFTER.search(after)):
        return []
    match = _classify(text, run)
    if match:
        return [match]
    if last.script == "check":  # "...123X" that is no valid ID: still a long number
        return _classify_run(text, run[:-1])
    if text[first.start : first.end].lower() in ("oh", "o") and len(run) > 1:
        return _classify_run(text, [("", run[1][1])] + run[2:])
    pieces = _split_at_commas(run)
    if len(pieces) > 1:
        found = [m for piece in pieces for m in _classify_run(text, piece)]
        if found or _thousands(run):
            return found
    digits = "".join(t.digits for _, t in run)
    if 12 <= len(digits) <= 30 and digits.isdigit():
        return [_Match("bank_account", first.start, last.end, digits)]
    return []


def _classify(text: str, run: list[tuple[str, _Token]]) -> _Match | None:
    """The highest-priority kind the whole run is valid as (bare long runs are left to the caller)."""
    tokens = [t for _, t in run]
    digits = "".join(t.digits for t in tokens)
    start, end = tokens[0].start, tokens[-1].end
    before = text[max(0, start - 40) : start]
    context = before + " " + text[end : end + 25]
    plus = before.rstrip().endswith("+")
    if plus:
        start = before.rstrip().rfind("+") + max(0, start - 40)
    elif before.endswith("(") and ")" in text[start:end]:
        start -= 1
    if "X" in digits[:-1]:
        return None
    if _is_card(digits):
        return _Match("card", start, end, digits)
    if _is_cn_id(digits):
        return _Match("cn_id", start, end, digits)
    if digits.endswith("X"):
        return None
    grouped = all(t.arabic for t in tokens) and [len(t.digits) for t in tokens] == [3, 2, 4]
    if _is_ssn(digits) and (grouped or _SSN_CONTEXT.search(context)):
        return _Match("ssn", start, end, digits)
    phone = _phone(digits, plus)
    if phone:
        return _Match("phone", start, end, phone)
    if 8 <= len(digits) <= 30 and _ACCOUNT_CONTEXT.search(context):
        return _Match("bank_account", start, end, digits)
    return None


def _split_at_commas(run: list[tuple[str, _Token]]) -> list[list[tuple[str, _Token]]]:
    pieces: list[list[tuple[str, _Token]]] = []
    for gap, token in run:
        if not pieces or re.search(r"[,，、]", gap):
            pieces.append([("", token)])
        else:
            pieces[-1].append((gap, token))
    return pieces


def _thousands(run: list[tuple[str, _Token]]) -> bool:
    """1,234,567: a figure written with thousands separators, not an identifier."""
    sizes = [len(t.digits) for _, t in run]
    commas = all("," in gap for gap, _ in run[1:])
    return all(t.arabic for _, t in run) and commas and sizes[0] <= 3 and set(sizes[1:]) == {3}


def _is_date(run: list[tuple[str, _Token]]) -> bool:
    """2026-03-16, 03-16-2026, 16.03.2026 (digit groups joined by dashes look like one number)."""
    if len(run) != 3 or not all(t.arabic for _, t in run):
        return False
    a, b, c = (t.digits for _, t in run)
    if len(a) == 4 and len(b) <= 2 and len(c) <= 2:
        return 1 <= int(b) <= 12 and 1 <= int(c) <= 31
    if len(a) <= 2 and len(b) <= 2 and len(c) in (2, 4):
        return (1 <= int(a) <= 12 and 1 <= int(b) <= 31) or (1 <= int(b) <= 12 and 1 <= int(a) <= 31)
    return False


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number carries."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    """13-19 digits, a card-network first digit (2-6: Mastercard, Amex, Visa, Discover, UnionPay),
    Luhn. An 18-digit number that is a valid Chinese ID is an ID: its checksum is the stronger test."""
    if not (digits.isdigit() and 13 <= len(digits) <= 19 and digits[0] in "23456"):
        return False
    return luhn_valid(digits) and not (len(digits) == 18 and _is_cn_id(digits))


#: Province-level codes of the Chinese ID's first two digits (GB/T 2260).
_CN_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
}
_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_CHECK = "10X98765432"


def _is_cn_id(digits: str) -> bool:
    """GB 11643: 18 characters (17 digits and a check digit or X) with a province code, a real birth
    date and the mod-11 checksum; or the legacy 15-digit form (no checksum, two-digit year)."""
    if len(digits) == 18 and digits[:17].isdigit():
        if digits[:2] not in _CN_PROVINCES or not _plausible_birth(digits[6:10], digits[10:12], digits[12:14]):
            return False
        total = sum(int(d) * w for d, w in zip(digits[:17], _CN_WEIGHTS))
        return _CN_CHECK[total % 11] == digits[17]
    if len(digits) == 15 and digits.isdigit():
        return digits[:2] in _CN_PROVINCES and _plausible_birth("19" + digits[6:8], digits[8:10], digits[10:12])
    return False


def _plausible_birth(year: str, month: str, day: str) -> bool:
    try:
        born = date(int(year), int(month), int(day))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def _is_ssn(digits: str) -> bool:
    """SSA rules: nine digits; area not 000, 666 or 9xx; group not 00; serial not 0000."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _phone(digits: str, plus: bool) -> str | None:
    """E.164 form of a valid US (+1, ten digits) or Chinese (mobile 1[3-9] and eleven digits,
    landline with area code) number, or of any valid number written with "+"; else None."""
    import phonenumbers  # imported here so that importing this module (and Settings) stays cheap

    if not digits.isdigit():
        return None
    candidates: list[tuple[str, str | None]] = []
    if plus:
        candidates.append(("+" + digits, None))
    elif len(digits) == 10 and digits[0] != "0":
        candidates.append((digits, "US"))
    elif len(digits) == 11 and digits[0] == "1":
        candidates += [(digits, "CN"), ("+" + digits, None)]
    elif 10 <= len(digits) <= 12 and digits[0] == "0":
        candidates.append((digits, "CN"))
    elif len(digits) == 13 and digits.startswith("86"):
        candidates.append(("+" + digits, None))
    for number, region in candidates:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        region_ok = plus or phonenumbers.region_code_for_number(parsed) in ("US", "CA", "CN")
        if region_ok and phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None
