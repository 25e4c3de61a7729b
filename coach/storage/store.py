"""The call store: where live and reviewed calls, their events, scorecards and coach notes are kept.

Live calls are written batch by batch as the server emits events, each batch its own transaction, so
a dropped connection or a crash loses nothing already transcribed. A reviewed recording is written in
one transaction: all of it or nothing. Free text is redacted (PII) before it reaches the database.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import and_, delete, exists, false, func, or_, select, update
from sqlalchemy.orm import Session

from coach.alerts import Alert
from coach.config import Settings, get_settings
from coach.errors import InputError, NotFoundError, PermissionDeniedError, StorageError
from coach.events import (
    BaseEvent,
    ComplianceEvent,
    IntentEvent,
    ScorecardEvent,
    SentimentEvent,
    UtteranceEvent,
    WarningEvent,
)
from coach.redaction import Redaction, redact, redact_event
from coach.storage.database import create_database_engine, migrate, safe_url, session_factory, translate_errors
from coach.storage.records import (
    ROLES,
    CallDetail,
    CallFilter,
    CallSummary,
    NewCall,
    NoteRecord,
    RedactionRecord,
    TokenRecord,
    UtteranceRecord,
    Viewer,
)
from coach.storage.tables import (
    AlertRow,
    CallRow,
    EventRow,
    NoteRow,
    RedactionRow,
    ScorecardRow,
    TokenRow,
    UtteranceRow,
    call_date,
    utcnow,
)

log = logging.getLogger(__name__)

#: Live-only events that describe the stream, not the call.
TRANSIENT_EVENTS = ("partial", "ready")
SEVERITY_ORDER = ("S1", "S2", "S3", "S4")


class CallStore:
    """One database; thread-safe (a session per operation)."""

    def __init__(self, url: str, settings: Settings | None = None, *, create: bool = True) -> None:
        self.settings = settings or get_settings()
        self.url = safe_url(url)
        self.engine = create_database_engine(url)
        if create:
            migrate(self.engine)
        self._sessions = session_factory(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> CallStore:
        settings = settings or get_settings()
        return cls(settings.database(), settings)

    def close(self) -> None:
        self.engine.dispose()

    # -- writing calls -------------------------------------------------------------------------

    def begin_call(self, call: NewCall) -> None:
        """Register a call before its first event (live calls)."""
        with self._transaction() as session:
            if session.get(CallRow, call.call_id) is not None:
                raise InputError(f"a call with id {call.call_id!r} is already stored; use a new call_id")
            session.add(_call_row(call, status="live"))

    def append_events(self, call_id: str, events: Sequence[BaseEvent]) -> None:
        """Store a batch of a live call's events (one transaction)."""
        kept = [e for e in events if e.type not in TRANSIENT_EVENTS]
        if not kept:
            return
        with self._transaction() as session:
            row = self._call(session, call_id)
            next_seq = session.scalar(select(func.coalesce(func.max(EventRow.seq), -1)).where(EventRow.call_id == call_id)) + 1
            self._write_events(session, row, kept, next_seq)

    def finish_call(self, call_id: str, *, status: str = "complete", outcome: dict[str, Any] | None = None,
                    summary: str | None = None) -> None:
        with self._transaction() as session:
            row = self._call(session, call_id)
            row.status = status
            row.finished_at = utcnow()
            self._set_outcome(session, row, outcome, summary)

    def save_call(self, call: NewCall, events: Sequence[BaseEvent], *, outcome: dict[str, Any] | None = None,
                  summary: str | None = None, duration: float | None = None, replacing: str | None = None) -> None:
        """Store a whole reviewed call in one transaction: all of it or nothing.

        ``replacing`` names an earlier review of the same file that this one replaces (asked for in
        another language or playbook). It is deleted in the same transaction, so a failure leaves the
        earlier review as it was, and its coach notes move to the new review (see :func:`_moved_notes`)."""
        old_audio = None
        with self._transaction() as session:
            notes: list[tuple[NoteRow, UtteranceRow | None]] = []
            if replacing is not None:
                # A write first: it locks the earlier review (a row lock on PostgreSQL, the database
                # on SQLite) before it is read, so a note added or an admin's delete meanwhile is
                # either all before this or waits for it, never half seen.
                session.execute(update(CallRow).where(CallRow.id == replacing).values(status=CallRow.status))
                old = self._call(session, replacing)  # NotFoundError when it was deleted meanwhile
                old_audio = old.audio_path
                spoken = {u.idx: u for u in old.utterances}
                notes = [(n, spoken.get(n.utterance_id) if n.utterance_id is not None else None)
                         for n in session.scalars(select(NoteRow).where(NoteRow.call_id == replacing).order_by(NoteRow.id))]
                session.expunge_all()  # the notes outlive their rows' deletion, read as they were
                session.execute(delete(CallRow).where(CallRow.id == replacing))  # the database cascades the rest
            if session.get(CallRow, call.call_id) is not None:
                raise InputError(f"a call with id {call.call_id!r} is already stored",
                                 hint="give the call another id, or delete the stored one first")
            row = _call_row(call, status="complete")
            row.finished_at = utcnow()
            session.add(row)
            self._write_events(session, row, [e for e in events if e.type not in TRANSIENT_EVENTS], 0)
            if duration is not None:
                row.duration = duration
            self._set_outcome(session, row, outcome, summary)
            if notes:
                session.flush()
                spoken_now = list(session.scalars(select(UtteranceRow).where(UtteranceRow.call_id == row.id)
                                                  .order_by(UtteranceRow.idx)))
                session.add_all(_moved_notes(notes, row.id, spoken_now))
        if old_audio and old_audio != call.audio_path:
            try:
                (self.settings.data_dir / old_audio).unlink(missing_ok=True)
            except OSError as exc:  # the new review is stored: a file left behind is not its failure
                log.warning("could not delete the replaced review's audio %s: %s", old_audio, exc)

    def has_call(self, call_id: str) -> bool:
        with self._read() as session:
            return session.get(CallRow, call_id) is not None

    def find_by_hash(self, content_hash: str) -> str | None:
        """The id of the call already stored from a file with this content, if any."""
        with self._read() as session:
            return session.scalar(select(CallRow.id).where(CallRow.content_hash == content_hash))

    def interrupt_live_calls(self, call_ids: Iterable[str] | None = None) -> list[str]:
        """Mark calls still ``live`` as ``interrupted``: those in ``call_ids``, or every one (at server
        start, for calls a crash left open; their events up to the crash are kept). Returns their ids."""
        with self._transaction() as session:
            query = select(CallRow.id).where(CallRow.status == "live")
            if call_ids is not None:
                wanted = list(call_ids)
                if not wanted:
                    return []
                query = query.where(CallRow.id.in_(wanted))
            ids = list(session.scalars(query))
            if ids:
                session.execute(update(CallRow).where(CallRow.id.in_(ids), CallRow.status == "live")
                                .values(status="interrupted", finished_at=utcnow()))
            return ids

    def purge_demo_calls(self) -> int:
        """Delete every demo call (source ``demo``) with everything stored with it; returns how many."""
        with self._transaction() as session:
            rows = list(session.scalars(select(CallRow).where(CallRow.source == "demo")))
            audio = [row.audio_path for row in rows if row.audio_path]
            for row in rows:
                session.delete(row)
            _delete_alerts(session, [row.id for row in rows])
        for relative in audio:
            (self.settings.data_dir / relative).unlink(missing_ok=True)
        return len(rows)

    def delete_call(self, call_id: str) -> None:
        """Delete the call and everything stored with it, its kept audio included."""
        with self._transaction() as session:
            row = self._call(session, call_id)
            audio = row.audio_path
            session.delete(row)
            _delete_alerts(session, [call_id])
        if audio:
            (self.settings.data_dir / audio).unlink(missing_ok=True)

    # -- reading -------------------------------------------------------------------------------

    def list_calls(self, filters: CallFilter | None = None, viewer: Viewer | None = None) -> list[CallSummary]:
        filters = filters or CallFilter()
        query = select(CallRow).where(*_visible(viewer), *_filtered(filters))
        query = query.order_by(call_date().desc(), CallRow.id).limit(filters.limit).offset(filters.offset)
        with self._read() as session:
            return [_summary(row) for row in session.scalars(query)]

    def get_call(self, call_id: str, viewer: Viewer | None = None) -> CallDetail:
        with self._read() as session:
            row = self._visible_call(session, call_id, viewer)
            redactions = session.scalars(select(RedactionRow).where(RedactionRow.call_id == call_id).order_by(RedactionRow.id))
            return CallDetail(
                **_summary(row).model_dump(), metadata=row.call_metadata or {}, summary=row.summary,
                outcome_detail=row.outcome_detail, speaker_method=row.speaker_method, content_hash=row.content_hash,
                warnings=row.warnings or [],
                utterances=[UtteranceRecord(utterance_id=u.idx, speaker=u.speaker, text=u.text, start=u.start, end=u.end,
                                            stage=u.stage) for u in row.utterances],
                redactions=[RedactionRecord(utterance_id=r.utterance_id, field=r.field, kind=r.kind, start=r.start,
                                            end=r.end, digest=r.digest) for r in redactions],
            )

    def audio_path(self, call_id: str, viewer: Viewer | None = None) -> str | None:
        with self._read() as session:
            return self._visible_call(session, call_id, viewer).audio_path

    def events(self, call_id: str, viewer: Viewer | None = None, types: Iterable[str] | None = None) -> list[dict[str, Any]]:
        with self._read() as session:
            self._visible_call(session, call_id, viewer)
            query = select(EventRow.payload).where(EventRow.call_id == call_id)
            if types:
                query = query.where(EventRow.type.in_(list(types)))
            return list(session.scalars(query.order_by(EventRow.seq)))

    def scorecard(self, call_id: str, viewer: Viewer | None = None) -> dict[str, Any] | None:
        with self._read() as session:
            self._visible_call(session, call_id, viewer)
            row = session.get(ScorecardRow, call_id)
            return row.payload if row else None

    # -- reading many calls (mining) -------------------------------------------------------------

    def call_pages(self, filters: CallFilter | None = None, viewer: Viewer | None = None, *, page_size: int = 500,
                   max_calls: int | None = None) -> Iterator[list[CallSummary]]:
        """Every call matching ``filters`` (its ``limit`` and ``offset`` are ignored), newest first, in
        pages of ``page_size``, stopping after ``max_calls``: mining reads thousands of calls without
        holding them all in one query's result."""
        filters = filters or CallFilter()
        seen = 0
        while max_calls is None or seen < max_calls:
            size = page_size if max_calls is None else min(page_size, max_calls - seen)
            query = (select(CallRow).where(*_visible(viewer), *_filtered(filters))
                     .order_by(call_date().desc(), CallRow.id).limit(size).offset(seen))
            with self._read() as session:
                page = [_summary(row) for row in session.scalars(query)]
            if not page:
                return
            seen += len(page)
            yield page
            if len(page) < size:
                return

    def utterances_of(self, call_ids: Sequence[str], viewer: Viewer | None = None) -> dict[str, list[UtteranceRecord]]:
        """The (redacted) transcripts of many calls in one query, by call id; calls the viewer may not
        see are left out."""
        out: dict[str, list[UtteranceRecord]] = {c: [] for c in call_ids}
        if not call_ids:
            return out
        query = (select(UtteranceRow).join(CallRow, CallRow.id == UtteranceRow.call_id)
                 .where(UtteranceRow.call_id.in_(list(call_ids)), *_visible(viewer))
                 .order_by(UtteranceRow.call_id, UtteranceRow.idx))
        with self._read() as session:
            for u in session.scalars(query):
                out[u.call_id].append(UtteranceRecord(utterance_id=u.idx, speaker=u.speaker, text=u.text, start=u.start,
                                                      end=u.end, stage=u.stage))
        return out

    def events_of(self, call_ids: Sequence[str], viewer: Viewer | None = None,
                  types: Iterable[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        """The events of many calls in one query, by call id, each call's in order; calls the viewer
        may not see are left out."""
        out: dict[str, list[dict[str, Any]]] = {c: [] for c in call_ids}
        if not call_ids:
            return out
        query = (select(EventRow.call_id, EventRow.payload).join(CallRow, CallRow.id == EventRow.call_id)
                 .where(EventRow.call_id.in_(list(call_ids)), *_visible(viewer)))
        if types:
            query = query.where(EventRow.type.in_(list(types)))
        with self._read() as session:
            for call_id, payload in session.execute(query.order_by(EventRow.call_id, EventRow.seq)):
                out[call_id].append(payload)
        return out

    # -- notes ---------------------------------------------------------------------------------

    def add_note(self, call_id: str, text: str, author: str, utterance_id: int | None = None,
                 viewer: Viewer | None = None) -> NoteRecord:
        text = text.strip()
        if not text:
            raise InputError("a note needs some text")
        with self._transaction() as session:
            call = self._visible_call(session, call_id, viewer)
            if utterance_id is not None and not any(u.idx == utterance_id for u in call.utterances):
                raise NotFoundError(f"call {call_id!r} has no utterance {utterance_id}")
            note = NoteRow(call_id=call_id, utterance_id=utterance_id, author=author, text=text)
            session.add(note)
            session.flush()
            return _note(note)

    def edit_note(self, call_id: str, note_id: int, text: str, viewer: Viewer) -> NoteRecord:
        """Correct a note: its author's only (by token name), so a note never shows another's words
        under its author's name; an admin may delete it instead."""
        text = text.strip()
        if not text:
            raise InputError("a note needs some text (delete it instead)")
        with self._transaction() as session:
            row = self._own_note(session, call_id, note_id, viewer, admin_may=False)
            row.text, row.edited_at = text, utcnow()
            session.flush()
            return _note(row)

    def delete_note(self, call_id: str, note_id: int, viewer: Viewer) -> None:
        """Take a note back: its author's, or any note for an admin (tidying up)."""
        with self._transaction() as session:
            session.delete(self._own_note(session, call_id, note_id, viewer))

    def _own_note(self, session: Session, call_id: str, note_id: int, viewer: Viewer, *, admin_may: bool = True) -> NoteRow:
        self._visible_call(session, call_id, viewer)
        row = session.scalar(select(NoteRow).where(NoteRow.call_id == call_id, NoteRow.id == note_id))
        if row is None:
            raise NotFoundError(f"call {call_id!r} has no note {note_id}")
        if row.author != viewer.name and not (admin_may and viewer.role == "admin"):
            who = "only its author" if not admin_may else "only its author (or an admin)"
            raise PermissionDeniedError(f"note {note_id} is {row.author}'s: {who} may change it")
        return row

    def notes(self, call_id: str, viewer: Viewer | None = None) -> list[NoteRecord]:
        with self._read() as session:
            self._visible_call(session, call_id, viewer)
            rows = session.scalars(select(NoteRow).where(NoteRow.call_id == call_id).order_by(NoteRow.id))
            return [_note(n) for n in rows]

    # -- supervisors' alerts -------------------------------------------------------------------

    def add_alert(self, alert: Alert) -> Alert:
        """Keep an alert raised during a live call (its evidence masked like the events); returns it
        as stored."""
        evidence, _ = Redactor(self.settings).redact_text(alert.evidence)
        with self._transaction() as session:
            row = AlertRow(id=alert.id, call_id=alert.call_id, kind=alert.kind, rule_id=alert.rule_id, intent=alert.intent,
                           severity=alert.severity, evidence=evidence, message=alert.message, time=alert.time,
                           utterance_id=alert.utterance_id, agent_id=alert.agent_id, team=alert.team,
                           raised_at=alert.at, acknowledged_by=alert.acknowledged_by,
                           acknowledged_at=alert.acknowledged_at)
            session.merge(row)
            session.flush()
            return _alert(row)

    def alerts(self, viewer: Viewer | None = None, *, call_id: str | None = None, open_only: bool = False,
               limit: int = 100, offset: int = 0) -> list[Alert]:
        """Alerts the viewer may see (a coach's or supervisor's team, an agent's own), newest first."""
        query = select(AlertRow).where(*_alerts_visible(viewer))
        if call_id is not None:
            query = query.where(AlertRow.call_id == call_id)
        if open_only:
            query = query.where(AlertRow.acknowledged_at.is_(None))
        query = query.order_by(AlertRow.raised_at.desc(), AlertRow.id).limit(limit).offset(offset)
        with self._read() as session:
            return [_alert(row) for row in session.scalars(query)]

    def acknowledge_alert(self, alert_id: str, by: str, viewer: Viewer | None = None) -> tuple[Alert, bool]:
        """Record that ``by`` acknowledged the alert now; the first acknowledgement stands. Returns the
        alert and whether this call acknowledged it (False: it already was)."""
        with self._transaction() as session:
            row = session.scalar(select(AlertRow).where(AlertRow.id == alert_id, *_alerts_visible(viewer)))
            if row is None:
                raise NotFoundError(f"no alert {alert_id!r}")
            if row.acknowledged_at is not None:
                return _alert(row), False
            row.acknowledged_by, row.acknowledged_at = by, utcnow()
            session.flush()
            return _alert(row), True

    # -- API tokens ----------------------------------------------------------------------------

    def create_token(self, name: str, role: str, *, agent_id: str | None = None, team: str | None = None) -> tuple[str, TokenRecord]:
        """A new token; the secret is returned once and only its hash is kept."""
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        if role == "agent" and not agent_id:
            raise InputError("an agent token needs --agent-id: agents see only their own calls")
        if role in ("coach", "supervisor") and not team:
            raise InputError(f"a {role} token needs --team: it sees its team's calls")
        if role == "integration" and agent_id:
            raise InputError("an integration token streams calls for many agents: give it no --agent-id "
                             "(the start message names each call's agent)")
        secret = "coach_" + secrets.token_urlsafe(32)
        with self._transaction() as session:
            if session.scalar(select(TokenRow.id).where(TokenRow.name == name)) is not None:
                raise InputError(f"a token named {name!r} already exists")
            row = TokenRow(name=name, role=role, agent_id=agent_id, team=team, token_hash=hash_token(secret))
            session.add(row)
            session.flush()
            return secret, _token(row)

    def authenticate(self, secret: str) -> Viewer | None:
        with self._read() as session:
            row = session.scalar(select(TokenRow).where(TokenRow.token_hash == hash_token(secret), TokenRow.revoked_at.is_(None)))
            return None if row is None else Viewer(name=row.name, role=row.role, agent_id=row.agent_id, team=row.team)

    def tokens(self) -> list[TokenRecord]:
        with self._read() as session:
            return [_token(r) for r in session.scalars(select(TokenRow).order_by(TokenRow.id))]

    def revoke_token(self, name: str) -> None:
        with self._transaction() as session:
            row = session.scalar(select(TokenRow).where(TokenRow.name == name))
            if row is None:
                raise NotFoundError(f"no token named {name!r}")
            row.revoked_at = utcnow()

    # -- internals -----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error; database trouble is
        reported as StorageError."""
        with translate_errors(self.url), self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with translate_errors(self.url), self._sessions() as session:
            yield session

    def _call(self, session: Session, call_id: str) -> CallRow:
        row = session.get(CallRow, call_id)
        if row is None:
            raise NotFoundError(f"no call {call_id!r}")
        return row

    def _visible_call(self, session: Session, call_id: str, viewer: Viewer | None) -> CallRow:
        row = session.scalar(select(CallRow).where(CallRow.id == call_id, *_visible(viewer)))
        if row is None:  # the same answer for "not yours" as for "not there": ids are not leaked
            raise NotFoundError(f"no call {call_id!r}")
        return row

    def _write_events(self, session: Session, row: CallRow, events: Sequence[BaseEvent], first_seq: int) -> None:
        redactor = Redactor(self.settings)
        for seq, event in enumerate(events, start=first_seq):
            event, found = redactor.redact(event)
            for field, item in found:
                session.add(RedactionRow(call_id=row.id, utterance_id=event.utterance_id, field=field, kind=item.kind,
                                         start=item.start, end=item.end, digest=item.digest))
            payload = event.model_dump(mode="json")
            session.add(EventRow(call_id=row.id, seq=seq, type=event.type, utterance_id=event.utterance_id,
                                 time=event.time, key=_event_key(event),
                                 severity=event.severity if isinstance(event, ComplianceEvent) else None, payload=payload))
            if isinstance(event, UtteranceEvent):
                session.merge(UtteranceRow(call_id=row.id, idx=event.utterance_id, speaker=event.speaker, text=event.text,
                                           start=event.start, end=event.end, stage=event.stage))
                row.duration = max(row.duration or 0.0, event.end)
            elif isinstance(event, ComplianceEvent):
                row.violation_count = (row.violation_count or 0) + 1
                row.worst_severity = min(filter(None, (row.worst_severity, event.severity)), key=SEVERITY_ORDER.index)
            elif isinstance(event, ScorecardEvent):
                session.merge(ScorecardRow(call_id=row.id, score=event.score, payload=payload))
                row.score = event.score
            elif isinstance(event, WarningEvent):  # a live call's warning is the stored call's too
                warning = {"code": event.code, "message": event.message}
                if warning not in (row.warnings or []):
                    row.warnings = [*(row.warnings or []), warning]  # a new list: the JSON column sees it

    def _set_outcome(self, session: Session, row: CallRow, outcome: dict[str, Any] | None, summary: str | None) -> None:
        """The outcome quotes what was said (evidence, the due-date phrase): masked like the events."""
        if outcome is not None:
            outcome = dict(outcome)
            redactor = Redactor(self.settings)
            for field in ("evidence", "due_text"):
                if isinstance(outcome.get(field), str):
                    outcome[field], found = redactor.redact_text(outcome[field])
                    for item in found:
                        session.add(RedactionRow(call_id=row.id, utterance_id=outcome.get("utterance_id"),
                                                 field=f"outcome.{field}", kind=item.kind, start=item.start,
                                                 end=item.end, digest=item.digest))
            row.outcome = outcome.get("kind")
            row.outcome_detail = outcome
        if summary is not None:
            row.summary = summary


class Redactor:
    """Masks PII in an event's free text when the settings ask for it."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.redact_pii
        self.kinds = list(settings.redact_kinds)
        self.key = settings.redaction_secret()

    def redact_text(self, text: str) -> tuple[str, list[Redaction]]:
        if not self.enabled:
            return text, []
        result = redact(text, self.kinds, key=self.key)
        return result.text, result.redactions

    def redact(self, event: BaseEvent) -> tuple[BaseEvent, list[tuple[str, Redaction]]]:
        if not self.enabled:
            return event, []
        redacted, found = redact_event(event, self.kinds, key=self.key)
        return redacted, [(f"{event.type}.{item.field}", item) for item in found]


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


#: How far (seconds) from its old place a note on an utterance may move to the nearest new utterance.
NOTE_DRIFT = 1.0


def _moved_notes(notes: Sequence[tuple[NoteRow, UtteranceRow | None]], call_id: str,
                 utterances: Sequence[UtteranceRow]) -> list[NoteRow]:
    """A replaced review's coach notes, on the new review of the same call. A note on an utterance
    goes to the new utterance spoken at the same moment: the one overlapping the old one's time the
    most (a recording transcribed again: the same moment, cut and worded differently), else the
    nearest within :data:`NOTE_DRIFT`; an utterance without a duration (a transcript without times)
    to the one with the same index. With none of these it becomes a note on the whole call that
    says where it was."""
    moved = []
    for note, spoken in notes:
        target, text = None, note.text
        if spoken is not None:
            target = _same_moment(spoken, utterances)
            if target is None:
                text = f"[at {spoken.start:.1f} s] {note.text}"
        moved.append(NoteRow(call_id=call_id, utterance_id=target, author=note.author, text=text,
                             created_at=note.created_at))
    return moved


def _same_moment(spoken: UtteranceRow, utterances: Sequence[UtteranceRow]) -> int | None:
    """The index of the utterance among ``utterances`` spoken when ``spoken`` was (see :func:`_moved_notes`)."""
    if spoken.end <= spoken.start:
        return spoken.idx if any(u.idx == spoken.idx for u in utterances) else None
    overlap = {u.idx: min(u.end, spoken.end) - max(u.start, spoken.start) for u in utterances}
    best = max(overlap, key=lambda idx: overlap[idx], default=None)
    # an overlap, or else (a negative overlap is the gap) the nearest within NOTE_DRIFT
    return best if best is not None and overlap[best] >= -NOTE_DRIFT else None


def _delete_alerts(session: Session, call_ids: Sequence[str]) -> None:
    """The alerts of deleted calls go with them (no foreign key ties them: an alert is kept even when
    its call's storage failed), so none is listed or acknowledged for a call that is gone."""
    for start in range(0, len(call_ids), 500):
        session.execute(delete(AlertRow).where(AlertRow.call_id.in_(call_ids[start:start + 500])))


def _call_row(call: NewCall, status: str) -> CallRow:
    metadata = dict(call.metadata or {})
    return CallRow(
        id=call.call_id, language=call.language, playbook=call.playbook, source=call.source, status=status,
        content_hash=call.content_hash, filename=call.filename, audio_path=call.audio_path,
        agent_id=call.agent_id or metadata.get("agent_id"), team=call.team or metadata.get("team"),
        started_at=call.started_at, call_metadata=metadata, speaker_method=call.speaker_method, violation_count=0,
        warnings=call.warnings or None,
    )


def _event_key(event: BaseEvent) -> str | None:
    if isinstance(event, ComplianceEvent):
        return event.rule_id
    if isinstance(event, IntentEvent):
        return event.intent
    if isinstance(event, SentimentEvent):
        return event.label
    return None


def _visible(viewer: Viewer | None) -> list[Any]:
    return _scope(viewer, CallRow)


def _alerts_visible(viewer: Viewer | None) -> list[Any]:
    return _scope(viewer, AlertRow)


def _scope(viewer: Viewer | None, row: type[CallRow] | type[AlertRow]) -> list[Any]:
    """What of ``row`` (calls or alerts: both carry agent_id and team) ``viewer`` may see."""
    if viewer is None or viewer.sees_everything:
        return []
    if viewer.role == "agent":  # their own, and not another team's agent with the same id (agent ids are
        # often labels within a team: an agent token of no team sees that agent's calls of no team only)
        return [row.agent_id == viewer.agent_id,
                or_(row.team == viewer.team, row.team.is_(None)) if viewer.team else row.team.is_(None)]
    if viewer.role in ("coach", "supervisor"):
        return [row.team == viewer.team]
    if viewer.role == "integration":  # streams calls, reads none
        return [false()]
    raise StorageError(f"unknown role {viewer.role!r}")


def _alert(row: AlertRow) -> Alert:
    return Alert(id=row.id, call_id=row.call_id, kind=row.kind, rule_id=row.rule_id, intent=row.intent,
                 severity=row.severity, evidence=row.evidence, message=row.message, at=row.raised_at, time=row.time,
                 utterance_id=row.utterance_id, agent_id=row.agent_id, team=row.team,
                 acknowledged_by=row.acknowledged_by, acknowledged_at=row.acknowledged_at)


def _filtered(filters: CallFilter) -> list[Any]:
    conditions: list[Any] = [] if filters.include_demo else [CallRow.source != "demo"]
    for column, value in ((CallRow.agent_id, filters.agent_id), (CallRow.team, filters.team),
                          (CallRow.language, filters.language), (CallRow.outcome, filters.outcome),
                          (CallRow.status, filters.status)):
        if value:
            conditions.append(column == value)
    if filters.date_from:
        conditions.append(call_date() >= datetime.combine(filters.date_from, time.min, tzinfo=UTC))
    if filters.date_to:
        conditions.append(call_date() <= datetime.combine(filters.date_to, time.max, tzinfo=UTC))
    if filters.violation:
        wanted = filters.violation.upper()  # a severity, or a rule id (upper case by the playbook schema)
        match = EventRow.severity == wanted if wanted in SEVERITY_ORDER else EventRow.key == wanted
        conditions.append(exists().where(and_(EventRow.call_id == CallRow.id, EventRow.type == "compliance", match)))
    return conditions


def _summary(row: CallRow) -> CallSummary:
    return CallSummary(
        id=row.id, language=row.language, playbook=row.playbook, source=row.source, status=row.status,
        filename=row.filename, agent_id=row.agent_id, team=row.team, started_at=row.started_at,
        created_at=row.created_at, duration=row.duration, score=row.score, outcome=row.outcome,
        violation_count=row.violation_count or 0, worst_severity=row.worst_severity, has_audio=bool(row.audio_path),
    )


def _note(row: NoteRow) -> NoteRecord:
    return NoteRecord(id=row.id, call_id=row.call_id, utterance_id=row.utterance_id, author=row.author, text=row.text,
                      created_at=row.created_at, edited_at=row.edited_at)


def _token(row: TokenRow) -> TokenRecord:
    return TokenRecord(id=row.id, name=row.name, role=row.role, agent_id=row.agent_id, team=row.team,
                       created_at=row.created_at, revoked_at=row.revoked_at)



