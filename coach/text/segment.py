"""Chinese word segmentation, one dictionary for every caller.

jieba's algorithm and dictionary, run by jieba-rs (``rjieba``): the Python jieba spent 1.1 s of a
cached Chinese ``coach analyze`` on unmarshalling its dictionary; jieba-rs builds the same one in
about 0.1 s and segments the playbooks and development sets alike but for 0.3 % of their lines. It
is imported on first use, not at import, so an English call never pays for it. The valence
lexicon's words are added to the dictionary before the first segmentation, so lexical features and
valence always see the same words, whichever runs first.

Words are added to rjieba's module-wide segmenter only here, under the lock and before any caller can
segment: its ``cut`` releases the GIL while it reads the dictionary, and an ``add_word`` from another
thread at that moment raises "Already borrowed".
"""

from __future__ import annotations

import threading
from types import ModuleType

from coach.text import valence_zh

_segmenter: ModuleType | None = None
_lock = threading.Lock()


def _prepare() -> ModuleType:
    global _segmenter
    with _lock:
        if _segmenter is None:
            import rjieba  # builds its dictionary on import

            for word in valence_zh.POSITIVE_WORDS | valence_zh.NEGATIVE_WORDS | set(valence_zh.NEGATORS) | set(valence_zh.DEGREE):
                rjieba.add_word(word, 2000, None)
            _segmenter = rjieba
        return _segmenter


def segment(text: str) -> list[str]:
    """The words of a normalised Chinese text (spaces dropped)."""
    segmenter = _segmenter or _prepare()
    return [w for w in segmenter.cut(text) if w.strip()]
