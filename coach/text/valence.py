"""Valence in [-1, 1] from text alone, offline, in both languages.

English uses VADER (a well-kept rule-based model that handles negation, intensifiers and casing);
Chinese uses the lexicon in :mod:`coach.text.valence_zh` with negation and degree adverbs, scored
with VADER's normalisation so both languages share one scale.
"""

from __future__ import annotations

import math
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from coach.text import valence_zh
from coach.text.normalize import normalize
from coach.text.segment import segment

_ALPHA = 15.0  # VADER's normalisation constant
_vader = SentimentIntensityAnalyzer()


@lru_cache(maxsize=16384)
def text_valence(text: str, language: str) -> tuple[float, tuple[str, ...]]:
    """(valence, the words it rests on)."""
    if language == "zh":
        return _chinese_valence(normalize(text, "zh"))
    scores = _vader.polarity_scores(text)
    evidence = tuple(
        w for w in normalize(text, "en").split() if w in _vader.lexicon and abs(_vader.lexicon[w]) >= 1.0
    )
    return round(float(scores["compound"]), 3), evidence[:5]


def _chinese_valence(text: str) -> tuple[float, tuple[str, ...]]:
    tokens = segment(text)
    total = 0.0
    evidence: list[str] = []
    for index, token in enumerate(tokens):
        polarity = 1.0 if token in valence_zh.POSITIVE_WORDS else -1.0 if token in valence_zh.NEGATIVE_WORDS else 0.0
        if not polarity:
            continue
        window = tokens[max(0, index - 3) : index]
        weight = 1.0
        for before in window:
            weight *= valence_zh.DEGREE.get(before, 1.0)
        negated = sum(1 for before in window if before in valence_zh.NEGATORS) % 2 == 1
        if negated:
            # "不好" is clearly negative, "不差" only mildly positive (VADER's negation damping).
            polarity = -polarity * (0.74 if polarity < 0 else 1.0)
        total += polarity * weight * 2.0
        evidence.append("".join(window[-1:]) + token if negated else token)
    if not total:
        return 0.0, tuple(evidence[:5])
    return round(total / math.sqrt(total * total + _ALPHA), 3), tuple(evidence[:5])
