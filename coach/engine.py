"""The coaching engine: one utterance at a time, with the call's context so far.

:class:`CoachEngine` holds what is shared (playbook, models, fitted classifiers) and is built once per
playbook per process; :class:`CallSession` holds one call's state. Live calls feed utterances as the
transcriber finalises them; recorded calls feed them in a loop: the same code path.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from coach import engine_cache
from coach.alerts import self_harm_cue
from coach.analyzers.agent_speech import classified_rules
from coach.analyzers.base import Analyzer, Turn, analyzer_classes
from coach.analyzers.compliance import ComplianceMonitor, ComplianceRules, Finding
from coach.analyzers.features import FeatureSpace
from coach.analyzers.intent import IntentContext, IntentResult, ObjectionDetector
from coach.analyzers.nli import ZeroShotScorer
from coach.analyzers.sentiment import AcousticCues, SentimentAnalyzer, ValenceModel
from coach.analyzers.stages import StageDetector, StageTracker
from coach.config import Settings, get_settings
from coach.embeddings import load_embedder
from coach.errors import InputError
from coach.events import (
    BaseEvent,
    ComplianceEvent,
    ErrorEvent,
    IntentEvent,
    ScorecardEvent,
    Suggestion,
    UtteranceEvent,
)
from coach.languages import language_pack
from coach.outcome import find_amount, find_due_date
from coach.playbook import Playbook, default_playbook_id, load_playbook
from coach.scorecard import CallRecord, evaluate, failed_on
from coach.transcript import Call, Utterance

log = logging.getLogger(__name__)

#: The order of an utterance's events, whichever analyzer found them first: what the debtor feels,
#: then the hints (the first intent event is the top hint), then the rules broken, then any failure.
EVENT_ORDER = {"sentiment": 0, "intent": 1, "compliance": 2, "error": 3}

#: Stages whose agent utterances count as a payment proposal for reading a bare "yes".
PROPOSAL_STAGES = ("negotiation", "commitment")


def playbook_corpus(playbook: Playbook) -> list[str]:
    """The playbook's texts that the shared lexical vocabulary is fitted on: all but the emotion
    examples and the examples of the prohibited agent speech rules, which those heads fit a vocabulary
    of their own on (:class:`SentimentAnalyzer`, :class:`ProhibitedSpeechAnalyzer`), so that more of
    them do not shift what the objection head reads."""
    classified = {rule.id for rule in classified_rules(playbook)}
    texts = list(playbook.non_objection_examples)
    for intent in playbook.intents:
        texts += intent.examples + intent.keywords.phrases + intent.keywords.examples
    for emotion in playbook.emotions:
        texts += emotion.cues.phrases + emotion.cues.examples
    for stage in playbook.stages:
        texts += stage.cues.phrases + stage.cues.examples
    for rule in playbook.rules:
        texts += rule.trigger.phrases + ([] if rule.id in classified else rule.trigger.examples)
        if rule.anytime is not None:
            texts += rule.anytime.phrases + rule.anytime.examples
    return texts


def fitted_texts(playbook: Playbook) -> list[str]:
    """Every playbook text a fit embeds: the corpus, and the examples the heads learn beside it."""
    texts = playbook_corpus(playbook) + list(playbook.compliant_agent_examples)
    texts += [example.text for example in playbook.calibration_examples]
    for emotion in playbook.emotions:
        texts += emotion.examples
    for intent in playbook.intents:
        texts += [response.text for response in intent.responses]
    for rule in playbook.rules:
        texts += rule.lawful_examples
        for matcher in (rule.after_debtor, rule.acknowledged):
            if matcher is not None:
                texts += matcher.phrases + matcher.examples
    return texts


class CoachEngine:
    """Everything shared by the calls of one playbook. Thread-safe for concurrent sessions.

    The fitted parts (feature space, classifiers, calibrations) come from the on-disk cache when an
    identical playbook was fitted with identical settings before (:mod:`coach.engine_cache`), so a
    start takes seconds; the models themselves (embedder, optional NLI and valence models) always load
    fresh and are attached to them.
    """

    def __init__(self, playbook: Playbook, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        self.settings = settings
        self.playbook = playbook
        self.language = playbook.language
        self.ref = f"{playbook.id}@{playbook.version}"
        embedder = load_embedder(
            settings.embedding_model(self.language), allow_downloads=settings.allow_downloads, device=settings.device,
            backend=settings.embedding_backend, cache_dir=settings.cache_dir, threads=settings.torch_threads,
            weights=settings.embedding_weights,
        )
        nli = None
        if settings.nli_model:
            nli = ZeroShotScorer(
                settings.nli_model, self.language, [i.id for i in playbook.intents],
                allow_downloads=settings.allow_downloads, device=settings.device,
            )
        valence_model = None
        if settings.sentiment_model(self.language):
            valence_model = ValenceModel(
                settings.sentiment_model(self.language), allow_downloads=settings.allow_downloads, device=settings.device
            )
        if settings.torch_threads and "torch" in sys.modules:  # not imported at all when nothing runs on it
            import torch

            torch.set_num_threads(settings.torch_threads)
        if settings.torch_threads:
            limit_blas_threads(settings.torch_threads)
        classes = analyzer_classes(settings.analyzers or None)
        key = engine_cache.cache_key(playbook, embedder, [c.name for c in classes])
        #: What the fit depends on: models fitted on top of this engine are cached under it too.
        self.cache_key = key
        fitted = engine_cache.load(settings.cache_dir, playbook.id, key)
        if fitted is None:
            fitted = self._fit(embedder, classes)
            engine_cache.store(settings.cache_dir, playbook.id, key, fitted)
        self.space: FeatureSpace = fitted["space"]
        self.space.embedder = embedder
        self.detector: ObjectionDetector = fitted["detector"]
        self.detector.nli = nli
        self.sentiment: SentimentAnalyzer = fitted["sentiment"]
        self.sentiment.model = valence_model
        self.stages: StageDetector = fitted["stages"]
        self.rules: ComplianceRules = fitted["rules"]
        self.analyzers: list[Analyzer] = fitted["analyzers"]
        for analyzer in self.analyzers:
            analyzer.attach(self)
        #: Seconds one analyzer may take on one utterance before its result is dropped for an error event.
        self.analyzer_budget = settings.analyzer_budget_ms / 1000.0

    def _fit(self, embedder: Any, classes: list[type[Analyzer]]) -> dict[str, Any]:
        """Everything fitted on the playbook, as one picklable bundle (the embedder is attached after)."""
        playbook = self.playbook
        self.space = FeatureSpace(self.language, playbook_corpus(playbook), embedder)
        self.space.warm(fitted_texts(playbook))
        self.detector = ObjectionDetector(playbook, self.space)
        self.sentiment = SentimentAnalyzer(playbook, self.space)
        self.stages = StageDetector(playbook, self.space)
        self.rules = ComplianceRules(playbook, self.space)
        analyzers = [cls(self) for cls in classes]
        return {"space": self.space, "detector": self.detector, "sentiment": self.sentiment, "stages": self.stages,
                "rules": self.rules, "analyzers": analyzers}

    def analyzer(self, name: str) -> Analyzer | None:
        return next((a for a in self.analyzers if a.name == name), None)

    def session(
        self,
        call_id: str,
        *,
        metadata: dict[str, Any] | None = None,
        started_at: datetime | None = None,
    ) -> CallSession:
        return CallSession(self, call_id, metadata or {}, started_at)

    def analyze(self, call: Call) -> Iterator[BaseEvent]:
        """All events of a recorded call, in order."""
        if call.language != self.language:
            raise InputError(
                f"call {call.call_id!r} is in {call.language!r} but playbook {self.playbook.id!r} is for {self.language!r}"
            )
        session = self.session(call.call_id, metadata=call.metadata.model_dump(exclude_none=True), started_at=call.started_at)
        yield from session.start()
        for utterance in call.utterances:
            yield from session.process(utterance)
        yield from session.finish()


#: One engine per playbook reference (id or path), replaced when its playbook changes; each built
#: under a lock of its own, so a slow build holds back only the calls that need that playbook.
_ENGINES: dict[str, CoachEngine] = {}
_ENGINES_LOCK = threading.Lock()
_BUILDING: dict[str, threading.Lock] = {}


def limit_blas_threads(threads: int) -> None:
    """Hold numpy's and scipy's BLAS to ``threads`` threads for the rest of the process.

    An utterance's linear algebra (one row against a classifier's weights) is far too small to gain
    from more threads, but OpenBLAS's extra threads keep spinning on the other core for a while after
    each product, where the second embedding view and speech recognition need it: with them held to
    one, English per-utterance latency fell from p95 48 to 38 ms on a 2-core machine (docs/benchmarks.md §20)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")


