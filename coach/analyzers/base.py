"""The analyzer seam: every detector the engine runs on an utterance is an :class:`Analyzer`, found by
name in a registry.

An analyzer is built once per playbook (it may fit models on the playbook's examples), keeps what it
needs per call in its own state object, and turns one utterance into typed events (sentiment, intent,
compliance: the event types every printer, the store, the report and the page already know). The
engine runs the configured analyzers in registry order, each behind its own error boundary and time
budget, so a failing analyzer becomes an ``analyzer_failed`` error event and the others still answer.

Analyzers later in the order read what earlier ones concluded about the same utterance from
:attr:`Turn.facts` (the dialogue act, the objection, the stage), so a new analyzer is a new module that
registers itself: no edit to the engine, the store, the report, the CLI or the pages.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from coach.analyzers.features import Features, FeatureSpace
from coach.errors import ConfigError
from coach.events import BaseEvent
from coach.playbook.schema import Playbook
from coach.text.offensive import OffensiveLanguageDetector, OffensiveScore
from coach.transcript import Utterance

if TYPE_CHECKING:
    from coach.engine import CallSession, CoachEngine
    from coach.languages import LanguagePack

#: Who an analyzer listens to.
DEBTOR_SIDE = frozenset({"debtor", "unknown", "third_party"})
AGENT_SIDE = frozenset({"agent"})
EVERYONE = DEBTOR_SIDE | AGENT_SIDE


@dataclass
class Turn:
    """One final utterance on its way through the analyzers."""

    uid: int
    utterance: Utterance
    text: str
    features: Features
    #: What analyzers concluded about this utterance, for the ones after them: ``act`` (dialogue act),
    #: ``intent`` (the top :class:`~coach.analyzers.intent.IntentResult`), ``stage``, ``tone``...
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def speaker(self) -> str:
        return self.utterance.speaker

    @property
    def time(self) -> float:
        return self.utterance.start

    def offensive(self, language: str) -> OffensiveScore:
        """How offensive the line is, scored once for every head that weighs it (tone, agent speech)."""
        if "offensive" not in self.facts:
            self.facts["offensive"] = OffensiveLanguageDetector.for_language(language).score([self.text])[0]
        return self.facts["offensive"]

    def unreported(self, pack: LanguagePack, space: FeatureSpace) -> Features | None:
        """The line without the listener's words it quotes back (:meth:`LanguagePack.unreported`),
        encoded once for every head that reads the agent's own words (agent speech, pressing); None
        when it quotes none."""
        if "unreported" not in self.facts:
            rest = pack.unreported(self.text)
            self.facts["unreported"] = space.encode([rest]) if rest is not None else None
        return self.facts["unreported"]


class Analyzer(ABC):
    """One detector. Subclasses set :attr:`name` and :attr:`speakers`, and register with
    :func:`register`; ``order`` places them (lower runs first)."""

    name: ClassVar[str]
    speakers: ClassVar[frozenset[str]] = EVERYONE
    order: ClassVar[int] = 50

    def __init__(self, engine: CoachEngine) -> None:
        self.engine = engine

    def __getstate__(self) -> dict[str, Any]:
        """Fitted analyzers are cached on disk without the engine they belong to (see :meth:`attach`)."""
        state = dict(self.__dict__)
        state.pop("engine", None)
        return state

    def attach(self, engine: CoachEngine) -> None:
        """Join the engine, after being built or loaded from the cache."""
        self.engine = engine

    @property
    def playbook(self) -> Playbook:
        return self.engine.playbook

    @property
    def space(self) -> FeatureSpace:
        return self.engine.space

    def new_call(self, session: CallSession) -> Any:
        """Per-call state, kept by the session as ``session.state[self.name]``."""
        return None

    @abstractmethod
    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        """Events for one utterance (possibly none)."""

    def finish(self, session: CallSession) -> list[BaseEvent]:
        """Events when the call ends, before the scorecard."""
        return []


ANALYZERS: dict[str, type[Analyzer]] = {}


def register(cls: type[Analyzer]) -> type[Analyzer]:
    """Class decorator: make an analyzer available by its name."""
    ANALYZERS[cls.name] = cls
    return cls


def analyzer_classes(names: list[str] | None) -> list[type[Analyzer]]:
    """The analyzers to run, in order: ``names`` (None: all registered), or a :class:`ConfigError`
    naming the ones that exist."""
    import coach.analyzers.builtin  # noqa: F401  (registers the built-in analyzers)

    if names is None:
        chosen = list(ANALYZERS.values())
    else:
        unknown = [n for n in names if n not in ANALYZERS]
        if unknown:
            raise ConfigError(
                f"unknown analyzer(s) {', '.join(map(repr, unknown))}; available: {', '.join(sorted(ANALYZERS))}"
            )
        chosen = [ANALYZERS[n] for n in names]
    return sorted(chosen, key=lambda cls: cls.order)
