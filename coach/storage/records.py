"""What the store hands out: plain pydantic records, the same shapes the REST API answers with."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from coach.errors import InputError

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


def call_id_problem(call_id: str) -> str | None:
    """Why ``call_id`` cannot name a call, or None. A call id is a path segment of the API
    (``/v1/calls/{id}``) and a name on the review page: a slash made a stored call unreachable there,
    and control or format characters (NUL, a right-to-left override) hide what the id says."""
    if not call_id.strip():
        return "is empty"
    if call_id in (".", ".."):
        return "is not a name"
    bad = next((c for c in call_id if c in "/\\" or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        return f"holds {bad!r}: a call id may not hold slashes, control or format characters"
    return None


def _checked_call_id(call_id: str) -> str:
    if (problem := call_id_problem(call_id)) is not None:
        raise ValueError(problem)
    return call_id


#: A call id as a client may choose one (a start message, an upload, a telephony registration).
CallId = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_checked_call_id)]


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

    def __post_init__(self) -> None:
        if (problem := call_id_problem(self.call_id)) is not None:
            raise InputError(f"call id {self.call_id!r} {problem}")


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
    #: When its author last changed it; None: as written.
    edited_at: datetime | None = None


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
