"""PII redaction: every kind in digits, spoken English and Chinese digits; what must stay; digests,
offsets and events."""

from __future__ import annotations

import re

import pytest

from coach.events import (
    CheckResult,
    ComplianceEvent,
    IntentEvent,
    PartialEvent,
    ScorecardEvent,
    SentimentEvent,
    UtteranceEvent,
)
from coach.redaction import ALL_KINDS, DEFAULT_KEY, digest, luhn_valid, redact, redact_event

CARD = "4111 1111 1111 1111"
UNIONPAY = "6222021234567894"
CN_ID = "11010519491231002X"  # GB 11643 checksum X, born 1949-12-31


@pytest.mark.parametrize(
    ("text", "kind", "mask"),
    [
        # cards
        (f"my card is {CARD} thanks", "card", "[CARD ••••1111]"),
        ("card 4111-1111-1111-1111 exp 12/28", "card", "[CARD ••••1111]"),
        ("its four one one one one one one one one one one one one one one one", "card", "[CARD ••••1111]"),
        ("four one one one, one one one one, one one one one, one one one one", "card", "[CARD ••••1111]"),
        ("卡号是六二二二零二一二三四五六七八九四", "card", "[CARD ••••7894]"),
        (f"银行卡{UNIONPAY}", "card", "[CARD ••••7894]"),
        # US social security numbers
        ("ssn 123-45-6789", "ssn", "[SSN]"),
        ("my social is one two three four five six seven eight nine", "ssn", "[SSN]"),
        ("social security number 123456789", "ssn", "[SSN]"),
        # Chinese resident ID numbers
        (f"身份证号{CN_ID}", "cn_id", "[CN_ID]"),
        ("身份证号码是一一零一零五一九四九一二三一零零二叉", "cn_id", "[CN_ID]"),
        ("id 11010519491231002x", "cn_id", "[CN_ID]"),
        ("老身份证 110105491231002", "cn_id", "[CN_ID]"),
        # phones
        ("call me at (415) 555-2671", "phone", "[PHONE ••••2671]"),
        ("my cell is +1 415 555 2671", "phone", "[PHONE ••••2671]"),
        ("four one five five five five two six seven one", "phone", "[PHONE ••••2671]"),
        ("four one five double five five two six seven one", "phone", "[PHONE ••••2671]"),
        ("its four one five, five five five, twenty six seventy one", "phone", "[PHONE ••••2671]"),
        ("我的手机是13812345678", "phone", "[PHONE ••••5678]"),
        ("手机幺三八 一二三四 五六七八", "phone", "[PHONE ••••5678]"),
        ("座机010-12345678", "phone", "[PHONE ••••5678]"),
        ("+86 138 1234 5678", "phone", "[PHONE ••••5678]"),
        # e-mail
        ("email me at john.smith@gmail.com please", "email", "[EMAIL]"),
        ("its john dot smith at gmail dot com", "email", "[EMAIL]"),
        ("j o h n underscore doe at yahoo dot co dot uk", "email", "[EMAIL]"),
        ("邮箱是zhangsan@qq.com", "email", "[EMAIL]"),
        ("邮箱 zhangsan 艾特 qq 点 com", "email", "[EMAIL]"),
        # bank accounts
        ("account number 12345678", "bank_account", "[ACCOUNT ••••5678]"),
        ("routing number 021000021", "bank_account", "[ACCOUNT ••••0021]"),
        ("my checking account is one two three four five six seven eight", "bank_account", "[ACCOUNT ••••5678]"),
        ("还款账户是 6214 8301 2345", "bank_account", "[ACCOUNT ••••2345]"),
        ("reference 9876543210123", "bank_account", "[ACCOUNT ••••0123]"),
    ],
)
def test_each_kind_is_masked(text, kind, mask):
    result = redact(text)
    assert [r.kind for r in result.redactions] == [kind], result
    assert mask in result.text
    assert not re.search(r"\d{5,}", result.text), result.text


@pytest.mark.parametrize(
    "text",
    [
        "your balance is $1,250.00 as of today",
        "thats $12,345,678.90 in total",
        "the balance is 12,345,678",
        "i can pay 2000 dollars",
        "我先还2000块",
        "三千五百元",
        "欠款两万三千多 逾期三个多月",
        "the payment is due 2026-03-16 at 10:30",
        "on 03/16/2026",
        "2026年3月16日下午3点",
        "press 1 for english",
        "you have 30 days to dispute",
        "your case 12345 was opened",
        "invoice INV-2026-000123",
        "i get paid on the fifteenth so maybe the sixteenth",
        "the last four of your social please um four four one eight",
        "后四位是四二一八",
        "i was born april twelfth nineteen eighty six",
        "i ordered it at amazon dot com",
        "im at work dot",
        "oh ok",
    ],
)
def test_ordinary_numbers_and_words_stay(text):
    assert redact(text).text == text


