"""Per-utterance features, computed once and shared by every analyzer.

A :class:`FeatureSpace` belongs to a playbook: its lexical vocabulary is fitted on the playbook's
own texts, and its dense part is the language's embedding model (absent for Chinese by default).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import Any, TypeVar

import numpy as np
from scipy.sparse import csr_matrix, hstack
from scipy.special import expit, softmax

from coach.embeddings import Embedder
from coach.text.lexical import LexicalEncoder
from coach.text.normalize import normalize

#: Weight of the lexical block next to the dense block when both feed a classifier (both blocks are
#: unit length). A playbook whose objection examples classify clearly better with less weight on the
#: words gets :data:`SPARSE_LEXICAL_WEIGHT` instead (:func:`choose_lexical_weight`).
LEXICAL_WEIGHT = 1.0
SPARSE_LEXICAL_WEIGHT = 0.5
#: How much better (share of examples, in cross-validation) the lower weight must classify to be chosen:
#: five-fold accuracy moves by about a point with the fold count alone.
LEXICAL_WEIGHT_MARGIN = 0.01
#: Fits of a cross-validation run side by side (:func:`in_parallel`).
FIT_THREADS = 2
T = TypeVar("T")


@dataclass(frozen=True)
class Features:
    """Features of a batch of texts (one row each)."""

    texts: list[str]
    norms: list[str]
    dense: np.ndarray | None
    lexical: csr_matrix
    lexical_weight: float = LEXICAL_WEIGHT
    #: Values derived from these features that several analyzers read (see :meth:`cached`).
    _derived: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict:
        """Pickled without what is derived from the features (the classifier input, cached values):
        rebuilt on demand, the classifier input alone (its dense block stored sparse) would triple a
        fitted engine on disk and the time it takes to load."""
        state = dict(self.__dict__)
        state.pop("_classifier_input", None)
        state["_derived"] = {}
        return state

    def row(self, index: int) -> Features:
        return Features(
            [self.texts[index]],
            [self.norms[index]],
            None if self.dense is None else self.dense[index : index + 1],
            self.lexical[index],
            self.lexical_weight,
        )

    def cached(self, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """``compute()``, once per Features: the similarity of an utterance to the playbook's examples
        is read by both the score and the evidence."""
        if name not in self._derived:
            self._derived[name] = compute()
        return self._derived[name]

    def classifier_input(self) -> csr_matrix:
        """Dense and lexical blocks side by side, for linear classifiers (built once: every head of an
        utterance reads it)."""
        return self._classifier_input

    def input_with_words(self, name: str, words: LexicalEncoder, weight: float = 1.0) -> csr_matrix:
        """The dense block beside the texts' words in ``words``, a head's own vocabulary (its lexical
        weight scaled by ``weight``), built once per head (``name``). A head fitted on a vocabulary of
        its own (emotion, prohibited speech, pressing) can learn from more examples without shifting
        the words, and so the judgement, of the others."""
        return self.cached(name, lambda: replace(
            self, lexical=words.encode(self.texts), _derived={}, lexical_weight=self.lexical_weight * weight,
        ).classifier_input())

    @cached_property
    def _classifier_input(self) -> csr_matrix:
        if self.dense is None:
            return self.lexical
        return hstack([csr_matrix(self.dense), self.lexical * self.lexical_weight]).tocsr()

    def similarity(self, other: Features) -> np.ndarray:
        """Cosine similarity of every row here to every row of ``other``: dense where there is a
        model, else lexical."""
        if self.dense is not None and other.dense is not None:
            return self.dense @ other.dense.T
        return LexicalEncoder.similarity(self.lexical, other.lexical)


class FeatureSpace:
    def __init__(self, language: str, corpus: list[str], embedder: Embedder | None) -> None:
        self.language = language
        self.embedder = embedder
        self.lexical = LexicalEncoder(language, corpus)
        #: Set once by the objection head, before any other head is fitted (:func:`choose_lexical_weight`).
        self.lexical_weight = LEXICAL_WEIGHT

    def __getstate__(self) -> dict:
        """Cached on disk without the embedder: models load fresh and are attached after."""
        state = dict(self.__dict__)
        state["embedder"] = None
        return state

    def warm(self, texts: list[str]) -> None:
        """Embed ``texts`` in one batch, so the many small encodes of building analyzers hit the cache
        (and an embedder that keeps what earlier fits embedded on disk only embeds what is new)."""
        if self.embedder is not None and texts:
            norms = list(dict.fromkeys(normalize(t, self.language) for t in texts))
            getattr(self.embedder, "warm", self.embedder.encode)(norms)

    @property
    def method(self) -> str:
        return f"dense:{self.embedder.name}+lexical" if self.embedder else "lexical"

    def encode(self, texts: list[str]) -> Features:
        norms = [normalize(t, self.language) for t in texts]
        dense = self.embedder.encode(norms) if self.embedder and texts else None
        return Features(list(texts), norms, dense, self.lexical.encode(texts), self.lexical_weight)


def in_parallel(jobs: list[Callable[[], T]]) -> list[T]:
    """The results of independent fits, in order, two at a time. A fit spends part of its time in
    NumPy, SciPy and scikit-learn code that releases the GIL, so on two cores a shipped playbook's
    fit, three fifths of which is cross-validation, takes about four fifths of the time (English
    128 -> 100 s, Chinese 80 -> 66 s); each fit's arithmetic, and so every weight and threshold, is
    unchanged (docs/benchmarks.md section 39)."""
    if len(jobs) < 2:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=FIT_THREADS, thread_name_prefix="coach-fit") as pool:
        return list(pool.map(lambda job: job(), jobs))


def choose_lexical_weight(features: Features, labels: np.ndarray, fit: Callable, folds: int = 5) -> float:
    """:data:`SPARSE_LEXICAL_WEIGHT` when ``fit(matrix, labels)`` classifies ``features`` better with it
    than with :data:`LEXICAL_WEIGHT` by more than :data:`LEXICAL_WEIGHT_MARGIN` in stratified
    cross-validation, else :data:`LEXICAL_WEIGHT`. Few, varied examples (BANKING77's ten per intent:
    +1.4 to +2.6 points) lean on the dense view; the shipped playbooks' many examples, written in one
    register, lean on shared words (en -1.1, zh -1.8 points)."""
    from sklearn.model_selection import StratifiedKFold

    counts = np.unique(labels, return_counts=True)[1]
    folds = min(folds, int(counts.min()))
    if features.dense is None or folds < 2:
        return LEXICAL_WEIGHT
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(features.lexical, labels))

    def right(matrix: csr_matrix, train: np.ndarray, test: np.ndarray) -> int:
        return int(np.sum(fit(matrix[train], labels[train]).predict(matrix[test]) == labels[test]))

    weights = (SPARSE_LEXICAL_WEIGHT, LEXICAL_WEIGHT)
    matrices = [replace(features, lexical_weight=weight, _derived={}).classifier_input() for weight in weights]
    counts = in_parallel([partial(right, matrix, train, test) for matrix in matrices for train, test in splits])
    sparse, full = np.reshape(counts, (len(weights), len(splits))).sum(axis=1) / len(labels)
    if sparse > full + LEXICAL_WEIGHT_MARGIN:
        return SPARSE_LEXICAL_WEIGHT
    return LEXICAL_WEIGHT


@dataclass(frozen=True, eq=False)
class LinearClassifier:
    """A fitted logistic regression reduced to what scoring reads: its classes and weights, under
    scikit-learn's names, so :func:`class_probabilities` reads either. The cached engine holds these
    rather than scikit-learn models, so that loading it does not import scikit-learn, which with the
    SciPy modules it pulls in was half of a cached ``coach analyze`` start (1.9 of 6.2 s on a 2-core
    machine); scikit-learn runs only to fit."""

    classes_: np.ndarray
    coef_: np.ndarray
    intercept_: np.ndarray

    @classmethod
    def of(cls, model: Any) -> LinearClassifier:
        return cls(np.asarray(model.classes_), np.asarray(model.coef_), np.asarray(model.intercept_))


def fit_logistic(matrix: csr_matrix, labels: np.ndarray, **options: Any) -> LinearClassifier:
    """``LogisticRegression(**options).fit(matrix, labels)``, kept as its weights."""
    from sklearn.linear_model import LogisticRegression

    return LinearClassifier.of(LogisticRegression(**options).fit(matrix, labels))


def class_probabilities(model: LinearClassifier, matrix: csr_matrix) -> np.ndarray:
    """What scikit-learn's ``predict_proba`` gives for these weights, without its input checks: they cost ~0.5 ms a
    call, and each utterance goes through five heads. A fitted logistic regression: softmax of the
    scores over three or more classes (multinomial), the logistic of the one score over two."""
    scores = np.asarray(matrix @ model.coef_.T).reshape(matrix.shape[0], -1) + model.intercept_
    if scores.shape[1] == 1:
        positive = expit(scores[:, 0])
        return np.column_stack([1.0 - positive, positive])
    return softmax(scores, axis=1)
