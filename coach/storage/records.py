"""What the store hands out: plain pydantic records, the same shapes the REST API answers with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Role = Literal["agent", "coach", "supervisor", "trainer", "admin", "integration"]
ROLES: tuple[str, ...] = ("agent", "coach", "supervisor", "trainer", "admin", "integration")
#: Roles that may watch the live floor (``/v1/supervisor``): supervisors and coaches their team's calls, admins all.
WATCHERS: tuple[str, ...] = ("supervisor", "coach", "admin")
#: Roles that may stream live calls (``/v1/stream``): an agent's console, a telephony integration, an admin.
STREAMERS: tuple[str, ...] = ("agent", "integration", "admin")


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an agent sees only their own calls, a coach or a supervisor their team's, trainers
    and admins all;
    an integration (a telephony system that streams calls) sees none."""

    name: str
    role: str
    agent_id: str | None = None
    team: str | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role in ("trainer", "admin")


#: The command line and tests act with full rights.
SYSTEM = Viewer(name="system", role="admin")


@dataclass(frozen=True)
class NewCall:
    """Everything known about a call before its first event."""

    call_id: str
    language: str
    playbook: str
    #: demo: a bundled sample streamed from the console or `coach replay` (hidden from lists by default)
    source: Literal["live", "upload", "cli", "demo"]
    agent_id: str | None = None
    team: str | None = None
    started_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    filename: str | None = None
    content_hash: str | None = None
    audio_path: str | None = None
    speaker_method: str | None = None
    #: What was repaired or dropped when the call was read: [{"code", "message"}].
    warnings: list[dict[str, str]] | None = None


class CallFilter(BaseModel):
    agent_id: str | None = None
    team: str | None = None
    language: str | None = None
    #: A rule id (e.g. US-THREAT) or a severity (S1..S4): calls with at least one such finding.
    violation: str | None = None
    outcome: str | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    #: Demo calls (bundled samples played from the console or `coach replay`) are left out unless asked for.
    include_demo: bool = False


class CallSummary(BaseModel):
    id: str
    language: str
    playbook: str
    source: str
    status: str
    filename: str | None
    agent_id: str | None
    team: str | None
    started_at: datetime | None
    created_at: datetime
    duration: float | None
    score: float | None
    outcome: str | None
    violation_count: int
    worst_severity: str | None
    has_audio: bool


class UtteranceRecord(BaseModel):
    utterance_id: int
    speaker: str
    text: str
    start: float
    end: float
    stage: str | None


class NoteRecord(BaseModel):
    id: int
    call_id: str
    utterance_id: int | None
    author: str
    text: str
    created_at: datetime


class RedactionRecord(BaseModel):
    utterance_id: int | None
    field: str
    kind: str
    start: int
    end: int
    digest: str


class CallWarningRecord(BaseModel):
    code: str
    message: str


class CallDetail(CallSummary):
    metadata: dict[str, Any]
    summary: str | None
    outcome_detail: dict[str, Any] | None
    speaker_method: str | None
    content_hash: str | None
    #: What was repaired or dropped when the call was read (overlaps clamped, empty utterances).
    warnings: list[CallWarningRecord] = Field(default_factory=list)
    utterances: list[UtteranceRecord]
    redactions: list[RedactionRecord]


class TokenRecord(BaseModel):
    id: int
    name: str
    role: str
    agent_id: str | None
    team: str | None
    created_at: datetime
    revoked_at: datetime | None
