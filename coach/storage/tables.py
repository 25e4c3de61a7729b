"""The database tables: calls, utterances, events, scorecards, coach notes, redactions, API tokens and
supervisors' alerts.

Events are stored whole (their JSON) so every client sees what the live agent saw; the columns beside
the JSON (``type``, ``key``, ``severity``) exist only so lists can be filtered in SQL on any database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Times stored in UTC and read back with their zone on every database (SQLite keeps no offset,
    so without this a call at 01:00+08:00 would read back as 01:00 and filter differently)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class CallRow(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    playbook: Mapped[str] = mapped_column(String(200))
    #: live (WebSocket), upload (REST), cli (coach review)
    source: Mapped[str] = mapped_column(String(16))
    #: live (still streaming), complete, interrupted (client vanished; finished with what arrived)
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: SHA-256 of the uploaded file, so a re-upload is recognised instead of stored twice.
    content_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    filename: Mapped[str | None] = mapped_column(String(500))
    #: Where the call's audio is kept for the review page's player (relative to the data folder).
    audio_path: Mapped[str | None] = mapped_column(String(500))
    agent_id: Mapped[str | None] = mapped_column(String(200), index=True)
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration: Mapped[float | None] = mapped_column(Float)
    call_metadata: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    score: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(32), index=True)
    outcome_detail: Mapped[dict | None] = mapped_column(JSON)
    summary: Mapped[str | None] = mapped_column(Text)
    violation_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Worst severity found (S1 worst), for sorting and filtering.
    worst_severity: Mapped[str | None] = mapped_column(String(2))
    #: How the parties of a mono recording were told apart (None: one party per channel or transcript).
    speaker_method: Mapped[str | None] = mapped_column(String(64))
    #: What was repaired or dropped when the call was read: [{code, message}] (None: nothing).
    warnings: Mapped[list | None] = mapped_column(JSON)

    utterances: Mapped[list[UtteranceRow]] = relationship(back_populates="call", cascade="all, delete-orphan",
                                                            order_by="UtteranceRow.idx")


def call_date() -> Any:
    """When the call took place: its start, else when it was stored (a call without metadata)."""
    return func.coalesce(CallRow.started_at, CallRow.created_at)


#: Lists show calls newest first by when they took place: an imported March call sits among March's
#: calls, not among those of the day it was imported.
Index("ix_calls_call_date", call_date())


class UtteranceRow(Base):
    __tablename__ = "utterances"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    speaker: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    stage: Mapped[str | None] = mapped_column(String(64))

    call: Mapped[CallRow] = relationship(back_populates="utterances")


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("call_id", "seq"), Index("ix_events_type_key", "type", "key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    #: Order of emission within the call.
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    utterance_id: Mapped[int | None] = mapped_column(Integer)
    time: Mapped[float | None] = mapped_column(Float)
    #: The intent id, rule id or emotion label, for filtering.
    key: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[str | None] = mapped_column(String(2))
    payload: Mapped[dict] = mapped_column(JSON)


class ScorecardRow(Base):
    __tablename__ = "scorecards"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[float | None] = mapped_column(Float)
    payload: Mapped[dict] = mapped_column(JSON)


class NoteRow(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    #: The utterance the note is about; None for a note on the whole call.
    utterance_id: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When its author last changed it (None: as written): an edited note says so.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RedactionRow(Base):
    """What was masked, where, and a keyed digest of it: never the value itself."""

    __tablename__ = "redactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    utterance_id: Mapped[int | None] = mapped_column(Integer)
    #: The field that held it: utterance text, or an event's evidence.
    field: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))


class TokenRow(Base):
    """An API token. Only its SHA-256 is stored; the token itself is shown once, at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: agent, coach, trainer or admin
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertRow(Base):
    """An alert raised during a live call (coach.alerts), and who acknowledged it when. Not tied to a
    stored call by a foreign key: a call whose storage failed still had its alerts."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[str | None] = mapped_column(String(100))
    intent: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(2))
    #: What was said (PII masked like the events).
    evidence: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(String(300))
    time: Mapped[float | None] = mapped_column(Float)
    utterance_id: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[str | None] = mapped_column(String(200), index=True)
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
