"""Who may stream live calls: tokens, roles, whose call it is, rate limits, idle connections, demo calls.

In-process apps on their own database; the real speech model and engine where a call starts."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from coach.audio.files import load_audio
from coach.audio.formats import AudioFormat
from coach.config import Settings
from coach.errors import InputError
from coach.storage import CallFilter, CallStore
from server.app import create_app
from server.samples import SamplePlayback, bundled
from tests.audio.test_streaming import speak

START = {"type": "start", "call_id": "s1", "language": "en", "channels": 1, "channel_roles": ["debtor"]}
SILENCE = np.zeros(3200, dtype="<i2").tobytes()  # 0.1 s at 16 kHz
#: What the console sends to play a bundled sample (server/static/console.js, playSample).
SAMPLE_START = {"type": "start", "call_id": "demo", "language": "en", "encoding": "pcm_s16le", "sample_rate": 16000,
                "channels": 2, "channel_roles": ["agent", "debtor"], "sample": "en-short-call"}


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("stream-access"), streams_per_minute=0, uploads_per_minute=0)
    store = CallStore(settings.database(), settings)
    tokens = {
        "agent": store.create_token("ann", "agent", agent_id="a1", team="north")[0],
        "agent_no_team": store.create_token("bob", "agent", agent_id="a2")[0],
        "integration": store.create_token("dialer", "integration", team="east")[0],
        "admin": store.create_token("ada", "admin")[0],
        "coach": store.create_token("cho", "coach", team="north")[0],
        "revoked": store.create_token("old", "agent", agent_id="a9")[0],
    }
    store.revoke_token("old")
    return settings, store, tokens


@pytest.fixture(scope="module")
def client(parts):
    settings, store, _ = parts
    with TestClient(create_app(settings, preload=(), store=store)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(client, path="/v1/stream", headers=None, first: bytes | str | None = None) -> tuple[dict, int]:
    """The error event and close code of a stream the server refuses."""
    with client.websocket_connect(path, headers=headers or {}) as ws:
        if first is not None:
            ws.send_bytes(first) if isinstance(first, bytes) else ws.send_text(first)
        event = json.loads(ws.receive_text())
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    return event, closed.value.code


def stream_call(client, start: dict, headers=None, path="/v1/stream") -> list[dict]:
    """Start a call, send a little silence, stop; every event up to the scorecard."""
    with client.websocket_connect(path, headers=headers or {}) as ws:
        ws.send_text(json.dumps(start))
        events = [json.loads(ws.receive_text())]
        assert events[0]["type"] == "ready", events
        ws.send_bytes(SILENCE)
        ws.send_text(json.dumps({"type": "stop"}))
        while events[-1]["type"] != "scorecard":
            events.append(json.loads(ws.receive_text()))
    return events


def stored(store, call_id: str, wait: float = 30):
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if store.has_call(call_id) and store.get_call(call_id).status != "live":
            break
        time.sleep(0.05)
    return store.get_call(call_id)


def test_a_stream_without_a_token_is_refused_before_anything_is_read(client):
    event, code = refused(client, first=SILENCE)  # audio first: refused for the token, never accepted
    assert event["type"] == "error" and event["code"] == "unauthorized" and code == 4401
    assert "token" in event["message"] and "Traceback" not in event["message"]


@pytest.mark.parametrize("how", ["header", "query"])
def test_wrong_and_revoked_tokens_are_refused(client, parts, how):
    for secret in ("coach_not-a-token", parts[2]["revoked"]):
        if how == "header":
            event, code = refused(client, headers=bearer(secret), first=json.dumps(START))
        else:
            event, code = refused(client, path=f"/v1/stream?token={secret}", first=json.dumps(START))
        assert (event["code"], code) == ("unauthorized", 4401) and "invalid or revoked" in event["message"]


def test_roles_that_do_not_stream_are_refused(client, parts):
    event, code = refused(client, headers=bearer(parts[2]["coach"]))
    assert (event["code"], code) == ("forbidden", 4403)
    assert "coach role may not stream" in event["message"] and "agent" in event["message"]


def test_the_tokens_agent_and_team_override_the_start_message(client, parts):
    _, store, tokens = parts
    claimed = {"agent_id": "someone-else", "team": "south", "balance": 12.5}
    stream_call(client, {**START, "call_id": "as-agent", "metadata": claimed}, headers=bearer(tokens["agent"]))
    call = stored(store, "as-agent")
    assert (call.agent_id, call.team) == ("a1", "north")
    assert call.metadata["agent_id"] == "a1" and call.metadata["team"] == "north" and call.metadata["balance"] == 12.5
    # an agent's token without a team files the call under none, never the team the client names; an
    # integration names no agent, so the client's stays
    stream_call(client, {**START, "call_id": "as-bob", "metadata": claimed}, headers=bearer(tokens["agent_no_team"]))
    assert (stored(store, "as-bob").agent_id, stored(store, "as-bob").team) == ("a2", None)
    assert "team" not in stored(store, "as-bob").metadata
    stream_call(client, {**START, "call_id": "via-dialer", "metadata": claimed},
                path=f"/v1/stream?token={tokens['integration']}")
    assert (stored(store, "via-dialer").agent_id, stored(store, "via-dialer").team) == ("someone-else", "east")
    stream_call(client, {**START, "call_id": "as-admin", "metadata": claimed}, headers=bearer(tokens["admin"]))
    assert stored(store, "as-admin").agent_id == "someone-else"


def test_a_sample_played_as_a_demo_is_stored_as_one_and_hidden(client, parts):
    """The console's "play a sample": the start names a bundled sample, and the call is a demo."""
    _, store, tokens = parts
    stream_call(client, {**SAMPLE_START, "call_id": "demo-1"}, headers=bearer(tokens["agent"]))
    assert stored(store, "demo-1").source == "demo"
    assert "demo-1" not in [c.id for c in store.list_calls()]
    assert "demo-1" in [c.id for c in store.list_calls(CallFilter(include_demo=True))]
    listed = client.get("/v1/calls", headers=bearer(tokens["agent"])).json()["calls"]
    assert "demo-1" not in [c["id"] for c in listed]
    listed = client.get("/v1/calls?include_demo=true", headers=bearer(tokens["agent"])).json()["calls"]
    assert "demo-1" in [c["id"] for c in listed]


