"""The lexical encoder computes TF-IDF itself (for speed): it must give scikit-learn's numbers."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from coach.engine import playbook_corpus
from coach.playbook.loader import load_playbook
from coach.text.lexical import LexicalEncoder
from coach.text.tokenize import lexical_features


@pytest.mark.parametrize("playbook", ["en-US-collections", "zh-CN-bank-collections"])
def test_encoding_is_scikit_learns_tfidf(playbook):
    book = load_playbook(playbook)
    corpus = playbook_corpus(book)
    encoder = LexicalEncoder(book.language, corpus)
    texts = corpus[::7] + ["", "zzzz qqqq", "!!!", "嗯", "I I I paid paid", "我我我 还了还了"]
    ours = encoder.encode(texts)
    vectorizer = TfidfVectorizer(analyzer=partial(lexical_features, language=book.language), sublinear_tf=True)
    theirs = vectorizer.fit(corpus).transform(texts).tocsr()
    assert ours.shape == theirs.shape
    assert np.abs((ours - theirs).toarray()).max() < 1e-12
    # rows are unit length, or empty when no word is known
    norms = np.sqrt(np.asarray(ours.multiply(ours).sum(axis=1))).ravel()
    assert np.all((np.abs(norms - 1) < 1e-9) | (norms == 0))
