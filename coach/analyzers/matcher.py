"""Matching a playbook :class:`~coach.playbook.schema.Matcher` against an utterance."""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.analyzers.features import Features, FeatureSpace
from coach.config import get_settings
from coach.playbook.regexes import compile_pattern
from coach.playbook.schema import Matcher
from coach.text.normalize import normalize

#: Similarity an ``examples`` match needs by default: cosine of sentence embeddings, or of the
#: TF-IDF vectors when the language has no embedding model (lexical overlap scores lower).
DENSE_MATCH_THRESHOLD = 0.72
LEXICAL_MATCH_THRESHOLD = 0.55


@dataclass(frozen=True)
class Match:
    method: str  # phrase | pattern | example
    evidence: str  # the matched text in the utterance, or the nearest example
    confidence: float
    similarity: float | None = None


class CompiledMatcher:
    def __init__(self, matcher: Matcher, space: FeatureSpace) -> None:
        language = space.language
        self.language = language
        self._phrases = [_phrase_regex(normalize(p, language), language) for p in matcher.phrases if normalize(p, language)]
        # Time-limited (a search that runs out counts as no match): a playbook regex never freezes a call.
        timeout = get_settings().regex_timeout_ms / 1000
        self._patterns = [compile_pattern(p, timeout) for p in matcher.patterns]
        self._unless = [compile_pattern(p, timeout) for p in matcher.unless]
        self._ignored = [compile_pattern(p, timeout) for p in matcher.ignore]
        self._examples = matcher.examples
        self._example_features = space.encode(matcher.examples) if matcher.examples else None
        dense = space.embedder is not None
        default = DENSE_MATCH_THRESHOLD if dense else LEXICAL_MATCH_THRESHOLD
        self.threshold = matcher.min_similarity if matcher.min_similarity is not None else default

    def vetoed(self, norm: str) -> bool:
        """An ``unless`` pattern matches the normalised text (a reassurance, a negation)."""
        return any(veto.search(norm) for veto in self._unless)

    def match_words(self, norm: str) -> Match | None:
        """A phrase or pattern match in normalised text (examples need the utterance's features)."""
        if not norm or self.vetoed(norm):
            return None
        return self._worded(norm)

    def _worded(self, norm: str) -> Match | None:
        for ignored in self._ignored:
            norm = ignored.blank(norm)
        for regex in self._phrases:
            found = regex.search(norm)
            if found:
                return Match("phrase", found.group(0), 0.95)
        for pattern in self._patterns:
            found = pattern.search(norm)
            if found:
                return Match("pattern", found.group(0), 0.9)
        return None

    def match(self, features: Features) -> Match | None:
        """The strongest match in a one-row ``features``, or None."""
        norm = features.norms[0]
        if not norm or self.vetoed(norm):
            return None
        worded = self._worded(norm)
        if worded is not None:
            return worded
        if self._example_features is not None:
            sims = features.similarity(self._example_features)[0]
            best = int(sims.argmax())
            similarity = float(sims[best])
            if similarity >= self.threshold:
                confidence = min(0.95, 0.6 + 0.35 * (similarity - self.threshold) / max(1e-6, 1 - self.threshold))
                return Match("example", self._examples[best], round(confidence, 3), round(similarity, 3))
        return None


def _phrase_regex(norm_phrase: str, language: str) -> re.Pattern[str]:
    """Whole-word match for English; plain substring for Chinese (no word boundaries in the text)."""
    escaped = re.escape(norm_phrase)
    if language == "zh":
        return re.compile(escaped)
    return re.compile(rf"(?<![\w]){escaped}(?![\w])")
