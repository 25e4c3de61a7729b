"""Per-utterance features and the heads' probabilities (coach/analyzers/features.py)."""

import numpy as np

from coach.analyzers.features import class_probabilities


def test_class_probabilities_are_scikit_learns(en_engine, zh_engine):
    """The heads read probabilities without scikit-learn's input checks; they must be its numbers, for
    the multinomial heads (objection, emotion, agent speech) and the binary ones (tone, pressing)."""
    for engine, texts in ((en_engine, ["i already paid that", "ok", "you people are a joke", "we will garnish your wages"]),
                          (zh_engine, ["我上个月已经还了", "嗯", "你们别再打了", "不还钱就让你坐牢"])):
        features = engine.space.encode(texts)
        models = [engine.detector.classifier, engine.sentiment.classifier]
        models += [a.classifier for a in engine.analyzers if getattr(a, "classifier", None) is not None]
        assert any(len(m.classes_) == 2 for m in models) and any(len(m.classes_) > 2 for m in models)
        for model in models:
            expected = model.predict_proba(features.classifier_input())
            assert np.allclose(class_probabilities(model, features.classifier_input()), expected, atol=1e-12)
