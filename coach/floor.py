"""The live floor: the calls in progress in this process, one tile each, for supervisors.

A call is :meth:`Floor.open`\\ ed when it starts, every batch of events it produces is
:meth:`Floor.publish`\\ ed, and it is :meth:`Floor.close`\\ d once finished and stored. Each call keeps
a :class:`CallTile` (agent, team, language, start, the debtor's emotion trend, the stage, the last
lines, the last hint, its S1 violations, an objection the agent has not answered yet) and its recent
events, and the floor raises :class:`~coach.alerts.Alert`\\ s from the events (one per kind and rule
or intent while it is not acknowledged). Listeners hear of every change as a :class:`FloorMessage`.

Thread-safe: calls publish from the threads that run the models as well as from an event loop;
listeners are called outside the floor's lock, from whichever thread published.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from coach.alerts import Alert, alerts_in
from coach.events import BaseEvent, ComplianceEvent, IntentEvent, SentimentEvent, UtteranceEvent, WarningEvent

log = logging.getLogger("coach.floor")

#: Events that describe the stream rather than the call: they reach subscribers but change no tile.
TRANSIENT = ("partial", "ready")
#: How many lines, valences and events a call keeps.
LAST_LINES, LAST_VALENCES, KEPT_EVENTS = 4, 12, 2000
#: A debtor's valence this much below their average over the previous few is a worsening trend.
WORSENING = 0.15


class SupervisorNote(BaseEvent):
    """A supervisor's private note to the agent during the call (``/v1/stream`` only; not stored as
    one of the call's events)."""

    type: Literal["supervisor_note"] = "supervisor_note"
    text: str
    #: The supervisor's token name.
    author: str
    at: datetime


class CallTile(BaseModel):
    """What a supervisor sees of one call in progress."""

    call_id: str
    agent_id: str | None
    team: str | None
    language: str
    playbook: str | None = None
    started_at: datetime
    #: Seconds of the call heard so far (the end of its last utterance).
    heard_seconds: float = 0.0
    stage: str | None = None
    #: The debtor's last emotion and valence, their last few valences, and where they are heading.
    emotion: str | None = None
    valence: float | None = None
    valences: list[float] = Field(default_factory=list)
    emotion_trend: Literal["worsening", "improving", "steady"] | None = None
    #: The last few utterances: [{speaker, text, time}].
    last_lines: list[dict[str, Any]] = Field(default_factory=list)
    #: The last objection or commitment heard and what the playbook suggests: {intent, name, say, ref}.
    last_hint: dict[str, Any] | None = None
    #: Every S1 violation so far: [{rule_id, name, evidence, time}].
    s1_violations: list[dict[str, Any]] = Field(default_factory=list)
    #: The debtor's last objection while the agent has not spoken since: {intent, name, utterance_id, time}.
    unhandled_objection: dict[str, Any] | None = None
    #: What makes the whole call's analysis doubtful: [{code, message}] (``language_mismatch``).
    warnings: list[dict[str, str]] = Field(default_factory=list)
    #: Alerts of this call not acknowledged yet.
    open_alerts: int = 0
    #: Why the call is risky, most serious first; ``risk`` orders the floor (higher first).
    risk_reasons: list[str] = Field(default_factory=list)
    risk: int = 0


@dataclass(frozen=True)
class FloorMessage:
    """A change on the floor. ``kind``: ``call`` (a tile changed; ``data`` is the tile), ``events``
    (a batch of the call's events, partials included; ``data["events"]``), ``alert`` (``data`` is the
    alert), ``ack`` (an alert acknowledged; ``data`` is the alert), ``ended`` (``data``: call_id,
    status, stored_id)."""

    kind: Literal["call", "events", "alert", "ack", "ended"]
    call_id: str
    team: str | None
    agent_id: str | None
    data: dict[str, Any]


Listener = Callable[[FloorMessage], None]


@dataclass
class _Call:
    tile: CallTile
    events: deque = field(default_factory=lambda: deque(maxlen=KEPT_EVENTS))
    #: Open (unacknowledged) alerts by key, and by id.
    open_alerts: dict[tuple[str, str], Alert] = field(default_factory=dict)


