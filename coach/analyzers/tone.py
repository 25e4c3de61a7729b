"""The debtor's tone: hostile, profane, threatening to complain or sue.

A head of its own, not a competitor of the objection: "i already paid this you idiot" is an
``already_paid`` objection (the top hint, what the agent answers) and a hostile tone (a second intent
event, for de-escalation and the supervisor). It fires on the playbook's ``hostile`` examples
(a binary classifier against every other debtor example) or on offensive language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from coach.analyzers.base import DEBTOR_SIDE, Analyzer, Turn, register
from coach.analyzers.features import class_probabilities, fit_logistic
from coach.analyzers.intent import TONE_INTENT, IntentResult
from coach.events import BaseEvent
from coach.text.offensive import OffensiveLanguageDetector

if TYPE_CHECKING:
    from coach.engine import CallSession, CoachEngine

#: Probability the classifier needs; the playbook's hostile examples are few and varied.
TONE_THRESHOLD = 0.5
OFFENSIVE_THRESHOLD = 0.7


@register
class ToneAnalyzer(Analyzer):
    name = "tone"
    speakers = DEBTOR_SIDE
    order = 45

    def __init__(self, engine: CoachEngine) -> None:
        super().__init__(engine)
        detector = engine.detector
        self.enabled = TONE_INTENT in detector.classes
        if not self.enabled:
            return
        #: Each intent's keyword phrases: an offensive word among them is that objection's own word.
        self.keyword_phrases = {i.id: i.keywords.phrases for i in engine.playbook.intents}
        labels = np.array([label == TONE_INTENT for label in detector.labels])
        self.classifier = fit_logistic(detector.example_features.classifier_input(), labels,
                                       C=10.0, max_iter=2000, class_weight="balanced")

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        if not self.enabled or TONE_INTENT in turn.facts.get("intents", ()):
            return []
        p = float(class_probabilities(self.classifier, turn.features.classifier_input())[0][1])
        result = None
        offensive = turn.offensive(self.engine.language)
        if offensive.probability >= OFFENSIVE_THRESHOLD and not self._objections_own_word(turn, offensive.evidence):
            evidence = offensive.evidence or turn.text
            result = IntentResult(TONE_INTENT, round(max(offensive.probability, p), 3), evidence, None, offensive.method)
        elif p >= TONE_THRESHOLD and turn.facts.get("act") is None and not self._frightened(turn):
            evidence, similarity = self.engine.detector.nearest_example(turn.features, TONE_INTENT)
            result = IntentResult(TONE_INTENT, round(p, 3), evidence, similarity, "tone:" + self.space.method)
        if result is None:
            return []
        turn.facts.setdefault("intents", []).append(TONE_INTENT)
        turn.facts.setdefault("intent", result)
        session.compliance.reach(f"intent:{TONE_INTENT}", turn.time)
        return [session.intent_event(turn.uid, turn.time, result, turn.text)]

    def _frightened(self, turn: Turn) -> bool:
        """The turn only asks what may happen to the debtor ("will they put me in jail over this", "is
        the bank going to drag me into court"): the hostile examples' own words (court, sue) in a
        question of fear, no threat (:meth:`LanguagePack.fears_consequences`)."""
        return self.engine.detector.pack.fears_consequences(turn.text, turn.features.norms[0])

    def _objections_own_word(self, turn: Turn, word: str | None) -> bool:
        """The offensive word is a keyword of the objection the debtor is raising: "我怎么知道你是不是骗子"
        suspects a scam in the word for a swindler, and insults no one unless the classifier hears it."""
        top = turn.facts.get("intent")
        if word is None or top is None:
            return False
        if not any(word in phrase for phrase in self.keyword_phrases.get(top.intent, ())):
            return False
        # the line without that word: "骗子 死骗子 全家不得好死" still insults
        rest = OffensiveLanguageDetector.for_language(self.engine.language).score([turn.text.replace(word, " ")])[0]
        return rest.probability < OFFENSIVE_THRESHOLD
