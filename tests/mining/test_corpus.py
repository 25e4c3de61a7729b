"""Reading many stored calls in pages, as the viewer may see them (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from coach.errors import InputError, NotFoundError
from coach.events import IntentEvent, UtteranceEvent
from coach.mining.corpus import iso_week, load_corpus
from coach.storage import CallFilter, NewCall, Viewer


def save(store, call_id: str, *, agent: str, team: str, day: int, intent: str | None = "cannot_afford") -> None:
    events = [
        UtteranceEvent(call_id=call_id, utterance_id=0, time=0.0, speaker="agent", text="are you able to pay today",
                       start=0.0, end=2.0),
        UtteranceEvent(call_id=call_id, utterance_id=1, time=2.5, speaker="debtor", text="i lost my job i cant pay",
                       start=2.5, end=4.0),
    ]
    if intent:
        events.append(IntentEvent(call_id=call_id, utterance_id=1, time=2.5, intent=intent, name="Can't afford",
                                  kind="objection", confidence=0.9, evidence="x", method="dense", suggestions=[],
                                  ref="en-US-collections@1#intents/" + intent))
    store.save_call(NewCall(call_id=call_id, language="en", playbook="en-US-collections@1", source="cli",
                            agent_id=agent, team=team, started_at=datetime(2026, 11, day, 15, tzinfo=UTC)),
                    events, outcome={"kind": "refusal"})


def test_calls_are_read_in_pages_newest_first_up_to_a_limit(store):
    for n in range(7):
        save(store, f"c{n}", agent="a1", team="north", day=2 + n)
    pages = list(store.call_pages(page_size=3))
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [c.id for p in pages for c in p] == [c.id for c in store.list_calls(CallFilter(limit=100))]
    assert sum(len(p) for p in store.call_pages(page_size=3, max_calls=5)) == 5
    assert list(store.call_pages(CallFilter(team="nobody"))) == []


def test_transcripts_and_events_of_many_calls_respect_the_viewer(store):
    save(store, "n1", agent="a1", team="north", day=2)
    save(store, "s1", agent="a2", team="south", day=3)
    everything = store.utterances_of(["n1", "s1"])
    assert [u.text for u in everything["s1"]] == ["are you able to pay today", "i lost my job i cant pay"]
    coach = Viewer(name="lee", role="coach", team="north")
    scoped = store.utterances_of(["n1", "s1"], coach)
    assert len(scoped["n1"]) == 2 and scoped["s1"] == []
    events = store.events_of(["n1", "s1"], coach, types=["intent"])
    assert [e["intent"] for e in events["n1"]] == ["cannot_afford"] and events["s1"] == []
    assert store.utterances_of([]) == {} and store.events_of([]) == {}


def test_the_corpus_holds_the_calls_their_weeks_and_intents(store):
    save(store, "w1", agent="a1", team="north", day=2)
    save(store, "w3", agent="a1", team="north", day=18, intent=None)
    corpus = load_corpus(store)
    assert [c.call_id for c in corpus.calls] == ["w1", "w3"]  # oldest first
    assert corpus.weeks == ["2026-W45", "2026-W46", "2026-W47"]  # the empty week between is kept
    assert [h.intent for h in corpus.calls[0].intents] == ["cannot_afford"] and corpus.calls[1].intents == []
    assert not corpus.truncated
    capped = load_corpus(store, max_calls=1)
    assert capped.truncated and [c.call_id for c in capped.calls] == ["w3"]  # the newest


def test_nothing_to_mine_and_a_backwards_range_are_clear_errors(store):
    with pytest.raises(NotFoundError, match="no stored calls match"):
        load_corpus(store)
    save(store, "x1", agent="a1", team="north", day=2)
    with pytest.raises(NotFoundError, match="no stored calls match"):
        load_corpus(store, CallFilter(team="south"))
    with pytest.raises(InputError, match="backwards"):
        load_corpus(store, CallFilter(date_from=date(2026, 11, 9), date_to=date(2026, 11, 1)))


def test_iso_weeks_cross_the_new_year():
    assert iso_week(date(2026, 12, 31)) == "2026-W53" and iso_week(date(2027, 1, 4)) == "2027-W01"
