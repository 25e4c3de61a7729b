"""TF-IDF vectors over words and character n-grams: similarity that needs no neural model."""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer

from coach.text.tokenize import lexical_features


class LexicalEncoder:
    """Fitted once per playbook on all its texts; turns utterances into L2-normalised sparse vectors."""

    def __init__(self, language: str, corpus: list[str]) -> None:
        self.language = language
        self._vectorizer = TfidfVectorizer(
            analyzer=partial(lexical_features, language=language), sublinear_tf=True, min_df=1
        )
        self._vectorizer.fit(corpus or [""])

    def encode(self, texts: list[str]) -> csr_matrix:
        return self._vectorizer.transform(texts).tocsr()

    @staticmethod
    def similarity(a: csr_matrix, b: csr_matrix) -> np.ndarray:
        """Cosine similarity (rows are already L2-normalised)."""
        return np.asarray((a @ b.T).todense())
