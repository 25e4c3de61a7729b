"""Alerts for supervisors: which live-call events need a person at once, and their delivery to a webhook.

An alert is raised by an S1 compliance violation (``violation``), a self-harm cue in what the debtor
said (``self_harm``), a hardship or vulnerability disclosure (``vulnerability``, the playbooks'
``hardship`` intent), a lawyer or bankruptcy (``legal``, ``legal_representation``) or a stop-calling
request (``stop_calling``). :func:`alerts_in` finds them in a batch of a call's events;
:class:`AlertWebhook` POSTs each one, signed, to a configured URL on its own thread, retrying with
back-off, so a slow or failing webhook never holds a call back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from coach.events import BaseEvent, ComplianceEvent, IntentEvent, UtteranceEvent

log = logging.getLogger("coach.alerts")

AlertKind = Literal["violation", "self_harm", "vulnerability", "legal", "stop_calling"]
ALERT_KINDS: tuple[str, ...] = ("violation", "self_harm", "vulnerability", "legal", "stop_calling")
#: Debtor intents (the playbooks' fixed ids) that raise an alert, with its kind and severity.
INTENT_ALERTS: dict[str, tuple[str, str]] = {
    "hardship": ("vulnerability", "S2"),
    "legal_representation": ("legal", "S2"),
    "stop_calling": ("stop_calling", "S2"),
}
#: Words that, said by the debtor, are a self-harm cue (after lower-casing and dropping apostrophes:
#: speech recognition writes "dont" as often as "don't"). A cue is always worth a look, so the list
#: errs on the side of alerting.
SELF_HARM_CUES = re.compile(
    r"\b(?:kill(?:ing)? myself|end(?:ing)? (?:my life|it all)|take my (?:own )?life|suicid\w*|hurt(?:ing)? myself|"
    r"(?:dont|do not) want to (?:live|be alive|be here anymore)|better off dead|no reason to live|"
    r"cant go on|cannot go on|want to die|wish i (?:was|were) dead)\b"
    # said around it ("everyone would be better off without me", "whats the point of living")
    r"|\bbetter off (?:without me|if i (?:was|were|wasnt|werent|wasn t|weren t|was not|were not|didnt|did not) "
    r"(?:here|around|alive|gone|dead|exist))\b"
    r"|\b(?:no|what(?:s| is) the) (?:point|reason) (?:in |of )?(?:living|going on|being alive|staying alive|to go on|to live)\b"
    r"|\b(?:end|ending) (?:things|everything|myself)\b|\b(?:off|hang|shoot|drown) myself\b"
    r"|\bjump(?:ing)? off (?:a|the|that) (?:bridge|building|roof|cliff)\b|\boverdos\w*|\bslit(?:ting)? my wrists?\b"
    r"|\bwish i (?:had never been born|was never born|wasnt alive|was not alive|could (?:just )?(?:die|disappear forever))\b"
    r"|\b(?:dont|do not) want to (?:wake up|exist)(?: anymore| again)?\b"
    r"|\b(?:dont|do not|cant|cannot) see (?:the|any) point (?:of|in) (?:anything|living|going on|it all|life|being here)\b"
    r"|\b(?:want|wanted|wanna) to (?:just )?disappear\b|\bmight as well not (?:be here|exist|be around)\b"
    r"|\b(?:wont|will not) be (?:here|around) (?:much longer|anymore|for long)\b"
    r"|不想活|不想再活|活不下去|没法活|不活了|活够了|活着(?:还)?(?:有|没)?(?:什么|啥)?(?:意思|意义)|活着太(?:累|苦|难)|轻生|自杀"
    r"|我(?:是)?(?:真的|实在)?(?:快)?撑不下去了|从楼上跳|跳下去算了|一了百了|一死了之|结束(?:自己的)?生命|离开这个世界|跳楼|跳河|上吊|割腕|卧轨|安眠药|农药|想死|不如死了|(?:我)?死了算了"
    r"|(?:我)?(?:还)?不如(?:去)?死|死了(?:就|也)?(?:解脱|干净|清净|好了)",
)


class Alert(BaseModel):
    """One alert: what happened on which call, the evidence, and who acknowledged it when."""

    id: str
    call_id: str
    kind: AlertKind
    #: The compliance rule broken (``violation``), else None.
    rule_id: str | None = None
    #: The debtor's intent that raised it (``vulnerability``, ``legal``, ``stop_calling``), else None.
    intent: str | None = None
    severity: Literal["S1", "S2", "S3", "S4"]
    #: What was said that raised it.
    evidence: str
    #: One line for a person: the rule's or the intent's name.
    message: str
    #: When it was raised (server clock, UTC).
    at: datetime
    #: Audio seconds into the call, and the utterance, where known.
    time: float | None = None
    utterance_id: int | None = None
    agent_id: str | None = None
    team: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        """What makes two alerts of one call the same: no second alert while the first is open."""
        return self.kind, self.rule_id or self.intent or ""

    def message_json(self) -> dict[str, Any]:
        """The alert as a ``/v1/supervisor`` message and a webhook body."""
        return {"type": "alert", **self.model_dump(mode="json")}


def alerts_in(events: Iterable[BaseEvent], *, call_id: str, agent_id: str | None = None, team: str | None = None,
              now: datetime | None = None) -> list[Alert]:
    """The alerts a batch of one call's events raises, in the events' order (not yet de-duplicated)."""
    now = now or datetime.now(UTC)
    found: list[Alert] = []

    def raise_(kind: str, severity: str, evidence: str, message: str, event: BaseEvent, **key: str) -> None:
        found.append(Alert(id=uuid.uuid4().hex, call_id=call_id, kind=kind, severity=severity, evidence=evidence[:500],
                           message=message[:300], at=now, time=event.time, utterance_id=event.utterance_id,
                           agent_id=agent_id, team=team, **key))

    for event in events:
        if isinstance(event, ComplianceEvent) and event.severity == "S1":
            raise_("violation", "S1", event.evidence, f"{event.rule_id} {event.name}", event, rule_id=event.rule_id)
        elif isinstance(event, UtteranceEvent) and event.speaker == "debtor" and self_harm_cue(event.text):
            raise_("self_harm", "S1", event.text, "self-harm cue: stop collection talk, give the crisis line", event)
        elif isinstance(event, IntentEvent) and event.intent in INTENT_ALERTS:
            kind, severity = INTENT_ALERTS[event.intent]
            raise_(kind, severity, event.evidence, event.name, event, intent=event.intent)
    return found


def self_harm_cue(text: str) -> str | None:
    """The self-harm cue in ``text``, if any."""
    match = SELF_HARM_CUES.search(text.lower().replace("'", "").replace("\u2019", ""))
    return match.group(0) if match else None


# -- the webhook ---------------------------------------------------------------------------------

SIGNATURE_HEADER = "X-Coach-Signature"
TIMESTAMP_HEADER = "X-Coach-Timestamp"


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The signature header's value: HMAC-SHA256 with ``secret`` over ``"<timestamp>." + body``
    (the timestamp is signed too, so a captured request cannot be replayed later with a new one)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(body: bytes, secret: str, timestamp: str, signature: str, *, tolerance: float = 300.0,
           now: float | None = None) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs((now or time.time()) - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(body, secret, stamp), signature)


class AlertWebhook:
    """POSTs alerts as JSON to ``url``, signed with ``secret``, from one background thread.

    :meth:`send` never waits: it queues the alert (at most ``queue_size``; past that the oldest
    waiting one is dropped, with a log line). Each alert is tried up to ``attempts`` times, waiting
    ``backoff`` seconds, then twice that, and so on, after a connection error, a timeout, a 429 or a
    5xx; another 4xx is not retried. Each try waits at most ``timeout`` seconds.
    """

    def __init__(self, url: str, secret: str = "", *, attempts: int = 5, backoff: float = 0.5, timeout: float = 5.0,
                 queue_size: int = 1000) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the alert webhook URL must start with http:// or https://")
        self.url = url
        self.secret = secret
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = timeout
        self._queue: queue.Queue[Alert | None] = queue.Queue(maxsize=queue_size)
        self._closing = threading.Event()
        #: Delivered and given-up counts, for tests and logs.
        self.delivered = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
        self._thread.start()
        if not secret:
            log.warning("COACH_ALERT_WEBHOOK_SECRET is not set: alerts are posted unsigned")

    def send(self, alert: Alert) -> None:
        """Queue ``alert`` for delivery (never blocks)."""
        while True:
            try:
                self._queue.put_nowait(alert)
                return
            except queue.Full:
                try:
                    dropped = self._queue.get_nowait()
                    if dropped is not None:
                        self.failed += 1
                        log.error("alert webhook queue full: alert %s dropped", dropped.id)
                except queue.Empty:
                    pass

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (within ``timeout`` seconds), then stop; retries stop waiting."""
        self._closing.set()
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            alert = self._queue.get()
            if alert is None:
                return
            try:
                self._deliver(alert)
            except Exception:  # a bug here must not end the thread: later alerts still go
                self.failed += 1
                log.exception("alert webhook: delivering %s failed", alert.id)

    def _deliver(self, alert: Alert) -> None:
        body = json.dumps(alert.message_json(), ensure_ascii=False, separators=(",", ":")).encode()
        for attempt in range(1, self.attempts + 1):
            problem = self._post(body)
            if problem is None:
                self.delivered += 1
                return
            retry, reason = problem
            if not retry or attempt == self.attempts:
                self.failed += 1
                log.error("alert webhook: alert %s not delivered after %d attempt(s): %s", alert.id, attempt, reason,
                          extra={"call_id": alert.call_id, "event": "webhook"})
                return
            wait = self.backoff * 2 ** (attempt - 1)
            log.warning("alert webhook: %s; retrying in %.1f s", reason, wait, extra={"call_id": alert.call_id})
            if self._closing.wait(wait):
                wait = 0  # closing: one last quick try, no more waiting

    def _post(self, body: bytes) -> tuple[bool, str] | None:
        """None when delivered, else (worth retrying, why)."""
        stamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": "coach-alerts", TIMESTAMP_HEADER: str(stamp)}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(body, self.secret, stamp)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read(1024)
                return None
        except urllib.error.HTTPError as exc:
            return exc.code == 429 or exc.code >= 500, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            return True, f"cannot reach the webhook ({reason})"
