"""The live-call recorder: a call stored as it happens, whatever the database does."""

from __future__ import annotations

import pytest

from coach.config import Settings
from coach.errors import StorageError
from coach.events import PartialEvent, UtteranceEvent, WarningEvent
from coach.recorder import CallRecorder
from coach.storage import CallStore, NewCall


def said(uid: int, text: str, speaker: str = "debtor") -> UtteranceEvent:
    return UtteranceEvent(call_id="r1", utterance_id=uid, time=float(uid), speaker=speaker, text=text,
                          start=float(uid), end=uid + 0.5)


def partial() -> PartialEvent:
    return PartialEvent(call_id="r1", utterance_id=None, time=0.0, speaker="debtor", text="i lo", stable_text="i",
                        stable=False, start=0.0, end=0.4)


def store_in(tmp_path) -> CallStore:
    settings = Settings(data_dir=tmp_path)
    return CallStore(settings.database(), settings)


def test_a_call_is_stored_as_it_happens_and_closed_with_its_outcome(tmp_path):
    store = store_in(tmp_path)
    told: list[tuple[str, str]] = []
    recorder = CallRecorder(store, NewCall(call_id="r1", language="en", playbook="en-US-collections", source="live"),
                            on_problem=lambda code, message: told.append((code, message)))
    recorder.append([said(0, "hello"), partial()]).result(10)
    assert store.get_call("r1").status == "live"  # registered and written before the call ends
    assert [e["text"] for e in store.events("r1")] == ["hello"]  # partials are not stored
    events = [said(1, "i will pay 200 dollars on friday by card")]
    recorder.append(events)
    recorder.finish("complete", [said(0, "hello")] + events, "en", None).result(30)
    call = store.get_call("r1")
    assert call.status == "complete" and call.summary
    assert [e["text"] for e in store.events("r1")] == ["hello", "i will pay 200 dollars on friday by card"]
    assert told == []


def test_a_warning_event_is_also_the_stored_calls_warning(tmp_path):
    """A live call's language check tells the agent with a warning event; the stored call carries the
    same warning (what the call detail, the API and the review page show), once."""
    store = store_in(tmp_path)
    recorder = CallRecorder(store, NewCall(call_id="r1", language="en", playbook="en-US-collections", source="live"))
    warning = WarningEvent(call_id="r1", utterance_id=None, time=21.5, code="language_mismatch",
                           message="the speech sounds like Chinese (94%), but the call was started as English")
    recorder.append([said(0, "hello"), warning]).result(10)
    assert [w.model_dump() for w in store.get_call("r1").warnings] == [{"code": warning.code, "message": warning.message}]
    recorder.append([warning.model_copy()])
    recorder.finish("complete", [said(0, "hello"), warning], "en", None).result(30)
    call = store.get_call("r1")
    assert call.status == "complete" and len(call.warnings) == 1
    assert store.events("r1", types=["warning"])[0]["message"] == warning.message  # the event is kept too


def test_a_taken_call_id_gets_a_suffix_and_the_caller_is_told(tmp_path):
    store = store_in(tmp_path)
    store.begin_call(NewCall(call_id="r1", language="en", playbook="p", source="live"))
    told: list[str] = []
    recorder = CallRecorder(store, NewCall(call_id="r1", language="en", playbook="p", source="live"),
                            on_problem=lambda code, message: told.append(code))
    recorder.append([said(0, "hi")]).result(10)
    assert told == ["call_id_taken"] and recorder.stored_id.startswith("r1-")
    assert [e["text"] for e in store.events(recorder.stored_id)] == ["hi"]


class FlakyStore:
    """The real store, with a database that is down until ``up`` is set."""

    def __init__(self, store: CallStore) -> None:
        self.store, self.up = store, False

    def __getattr__(self, name):
        method = getattr(self.store, name)

        def call(*args, **kwargs):
            if not self.up:
                raise StorageError("the database is unavailable")
            return method(*args, **kwargs)

        return call


def test_a_database_outage_keeps_the_events_and_says_so_once(tmp_path):
    store = store_in(tmp_path)
    flaky = FlakyStore(store)
    told: list[str] = []
    recorder = CallRecorder(flaky, NewCall(call_id="r1", language="en", playbook="p", source="live"),  # type: ignore[arg-type]
                            on_problem=lambda code, message: told.append(code))
    recorder.append([said(0, "one")]).result(10)
    recorder.append([said(1, "two")]).result(10)
    assert told == ["storage_unavailable"] and not store.has_call("r1")
    flaky.up = True
    recorder.append([said(2, "three")]).result(10)
    assert [e["text"] for e in store.events("r1")] == ["one", "two", "three"]  # nothing accepted was lost
    recorder.finish("interrupted", [], "en", None).result(30)
    assert store.get_call("r1").status == "interrupted"


@pytest.mark.parametrize(("metadata", "balance"), [
    ({"balance": 1243.5}, 1243.5), ({"balance": "5230"}, 5230.0), ({}, None), (None, None),
    ({"balance": "lots"}, None), ({"balance": True}, None), ({"balance": [1]}, None),
])
def test_a_live_calls_balance_is_read_only_when_it_is_a_number(metadata, balance):
    """A live client's metadata is whatever it sent: a balance that is no number is no balance."""
    from coach.recorder import _balance

    assert _balance(metadata) == balance