def test_anonymous_streams_only_where_the_server_allows_them(parts):
    settings, store, _ = parts
    lab = settings.model_copy(update={"allow_anonymous_stream": True})
    with TestClient(create_app(lab, preload=(), store=store)) as client:
        stream_call(client, {**START, "call_id": "anonymous-1", "metadata": {"agent_id": "x1"}})
        assert stored(store, "anonymous-1").agent_id == "x1"
        # a token that is sent is still checked
        event, code = refused(client, headers=bearer("coach_wrong"))
        assert (event["code"], code) == ("unauthorized", 4401)


def test_stream_starts_are_rate_limited_per_token(parts):
    settings, store, tokens = parts
    limited = settings.model_copy(update={"streams_per_minute": 2})
    with TestClient(create_app(limited, preload=(), store=store)) as client:
        for n in range(2):
            stream_call(client, {**START, "call_id": f"limited-{n}"}, headers=bearer(tokens["admin"]))
        event, code = refused(client, headers=bearer(tokens["admin"]))
        assert (event["code"], code) == ("rate_limited", 4429)
        assert "at most 2 a minute" in event["message"] and "retry in" in event["message"]
        # another token has its own allowance
        stream_call(client, {**START, "call_id": "limited-other"}, headers=bearer(tokens["agent"]))


def test_an_agents_token_has_a_few_live_calls_open_at_most(parts):
    """An attack helper held 55 calls open with one agent's token (a frame a minute keeps each one):
    an agent is on one call at a time, so a token holds ``max_live_calls_per_agent`` at once; an
    integration streams for many agents and is held only by the start rate."""
    settings, store, tokens = parts
    limited = settings.model_copy(update={"max_live_calls_per_agent": 2})
    with TestClient(create_app(limited, preload=(), store=store)) as client:
        with client.websocket_connect("/v1/stream", headers=bearer(tokens["agent"])) as first, \
                client.websocket_connect("/v1/stream", headers=bearer(tokens["agent"])) as second:
            for n, ws in enumerate((first, second)):
                ws.send_text(json.dumps({**START, "call_id": f"open-{n}"}))
                assert ws.receive_json()["type"] == "ready"
            event, code = refused(client, headers=bearer(tokens["agent"]))
            assert (event["code"], code) == ("too_many_calls", 4429) and "2 live calls" in event["message"]
            stream_call(client, {**START, "call_id": "open-other"}, headers=bearer(tokens["agent_no_team"]))
            stream_call(client, {**START, "call_id": "open-pbx"}, headers=bearer(tokens["integration"]))
            for ws in (first, second):
                ws.send_text(json.dumps({"type": "stop"}))
                while ws.receive_json()["type"] != "scorecard":
                    pass
        deadline = time.monotonic() + 30
        while client.app.state.streams.open_by("ann") and time.monotonic() < deadline:
            time.sleep(0.05)
        stream_call(client, {**START, "call_id": "open-again"}, headers=bearer(tokens["agent"]))  # calls ended: room


