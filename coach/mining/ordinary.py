"""Ordinary answers: what a debtor says in every call that is not a topic of its own.

Greetings, fillers, "ok", "yes speaking", a date of birth, "who is this": left in, they would form the
biggest clusters and crowd out the objections a playbook misses. They are told apart with what the
engine already knows about the language and the playbook, not with a list of our own:

- the answer is too short to say anything (a word or two; a few characters of Chinese);
- it is made only of the playbook's affirmations or negations and the language's fillers;
- it is short and reads as an answer to an identity question (a yes, a name, digits, a date: the
  dialogue act; only short replies, because out of context "yeah but ..." opens many a real topic);
- the objection detector puts it in the playbook's non-objection class with high probability, or it
  is close to one of the playbook's ``non_objection_examples``.
"""

from __future__ import annotations

import numpy as np

from coach.analyzers.dialogue import identity_reply
from coach.analyzers.features import Features, class_probabilities
from coach.analyzers.intent import NONE, only_words_from
from coach.engine import CoachEngine
from coach.languages import language_pack
from coach.mining.space import playbook_features

#: Shortest utterance that can be a topic: words (English), characters (Chinese).
MIN_LENGTH = {"en": 4, "zh": 5}
#: Longest reply read as an identity answer: words (English), characters (Chinese).
IDENTITY_REPLY_MAX = {"en": 8, "zh": 12}
#: The detector's probability of "no objection" above which an utterance is an ordinary answer.
NON_OBJECTION_PROBABILITY = 0.85
#: Similarity to a non-objection example above which an utterance is one of them, reworded.
NON_OBJECTION_SIMILARITY = 0.9


class OrdinaryAnswers:
    """Tells ordinary answers from utterances that may be a topic; built once per engine."""

    def __init__(self, engine: CoachEngine) -> None:
        self.engine = engine
        self.pack = language_pack(engine.language)
        self.min_length = MIN_LENGTH.get(engine.language, 3)
        self.identity_max = IDENTITY_REPLY_MAX.get(engine.language, 8)
        self.examples = playbook_features(engine, list(engine.playbook.non_objection_examples))
        classes = list(engine.detector.classifier.classes_)
        self.none_column = classes.index(NONE) if NONE in classes else None

    def mask(self, features: Features) -> np.ndarray:
        """True for each row of ``features`` that is an ordinary answer."""
        n = len(features.texts)
        if n == 0:
            return np.zeros(0, dtype=bool)
        detector = self.engine.detector
        ordinary = np.zeros(n, dtype=bool)
        for i, (text, norm) in enumerate(zip(features.texts, features.norms)):
            length = self.pack.length(norm)
            ordinary[i] = (
                length < self.min_length
                or only_words_from(norm, detector.affirmations)
                or only_words_from(norm, detector.negations)
                or (length <= self.identity_max
                    and identity_reply(text, norm, self.pack, confirmation=False, negation=False) is not None)
            )
        if self.none_column is not None:
            probabilities = class_probabilities(detector.classifier, features.classifier_input())[:, self.none_column]
            ordinary |= probabilities >= NON_OBJECTION_PROBABILITY
        ordinary |= features.similarity(self.examples).max(axis=1) >= NON_OBJECTION_SIMILARITY
        return ordinary
