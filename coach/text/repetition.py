"""Transcripts that loop: the speech model's own hallucination, not what anyone said.

On noise, music or speech in another language Whisper often writes one phrase again and again ("I'm
gonna be a good one, I'm gonna be a good one, I'm", "会喜欢我,会喜欢我,会喜欢我"). Such a line can
sit close enough to a rule's examples to read as a threat, and a false S1 stops a lawful call, so the
prohibited-speech classifier does not judge a looped line (its words still count for the offensive
language check, and everything else). People do repeat themselves ("ill get to it when i get to it",
"我撑不下去了 真的撑不下去了"); those lines are short of the length or the share that marks a loop, or
are the debtor's, whose lines this does not touch.
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
    """Whether ``text`` is mostly one phrase said over and over: phrases of at least
    :data:`MIN_PHRASE` tokens that occur twice or more (without overlapping) cover
    :data:`LOOPED_SHARE` of a line of at least :data:`MIN_TOKENS` tokens."""
    key = "zh" if language.startswith("zh") else "en"
    tokens = _tokens(text, key)
    if len(tokens) < MIN_TOKENS[key]:
        return False
    covered = [False] * len(tokens)
    for size in range(MIN_PHRASE[key], len(tokens) // 2 + 1):
        starts: dict[tuple[str, ...], list[int]] = {}
        for index in range(len(tokens) - size + 1):
            starts.setdefault(tuple(tokens[index:index + size]), []).append(index)
        for places in starts.values():
            kept, end = [], -1
            for place in places:
                if place >= end:
                    kept.append(place)
                    end = place + size
            if len(kept) >= 2:
                for place in kept:
                    covered[place:place + size] = [True] * size
    return sum(covered) / len(tokens) >= LOOPED_SHARE
