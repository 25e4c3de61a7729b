"""Per-utterance features and the heads' probabilities (coach/analyzers/features.py)."""

import numpy as np
from sklearn.linear_model import LogisticRegression

from coach.analyzers.features import class_probabilities


def test_class_probabilities_are_scikit_learns(en_engine, zh_engine):
    """The heads read probabilities without scikit-learn's input checks; they must be its numbers, for
    the multinomial heads (objection, emotion, agent speech) and the binary ones (tone, pressing)."""
    for engine, texts in ((en_engine, ["i already paid that", "ok", "you people are a joke", "we will garnish your wages"]),
                          (zh_engine, ["我上个月已经还了", "嗯", "你们别再打了", "不还钱就让你坐牢"])):
        features = engine.space.encode(texts)
        # the emotion, prohibited-speech and pressing heads read words in a vocabulary of their own
        models = [(engine.detector.classifier, features.classifier_input()),
                  (engine.sentiment.classifier, engine.sentiment.classifier_input(features))]
        models += [(a.classifier, getattr(a, "classifier_input", lambda f: f.classifier_input())(features))
                   for a in engine.analyzers if getattr(a, "classifier", None) is not None]
        assert any(len(m.classes_) == 2 for m, _ in models) and any(len(m.classes_) > 2 for m, _ in models)
        for model, matrix in models:
            theirs = LogisticRegression()  # the engine keeps only the weights; scikit-learn scores them here
            theirs.classes_, theirs.coef_, theirs.intercept_ = model.classes_, model.coef_, model.intercept_
            theirs.n_features_in_ = model.coef_.shape[1]
            assert np.allclose(class_probabilities(model, matrix), theirs.predict_proba(matrix), atol=1e-12)


def test_lexical_weight_is_chosen_by_cross_validation(en_engine):
    """The lower weight only where it classifies clearly better in cross-validation (a fake classifier
    stands in for the scoring; the real choice is checked on the shipped playbook below and on
    BANKING77 by bench/banking77.py)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    from coach.analyzers.features import LEXICAL_WEIGHT, SPARSE_LEXICAL_WEIGHT, Features, choose_lexical_weight

    labels = np.repeat(np.array(["a", "b"]), 20)
    order = np.arange(40, dtype=float)[:, None]  # which row is which: the fake reads it from the dense block
    lexical = csr_matrix(np.ones((40, 1)))  # unit length: its value in the matrix is the weight itself

    class Fake:
        def __init__(self, right_when) -> None:
            self.right_when = right_when

        def predict(self, matrix):
            rows = matrix[:, 0].toarray().ravel().astype(int)
            weight = matrix[0, 1]
            return labels[rows] if self.right_when(weight) else np.full(len(rows), "a")

    def fitted(right_when):
        return lambda matrix, y: Fake(right_when)

    texts = [""] * 40
    features = Features(texts, texts, order, lexical)
    assert choose_lexical_weight(features, labels, fitted(lambda w: w < 0.75)) == SPARSE_LEXICAL_WEIGHT
    assert choose_lexical_weight(features, labels, fitted(lambda w: w > 0.75)) == LEXICAL_WEIGHT
    assert choose_lexical_weight(features, labels, fitted(lambda w: True)) == LEXICAL_WEIGHT  # a tie keeps 1.0
    assert choose_lexical_weight(Features(texts, texts, None, lexical), labels, fitted(lambda w: w < 0.75)) == LEXICAL_WEIGHT
    # the shipped playbook keeps the words' full weight, and every head reads features with it
    assert en_engine.space.lexical_weight == en_engine.detector.example_features.lexical_weight == LEXICAL_WEIGHT
    assert en_engine.space.encode(["ok"]).lexical_weight == LEXICAL_WEIGHT


def test_a_fit_warms_the_embedder_with_every_text_it_embeds(en_engine):
    """The feature space hands a fit's texts to the embedder's warm-up (which keeps them on disk) in
    one batch, normalised and each once; the fit then finds every text it embeds already warm."""
    from coach.analyzers.features import FeatureSpace
    from coach.engine import fitted_texts

    class Recording:
        name, dimension = "recording", 3

        def __init__(self) -> None:
            self.warmed: list[list[str]] = []
            self.encoded: list[str] = []

        def warm(self, texts: list[str]) -> None:
            self.warmed.append(list(texts))

        def encode(self, texts: list[str]) -> np.ndarray:
            self.encoded += texts
            return np.ones((len(texts), 3), np.float32) / np.sqrt(3)

    embedder = Recording()
    space = FeatureSpace("en", ["Yes, this is Dana."], embedder)
    space.warm(["Yes, this is Dana.", "yes this is dana", "I already PAID!"])
    assert embedder.warmed == [["yes this is dana", "i already paid"]] and embedder.encoded == []
    playbook = en_engine.playbook
    texts = set(fitted_texts(playbook))
    assert set(playbook.compliant_agent_examples) <= texts
    assert {e.text for e in playbook.calibration_examples} <= texts
    assert {r.text for i in playbook.intents for r in i.responses} <= texts
    assert {x for e in playbook.emotions for x in e.examples} <= texts


def test_cross_validation_fits_side_by_side_give_the_fits_one_by_one():
    """Folds are fitted two at a time: each fold's model, and so every calibrated threshold, is the one
    a fit on its own gives, in the folds' order; a fit that fails fails the whole fit."""
    from functools import partial

    import pytest
    from scipy.sparse import csr_matrix

    from coach.analyzers.features import in_parallel

    rng = np.random.default_rng(0)
    matrix = csr_matrix(rng.normal(size=(120, 30)))
    labels = np.repeat(np.array(["a", "b", "c"]), 40)
    folds = [np.arange(120) % 4 != k for k in range(4)]
    jobs = [partial(LogisticRegression(C=10.0, max_iter=500).fit, matrix[keep], labels[keep]) for keep in folds]
    side_by_side = in_parallel(jobs)
    one_by_one = [job() for job in jobs]
    assert len(side_by_side) == 4
    for a, b in zip(side_by_side, one_by_one):
        assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    assert in_parallel([lambda: 1]) == [1] and in_parallel([]) == []

    def broken():
        raise ValueError("a fold with one class")

    with pytest.raises(ValueError, match="one class"):
        in_parallel([jobs[0], broken])


def test_features_are_stored_without_what_is_derived_and_rebuild_it(en_engine):
    """A fitted engine on disk keeps the examples' embeddings, not the classifier input built from them
    (its dense block stored sparse tripled the file and its load at every start): after a load the
    input is rebuilt, the same to the bit."""
    import pickle

    features = en_engine.space.encode(["i already paid that", "can i pay next friday", "who is this"])
    built = features.classifier_input()
    features.cached("similar", lambda: features.similarity(features))
    stored = pickle.dumps(features)
    loaded = pickle.loads(stored)
    assert "_classifier_input" not in vars(loaded) and loaded._derived == {}
    assert (loaded.classifier_input() != built).nnz == 0 and loaded.texts == features.texts
    assert len(stored) < len(pickle.dumps(vars(features))) / 2  # the derived input weighed more than the rest
    detector = pickle.loads(pickle.dumps(en_engine.detector))
    assert (detector._matrix != en_engine.detector._matrix).nnz == 0
