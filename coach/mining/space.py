"""The engine's embedding space, without paying twice for what was encoded already.

Encoding the playbook's own texts (hundreds of non-objection examples, agent lines, responses) takes
seconds on a CPU, Chinese most of all, and the fitted engine already holds them: the objection
detector keeps its examples' features, the prohibited-speech analyzer its agent lines'. A page of
calls read with another playbook than its review's has its debtor lines encoded for the claims
(:mod:`coach.mining.claims`) and again for the clusters. Rows are taken from what was encoded before
when the text is the same, and only the rest is encoded.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import vstack

from coach.analyzers.features import Features
from coach.engine import CoachEngine


class SharedEncoder:
    """Features in ``engine``'s space, identical to ``engine.space.encode(texts)``, each distinct text
    encoded once for the encoder's life."""

    def __init__(self, engine: CoachEngine) -> None:
        self.engine = engine
        self._sources: list[Features] = []
        self._where: dict[str, tuple[int, int]] = {}

    @classmethod
    def with_playbook(cls, engine: CoachEngine) -> SharedEncoder:
        """One that starts from the texts the fitted engine holds encoded."""
        encoder = cls(engine)
        encoder._add(engine.detector.texts, engine.detector.example_features)
        speech = engine.analyzer("prohibited_speech")
        encoder._add(getattr(speech, "texts", []), getattr(speech, "features", None))
        return encoder

    def _add(self, source_texts: list[str], features: Features | None) -> None:
        if features is None or len(source_texts) != len(features.texts):
            return
        self._sources.append(features)
        for row, text in enumerate(source_texts):
            self._where.setdefault(text, (len(self._sources) - 1, row))

    def encode(self, texts: list[str]) -> Features:
        missing = [t for t in dict.fromkeys(texts) if t not in self._where]
        if missing:
            self._add(missing, self.engine.space.encode(missing))
        if not texts:
            return self.engine.space.encode([])
        sources = self._sources
        rows = [self._where[t] for t in texts]
        dense = None
        if all(sources[s].dense is not None for s, _ in rows):
            dense = np.vstack([sources[s].dense[r] for s, r in rows])
        return Features(list(texts), [sources[s].norms[r] for s, r in rows], dense,
                        vstack([sources[s].lexical[r] for s, r in rows]).tocsr(), self.engine.space.lexical_weight)


def playbook_features(engine: CoachEngine, texts: list[str]) -> Features:
    """Features of ``texts`` in ``engine``'s space, identical to ``engine.space.encode(texts)``."""
    return SharedEncoder.with_playbook(engine).encode(texts)
