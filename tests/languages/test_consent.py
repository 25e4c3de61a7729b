"""What counts as the debtor choosing to talk about paying, and as the agent leaving them the choice:
lines a reviewer found that the first patterns misread (a dispute read as consent, a demand as an offer)."""

from __future__ import annotations

import pytest

from coach.languages import language_pack


@pytest.mark.parametrize(("language", "text"), [
    ("en", "can i just pay the principal part while you look into the fees"),
    ("en", "is there a payment plan i could get on"),
    ("zh", "罚息不对 本金我能先还吗"),
    ("zh", "你们查的时候 我能先办个分期吗"),
])
def test_asking_how_to_pay(language, text):
    assert language_pack(language).asks_to_pay(text)


@pytest.mark.parametrize(("language", "text"), [
    ("en", "so how exactly can i pay something i dont owe"),
    ("en", "could i pay for something i never bought"),
    ("en", "is there a payment plan on this account? because i never opened it"),
    ("en", "what are my options for disputing this"),
    ("zh", "我每个月都按时还款 怎么还款记录上显示逾期"),
    ("zh", "不是我的钱我怎么能还呢"),
    ("zh", "有没有减免我不管 这笔账根本不是我的"),
    ("zh", "你们有什么办法证明是我借的"),
])
def test_a_question_of_paying_that_is_part_of_the_dispute_asks_nothing(language, text):
    assert not language_pack(language).asks_to_pay(text)


@pytest.mark.parametrize(("language", "text", "consents"), [
    ("en", "i mean i guess tell me but i cant promise anything", True),
    ("en", "i suppose so what are they", True),
    ("en", "im not sure this amount looks wrong", False),
    ("en", "yes i dispute the whole thing", False),
    ("en", "tell me why i owe this", False),
    ("en", "what are they charging me for", False),
    ("zh", "好吧 你说说看", True),
    ("zh", "行 你讲", True),
    ("zh", "你们银行算错了", False),   # 行 at the end of 银行 is no "OK"
    ("zh", "好像不对吧", False),
    ("zh", "行吧 反正这钱不是我借的", False),
])
def test_a_yes_to_hearing_the_options(language, text, consents):
    assert language_pack(language).consents(text) is consents


@pytest.mark.parametrize(("language", "text"), [
    ("zh", "先跟您说清楚 今天必须还款"),
    ("zh", "你现在就说什么时候还款"),
    ("en", "you want to tell me when youll make a payment"),
    ("en", "can i explain why you still have to make payments"),
])
def test_a_demand_is_no_offer_of_options(language, text):
    assert not language_pack(language).asks_permission(text)


@pytest.mark.parametrize(("language", "text", "rest"), [
    ("en", "we need fifty dollars today do you want me to go over the payment plans or would you rather wait",
     "we need fifty dollars today"),
    ("zh", "您是现在听一下还款方案 还是等着我们起诉您", None),   # waiting for a lawsuit is no choice
])
def test_what_an_offer_to_wait_says_besides(language, text, rest):
    assert language_pack(language).leaves_choice(text) == rest
