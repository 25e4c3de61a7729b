"""The debtor choosing to talk about paying: what lifts a duty with ``Rule.released_by_consent``.

After a dispute the agent may ask whether the debtor wants to go over the options now or wait; a yes
lifts the dispute (the debtor chose to resume the talk), and so does the debtor asking how to pay. On
an agent line this reads whether it offers the options: the language's patterns
(``LanguagePack.permission_question``) or a head learned from the playbook's ``consent.offers`` against
``consent.not_offers`` and the duties' collection talk. On the debtor's reply just after, whether it
says yes: the patterns (``LanguagePack.consents``, the playbook's bare affirmations) or a head learned
from ``consent.agreed`` against ``consent.declined``. Patterns alone read a writer's own phrasings; the heads
carry the meaning to phrasings no one wrote. The compliance monitor lifts the duties
(``ComplianceMonitor.on_utterance``), and the pressing head does not read an offer as pressing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from coach.analyzers.base import EVERYONE, Analyzer, Turn, register
from coach.analyzers.features import LinearClassifier, class_probabilities, fit_logistic
from coach.analyzers.intent import only_words_from
from coach.events import BaseEvent
from coach.languages import language_pack

if TYPE_CHECKING:
    from coach.engine import CallSession, CoachEngine

#: The offer head's probability that makes an agent line an offer of the options.
OFFER_CONFIDENCE = 0.5
#: The yes head's probability that makes a reply to such an offer a yes, with no word of refusal or
#: dispute (``LanguagePack.consent_veto``).
YES_CONFIDENCE = 0.7


@register
class ConsentAnalyzer(Analyzer):
    name = "consent"
    speakers = EVERYONE
    order = 32  # after the dialogue act (30); before the pressing (66) and compliance (70) heads

    def __init__(self, engine: CoachEngine) -> None:
        super().__init__(engine)
        self.pack = language_pack(engine.language)
        playbook = engine.playbook
        self.liftable = [r for r in playbook.rules if r.kind == "duty" and r.released_by_consent]
        self.enabled = bool(self.liftable)
        self.offer_head: LinearClassifier | None = None
        self.yes_head: LinearClassifier | None = None
        examples = playbook.consent
        if self.enabled and examples is not None:
            collection = [text for r in playbook.rules if r.kind == "duty" for text in r.trigger.examples]
            self.offer_head = self._fit(examples.offers, examples.not_offers + collection)
            self.yes_head = self._fit(examples.agreed, examples.declined)

    def _fit(self, positive: list[str], negative: list[str]) -> LinearClassifier:
        matrix = self.space.encode(positive + negative).classifier_input()
        labels = np.array([1] * len(positive) + [0] * len(negative))
        return fit_logistic(matrix, labels, C=10.0, max_iter=2000, class_weight="balanced")

    def new_call(self, session: CallSession) -> bool:
        return False  # whether the agent's last line offered the options

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        if not self.enabled:
            return []
        if turn.speaker == "agent":
            # only while a duty consent may lift has started: an offer matters to nothing else
            started = any(session.compliance.duty_cause(r) for r in self.liftable)
            offered = started and (self.pack.asks_permission(turn.text)
                                   or self._reads(self.offer_head, turn) >= OFFER_CONFIDENCE)
            turn.facts["offers_options"] = session.state[self.name] = offered
        elif turn.speaker == "debtor":
            turn.facts["consents"] = self._consents(turn, session)
        return []

    def _consents(self, turn: Turn, session: CallSession) -> str | None:
        """``"asks"`` how they could pay ("can I just pay the principal", "本金我能先还吗"), ``"reply"``: a
        yes to the offer the agent made in the line just before; None."""
        if self.pack.asks_to_pay(turn.text):
            return "asks"
        if session.previous_agent is None or not session.state[self.name]:
            return None
        if self.pack.consents(turn.text) or only_words_from(turn.features.norms[0], self.engine.detector.affirmations):
            return "reply"
        # the head hears a yes in a refusal too ("yeah sure whatever im not paying a cent"): not past the veto
        veto = self.pack.consent_veto is not None and self.pack.consent_veto.search(turn.text.lower())
        return "reply" if not veto and self._reads(self.yes_head, turn) >= YES_CONFIDENCE else None

    @staticmethod
    def _reads(head: LinearClassifier | None, turn: Turn) -> float:
        if head is None:
            return 0.0
        return float(class_probabilities(head, turn.features.classifier_input())[0][1])
