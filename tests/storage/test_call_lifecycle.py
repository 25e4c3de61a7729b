"""Demo calls, calls a crash left live, and integration tokens, on real databases."""

from __future__ import annotations

import pytest

from coach.errors import InputError
from coach.storage import CallFilter, NewCall, Viewer
from tests.conftest import run_call


def new_call(call_id: str, **extra) -> NewCall:
    base = {"language": "en", "playbook": "en-US-collections@1", "source": "cli"}
    return NewCall(call_id=call_id, **(base | extra))


@pytest.fixture(scope="module")
def short_events(en_engine):
    return run_call(en_engine, [("agent", "hello this is sam"), ("debtor", "i lost my job i cannot pay")])


def test_demo_calls_are_hidden_from_lists_unless_asked_for(store, short_events):
    store.save_call(new_call("real", agent_id="a1", team="north"), short_events)
    store.save_call(new_call("sample", source="demo", agent_id="a1", team="north"), short_events)
    assert [c.id for c in store.list_calls()] == ["real"]
    assert sorted(c.id for c in store.list_calls(CallFilter(include_demo=True))) == ["real", "sample"]
    agent = Viewer(name="ann", role="agent", agent_id="a1", team="north")
    assert [c.id for c in store.list_calls(viewer=agent)] == ["real"]
    # still reachable by id, marked as a demo
    assert store.get_call("sample", viewer=agent).source == "demo"


def test_purging_demo_calls_deletes_them_and_their_audio(store, settings, short_events):
    audio = settings.data_dir / "audio" / "sample.flac"
    audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_bytes(b"fLaC")
    store.save_call(new_call("sample", source="demo", audio_path="audio/sample.flac"), short_events)
    store.save_call(new_call("sample-2", source="demo"), short_events)
    store.save_call(new_call("real"), short_events)
    store.add_note("sample", "nice", "lee")
    assert store.purge_demo_calls() == 2
    assert [c.id for c in store.list_calls(CallFilter(include_demo=True))] == ["real"]
    assert not audio.exists()
    assert not store.has_call("sample") and not store.has_call("sample-2")
    assert store.purge_demo_calls() == 0


def test_calls_left_live_are_marked_interrupted_with_what_they_had(store, short_events):
    for call_id in ("crashed", "still-going"):
        store.begin_call(new_call(call_id, source="live"))
        store.append_events(call_id, short_events[:3])
    store.save_call(new_call("done"), short_events)
    assert store.interrupt_live_calls(["still-going", "done", "nowhere"]) == ["still-going"]
    assert store.interrupt_live_calls([]) == []
    assert store.interrupt_live_calls() == ["crashed"]
    statuses = {c.id: c.status for c in store.list_calls()}
    assert statuses == {"crashed": "interrupted", "still-going": "interrupted", "done": "complete"}
    assert store.get_call("crashed").utterances  # what was stored before the crash is kept
    assert store.interrupt_live_calls() == []


def test_integration_tokens_stream_for_many_agents_and_read_no_calls(store, short_events):
    secret, record = store.create_token("dialer", "integration", team="north")
    assert record.role == "integration"
    viewer = store.authenticate(secret)
    assert viewer.role == "integration" and viewer.team == "north" and viewer.agent_id is None
    store.save_call(new_call("c1", team="north"), short_events)
    assert store.list_calls(viewer=viewer) == []
    with pytest.raises(InputError, match="integration"):
        store.create_token("dialer-2", "integration", agent_id="a1")


def test_a_deleted_calls_alerts_go_with_it(store, short_events):
    """A new user saw alerts listed (and acknowledged) for calls purged or deleted: they go with the call."""
    from datetime import UTC, datetime

    from coach.alerts import Alert

    def alert(n: int, call_id: str) -> Alert:
        return Alert(id=f"al{n}", call_id=call_id, kind="violation", rule_id="US-THREAT", severity="S1",
                     evidence="you will go to jail", message="Threats", at=datetime.now(UTC))

    store.save_call(new_call("demo-a", source="demo"), short_events)
    store.save_call(new_call("kept"), short_events)
    store.save_call(new_call("deleted"), short_events)
    for n, call_id in enumerate(("demo-a", "demo-a", "kept", "deleted")):
        store.add_alert(alert(n, call_id))
    store.purge_demo_calls()
    store.delete_call("deleted")
    assert [a.call_id for a in store.alerts()] == ["kept"]
