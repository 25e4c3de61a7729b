"""A line's clauses, as the prohibited-speech classifier reads them when a rule's words are in it."""

from __future__ import annotations

from coach.languages import language_pack


def test_english_breaks_at_punctuation_but_not_inside_a_figure():
    clauses = language_pack("en").clauses("Thanks, I know it's hard; but by Friday we will garnish your wages. "
                                          "It is $5.00 or 3,000 - okay?")
    assert clauses == ["Thanks", "I know it's hard", "but by Friday we will garnish your wages",
                       "It is $5.00 or 3,000", "okay"]


def test_a_transcript_without_punctuation_is_read_in_pieces():
    words = " ".join(f"w{i}" for i in range(25))
    clauses = language_pack("en").clauses(words)
    assert [len(c.split()) for c in clauses] == [10, 10, 5] and " ".join(clauses) == words


def test_chinese_breaks_at_punctuation_and_pauses_and_cuts_long_runs():
    pack = language_pack("zh")
    assert pack.clauses("您好，我们 就报警。抓你") == ["您好", "我们", "就报警", "抓你"]
    run = "您好我们这边是想跟您核实一下还款计划您看方便的话"
    assert "".join(pack.clauses(run)) == run and max(map(len, pack.clauses(run))) == pack.clause_max_length
