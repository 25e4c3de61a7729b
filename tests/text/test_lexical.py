"""The lexical encoder computes TF-IDF itself (for speed): it must give scikit-learn's numbers."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from coach.engine import playbook_corpus
from coach.playbook.loader import load_playbook
from coach.text.lexical import LexicalEncoder
from coach.text.tokenize import lexical_features, tone_marks


def _terms_with_marks(text: str, language: str) -> list[str]:
    return lexical_features(text, language) + tone_marks(text)


@pytest.mark.parametrize("with_tone_marks", [False, True])
@pytest.mark.parametrize("playbook", ["en-US-collections", "zh-CN-bank-collections"])
def test_encoding_is_scikit_learns_tfidf(playbook, with_tone_marks):
    book = load_playbook(playbook)
    corpus = playbook_corpus(book) + ["what now?", "还了吗？", "stop it!"]
    encoder = LexicalEncoder(book.language, corpus, with_tone_marks=with_tone_marks)
    texts = corpus[::7] + ["", "zzzz qqqq", "!!!", "嗯", "I I I paid paid", "我我我 还了还了", "真的？！", "what?!"]
    ours = encoder.encode(texts)
    terms = _terms_with_marks if with_tone_marks else lexical_features
    vectorizer = TfidfVectorizer(analyzer=partial(terms, language=book.language), sublinear_tf=True)
    theirs = vectorizer.fit(corpus).transform(texts).tocsr()
    assert ours.shape == theirs.shape
    assert np.abs((ours - theirs).toarray()).max() < 1e-12
    # rows are unit length, or empty when no word is known
    norms = np.sqrt(np.asarray(ours.multiply(ours).sum(axis=1))).ravel()
    assert np.all((np.abs(norms - 1) < 1e-9) | (norms == 0))


def test_tone_marks_are_terms_only_when_asked_for():
    """The shared vocabulary reads content, so a question mark changes nothing there; the emotion
    head's reads it as part of how the line was said."""
    corpus = ["我已经还了", "我已经还了？", "别再打了！"]
    plain = LexicalEncoder("zh", corpus)
    marked = LexicalEncoder("zh", corpus, with_tone_marks=True)
    assert "p:?" not in plain.vocabulary and {"p:?", "p:!"} <= set(marked.vocabulary)
    assert np.allclose(plain.encode(["还了？"]).toarray(), plain.encode(["还了"]).toarray())
    assert not np.allclose(marked.encode(["还了？"]).toarray(), marked.encode(["还了"]).toarray())
    assert tone_marks("what? no! 真的？！") == ["p:?", "p:!", "p:?", "p:!"]
