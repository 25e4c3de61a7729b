"""The engine's embedding space, without paying twice for what the engine already encoded.

Encoding the playbook's own texts (hundreds of non-objection examples, agent lines, responses) takes
seconds on a CPU, Chinese most of all, and the fitted engine already holds them: the objection
detector keeps its examples' features, the prohibited-speech analyzer its agent lines'. Rows are
taken from there when the text is the same, and only the rest is encoded.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import vstack

from coach.analyzers.features import Features
from coach.engine import CoachEngine


def playbook_features(engine: CoachEngine, texts: list[str]) -> Features:
    """Features of ``texts`` in ``engine``'s space, identical to ``engine.space.encode(texts)``."""
    sources: list[Features] = []
    where: dict[str, tuple[int, int]] = {}

    def add(source_texts: list[str], features: Features | None) -> None:
        if features is None or len(source_texts) != len(features.texts):
            return
        sources.append(features)
        for row, text in enumerate(source_texts):
            where.setdefault(text, (len(sources) - 1, row))

    add(engine.detector.texts, engine.detector.example_features)
    speech = engine.analyzer("prohibited_speech")
    add(getattr(speech, "texts", []), getattr(speech, "features", None))
    missing = [t for t in dict.fromkeys(texts) if t not in where]
    if missing:
        add(missing, engine.space.encode(missing))
    if not texts:
        return engine.space.encode([])
    rows = [where[t] for t in texts]
    dense = None
    if all(sources[s].dense is not None for s, _ in rows):
        dense = np.vstack([sources[s].dense[r] for s, r in rows])
    return Features(list(texts), [sources[s].norms[r] for s, r in rows], dense,
                    vstack([sources[s].lexical[r] for s, r in rows]).tocsr(), engine.space.lexical_weight)
