"""How well a playbook's own examples separate: the figures `coach playbook check` reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from coach.analyzers.intent import NONE, ObjectionDetector


@dataclass
class IntentScore:
    intent: str
    examples: int
    correct: int
    confused_with: Counter[str] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.correct / self.examples if self.examples else 0.0


@dataclass
class PlaybookReport:
    method: str
    per_intent: list[IntentScore]
    non_objection: IntentScore

    @property
    def intent_accuracy(self) -> float:
        total = sum(s.examples for s in self.per_intent)
        return sum(s.correct for s in self.per_intent) / total if total else 0.0

    @property
    def worst(self) -> IntentScore:
        return min(self.per_intent, key=lambda s: s.accuracy)


#: Most examples a playbook check fits one model per example for (exact leave-one-out). Past it,
#: ten folds: the shipped Chinese playbook's 2,636 examples ran over 14 minutes on 2 cores one by one.
LEAVE_ONE_OUT_MAX = 1000
DEFAULT_FOLDS = 10


def evaluate_detector(detector: ObjectionDetector, folds: int | None = None) -> PlaybookReport:
    """Held-out accuracy per intent: ``folds``-fold cross-validation, or by default exact
    leave-one-out (:data:`DEFAULT_FOLDS` folds past :data:`LEAVE_ONE_OUT_MAX` examples)."""
    if folds is None and len(detector.labels) > LEAVE_ONE_OUT_MAX:
        folds = DEFAULT_FOLDS
    scores = {i.id: IntentScore(i.id, 0, 0) for i in detector.playbook.intents}
    scores[NONE] = IntentScore(NONE, 0, 0)
    for truth, predicted in detector.held_out_predictions(folds):
        score = scores[truth]
        score.examples += 1
        if truth == predicted:
            score.correct += 1
        else:
            score.confused_with[predicted] += 1
    method = "leave-one-out" if folds is None else f"{folds}-fold cross-validated"
    non_objection = scores.pop(NONE)
    return PlaybookReport(method, list(scores.values()), non_objection)


@dataclass(frozen=True)
class CalibrationReport:
    """The detector on the playbook's calibration examples, at its threshold. They were written apart
    from the training examples, but the threshold was chosen on them: a slightly optimistic figure,
    unlike a development set's."""

    with_intent: int
    top_hint_right: int
    without_intent: int
    false_hints: int


def evaluate_calibration(detector: ObjectionDetector) -> CalibrationReport | None:
    if detector.calibration is None:
        return None
    scores, labels = detector.calibration
    predicted = np.array(detector.classes)[scores.argmax(axis=1)]
    fired = (predicted != NONE) & (scores.max(axis=1) >= detector.threshold)
    has_intent = labels != NONE
    return CalibrationReport(
        with_intent=int(has_intent.sum()),
        top_hint_right=int((fired & (predicted == labels) & has_intent).sum()),
        without_intent=int((~has_intent).sum()),
        false_hints=int((fired & ~has_intent).sum()),
    )
