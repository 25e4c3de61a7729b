"""Cluster keywords by class-based TF-IDF (c-TF-IDF, as BERTopic computes it): the words frequent in
one cluster and rare in the others, so "credit report" labels the credit-report cluster while "pay",
which every debtor says, labels none.

Each cluster's utterances are one document; the utterances that joined no cluster are one more, so
words common to everything that was mined weigh little. Chinese is segmented with jieba-rs (through
:mod:`coach.text.segment`, the engine's own dictionary); stop words and fillers never label anything.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from coach.languages import language_pack
from coach.text.normalize import normalize

#: Spoken-English words that carry no topic beyond sklearn's stop words.
_EN_SPOKEN = frozenset({"um", "uh", "yeah", "ok", "okay", "like", "just", "im", "dont", "gonna", "wanna", "gotta",
                        "thats", "youre", "ive", "its", "cant", "didnt", "doesnt", "isnt", "theres", "know", "right",
                        "really", "got", "get", "going", "want", "say", "said", "guys", "oh", "hey", "hi", "yes",
                        "no", "sure", "well", "mean", "thing", "things", "tell", "ill", "id", "youll", "does", "did",
                        "guess", "kinda", "sorta", "whats", "hes", "shes", "theyre", "wont", "lot"})
#: Chinese function words and fillers (segmented words of two characters or more; single characters
#: are dropped anyway).
_ZH_STOP = frozenset({"我们", "你们", "他们", "这个", "那个", "什么", "怎么", "就是", "然后", "一下", "现在", "还是",
                      "可以", "没有", "不是", "这样", "那样", "知道", "因为", "所以", "但是", "如果", "的话", "一个",
                      "这边", "那边", "你们家", "是不是", "有没有", "能不能", "会不会", "为什么", "自己", "时候",
                      "已经", "这么", "那么", "还有", "而且", "其实", "反正", "哎呀", "嗯嗯", "对对", "不会", "不能",
                      "以后", "之后", "还能", "能够", "一直", "真的", "这些", "那些"})
_WORD = re.compile(r"[a-z][a-z0-9']+")


def words(text: str, language: str) -> list[str]:
    """The topic-bearing words of one utterance."""
    norm = normalize(text, language)
    fillers = set(language_pack(language).fillers)
    if language == "zh":
        from coach.text.segment import segment

        return [w for w in segment(norm) if len(w) >= 2 and w not in _ZH_STOP and w not in fillers and not w.isdigit()]
    return [w for w in _WORD.findall(norm)
            if w not in ENGLISH_STOP_WORDS and w not in _EN_SPOKEN and w not in fillers and len(w) > 2]


def class_tfidf(documents: list[list[str]], language: str, background: list[str] | None = None,
                top: int = 8) -> list[list[str]]:
    """The ``top`` keywords of each class (a list of utterances); ``background``: utterances of no
    class, counted in the word frequencies only."""
    counts = [Counter(w for text in texts for w in words(text, language)) for texts in documents]
    everything = [*counts, Counter(w for text in background or [] for w in words(text, language))]
    totals = Counter()
    for counter in everything:
        totals.update(counter)
    average = sum(sum(c.values()) for c in everything) / max(1, len(everything))
    out = []
    for counter in counts:
        size = sum(counter.values()) or 1
        scored = {w: (n / size) * math.log(1 + average / totals[w]) for w, n in counter.items()}
        # ties (common in small clusters) go to the more frequent word, then alphabetically: stable output
        ranked = sorted(scored, key=lambda w: (-scored[w], -counter[w], w))
        out.append(ranked[:top])
    return out
