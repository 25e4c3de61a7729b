"""How well a playbook's own examples separate: the figures `coach playbook check` reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

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


def evaluate_detector(detector: ObjectionDetector, folds: int | None = None) -> PlaybookReport:
    """Held-out accuracy per intent: exact leave-one-out, or ``folds``-fold cross-validation."""
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
