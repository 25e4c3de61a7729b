"""Chinese words come from one dictionary, the valence lexicon's words included."""

from __future__ import annotations

import subprocess
import sys

from coach.text.segment import segment


def test_valence_words_stay_whole_and_spaces_are_dropped():
    assert "不满意" in segment("我对你们的服务很不满意")  # two words in jieba's own dictionary
    assert "态度差" in segment("你们态度差 我要投诉")
    assert all(w.strip() for w in segment("我 下个月 一定还"))
    assert segment("") == []


def test_ordinary_words_are_segmented_as_jieba_does():
    assert segment("我这个月工资还没发下个月一定还") == ["我", "这个", "月工资", "还", "没发", "下个月", "一定", "还"]


def test_an_english_process_never_loads_the_chinese_dictionary():
    code = ("import sys; from coach.text.tokenize import lexical_features; lexical_features('i already paid', 'en');"
            "print('rjieba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