def test_invalid_luhn_is_not_a_card():
    assert not luhn_valid("4111111111111112")
    assert redact("card 4111 1111 1111 1112", ["card"]).redactions == []
    # a long digit run is still masked, but as an account number, not a card
    assert [r.kind for r in redact("card 4111 1111 1111 1112").redactions] == ["bank_account"]


def test_invalid_id_checksum_or_birth_date_is_not_an_id():
    assert redact("身份证110105194912310021", ["cn_id"]).redactions == []  # wrong check digit
    assert redact("身份证110105194913310028", ["cn_id"]).redactions == []  # month 13
    assert redact("身份证990105194912310028", ["cn_id"]).redactions == []  # no province 99


@pytest.mark.parametrize("number", ["666-12-3456", "000-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"])
def test_impossible_ssns_are_not_ssns(number):
    assert redact(f"ssn {number}", ["ssn"]).redactions == []


def test_nine_spoken_digits_need_ssn_context():
    spoken = "one two three four five six seven eight nine"
    assert redact(f"the number is {spoken}", ["ssn"]).redactions == []
    assert [r.kind for r in redact(f"my social is {spoken}").redactions] == ["ssn"]


def test_invalid_phone_is_not_a_phone():
    assert redact("call 555-123-4567", ["phone"]).redactions == []  # no area code 555
    assert redact("call 123-456-7890", ["phone"]).redactions == []


def test_offsets_point_into_the_original_text():
    text = f"card {CARD}, phone (415) 555-2671, mail a.b@c.com, ssn 123-45-6789 ok"
    result = redact(text)
    assert [r.kind for r in result.redactions] == ["card", "phone", "email", "ssn"]
    assert [text[r.start : r.end] for r in result.redactions] == [CARD, "(415) 555-2671", "a.b@c.com", "123-45-6789"]
    rebuilt, position = "", 0
    for item in result.redactions:
        rebuilt += text[position : item.start] + item.replacement
        position = item.end
    assert rebuilt + text[position:] == result.text
    assert result.text == "card [CARD ••••1111], phone [PHONE ••••2671], mail [EMAIL], ssn [SSN] ok"


def test_digest_is_stable_keyed_and_never_the_value():
    first = redact(f"card {CARD}").redactions[0]
    again = redact("my card is four one one one one one one one one one one one one one one one").redactions[0]
    other_key = redact(f"card {CARD}", key=b"another secret").redactions[0]
    assert first.digest == again.digest == digest("4111111111111111", DEFAULT_KEY)
    assert other_key.digest != first.digest
    assert re.fullmatch(r"[0-9a-f]{12}", first.digest)
    assert "4111" not in first.digest and "1111" not in first.digest
    assert "4111111111111111" not in repr(first)


def test_phone_digest_links_different_spellings():
    spellings = ["(415) 555-2671", "+1 415 555 2671", "four one five five five five two six seven one"]
    digests = {redact(t).redactions[0].digest for t in spellings}
    assert len(digests) == 1


def test_only_the_chosen_kinds_are_masked():
    text = f"card {CARD} mail a@b.com"
    result = redact(text, ["email"])
    assert result.text == f"card {CARD} mail [EMAIL]"
    assert redact(text, []).text == text
    with pytest.raises(ValueError, match="unknown PII kinds: passport"):
        redact(text, ["passport"])  # type: ignore[list-item]


def test_overlaps_go_to_the_higher_priority_kind():
    result = redact("write to 4111111111111111@example.com")
    assert [r.kind for r in result.redactions] == ["email"]
    assert result.text == "write to [EMAIL]"


def test_comma_separated_numbers_are_read_apart():
    result = redact("415-555-2671, 94110")
    assert [r.kind for r in result.redactions] == ["phone"]
    assert result.text == "[PHONE ••••2671], 94110"


def test_leading_oh_is_an_interjection_when_needed():
    result = redact("oh four one one one one one one one one one one one one one one one")
    assert result.text == "oh [CARD ••••1111]"


# -- events --------------------------------------------------------------------------------------


def _base(uid=3):
    return {"call_id": "c1", "utterance_id": uid, "time": 1.0}


