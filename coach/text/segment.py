"""Chinese word segmentation, one dictionary for every caller.

jieba loads its dictionary (about half a second) on first use, so it is set up then, not at import:
an English call never pays for it. The valence lexicon's words are added to the dictionary before the
first segmentation, so lexical features and valence always see the same words, whichever runs first.
"""

from __future__ import annotations

import threading

import jieba  # logging quietened in coach.text

from coach.text import valence_zh

_ready = False
_lock = threading.Lock()


def _prepare() -> None:
    global _ready
    with _lock:
        if _ready:
            return
        for word in valence_zh.POSITIVE_WORDS | valence_zh.NEGATIVE_WORDS | set(valence_zh.NEGATORS) | set(valence_zh.DEGREE):
            jieba.add_word(word, freq=2000)
        _ready = True


def segment(text: str) -> list[str]:
    """The words of a normalised Chinese text (spaces dropped)."""
    if not _ready:
        _prepare()
    return [w for w in jieba.lcut(text) if w.strip()]