class Floor:
    """The calls in progress in this process."""

    def __init__(self, max_calls: int = 10_000) -> None:
        self.max_calls = max_calls
        self._calls: dict[str, _Call] = {}
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    # -- listeners -----------------------------------------------------------------------------

    def listen(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unlisten(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _tell(self, messages: list[FloorMessage]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for message in messages:
            for listener in listeners:
                try:
                    listener(message)
                except Exception:  # one broken listener must not stop the call or the others
                    log.exception("floor listener failed")

    # -- the calls -----------------------------------------------------------------------------

    def open(self, call_id: str, *, language: str, agent_id: str | None = None, team: str | None = None,
             playbook: str | None = None, started_at: datetime | None = None) -> str:
        """Put a call on the floor; returns the id it is known by here (``call_id``, with a suffix when
        another call in progress already has that id)."""
        with self._lock:
            key, n = call_id, 1
            while key in self._calls:
                n += 1
                key = f"{call_id}#{n}"
            if len(self._calls) >= self.max_calls:
                raise RuntimeError(f"the floor already holds {self.max_calls} calls")
            tile = CallTile(call_id=key, agent_id=agent_id, team=team, language=language, playbook=playbook,
                            started_at=started_at or datetime.now(UTC))
            self._calls[key] = _Call(tile=tile)
            message = _message("call", tile)
        self._tell([message])
        return key

    def publish(self, call_id: str, events: Iterable[BaseEvent], *, now: datetime | None = None) -> list[Alert]:
        """A batch of the call's events: updates its tile, and returns the new alerts they raise (an
        unknown call: nothing)."""
        events = list(events)
        if not events:
            return []
        with self._lock:
            call = self._calls.get(call_id)
            if call is None:
                return []
            tile = call.tile
            dumped = [e.model_dump(mode="json") for e in events]
            call.events.extend(d for d in dumped if d.get("type") != "partial")
            messages = [FloorMessage("events", call_id, tile.team, tile.agent_id, {"call_id": call_id, "events": dumped})]
            lasting = [e for e in events if e.type not in TRANSIENT]
            fresh: list[Alert] = []
            if lasting:
                for event in lasting:
                    _update(tile, event)
                for alert in alerts_in(lasting, call_id=call_id, agent_id=tile.agent_id, team=tile.team, now=now):
                    if alert.key not in call.open_alerts:
                        call.open_alerts[alert.key] = alert
                        fresh.append(alert)
                tile.open_alerts = len(call.open_alerts)
                _score(tile)
                messages.append(_message("call", tile))
                messages += [FloorMessage("alert", call_id, tile.team, tile.agent_id, a.message_json()) for a in fresh]
        self._tell(messages)
        return fresh

    def acknowledge(self, alert: Alert) -> None:
        """An alert was acknowledged: the call may raise that kind of alert again, and watchers hear of it
        (under the call's id on the floor, whatever id the alert was stored under)."""
        messages = []
        with self._lock:
            for key, call in self._calls.items():
                held = call.open_alerts.get(alert.key)
                if held is not None and held.id == alert.id:
                    del call.open_alerts[alert.key]
                    call.tile.open_alerts = len(call.open_alerts)
                    alert = alert.model_copy(update={"call_id": key})
                    messages.append(_message("call", call.tile))
                    break
        messages.insert(0, FloorMessage("ack", alert.call_id, alert.team, alert.agent_id, alert.message_json()))
        self._tell(messages)

    def close(self, call_id: str, *, status: str = "complete", stored_id: str | None = None) -> None:
        """Take the call off the floor (finished and stored: ``stored_id`` is where to read it)."""
        with self._lock:
            call = self._calls.pop(call_id, None)
        if call is None:
            return
        tile = call.tile
        self._tell([FloorMessage("ended", call_id, tile.team, tile.agent_id,
                                 {"call_id": call_id, "status": status, "stored_id": stored_id})])

    # -- reading -------------------------------------------------------------------------------

    def tiles(self, visible: Callable[[CallTile], bool] | None = None) -> list[CallTile]:
        """The calls in progress (those ``visible`` allows), riskiest first, then longest on the call."""
        with self._lock:
            tiles = [c.tile.model_copy(deep=True) for c in self._calls.values()]
        tiles = [t for t in tiles if visible is None or visible(t)]
        return sorted(tiles, key=lambda t: (-t.risk, t.started_at))

    def tile(self, call_id: str) -> CallTile | None:
        with self._lock:
            call = self._calls.get(call_id)
            return call.tile.model_copy(deep=True) if call else None

    def events(self, call_id: str) -> list[dict[str, Any]]:
        """The call's events so far (the last ``KEPT_EVENTS``, partials left out)."""
        with self._lock:
            call = self._calls.get(call_id)
            return list(call.events) if call else []

    def open_alerts(self, visible: Callable[[CallTile], bool] | None = None) -> list[Alert]:
        with self._lock:
            return [a.model_copy() for c in self._calls.values() if visible is None or visible(c.tile)
                    for a in c.open_alerts.values()]

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def __contains__(self, call_id: object) -> bool:
        with self._lock:
            return call_id in self._calls


def _message(kind: Literal["call"], tile: CallTile) -> FloorMessage:
    return FloorMessage(kind, tile.call_id, tile.team, tile.agent_id, tile.model_dump(mode="json"))


def _update(tile: CallTile, event: BaseEvent) -> None:
    if isinstance(event, UtteranceEvent):
        tile.heard_seconds = max(tile.heard_seconds, event.end)
        tile.stage = event.stage or tile.stage
        tile.last_lines = [*tile.last_lines, {"speaker": event.speaker, "text": event.text[:300], "time": event.start}][-LAST_LINES:]
        if event.speaker == "agent" and tile.unhandled_objection is not None \
                and event.utterance_id is not None and event.utterance_id > tile.unhandled_objection["utterance_id"]:
            tile.unhandled_objection = None
    elif isinstance(event, SentimentEvent) and event.speaker == "debtor":
        tile.emotion, tile.valence = event.label, event.valence
        tile.valences = [*tile.valences, round(event.valence, 3)][-LAST_VALENCES:]
        tile.emotion_trend = _trend(tile.valences)
    elif isinstance(event, IntentEvent):
        if tile.last_hint is not None and event.utterance_id is not None \
                and tile.last_hint.get("utterance_id") == event.utterance_id:
            return  # a second objection of the same turn: the tile shows the turn's top hint
        say = event.suggestions[0].text if event.suggestions else None
        tile.last_hint = {"intent": event.intent, "name": event.name, "kind": event.kind, "say": say, "ref": event.ref,
                          "utterance_id": event.utterance_id}
        if event.kind == "objection" and event.utterance_id is not None:
            tile.unhandled_objection = {"intent": event.intent, "name": event.name, "utterance_id": event.utterance_id,
                                        "time": event.time}
    elif isinstance(event, WarningEvent):
        warning = {"code": event.code, "message": event.message[:300]}
        if warning not in tile.warnings:
            tile.warnings = [*tile.warnings, warning]
    elif isinstance(event, ComplianceEvent) and event.severity == "S1":
        tile.s1_violations = [*tile.s1_violations, {"rule_id": event.rule_id, "name": event.name,
                                                    "evidence": event.evidence[:300], "time": event.time}][-20:]


def _trend(valences: list[float]) -> Literal["worsening", "improving", "steady"] | None:
    """The last valence against the average of the three before it."""
    if len(valences) < 2:
        return None
    before = valences[-4:-1]
    change = valences[-1] - sum(before) / len(before)
    return "worsening" if change <= -WORSENING else "improving" if change >= WORSENING else "steady"


def _score(tile: CallTile) -> None:
    """Risk: an S1 violation first, then a call whose speech is not in its language (its hints are
    most likely wrong), then the debtor's emotion worsening into the negative, then an objection left
    unanswered (time on the call breaks ties)."""
    reasons = []
    if tile.s1_violations:
        reasons.append("S1 violation")
    if any(w["code"] == "language_mismatch" for w in tile.warnings):
        reasons.append("language mismatch")
    if tile.emotion_trend == "worsening" and (tile.valence or 0.0) < 0:
        reasons.append("negative emotion rising")
    if tile.unhandled_objection is not None:
        reasons.append("objection unanswered")
    weights = {"S1 violation": 8, "language mismatch": 4, "negative emotion rising": 2, "objection unanswered": 1}
    tile.risk_reasons = reasons
    tile.risk = sum(weights[r] for r in reasons)