def test_uploads_are_rate_limited_per_token_with_retry_after(parts):
    settings, store, tokens = parts
    limited = settings.model_copy(update={"uploads_per_minute": 1})
    with TestClient(create_app(limited, preload=(), store=store)) as client:
        empty = {"file": ("empty.json", b"")}
        assert client.post("/v1/calls", headers=bearer(tokens["admin"]), files=empty).status_code == 422
        response = client.post("/v1/calls", headers=bearer(tokens["admin"]), files=empty)
        assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
        assert "at most 1 a minute" in response.json()["detail"]
        # other tokens, and other routes, are not affected
        assert client.post("/v1/calls", headers=bearer(tokens["coach"]), files=empty).status_code == 422
        assert client.get("/v1/calls", headers=bearer(tokens["admin"])).status_code == 200


def test_a_silent_connection_is_closed_and_its_call_stored_as_interrupted(parts):
    settings, store, tokens = parts
    impatient = settings.model_copy(update={"stream_idle_seconds": 1.0})
    with TestClient(create_app(impatient, preload=(), store=store)) as client:
        with client.websocket_connect("/v1/stream", headers=bearer(tokens["agent"])) as ws:
            ws.send_text(json.dumps({**START, "call_id": "idle-1"}))
            assert json.loads(ws.receive_text())["type"] == "ready"
            ws.send_bytes(SILENCE)
            events = []
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    events.append(json.loads(ws.receive_text()))
        assert closed.value.code == 4408
        assert [e["code"] for e in events if e["type"] == "error"] == ["idle_timeout"]
        assert events[-1]["type"] == "scorecard"  # finished with what arrived
        assert stored(store, "idle-1").status == "interrupted"
        # a connection that never says what it is gets the same
        event, code = refused(client, headers=bearer(tokens["agent"]))
        assert (event["code"], code) == ("idle_timeout", 4408)
        # a Twilio socket (its token comes with the start message) cannot stay open on "connected" alone
        with client.websocket_connect("/v1/telephony/twilio") as ws:
            connected = time.monotonic()
            for _ in range(12):  # 3 s of "connected", three times the time a start message has
                ws.send_text(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
                time.sleep(0.25)
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    ws.receive_text()
            # closed a second after connecting (by the time the last "connected" went out), not a second
            # after the last of them (4 s)
            assert closed.value.code == 4408 and time.monotonic() - connected < 3.5


def test_a_live_call_has_a_longest_length_that_frames_do_not_reset(client, parts):
    """A client sending a small frame more often than the idle timeout cannot hold a call open for ever:
    at ``max_live_call_seconds`` from its start the call ends (4413) and is finished and stored as an
    idle one is, with what arrived."""
    settings, store, tokens = parts
    # the models loaded first: the limit counts from the start message, loading included
    stream_call(client, {**START, "call_id": "too-long-warm-up"}, headers=bearer(tokens["agent"]))
    short = settings.model_copy(update={"stream_idle_seconds": 1.0, "max_live_call_seconds": 2.0})
    speech = (np.concatenate([speak("please stop calling me", "en-us+f3"), np.zeros(8000, dtype=np.float32)])
              * 32767).astype("<i2").tobytes()
    with TestClient(create_app(short, preload=(), store=store)) as limited:
        with limited.websocket_connect("/v1/stream", headers=bearer(tokens["agent"])) as ws:
            ws.send_text(json.dumps({**START, "call_id": "too-long-1"}))
            assert json.loads(ws.receive_text())["type"] == "ready"
            for offset in range(0, len(speech), 3200):
                ws.send_bytes(speech[offset : offset + 3200])
            for _ in range(14):  # a frame every 0.25 s for 3.5 s: never idle for 1 s, and past the limit
                ws.send_bytes(SILENCE[:320])
                time.sleep(0.25)
            events = []
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    events.append(json.loads(ws.receive_text()))
        assert closed.value.code == 4413
        errors = [e for e in events if e["type"] == "error"]
        assert [e["code"] for e in errors] == ["call_too_long"]  # not idle_timeout: the frames kept it busy
        assert "2 s" in errors[0]["message"] and "COACH_MAX_LIVE_CALL_SECONDS" in errors[0]["message"]
        assert events[-1]["type"] == "scorecard"  # finished with what arrived
        detail = stored(store, "too-long-1")
        assert detail.status == "interrupted"  # as the idle timeout leaves its call
        assert any("stop" in u.text.lower() for u in detail.utterances), detail.utterances
        assert store.scorecard("too-long-1") is not None
    # a receive already waiting (a minute of idle time left) does not sleep past the limit
    patient = settings.model_copy(update={"stream_idle_seconds": 60.0, "max_live_call_seconds": 1.0})
    with TestClient(create_app(patient, preload=(), store=store)) as limited:
        with limited.websocket_connect("/v1/stream", headers=bearer(tokens["agent"])) as ws:
            ws.send_text(json.dumps({**START, "call_id": "too-long-2"}))
            assert json.loads(ws.receive_text())["type"] == "ready"
            waiting = time.monotonic()
            events = []
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    events.append(json.loads(ws.receive_text()))
        assert closed.value.code == 4413 and time.monotonic() - waiting < 10
        assert [e["code"] for e in events if e["type"] == "error"] == ["call_too_long"]
        assert stored(store, "too-long-2").status == "interrupted"


def test_a_live_call_whose_token_is_revoked_ends_and_is_kept(parts, monkeypatch):
    """Revoking a token takes effect on a call it is streaming, not only on the next one: the call
    ends (4401) and is stored, as interrupted, with what arrived."""
    import server.auth

    monkeypatch.setattr(server.auth, "TOKEN_CHECK_SECONDS", 0.5)
    settings, store, _ = parts
    token = store.create_token("leaver", "agent", agent_id="a5", team="north")[0]
    with TestClient(create_app(settings, preload=(), store=store)) as client:
        with client.websocket_connect("/v1/stream", headers=bearer(token)) as ws:
            ws.send_text(json.dumps({**START, "call_id": "revoked-1"}))
            assert json.loads(ws.receive_text())["type"] == "ready"
            ws.send_bytes(SILENCE)
            store.revoke_token("leaver")
            events = []
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    events.append(json.loads(ws.receive_text()))
        assert closed.value.code == 4401
        assert [e["code"] for e in events if e["type"] == "error"] == ["unauthorized"]
        assert events[-1]["type"] == "scorecard"  # finished with what arrived
        assert stored(store, "revoked-1").status == "interrupted"
        # a token that holds keeps its call through the checks
        with client.websocket_connect("/v1/stream", headers=bearer(parts[2]["agent"])) as ws:
            ws.send_text(json.dumps({**START, "call_id": "kept-1"}))
            assert json.loads(ws.receive_text())["type"] == "ready"
            ws.send_bytes(SILENCE)
            time.sleep(1.5)  # three checks
            ws.send_text(json.dumps({"type": "stop"}))
            events = [json.loads(ws.receive_text())]
            while events[-1]["type"] != "scorecard":
                events.append(json.loads(ws.receive_text()))
        assert not [e for e in events if e["type"] == "error"] and stored(store, "kept-1").status == "complete"


@pytest.mark.parametrize(("metadata", "says"), [
    ({"balance": "lots"}, "balance"),
    ({"calls_last_7d": -5}, "calls_last_7d"),
    ({"local_time": "99:99"}, "local_time"),
    ({"notes": "A" * 30_000}, "longer than 20000 characters"),
])
def test_a_live_call_metadata_is_checked_as_an_uploads_is(client, parts, metadata, says):
    """Metadata the rules read, or that fills the database, is refused before the call opens."""
    _, store, tokens = parts
    event, code = refused(client, headers=bearer(tokens["agent"]),
                          first=json.dumps({**START, "call_id": "meta-1", "metadata": metadata}))
    assert (event["code"], code) == ("bad_start", 1008) and says in event["message"], event
    assert not store.has_call("meta-1")


def test_a_live_call_metadata_as_platforms_send_it_is_taken_in_its_types(client, parts):
    """Numbers as text (all of a Twilio stream's parameters), an id as a number: taken, and stored in the
    types the rules read."""
    _, store, tokens = parts
    start = {**START, "call_id": "meta-ok", "metadata": {"agent_id": 1042, "team_size": 4, "balance": "500",
                                                    "calls_last_7d": "2"}}
    assert stream_call(client, start, headers=bearer(tokens["agent"]))[-1]["type"] == "scorecard"
    metadata = stored(store, "meta-ok").metadata
    assert metadata["balance"] == 500 and metadata["calls_last_7d"] == 2 and metadata["team_size"] == 4


def test_a_client_cannot_make_its_own_call_a_demo(client, parts):
    """A demo call is hidden from the lists, posts no alert and is purged: a client saying ``demo``
    is refused, so a real call is never stored as one; streamed without it, it is an ordinary call."""
    _, store, tokens = parts
    sneaky = json.dumps({**START, "call_id": "mine-1", "demo": True})
    event, code = refused(client, headers=bearer(tokens["agent"]), first=sneaky)
    assert (event["code"], code) == ("bad_start", 1008)
    assert '"sample"' in event["message"] and "en-short-call" in event["message"]  # how to play a sample instead
    assert "Traceback" not in event["message"]
    assert not store.has_call("mine-1")
    stream_call(client, {**START, "call_id": "mine-1", "demo": False}, headers=bearer(tokens["agent"]))
    assert stored(store, "mine-1").source == "live"
    stream_call(client, {**SAMPLE_START, "call_id": "sample-1", "demo": True}, headers=bearer(tokens["agent"]))
    assert stored(store, "sample-1").source == "demo"  # with a sample, the server's own copy: a demo
    listed = client.get("/v1/calls", headers=bearer(tokens["agent"])).json()["calls"]
    assert "mine-1" in [c["id"] for c in listed] and "sample-1" not in [c["id"] for c in listed]
    store.purge_demo_calls()  # what `coach calls purge-demo` does
    assert store.has_call("mine-1") and not store.has_call("sample-1")


@pytest.mark.parametrize(("change", "needle"), [
    ({"sample": "../../../etc/passwd"}, "a sample is named, never a path; the samples: en-cooperative"),
    ({"sample": "/work/main/examples/audio/en-short-call.flac"}, "never a path"),
    ({"sample": "martian"}, "no bundled sample named 'martian'"),
    ({"sample": "en-short-call.flac"}, "the samples: en-cooperative, en-hardship, en-short-call"),
    ({"sample": "x" * 500}, "at most 200 characters"),
    ({"sample": ""}, "at least 1 character"),
    ({"sample": ["en-short-call"]}, "sample"),
    ({"sample": "zh-violations"}, "send \"language\": \"zh\""),
    ({"channels": 1, "channel_roles": ["debtor"]}, "send \"channels\": 2"),
])
def test_a_sample_only_by_a_name_from_the_list_and_as_it_is(client, parts, change, needle):
    """A sample is chosen by name from the server's fixed list, never by a path, and must be declared as
    it is (language, channels); anything else is a clear ``bad_start``."""
    _, store, tokens = parts
    start = json.dumps({**SAMPLE_START, "call_id": "bad-sample", **change})
    event, code = refused(client, headers=bearer(tokens["agent"]), first=start)
    assert (event["code"], code) == ("bad_start", 1008), event
    assert needle in event["message"] and "Traceback" not in event["message"], event
    assert "/work/" not in event["message"] and "examples/audio" not in event["message"], event
    assert not store.has_call("bad-sample")


def test_the_server_plays_its_own_copy_of_a_sample_whatever_the_client_sends():
    """Each frame the client sends on a sample call is replaced by as many bytes of the sample, in the
    call's wire format: the frames only set the pace, so a real call cannot pass as a sample."""
    audio = load_audio(bundled()["en-short-call"].path)
    playback = SamplePlayback.open("en-short-call", AudioFormat("pcm_s16le", 16000, 2), "en")
    noise = np.random.default_rng(0).integers(-32768, 32767, 1600, dtype="<i2").tobytes()  # 800 stereo samples
    first, second = playback.take(noise), playback.take(noise)
    expected = (np.clip(audio[:, :1600].T, -1, 1) * 32767).astype("<i2").tobytes()
    assert first + second == expected != noise + noise
    with pytest.raises(InputError, match="whole number"):
        playback.take(b"\x00" * 3)  # not a whole sample on both channels: refused, nothing skipped
    assert playback.take(b"\x00" * 4) == (np.clip(audio[:, 1600:1601].T, -1, 1) * 32767).astype("<i2").tobytes()
    whole = audio.shape[1] * 4  # bytes of the whole sample: 2 channels of 2 bytes
    assert len(playback.take(b"\x00" * whole)) == whole - 6404  # to the end, not beyond
    assert playback.take(SILENCE) == b""  # the sample is over: the client's frames add nothing
    mulaw = SamplePlayback.open("en-short-call", AudioFormat("mulaw", 8000, 2), "en")
    assert len(mulaw.take(b"\x00" * 1600)) == 1600  # a phone line's format: the sample encoded as such


def test_the_upload_api_has_no_demo_flag(client, parts, tmp_path):
    """An uploaded call is stored as an upload whatever the form or its metadata say."""
    _, store, tokens = parts
    transcript = tmp_path / "up.json"
    transcript.write_text(json.dumps({"call_id": "upload-demo", "language": "en", "utterances": [
        {"speaker": "agent", "text": "hello this is sam from crestline", "start": 0.0, "end": 2.0}]}))
    with transcript.open("rb") as file:
        response = client.post("/v1/calls", headers=bearer(tokens["admin"]), files={"file": ("up.json", file)},
                               data={"demo": "true", "source": "demo", "metadata": json.dumps({"demo": True})})
    assert response.status_code == 201, response.text
    assert response.json()["call"]["source"] == "upload"
    assert "upload-demo" in [c.id for c in store.list_calls()]


def test_an_audiosocket_call_whose_registering_token_is_revoked_ends_and_is_kept(parts, monkeypatch):
    """AudioSocket carries no token: its legs stand on the registration's. Revoking that token hangs
    up on the call in progress (stored as interrupted with what arrived) and on legs still to come."""
    import socket
    import uuid

    import server.auth
    from coach.telephony.audiosocket import AUDIO, HANGUP, UUID, frame
    from tests.conftest import free_port

    monkeypatch.setattr(server.auth, "TOKEN_CHECK_SECONDS", 0.5)
    settings, store, _ = parts
    token = store.create_token("pbx-leaving", "integration")[0]
    tcp = free_port()
    with TestClient(create_app(settings.model_copy(update={"audiosocket_port": tcp}), preload=(), store=store)) as client:
        live, later = uuid.uuid4(), uuid.uuid4()
        for call_id, leg in (("as-revoked", live), ("as-later", later)):
            registered = client.post("/v1/telephony/audiosocket/calls", headers=bearer(token),
                                     json={"call_id": call_id, "legs": {"debtor": str(leg)}})
            assert registered.status_code == 201, registered.text
        with socket.create_connection(("127.0.0.1", tcp), timeout=30) as connection:
            connection.sendall(frame(UUID, live.bytes))
            for _ in range(10):
                connection.sendall(frame(AUDIO, b"\x00\x00" * 1600))  # 0.2 s at 8 kHz
            time.sleep(1.0)
            store.revoke_token("pbx-leaving")
            connection.settimeout(0.2)
            received, deadline = b"", time.monotonic() + 60
            while frame(HANGUP) not in received and time.monotonic() < deadline:
                connection.sendall(frame(AUDIO, b"\x00\x00" * 1600))  # as Asterisk goes on sending
                try:
                    received += connection.recv(64)
                except TimeoutError:
                    continue
            assert frame(HANGUP) in received
        assert stored(store, "as-revoked", wait=60).status == "interrupted"
        with socket.create_connection(("127.0.0.1", tcp), timeout=10) as connection:  # registered before the revocation
            connection.sendall(frame(UUID, later.bytes))
            assert connection.recv(3) == frame(HANGUP)
