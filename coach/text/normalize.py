"""One normal form for matching, so that playbook phrases and ASR output meet half-way.

ASR output varies in case, width, punctuation and (for Whisper on Mandarin) traditional versus
simplified characters; playbook authors write with punctuation and apostrophes. Both sides go through
:func:`normalize` before any comparison.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_APOSTROPHE = re.compile(r"[’'`´]")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Traditional characters as Simplified (Whisper writes Mandarin in either), nothing else changed:
    what a Chinese call's transcript stores and shows."""
    return _T2S.convert(text)


def normalize(text: str, language: str) -> str:
    """Lower-cased, NFKC, simplified Chinese, without punctuation or apostrophes.

    English keeps single spaces between words; Chinese drops spaces between Chinese characters
    (ASR sometimes inserts them) but keeps them around Latin words and digits.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    if language == "zh" or _CJK.search(text):
        text = _T2S.convert(text)
    text = _APOSTROPHE.sub("", text)
    text = _NON_WORD.sub(" ", text).replace("_", " ")
    text = _SPACES.sub(" ", text).strip()
    return _CJK_GAP.sub("", text)


def cjk_ratio(text: str) -> float:
    """Share of Chinese characters among the non-space characters: used to guess a file's language."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if _CJK.match(c)) / len(chars)


def detect_language(texts: list[str]) -> str:
    """``zh`` when most of the text is Chinese characters, else ``en``."""
    return "zh" if cjk_ratio("".join(texts)) > 0.3 else "en"


#: Shares of Chinese characters beyond which a text's language is not in doubt: Chinese at or above
#: the first (code-switched Chinese, "我的 credit card 这个月还不了", is ~0.45 and is left alone),
#: English at or below the second (a Chinese name or two in an English call stays under it).
CLEARLY_CHINESE, CLEARLY_ENGLISH = 0.5, 0.05
#: Fewer non-space characters than this say too little to judge a text's language.
MIN_JUDGED_CHARACTERS = 20


def clear_language(texts: list[str]) -> str | None:
    """``zh`` or ``en`` when the text is beyond doubt in that language, else None (mixed, or too
    short): unlike :func:`detect_language`, which must always guess, this one only speaks up when a
    warning that the text is in another language would surely be right."""
    text = "".join(texts)
    if sum(1 for c in text if not c.isspace()) < MIN_JUDGED_CHARACTERS:
        return None
    share = cjk_ratio(text)
    return "zh" if share >= CLEARLY_CHINESE else "en" if share <= CLEARLY_ENGLISH else None
