"""The events the engine emits: one JSON form for the CLI, the WebSocket, storage and reports.

Every event has ``type``, ``call_id`` and ``utterance_id`` (the utterance's index in the call, or
null for call-level events such as pre-call gates and the scorecard) and the audio time it refers to.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class BaseEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str
    utterance_id: int | None
    #: Audio time (seconds from call start) the event refers to.
    time: float | None = None
    #: Live calls only: server clock (Unix seconds) when the event was sent, and how far (seconds of
    #: audio) the server is behind what it has received. Null for recorded transcripts.
    emitted_at: float | None = None
    lag: float | None = None

    def to_json(self) -> str:
        return self.model_dump_json()


class UtteranceEvent(BaseEvent):
    type: Literal["utterance"] = "utterance"
    speaker: str
    text: str
    start: float
    end: float
    #: The stage the call is in after this utterance.
    stage: str | None = None


class SentimentEvent(BaseEvent):
    type: Literal["sentiment"] = "sentiment"
    speaker: str
    label: str
    valence: float = Field(ge=-1, le=1)
    confidence: float = Field(ge=0, le=1)
    #: The words or cues the label rests on.
    evidence: list[str] = Field(default_factory=list)
    method: str


class Suggestion(BaseModel):
    text: str
    stage: str
    principle: str = ""
    #: Playbook entry: ``<playbook>@<version>#intents/<id>/responses/<n>``.
    ref: str


class IntentEvent(BaseEvent):
    type: Literal["intent"] = "intent"
    intent: str
    name: str
    kind: str
    confidence: float = Field(ge=0, le=1)
    #: The playbook example (or keyword, or context) the decision rests on.
    evidence: str
    evidence_similarity: float | None = None
    method: str
    suggestions: list[Suggestion]
    ref: str
    escalation: dict | None = None
    #: The runners-up, for explanation: [{intent, confidence}].
    alternatives: list[dict] = Field(default_factory=list)
    #: A commitment's terms as heard: amount, currency, due (the words naming the date), channel,
    #: card_or_account_digits. Absent for objections.
    details: dict | None = None


class ComplianceEvent(BaseEvent):
    type: Literal["compliance"] = "compliance"
    rule_id: str
    name: str
    severity: Literal["S1", "S2", "S3", "S4"]
    message: str
    #: What was said (or which metadata) that breaks the rule.
    evidence: str
    citation: str
    confidence: float = Field(ge=0, le=1)
    #: How the rule matched: phrase, pattern, example, metadata, deadline, amount.
    method: str
    speaker: str | None = None
    ref: str


class CheckResult(BaseModel):
    id: str
    name: str
    #: True passed, False failed, None not applicable to this call.
    passed: bool | None
    weight: float
    detail: str = ""
    #: A critical check: failing it fails the call (score 0).
    fails_call: bool = False


class ScorecardEvent(BaseEvent):
    type: Literal["scorecard"] = "scorecard"
    score: float | None = Field(description="Weighted share of applicable checks passed, 0-100; 0 when a critical "
                                            "check failed (auto_failed)")
    checks: list[CheckResult]
    #: The critical checks that failed and so failed the call (ids), if any.
    auto_failed: list[str] = Field(default_factory=list)
    stages: list[dict]
    metrics: dict
    violations: dict[str, int]
    objections: dict[str, int]
    ref: str


class ReadyEvent(BaseEvent):
    """Live calls: the server accepted the start message and is listening."""

    type: Literal["ready"] = "ready"
    playbook: str
    channels: list[str]
    asr_model: str


class PartialEvent(BaseEvent):
    """Live calls: the words so far of an utterance still being spoken. ``stable_text`` is the prefix
    two successive decodes agreed on; ``stable`` is true when that is all of ``text``."""

    type: Literal["partial"] = "partial"
    speaker: str
    text: str
    stable_text: str
    stable: bool
    start: float
    end: float


class WarningEvent(BaseEvent):
    """Something that makes the whole call's analysis doubtful, told as soon as it is known: the same
    ``code`` and ``message`` are kept in the stored call's ``warnings`` (``language_mismatch``: the
    speech is not in the language the call was started with)."""

    type: Literal["warning"] = "warning"
    code: str
    message: str


class ErrorEvent(BaseEvent):
    type: Literal["error"] = "error"
    code: str
    message: str


Event = Annotated[
    Union[UtteranceEvent, SentimentEvent, IntentEvent, ComplianceEvent, ScorecardEvent, ReadyEvent, PartialEvent,
          WarningEvent, ErrorEvent],
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(data: dict | str | bytes) -> BaseEvent:
    """Parse one event from its JSON form (for clients and tests)."""
    if isinstance(data, (str, bytes)):
        return EVENT_ADAPTER.validate_json(data)
    return EVENT_ADAPTER.validate_python(data)
