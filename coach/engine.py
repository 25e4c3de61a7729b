"""The coaching engine: one utterance at a time, with the call's context so far.

:class:`CoachEngine` holds what is shared (playbook, models, fitted classifiers) and is built once per
playbook per process; :class:`CallSession` holds one call's state. Live calls feed utterances as the
transcriber finalises them; recorded calls feed them in a loop: the same code path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coach.analyzers.compliance import ComplianceMonitor, ComplianceRules, Finding
from coach.analyzers.features import FeatureSpace, Features
from coach.analyzers.intent import IntentContext, IntentResult, ObjectionDetector
from coach.analyzers.matcher import CompiledMatcher
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
    SentimentEvent,
    Suggestion,
    UtteranceEvent,
)
from coach.playbook import Playbook, default_playbook_id, load_playbook
from coach.scorecard import CallRecord, evaluate
from coach.transcript import Call, Utterance

log = logging.getLogger(__name__)

#: Stages whose agent utterances count as a payment proposal for reading a bare "yes".
PROPOSAL_STAGES = ("negotiation", "commitment")


def playbook_corpus(playbook: Playbook) -> list[str]:
    """Every text in the playbook: the lexical vocabulary is fitted on these."""
    texts = list(playbook.non_objection_examples)
    for intent in playbook.intents:
        texts += intent.examples + intent.keywords.phrases + intent.keywords.examples
    for emotion in playbook.emotions:
        texts += emotion.examples + emotion.cues.phrases + emotion.cues.examples
    for stage in playbook.stages:
        texts += stage.cues.phrases + stage.cues.examples
    for rule in playbook.rules:
        texts += rule.trigger.phrases + rule.trigger.examples
    return texts


class CoachEngine:
    """Everything shared by the calls of one playbook. Thread-safe for concurrent sessions."""

    def __init__(self, playbook: Playbook, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        self.playbook = playbook
        self.language = playbook.language
        self.ref = f"{playbook.id}@{playbook.version}"
        if settings.torch_threads:
            import torch

            torch.set_num_threads(settings.torch_threads)
        embedder = load_embedder(
            settings.embedding_model(self.language), allow_downloads=settings.allow_downloads, device=settings.device,
            backend=settings.embedding_backend, cache_dir=settings.cache_dir, threads=settings.torch_threads,
        )
        self.space = FeatureSpace(self.language, playbook_corpus(playbook), embedder)
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
        self.detector = ObjectionDetector(playbook, self.space, nli)
        self.sentiment = SentimentAnalyzer(playbook, self.space, valence_model)
        self.stages = StageDetector(playbook, self.space)
        self.rules = ComplianceRules(playbook, self.space)
        self.cue_checks = {c.id: CompiledMatcher(c.cues, self.space) for c in playbook.scorecard if c.kind == "cue" and c.cues}

    def session(
        self,
        call_id: str,
        *,
        metadata: dict[str, Any] | None = None,
        started_at: datetime | None = None,
    ) -> "CallSession":
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


_ENGINES: dict[tuple[str, int], CoachEngine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(playbook_ref: str | None = None, *, language: str | None = None, settings: Settings | None = None) -> CoachEngine:
    """The shared engine for a playbook (by id or path), or the default playbook of ``language``."""
    if playbook_ref is None:
        if language is None:
            raise ValueError("give a playbook or a language")
        playbook_ref = default_playbook_id(language)
    playbook = load_playbook(playbook_ref)
    key = (playbook_ref, id(playbook))
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = CoachEngine(playbook, settings)
        return _ENGINES[key]


@dataclass
class _Analysis:
    features: Features
    intent: IntentResult | None = None


class CallSession:
    """One call in progress: feed utterances in order, then :meth:`finish`."""

    def __init__(self, engine: CoachEngine, call_id: str, metadata: dict[str, Any], started_at: datetime | None) -> None:
        self.engine = engine
        self.call_id = call_id
        self.metadata = metadata
        self.stages = StageTracker(engine.stages)
        self.compliance = ComplianceMonitor(engine.rules, metadata, started_at)
        self.record = CallRecord()
        self.next_id = 0
        self.previous_agent: tuple[str, str | None] | None = None  # (text, stage)
        self.last_end = 0.0
        self.finished = False

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> list[BaseEvent]:
        """Pre-call gates on metadata, reported before the first word."""
        self.compliance.reach("call_start", 0.0)
        return [self._compliance_event(f) for f in self.compliance.check_metadata()]

    def process(self, utterance: Utterance, acoustic: AcousticCues | None = None) -> list[BaseEvent]:
        """Events for one final utterance: the utterance, then sentiment, intent and compliance."""
        if self.finished:
            raise RuntimeError("the call has finished")
        uid = self.next_id
        self.next_id += 1
        text = utterance.text.strip()
        self.record.turns.append((utterance.speaker, utterance.start, utterance.end))
        self.last_end = max(self.last_end, utterance.end)
        events: list[BaseEvent] = []
        try:
            events += self._analyze(uid, utterance, text, acoustic)
        except Exception as exc:  # one bad utterance must not end the call
            log.exception("analysis failed on %s utterance %d", self.call_id, uid)
            events.insert(0, self._utterance_event(uid, utterance))
            events.append(ErrorEvent(call_id=self.call_id, utterance_id=uid, time=utterance.start, code="analyzer_failed", message=str(exc)))
        return events

    def finish(self) -> list[BaseEvent]:
        """Deadlines that were never met, then the scorecard."""
        if self.finished:
            return []
        self.finished = True
        events: list[BaseEvent] = [self._compliance_event(f) for f in self.compliance.finish(self.last_end)]
        score, checks, metrics = evaluate(self.engine.playbook, self.stages, self.record)
        stages = [
            {"stage": r.stage, "utterance_id": r.utterance_id, "time": r.time, "evidence": r.evidence}
            for r in sorted(self.stages.reached.values(), key=lambda r: r.utterance_id)
        ]
        events.append(
            ScorecardEvent(
                call_id=self.call_id, utterance_id=None, time=self.last_end, score=score, checks=checks, stages=stages,
                metrics=metrics, violations=dict(self.record.violations),
                objections=_count(self.record.objections.values()), ref=f"{self.engine.ref}#scorecard",
            )
        )
        return events

    # -- analysis ------------------------------------------------------------------------------

    def _analyze(self, uid: int, utterance: Utterance, text: str, acoustic: AcousticCues | None) -> list[BaseEvent]:
        engine = self.engine
        speaker = utterance.speaker
        if not text:
            return [self._utterance_event(uid, utterance)]
        features = engine.space.encode([text])
        events: list[BaseEvent] = []
        sentiment_event: SentimentEvent | None = None
        intent_event: IntentEvent | None = None
        intent: IntentResult | None = None

        if speaker == "agent":
            stage = self.stages.on_agent(uid, utterance.start, features)
            for reached in self.stages.reached.values():
                self.compliance.reach(f"stage:{reached.stage}", reached.time)
            self._answer_objections(uid)
            for check_id, matcher in engine.cue_checks.items():
                if check_id not in self.record.cues_said and matcher.match(features):
                    self.record.cues_said[check_id] = text
            tone = engine.sentiment.analyze(features, acoustic)
            if tone.label == "angry" and tone.confidence >= 0.5:
                self.record.agent_tone_problems.append(f"utterance {uid}: sounded angry ({text!r})")
            self.previous_agent = (text, stage)
        else:
            result = engine.sentiment.analyze(features, acoustic)
            sentiment_event = SentimentEvent(
                call_id=self.call_id, utterance_id=uid, time=utterance.start, speaker=speaker, label=result.label,
                valence=result.valence, confidence=result.confidence, evidence=result.evidence, method=result.method,
            )
            if speaker in ("debtor", "unknown", "third_party"):
                intent = engine.detector.detect(features, self._intent_context())
            if intent is not None:
                intent_event = self._intent_event(uid, utterance.start, intent)
                if engine.playbook.intent(intent.intent).kind == "objection":
                    self.record.objections[uid] = intent.intent
                self.compliance.reach(f"intent:{intent.intent}", utterance.start)
            # Only the debtor can confirm their own identity: a relative's "yes" verifies nothing.
            not_the_debtor = speaker != "debtor" or bool(intent and intent.intent == "wrong_party")
            if self.stages.on_debtor(utterance.start, features, wrong_party=not_the_debtor):
                self.compliance.reach("identity_verified", utterance.start)
            self.previous_agent = None

        findings = self.compliance.on_utterance(
            uid, speaker, utterance.start, features,
            identity_verified=self.stages.identity_verified,
            debtor_intent=intent.intent if intent else None,
        )
        for finding in findings:
            if finding.utterance_id == uid and speaker == "agent":
                self._mark_bad_answer(uid)
        events.append(self._utterance_event(uid, utterance))
        if sentiment_event:
            events.append(sentiment_event)
        if intent_event:
            events.append(intent_event)
        events += [self._compliance_event(f) for f in findings]
        return events

    def _intent_context(self) -> IntentContext:
        if self.previous_agent is None:
            return IntentContext()
        text, stage = self.previous_agent
        return IntentContext(
            previous_agent_text=text,
            previous_agent_identity_check=stage is not None and stage == self.engine.stages.identity_stage,
            previous_agent_payment_proposal=stage in PROPOSAL_STAGES,
        )

    def _answer_objections(self, uid: int) -> None:
        """The agent is speaking: objections since the agent last spoke count as answered."""
        for objection_uid in self.record.objections:
            if objection_uid not in self.record.answer_of and objection_uid < uid:
                self.record.answer_of[objection_uid] = uid

    def _mark_bad_answer(self, uid: int) -> None:
        for objection_uid, answer_uid in self.record.answer_of.items():
            if answer_uid == uid:
                self.record.bad_answers.add(objection_uid)

    # -- event construction --------------------------------------------------------------------

    def _utterance_event(self, uid: int, utterance: Utterance) -> UtteranceEvent:
        return UtteranceEvent(
            call_id=self.call_id, utterance_id=uid, time=utterance.start, speaker=utterance.speaker,
            text=utterance.text, start=utterance.start, end=utterance.end, stage=self.stages.current,
        )

    def _intent_event(self, uid: int, time: float, result: IntentResult) -> IntentEvent:
        playbook = self.engine.playbook
        intent = playbook.intent(result.intent)
        stage = self.stages.current or playbook.stages[0].id
        base = f"{self.engine.ref}#intents/{intent.id}"
        chosen = [(n, r) for n, r in enumerate(intent.responses) if r.stage == stage]
        chosen += [(n, r) for n, r in enumerate(intent.responses) if r.stage == "any"]
        if not chosen:
            chosen = list(enumerate(intent.responses))
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

    def _compliance_event(self, finding: Finding) -> ComplianceEvent:
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