def test_redact_event_on_each_type():
    utterance = UtteranceEvent(**_base(), speaker="debtor", text=f"my card is {CARD}", start=1, end=2)
    said = "my phone is 415 555 2671"
    partial = PartialEvent(**_base(), speaker="debtor", text=said, stable_text=said, stable=True, start=1, end=2)
    intent = IntentEvent(**_base(), intent="promise_to_pay", name="Promise to pay", kind="commitment", confidence=0.9,
                         evidence=f"pay with {CARD}", method="dense", suggestions=[], ref="x#intents/promise_to_pay")
    compliance = ComplianceEvent(**_base(), rule_id="US-3P", name="Third party", severity="S1", message="m",
                                 evidence="his ssn is 123-45-6789", citation="c", confidence=1, method="phrase",
                                 ref="r")
    sentiment = SentimentEvent(**_base(), speaker="debtor", label="calm", valence=0.1, confidence=0.5,
                               evidence=["ok", "mail john@doe.com"], method="lexical")
    stages = [{"stage": "opening", "utterance_id": 0, "time": 0.0, "evidence": f"id {CN_ID}"},
              {"stage": "closing", "utterance_id": 9, "time": 9.0, "evidence": None}]
    checks = [CheckResult(id="a", name="a", passed=True, weight=1),
              CheckResult(id="identity_verified", name="b", passed=True, weight=1, detail=f"at 3.0 s: 'yes {CARD}'")]
    scorecard = ScorecardEvent(**_base(None), score=90, checks=checks,
                               stages=stages, metrics={}, violations={}, objections={}, ref="r")

    cleaned, found = redact_event(utterance)
    assert cleaned.text == "my card is [CARD ••••1111]" and [(r.kind, r.field) for r in found] == [("card", "text")]
    assert utterance.text == f"my card is {CARD}"  # the original is untouched

    cleaned, found = redact_event(partial)
    assert cleaned.text == cleaned.stable_text == "my phone is [PHONE ••••2671]"
    assert [r.field for r in found] == ["text", "stable_text"]

    cleaned, found = redact_event(intent)
    assert cleaned.evidence == "pay with [CARD ••••1111]" and found[0].field == "evidence"

    cleaned, found = redact_event(compliance)
    assert cleaned.evidence == "his ssn is [SSN]"

    cleaned, found = redact_event(sentiment)
    assert cleaned.evidence == ["ok", "mail [EMAIL]"] and found[0].field == "evidence[1]"

    cleaned, found = redact_event(scorecard)
    assert cleaned.stages[0]["evidence"] == "id [CN_ID]" and found[0].field == "stages[0].evidence"
    assert cleaned.stages[1] == scorecard.stages[1]
    assert cleaned.checks[0] == checks[0]
    assert cleaned.checks[1].detail == "at 3.0 s: 'yes [CARD ••••1111]'" and found[1].field == "checks[1].detail"


def test_redact_event_without_pii_returns_the_event():
    event = UtteranceEvent(**_base(), speaker="agent", text="how are you today", start=1, end=2)
    assert redact_event(event, ALL_KINDS, DEFAULT_KEY) == (event, [])


def test_redact_event_respects_kinds():
    event = UtteranceEvent(**_base(), speaker="debtor", text=f"card {CARD} mail a@b.com", start=1, end=2)
    cleaned, found = redact_event(event, ["card"], b"k")
    assert cleaned.text == "card [CARD ••••1111] mail a@b.com" and found[0].digest == digest("4111111111111111", b"k")


# -- settings ------------------------------------------------------------------------------------


def test_settings_defaults_and_env(monkeypatch):
    from coach.config import Settings

    settings = Settings(_env_file=None)
    assert settings.redact_pii is True
    assert settings.redact_kinds == list(ALL_KINDS)
    assert settings.redaction_secret() == DEFAULT_KEY
    monkeypatch.setenv("COACH_REDACT_KINDS", "card, ssn")
    monkeypatch.setenv("COACH_REDACTION_KEY", "s3cret")
    settings = Settings(_env_file=None)
    assert settings.redact_kinds == ["card", "ssn"] and settings.redaction_secret() == b"s3cret"
    monkeypatch.setenv("COACH_REDACT_KINDS", '["email"]')
    assert Settings(_env_file=None).redact_kinds == ["email"]
    monkeypatch.setenv("COACH_REDACT_KINDS", "card,passport")
    with pytest.raises(ValueError, match="redact_kinds"):
        Settings(_env_file=None)
