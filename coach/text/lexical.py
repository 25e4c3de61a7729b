"""TF-IDF vectors over words and character n-grams: similarity that needs no neural model."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from scipy.sparse import csr_matrix

from coach.text.tokenize import lexical_features, tone_marks


class LexicalEncoder:
    """Fitted once per playbook on all its texts; turns utterances into L2-normalised sparse vectors.

    It keeps the fitted vocabulary and idf weights, not the scikit-learn vectoriser, so that a cached
    engine loads without importing scikit-learn (see :class:`coach.analyzers.features.LinearClassifier`)."""

    def __init__(self, language: str, corpus: list[str], *, with_tone_marks: bool = False) -> None:
        """``with_tone_marks``: question and exclamation marks count as terms too (:func:`tone_marks`)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.language = language
        self.with_tone_marks = with_tone_marks
        vectorizer = TfidfVectorizer(analyzer=self.terms, sublinear_tf=True, min_df=1)
        vectorizer.fit(corpus or [""])
        self.vocabulary: dict[str, int] = {term: int(column) for term, column in vectorizer.vocabulary_.items()}
        self.idf: np.ndarray = vectorizer.idf_

    def encode(self, texts: list[str]) -> csr_matrix:
        """``TfidfVectorizer.transform(texts)``, the same numbers, computed directly: scikit-learn's
        input checks and intermediate count matrix cost ~0.6 ms a call, and each utterance is encoded
        in two vocabularies (the shared one and the emotion head's)."""
        vocabulary, idf = self.vocabulary, self.idf
        indptr, indices, values = [0], [], []
        for text in texts:
            counts = Counter(j for j in map(vocabulary.get, self.terms(text)) if j is not None)
            columns = sorted(counts)
            weights = np.array([(1.0 + math.log(counts[j])) * idf[j] for j in columns])
            norm = float(np.sqrt(weights @ weights)) if columns else 0.0
            indices += columns
            values += (weights / norm).tolist() if norm else []
            indptr.append(len(indices))
        return csr_matrix((np.array(values, dtype=np.float64), np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int32)),
                          shape=(len(texts), len(idf)))

    def terms(self, text: str) -> list[str]:
        terms = lexical_features(text, self.language)
        return terms + tone_marks(text) if self.with_tone_marks else terms

    @staticmethod
    def similarity(a: csr_matrix, b: csr_matrix) -> np.ndarray:
        """Cosine similarity (rows are already L2-normalised)."""
        return np.asarray((a @ b.T).todense())
