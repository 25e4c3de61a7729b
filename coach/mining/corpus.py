"""The stored calls mining reads: each call's facts, transcript and intent events, read from the store
in pages so thousands of calls never sit in one query's result.

Mining reads what the engine said when the call was reviewed (its stored intent events), not a new
analysis: the landscape a trainer sees is the one coaches and agents saw. A call reviewed with another
playbook than the one mined with is the exception (:mod:`coach.mining.claims`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from coach.deadline import Deadline as TimeLimit
from coach.errors import CoachError, InputError, NotFoundError, TimeLimitError
from coach.storage import CallFilter, CallStore, CallSummary, Viewer

#: Call outcomes that count as "it worked": the debtor promised to pay, or paid, in the same call.
SUCCESS_OUTCOMES = ("promise_to_pay", "payment_made")
#: Who speaks for the debtor's side in mining (a third party's words are not the debtor's objections).
DEBTOR_SPEAKERS = ("debtor", "unknown")
#: Calls read per page.
PAGE_SIZE = 200


class MiningTimeout(TimeLimitError):
    """Mining took longer than it may; nothing was changed."""


@dataclass(frozen=True)
class Deadline(TimeLimit):
    """A point in time after which mining gives up (checked between steps, so the work stops soon after)."""

    work: str = "mining"
    hint: str | None = "narrow the filters (dates, team, agent, language) or mine fewer calls"
    error: type[CoachError] = MiningTimeout


@dataclass(frozen=True)
class MinedUtterance:
    utterance_id: int
    speaker: str
    text: str


@dataclass(frozen=True)
class IntentHit:
    """An intent event: the intent the engine read in one debtor utterance."""

    utterance_id: int
    intent: str
    kind: str
    name: str
    confidence: float


@dataclass
class MinedCall:
    call_id: str
    language: str
    playbook: str
    agent_id: str | None
    team: str | None
    outcome: str | None
    when: datetime
    utterances: list[MinedUtterance] = field(default_factory=list)
    intents: list[IntentHit] = field(default_factory=list)

    @property
    def week(self) -> str:
        return iso_week(self.when.date())

    @property
    def succeeded(self) -> bool:
        return self.outcome in SUCCESS_OUTCOMES


@dataclass
class Corpus:
    calls: list[MinedCall]
    #: More calls matched than ``max_calls``: only the newest were read.
    truncated: bool
    max_calls: int

    @property
    def weeks(self) -> list[str]:
        """Every ISO week from the first call's to the last's, empty weeks included (trend lines need them)."""
        if not self.calls:
            return []
        first = min(c.when for c in self.calls).date()
        last = max(c.when for c in self.calls).date()
        monday = first - timedelta(days=first.weekday())
        weeks = []
        while monday <= last:
            weeks.append(iso_week(monday))
            monday += timedelta(days=7)
        return weeks

    def languages(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for call in self.calls:
            out[call.language] = out.get(call.language, 0) + 1
        return dict(sorted(out.items()))


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def check_filters(filters: CallFilter) -> None:
    """A date range backwards matches nothing by construction: say so instead of mining nothing."""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InputError(f"the date range is backwards: --until {filters.date_to} is before --since {filters.date_from}")


def summary_pages(store: CallStore, filters: CallFilter, viewer: Viewer | None = None, *,
                  max_calls: int = 2000) -> Iterator[tuple[list[CallSummary], bool]]:
    """The calls matching ``filters`` that ``viewer`` may see, newest first, in pages of
    :data:`PAGE_SIZE` (their facts only: no transcripts, no events), at most ``max_calls``; each page
    with whether more calls matched than were kept (true on the last page only). What both the plain
    and the Ray path mine, page by page."""
    seen = 0
    for page in store.call_pages(filters, viewer, page_size=PAGE_SIZE, max_calls=max_calls + 1):
        if seen + len(page) > max_calls:
            yield page[: max_calls - seen], True
            return
        seen += len(page)
        yield page, False


def read_page(store: CallStore, page: list[CallSummary], viewer: Viewer | None = None) -> list[MinedCall]:
    """One page of calls with their transcripts and intent events (two queries for the page)."""
    ids = [c.id for c in page]
    transcripts = store.utterances_of(ids, viewer)
    events = store.events_of(ids, viewer, types=["intent"])
    calls = []
    for summary in page:
        call = MinedCall(call_id=summary.id, language=summary.language, playbook=summary.playbook,
                         agent_id=summary.agent_id, team=summary.team, outcome=summary.outcome,
                         when=_utc(summary.started_at or summary.created_at))
        call.utterances = [MinedUtterance(u.utterance_id, u.speaker, u.text) for u in transcripts.get(summary.id, [])]
        call.intents = list(_intent_hits(events.get(summary.id, [])))
        calls.append(call)
    return calls


def load_corpus(store: CallStore, filters: CallFilter | None = None, viewer: Viewer | None = None, *,
                max_calls: int = 2000, deadline: Deadline | None = None) -> Corpus:
    """The calls matching ``filters`` that ``viewer`` may see (the newest ``max_calls``), with their
    transcripts and intent events. No call matching is a :class:`NotFoundError`."""
    filters = filters or CallFilter()
    check_filters(filters)
    deadline = deadline or Deadline(None)
    calls: list[MinedCall] = []
    truncated = False
    for page, cut in summary_pages(store, filters, viewer, max_calls=max_calls):
        calls += read_page(store, page, viewer)
        truncated |= cut
        deadline.check("reading calls")
    return corpus_of(calls, truncated=truncated, max_calls=max_calls)


def corpus_of(calls: list[MinedCall], *, truncated: bool, max_calls: int) -> Corpus:
    """The calls read, oldest first (the order every figure lists its calls in); none is a
    :class:`NotFoundError`."""
    if not calls:
        raise NotFoundError("no stored calls match these filters", hint="check the filters (dates, team, agent, language, "
                                                                      "outcome), or store calls first with coach review")
    calls.sort(key=lambda c: (c.when, c.call_id))
    return Corpus(calls=calls, truncated=truncated, max_calls=max_calls)


def _intent_hits(events: Iterable[dict]) -> Iterable[IntentHit]:
    seen: set[tuple[int, str]] = set()
    for event in events:
        uid = event.get("utterance_id")
        if uid is None or (uid, event["intent"]) in seen:
            continue
        seen.add((uid, event["intent"]))
        yield IntentHit(utterance_id=uid, intent=event["intent"], kind=event.get("kind", "objection"),
                        name=event.get("name", event["intent"]), confidence=float(event.get("confidence", 0.0)))


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
