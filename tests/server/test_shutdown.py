"""A real `coach serve` stopped with calls in progress: SIGTERM ends it within 10 s with every call
finished or marked interrupted; calls a crash (SIGKILL) left live are marked when it starts again."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import pytest

from coach.config import Settings
from coach.errors import CoachError, NotFoundError
from coach.replay import replay
from coach.storage import CallStore
from tests.conftest import EXAMPLES, serving

HARDSHIP = EXAMPLES / "audio" / "en-hardship.flac"  # 260 s: still going when the server stops


@pytest.fixture
def server_env(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = CallStore(settings.database(), settings)
    token = store.create_token("ann", "agent", agent_id="a1", team="north")[0]
    env = {**os.environ, "COACH_DATA_DIR": str(tmp_path)}
    env.pop("COACH_DATABASE_URL", None)
    yield env, store, token
    store.close()


def start_calls(port: int, token: str, n: int) -> tuple[list[threading.Thread], threading.Event]:
    """``n`` calls streaming the long sample at real-time pace; the event is set once every one of
    them has had an utterance back (so each is stored with something in it)."""
    heard: set[int] = set()
    all_heard = threading.Event()

    def call(index: int) -> None:
        def on_event(event: dict, _latency) -> None:
            if event.get("type") == "utterance":
                heard.add(index)
                if len(heard) == n:
                    all_heard.set()

        try:
            asyncio.run(replay(HARDSHIP, f"ws://127.0.0.1:{port}/v1/stream", speed=1.0, token=token,
                               call_id=f"stopped-{index}", on_event=on_event))
        except CoachError:
            pass  # cut off by the shutdown: expected

    threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    return threads, all_heard


def test_sigterm_stops_the_server_within_10_s_and_no_call_is_left_live(server_env):
    env, store, token = server_env
    with serving(env) as port:
        threads, all_heard = start_calls(port, token, 2)
        assert all_heard.wait(120), port.output()
        stopped = time.monotonic()
        port.process.send_signal(signal.SIGTERM)
        port.process.wait(timeout=30)
        took = time.monotonic() - stopped
        output = port.output()
    assert took < 10, output
    assert "exiting now" not in output  # finished in time, not forced
    for thread in threads:
        thread.join(10)
    calls = {c.id: c for c in store.list_calls()}
    assert set(calls) == {"stopped-0", "stopped-1"}
    for call_id in calls:
        detail = store.get_call(call_id)
        assert detail.status == "interrupted" and detail.utterances, (call_id, detail.status)


def test_calls_a_crash_left_live_are_marked_interrupted_at_the_next_start(server_env):
    env, store, token = server_env
    with serving(env) as port:
        _, all_heard = start_calls(port, token, 1)
        assert all_heard.wait(120), port.output()
        deadline = time.monotonic() + 30  # the writer stores the utterance a moment after it is sent
        while not _stored_utterances(store, "stopped-0") and time.monotonic() < deadline:
            time.sleep(0.1)
        port.process.kill()
        port.process.wait(timeout=30)
    assert store.get_call("stopped-0").status == "live"
    with serving(env) as port:
        detail = store.get_call("stopped-0")
        assert detail.status == "interrupted" and detail.utterances
        assert "left live by an earlier run marked interrupted" in port.output()


def _stored_utterances(store, call_id: str) -> list:
    try:
        return store.get_call(call_id).utterances
    except NotFoundError:
        return []