def get_engine(playbook_ref: str | None = None, *, language: str | None = None, settings: Settings | None = None) -> CoachEngine:
    """The shared engine for a playbook (by id or path), or the default playbook of ``language``."""
    if playbook_ref is None:
        if language is None:
            raise ValueError("give a playbook or a language")
        playbook_ref = default_playbook_id(language)
    playbook = load_playbook(playbook_ref)
    with _ENGINES_LOCK:
        building = _BUILDING.setdefault(playbook_ref, threading.Lock())
    with building:
        engine = _ENGINES.get(playbook_ref)
        # the same playbook read again (the loader's cache let it go) is the same engine; an edited
        # one replaces it (calls in progress keep the engine they started with)
        if engine is None or (engine.playbook is not playbook and engine.playbook != playbook):
            engine = _ENGINES[playbook_ref] = CoachEngine(playbook, settings)
        return engine


class CallSession:
    """One call in progress: feed utterances in order, then :meth:`finish`.

    It holds the call's shared context (stages, identity, compliance anchors, the scorecard record,
    the agent's last question) and each analyzer's own per-call state in :attr:`state`.
    """

    def __init__(self, engine: CoachEngine, call_id: str, metadata: dict[str, Any], started_at: datetime | None) -> None:
        self.engine = engine
        self.call_id = call_id
        self.metadata = metadata
        self.stages = StageTracker(engine.stages)
        self.compliance = ComplianceMonitor(engine.rules, metadata, started_at)
        self.record = CallRecord()
        self.next_id = 0
        self.previous_agent: tuple[str, str | None] | None = None  # (text, stage)
        #: The agent's last line, kept across the debtor's turns: what a reply split in two answers.
        self.last_agent_text: str | None = None
        self.last_end = 0.0
        self.finished = False
        self.state: dict[str, Any] = {a.name: a.new_call(self) for a in engine.analyzers}

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> list[BaseEvent]:
        """Pre-call gates on metadata, reported before the first word."""
        self.compliance.reach("call_start", 0.0)
        return [self.compliance_event(f) for f in self.compliance.check_metadata()]

    def process(self, utterance: Utterance, acoustic: AcousticCues | None = None) -> list[BaseEvent]:
        """Events for one final utterance: the utterance, then what each analyzer found in it."""
        if self.finished:
            raise RuntimeError("the call has finished")
        uid = self.next_id
        self.next_id += 1
        text = utterance.text.strip()
        self.record.turns.append((utterance.speaker, utterance.start, utterance.end))
        self.last_end = max(self.last_end, utterance.end)
        if not text:
            return [self._utterance_event(uid, utterance)]
        try:
            features = self.engine.space.encode([text])
        except Exception as exc:  # the embedder failing must not end the call either
            log.exception("encoding failed on %s utterance %d", self.call_id, uid)
            return [self._utterance_event(uid, utterance), self._error(uid, utterance.start, "features", exc)]
        turn = Turn(uid, utterance, text, features, facts={"acoustic": acoustic})
        found: list[BaseEvent] = []
        for analyzer in self.engine.analyzers:
            if utterance.speaker not in analyzer.speakers:
                continue
            began = time.perf_counter()
            try:
                events = analyzer.analyze(turn, self)
            except Exception as exc:  # one analyzer failing must not silence the others or end the call
                log.exception("analyzer %s failed on %s utterance %d", analyzer.name, self.call_id, uid)
                found.append(self._error(uid, utterance.start, analyzer.name, exc))
                continue
            spent = time.perf_counter() - began
            if spent > self.engine.analyzer_budget:
                log.warning("analyzer %s took %.0f ms on %s utterance %d", analyzer.name, spent * 1000, self.call_id, uid)
                found.append(self._error(uid, utterance.start, analyzer.name,
                                         f"took {spent * 1000:.0f} ms, over its budget of "
                                         f"{self.engine.analyzer_budget * 1000:.0f} ms; its result was dropped"))
                continue
            found += events
        if utterance.speaker == "agent":
            self.previous_agent = (text, turn.facts.get("stage"))
            self.last_agent_text = text
        else:
            self.previous_agent = None
        found.sort(key=lambda e: EVENT_ORDER.get(e.type, len(EVENT_ORDER)))  # stable: analyzers' order within a type
        return [self._utterance_event(uid, utterance), *found]

    def finish(self) -> list[BaseEvent]:
        """Deadlines that were never met, what analyzers conclude at the end, then the scorecard."""
        if self.finished:
            return []
        self.finished = True
        events: list[BaseEvent] = []
        for analyzer in self.engine.analyzers:
            try:
                events += analyzer.finish(self)
            except Exception as exc:
                log.exception("analyzer %s failed finishing %s", analyzer.name, self.call_id)
                events.append(self._error(None, self.last_end, analyzer.name, exc))
        score, checks, metrics = evaluate(self.engine.playbook, self.stages, self.record)
        stages = [
            {"stage": r.stage, "utterance_id": r.utterance_id, "time": r.time, "evidence": r.evidence}
            for r in sorted(self.stages.reached.values(), key=lambda r: r.utterance_id)
        ]
        events.append(
            ScorecardEvent(
                call_id=self.call_id, utterance_id=None, time=self.last_end, score=score, checks=checks, stages=stages,
                auto_failed=failed_on(checks), metrics=metrics, violations=dict(self.record.violations),
                objections=_count(self.record.objections.values()), ref=f"{self.engine.ref}#scorecard",
            )
        )
        return events

    # -- call context for analyzers ------------------------------------------------------------

    def intent_context(self) -> IntentContext:
        if self.previous_agent is None:
            return IntentContext()
        text, stage = self.previous_agent
        identity = self.engine.stages.identity_stage
        return IntentContext(
            previous_agent_text=text,
            previous_agent_identity_check=stage is not None and stage == identity,
            previous_agent_payment_proposal=self._proposes_payment(text, stage),
            right_party_unconfirmed=identity in self.stages.reached and not self.stages.identity_verified,
        )

    def _proposes_payment(self, text: str, stage: str | None) -> bool:
        """A line of the negotiation or commitment stage, unless it asks an open question a yes cannot
        answer ("您这个月的还款有什么困难吗"); or any line that offers a payment in so many words."""
        if stage in PROPOSAL_STAGES and not language_pack(self.engine.language).asks_open_question(text):
            return True
        return self.offers_payment(text)

    def offers_payment(self, text: str) -> bool:
        """An agent line that puts a payment to the debtor: an offer's words with an amount or a date.
        The stage cues miss most concrete offers ("could you do 40 dollars on the 18th")."""
        language = self.engine.language
        pack = language_pack(language)
        # the offer's words first: most agent lines have none, and reading an amount costs ~0.2 ms
        if not pack.offers_payment(text, money=True):
            return False
        amount = find_amount(text, language)
        if amount is None and not pack.offers_payment(text):
            return False  # no figure: the words must be about paying ("could you call us back monday")
        return bool(amount or find_due_date(text, language, None))

    def answer_objections(self, uid: int) -> None:
        """The agent is speaking: objections since the agent last spoke count as answered."""
        for objection_uid in self.record.objections:
            if objection_uid not in self.record.answer_of and objection_uid < uid:
                self.record.answer_of[objection_uid] = uid

    def mark_bad_answer(self, uid: int) -> None:
        for objection_uid, answer_uid in self.record.answer_of.items():
            if answer_uid == uid:
                self.record.bad_answers.add(objection_uid)

    # -- event construction --------------------------------------------------------------------

    def _error(self, uid: int | None, at: float, analyzer: str, problem: Exception | str) -> ErrorEvent:
        return ErrorEvent(call_id=self.call_id, utterance_id=uid, time=at, code="analyzer_failed",
                          message=f"{analyzer}: {problem}")

    def _utterance_event(self, uid: int, utterance: Utterance) -> UtteranceEvent:
        return UtteranceEvent(
            call_id=self.call_id, utterance_id=uid, time=utterance.start, speaker=utterance.speaker,
            text=utterance.text, start=utterance.start, end=utterance.end, stage=self.stages.current,
        )

    def intent_event(self, uid: int, time: float, result: IntentResult, text: str) -> IntentEvent:
        """``text``: the debtor's line, whose self-harm cue, if any, puts the crisis script first."""
        playbook = self.engine.playbook
        intent = playbook.intent(result.intent)
        stage = self.stages.current or playbook.stages[0].id
        base = f"{self.engine.ref}#intents/{intent.id}"
        crisis = [(n, r) for n, r in enumerate(intent.responses) if r.on_self_harm] if self_harm_cue(text) else []
        scripts = [(n, r) for n, r in enumerate(intent.responses) if not r.on_self_harm]
        staged = [p for p in scripts if p[1].stage == stage] + [p for p in scripts if p[1].stage == "any"]
        # no script for the stage: any (an intent whose every script is the crisis one offers none without a cue)
        chosen = (crisis + staged) or scripts
        suggestions = [
            Suggestion(text=r.text, stage=r.stage, principle=r.principle, ref=f"{base}/responses/{n}") for n, r in chosen[:3]
        ]
        return IntentEvent(
            call_id=self.call_id, utterance_id=uid, time=time, intent=intent.id, name=intent.name, kind=intent.kind,
            confidence=result.confidence, evidence=result.evidence, evidence_similarity=result.evidence_similarity,
            method=result.method, suggestions=suggestions, ref=base,
            escalation=intent.escalation.model_dump() if intent.escalation else None,
            alternatives=[{"intent": i, "confidence": p} for i, p in result.alternatives],
        )

    def compliance_event(self, finding: Finding) -> ComplianceEvent:
        rule = finding.rule
        self.record.violations[rule.id] = self.record.violations.get(rule.id, 0) + 1
        self.record.violation_severity[rule.id] = rule.severity
        return ComplianceEvent(
            call_id=self.call_id, utterance_id=finding.utterance_id, time=finding.time, rule_id=rule.id, name=rule.name,
            severity=rule.severity, message=rule.message, evidence=finding.evidence, citation=rule.citation,
            confidence=finding.confidence, method=finding.method, speaker=finding.speaker,
            ref=f"{self.engine.ref}#rules/{rule.id}",
        )


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts
