"""Storing a live call as it happens: the one recorder of every way a call arrives.

A live call's events are worth keeping the moment they exist: an agent's connection can drop, the
server can stop, the database can blink. :class:`CallRecorder` registers the call before its first
event (a call id already stored gets a suffix, and the caller is told), appends each batch of events
in order, and at the end stores the outcome and summary with the call's status. A database outage
never stops the call: the events wait in memory and go with the next batch, and the caller is told
once. Every write runs on one writer thread shared by all calls, in the order it was asked for, so
the speech models never wait for the database and SQLite sees one writer; nothing here blocks the
caller (the server's event loop, or a Python program driving :class:`~coach.live.LiveCall`).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime

from coach.errors import CoachError, InputError, StorageError
from coach.events import BaseEvent
from coach.storage import CallStore, NewCall
from coach.storage.store import TRANSIENT_EVENTS

log = logging.getLogger(__name__)

_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")

#: Told to the caller (from the writer thread): (code, message), e.g. ("call_id_taken", "...").
Problem = Callable[[str, str], None]


class CallRecorder:
    """One live call's storage, from registration to its outcome."""

    def __init__(self, store: CallStore, call: NewCall, *, on_problem: Problem | None = None) -> None:
        self.store = store
        self.call = call
        self.on_problem = on_problem or (lambda code, message: None)
        self._pending: list[BaseEvent] = []
        self._lock = threading.Lock()
        #: The id the call is stored under (the asked one, or with a suffix when it was taken).
        self.stored_id: str | None = None
        self._reported_outage = False
        self._stopped = False
        self._last: Future = _WRITER.submit(self._register)  # registered now, before its first event

    def append(self, events: Sequence[BaseEvent]) -> Future:
        """Queue a batch (transient events such as partials are not stored); written in order."""
        kept = [e for e in events if e.type not in TRANSIENT_EVENTS]
        if kept:
            with self._lock:
                self._pending += kept
            self._last = _WRITER.submit(self._write)
        return self._last

    def finish(self, status: str, events: Sequence[BaseEvent], language: str, started_at: datetime | None) -> Future:
        """Store what is left, then the outcome and summary read from ``events`` (every event of the
        call) with ``status`` (complete, interrupted). The future is done when the call is closed."""
        self._last = _WRITER.submit(self._close, status, list(events), language, started_at)
        return self._last

    # -- on the writer thread ------------------------------------------------------------------

    def _register(self) -> bool:
        if self.stored_id is not None:
            return True
        new = self.call
        taken = None
        try:
            try:
                self.store.begin_call(new)
            except InputError:
                taken = new.call_id
                new = replace(new, call_id=f"{taken[:190]}-{secrets.token_hex(3)}")
                self.store.begin_call(new)
        except StorageError as exc:
            self._outage(exc)
            return False
        # known before the client hears of it: what it does next (an alert) is kept under this id
        self.stored_id = new.call_id
        if taken is not None:
            self.on_problem("call_id_taken", f"a call with id {taken!r} is already stored; this call is stored as "
                                             f"{new.call_id!r}")
        return True

    def _write(self) -> None:
        if self._stopped or not self._register():
            return  # the database is down: the events wait for the next batch
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            self.store.append_events(self.stored_id, batch)
        except StorageError as exc:
            with self._lock:
                self._pending = batch + self._pending
            self._outage(exc)
        except CoachError as exc:  # the stored call was deleted mid-call: stop writing it
            log.warning("stopped storing the call: %s", exc, extra={"call_id": self.call.call_id})
            self._stopped = True

    def _close(self, status: str, events: list[BaseEvent], language: str, started_at: datetime | None) -> None:
        from coach.review.pipeline import conclude

        self._write()
        if self._stopped:
            return
        if self.stored_id is None or self._pending:
            log.error("call ended with %d events not stored (database unavailable)", len(self._pending),
                      extra={"call_id": self.call.call_id})
            return
        outcome, summary = conclude(events, language, started_at, _balance(self.call.metadata))
        try:
            self.store.finish_call(self.stored_id, status=status, outcome=outcome, summary=summary)
        except StorageError as exc:
            self._outage(exc)
        except CoachError as exc:
            log.warning("could not close the stored call: %s", exc, extra={"call_id": self.call.call_id})

    def _outage(self, exc: StorageError) -> None:
        log.error("storage: %s", exc, extra={"call_id": self.call.call_id, "event": "storage"})
        if not self._reported_outage:
            self._reported_outage = True
            self.on_problem("storage_unavailable", f"{exc}; the call goes on and is kept in memory")


def _balance(metadata: dict | None) -> float | None:
    """The balance a live call's client sent in its metadata, as a number when it is one (the outcome
    uses only a positive, finite one)."""
    value = (metadata or {}).get("balance")
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
