"""Transcripts that loop: the speech model's own hallucination, not what anyone said.

On noise, music or speech in another language Whisper often writes one phrase again and again ("I'm
gonna be a good one, I'm gonna be a good one, I'm", "会喜欢我,会喜欢我,会喜欢我"). Such a line can
sit close enough to a rule's examples to read as a threat, and a false S1 stops a lawful call, so the
prohibited-speech classifier must be sure of a looped line before it counts (the offensive-language
check hears it as any other). An agent repeating a threat for emphasis ("we will sue you, we will sue
you") is still a threat when the classifier is sure; people repeating themselves in passing ("ill get
to it when i get to it") are short of the length or the share that marks a loop.
"""

from __future__ import annotations

import re

#: Shortest repeated phrase that marks a loop (English words; Chinese characters) ...
MIN_PHRASE = {"en": 3, "zh": 4}
#: ... in a line at least this long ...
MIN_TOKENS = {"en": 8, "zh": 12}
#: ... whose repeats cover at least this share of it.
LOOPED_SHARE = 0.7

_WORD = re.compile(r"[a-z0-9']+")
_CJK_SKIP = set("，。？！、；：,.?!;: …～~")


def _tokens(text: str, language: str) -> list[str]:
    if language == "zh":
        return [c for c in text if not c.isspace() and c not in _CJK_SKIP]
    return _WORD.findall(text.lower())


def looped(text: str, language: str) -> bool:
    """Whether ``text`` is mostly one phrase said over and over: phrases of :data:`MIN_PHRASE` tokens
    that occur twice or more cover :data:`LOOPED_SHARE` of a line of at least :data:`MIN_TOKENS`
    tokens (a longer phrase said twice is covered by its pieces, each said twice). Linear in the
    line's length."""
    key = "zh" if language.startswith("zh") else "en"
    tokens = _tokens(text, key)
    if len(tokens) < MIN_TOKENS[key]:
        return False
    size = MIN_PHRASE[key]
    places: dict[tuple[str, ...], list[int]] = {}
    for index in range(len(tokens) - size + 1):
        places.setdefault(tuple(tokens[index:index + size]), []).append(index)
    covered = bytearray(len(tokens))
    for starts in places.values():
        if len(starts) >= 2 and starts[-1] - starts[0] >= size:  # twice, not only overlapping itself
            for place in starts:
                covered[place:place + size] = b"\x01" * size
    return sum(covered) / len(tokens) >= LOOPED_SHARE
