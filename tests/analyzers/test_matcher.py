"""Playbook matchers: phrases, patterns, semantic examples and vetoes."""

from __future__ import annotations

from coach.analyzers.features import FeatureSpace
from coach.analyzers.matcher import CompiledMatcher
from coach.playbook.schema import Matcher


def _space(language):
    return FeatureSpace(language, ["we will sue you", "你不还就坐牢", "i will call you tomorrow"], None)


def _match(matcher, text, language="en"):
    space = _space(language)
    return CompiledMatcher(matcher, space).match(space.encode([text]))


def test_phrase_matches_whole_words_after_normalisation():
    matcher = Matcher(phrases=["don't pay"])
    assert _match(matcher, "If you DON'T pay, well...").method == "phrase"
    assert _match(Matcher(phrases=["sue"]), "pursue the matter") is None


def test_chinese_phrase_in_traditional_characters():
    assert _match(Matcher(phrases=["坐牢"]), "你不還就坐牢", "zh").evidence == "坐牢"


def test_pattern_and_unless_veto():
    matcher = Matcher(patterns=[r"\bsue\b"], unless=[r"\bnot\b"])
    assert _match(matcher, "we will sue you").method == "pattern"
    assert _match(matcher, "we will not sue you") is None


def test_an_ignored_span_hides_its_words_and_only_them():
    """Unlike a veto, ``ignore`` takes the words out of one span: the rest of the line still matches."""
    matcher = Matcher(phrases=["collections"], patterns=[r"\bbalance\b"], ignore=[r"\bwith \w+ collections\b"])
    assert _match(matcher, "this is sam with acme collections") is None
    assert _match(matcher, "this is sam with acme collections about your balance").evidence == "balance"
    assert _match(matcher, "your account went to collections").evidence == "collections"


def test_lexical_example_match_carries_similarity():
    match = _match(Matcher(examples=["we will sue you"]), "we will sue you tomorrow")
    assert match.method == "example" and match.similarity >= 0.55 and match.evidence == "we will sue you"
