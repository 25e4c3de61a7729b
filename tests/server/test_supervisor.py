"""The supervisors' live floor against the real app, models and database (in-process test client): a
call streamed through /v1/stream shows up on /v1/supervisor with an S1 alert, a note reaches the agent,
the acknowledgement is stored with who and when, the webhook gets a signed POST, other teams and other
roles see nothing, and bad messages get clear errors."""

from __future__ import annotations

import json
import queue
import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from coach.alerts import verify
from coach.config import Settings
from coach.errors import InputError
from coach.storage import CallStore, NewCall
from server.app import create_app
from tests.audio.test_streaming import silence, speak
from tests.test_floor import Receiver

THREAT = "if you dont pay today you will go to jail"
START = {"type": "start", "language": "en", "encoding": "pcm_s16le", "sample_rate": 16000, "channels": 2,
         "channel_roles": ["agent", "debtor"]}
SECRET = "hook-secret"


class Inbox:
    """A socket's messages, read on a thread, so a test waits for one with a timeout (never forever)."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.messages: queue.Queue[dict] = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                message = json.loads(self.ws.receive_text())
                message["_at"] = time.monotonic()
                self.messages.put(message)
        except WebSocketDisconnect as exc:
            self.messages.put({"type": "_closed", "code": exc.code})
        except Exception as exc:  # noqa: BLE001 (the session ended another way: say so, never hang)
            self.messages.put({"type": "_closed", "code": None, "error": repr(exc)})

    def until(self, predicate, timeout: float = 90.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such message within {timeout:g} s; got {[(m.get('type'), round(m.get('_at', 0) % 1000, 1)) for m in self.seen]}")
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(message)
            if predicate(message):
                return message
            if message["type"] == "_closed":
                raise AssertionError(f"socket closed ({message}) before the message came; got {[(m.get('type'), round(m.get('_at', 0) % 1000, 1)) for m in self.seen]}")

    def of(self, kind: str, timeout: float = 90.0, **fields) -> dict:
        return self.until(lambda m: m["type"] == kind and all(m.get(k) == v for k, v in fields.items()), timeout)

    def drain(self, seconds: float = 0.5) -> list[dict]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.seen.append(self.messages.get(timeout=0.05))
            except queue.Empty:
                pass
        return self.seen


def pcm(channels: np.ndarray) -> bytes:
    return (np.clip(channels.T, -1, 1) * 32767).astype("<i2").tobytes()


def threat_call() -> np.ndarray:
    agent = np.concatenate([silence(0.3), speak(THREAT, "en-us"), silence(1.2)])
    return np.stack([agent, np.zeros_like(agent)])


def send_audio(ws, audio: np.ndarray) -> None:
    for offset in range(0, audio.shape[1], 1600):
        ws.send_bytes(pcm(audio[:, offset : offset + 1600]))


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def setup(receiver, tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("supervisor"), streams_per_minute=0,
                        alert_webhook_url=receiver.url, alert_webhook_secret=SECRET, alert_webhook_attempts=2,
                        stream_idle_seconds=20)
    store = CallStore(settings.database(), settings)
    tokens = {
        "agent": store.create_token("ann", "agent", agent_id="a1", team="north")[0],
        "supervisor": store.create_token("sam", "supervisor", team="north")[0],
        "coach": store.create_token("cho", "coach", team="north")[0],
        "south": store.create_token("sue", "supervisor", team="south")[0],
        "coach_south": store.create_token("cas", "coach", team="south")[0],
        "admin": store.create_token("ada", "admin")[0],
        "trainer": store.create_token("tia", "trainer")[0],
        "integration": store.create_token("pbx", "integration")[0],
    }
    app = create_app(settings, store=store)
    with TestClient(app) as client:
        for _ in range(300):
            if client.get("/readyz").status_code == 200:
                break
            time.sleep(0.5)
        yield client, store, tokens


def watch(client, token):
    return client.websocket_connect(f"/v1/supervisor?token={token}")


def test_a_threat_on_a_live_call_reaches_the_supervisors_of_its_team(setup, receiver):
    client, _, tokens = setup
    with watch(client, tokens["supervisor"]) as sup_ws, watch(client, tokens["south"]) as south_ws, \
            watch(client, tokens["admin"]) as admin_ws:
        sup, south, admin = Inbox(sup_ws), Inbox(south_ws), Inbox(admin_ws)
        snapshot = sup.of("snapshot")
        assert snapshot["viewer"] == {"name": "sam", "role": "supervisor", "team": "north"}
        assert snapshot["calls"] == [] and snapshot["limits"]["note_chars"] == 500
        south.of("snapshot")
        admin.of("snapshot")
        with client.websocket_connect("/v1/stream", headers={"Authorization": f"Bearer {tokens['agent']}"}) as agent_ws:
            agent = Inbox(agent_ws)
            agent_ws.send_text(json.dumps({**START, "call_id": "floor-1"}))
            agent.of("ready")
            tile = sup.of("call")["call"]
            assert tile["call_id"] == "floor-1" and tile["agent_id"] == "a1" and tile["team"] == "north"
            sup_ws.send_text(json.dumps({"type": "subscribe", "call_id": "floor-1"}))
            subscribed = sup.of("subscribed", call_id="floor-1")
            assert subscribed["call"]["language"] == "en"
            send_audio(agent_ws, threat_call())
            alert = sup.of("alert", rule_id="US-THREAT")
            assert alert["kind"] == "violation" and alert["severity"] == "S1" and alert["call_id"] == "floor-1"
            assert "jail" in alert["evidence"] and alert["at"] and alert["agent_id"] == "a1"
            risky = [m["call"] for m in sup.seen if m["type"] == "call" and m["call"]["s1_violations"]]
            assert risky and risky[0]["risk_reasons"][0] == "S1 violation" and risky[0]["open_alerts"] == 1
            # subscribed: the call's events as they happen, the agent's words included
            live = [m for m in sup.seen if m["type"] == "events"]
            assert live and all(m["call_id"] == "floor-1" for m in live)
            assert any(e["type"] == "utterance" and "jail" in e["text"] for m in live for e in m["events"])
            assert admin.of("alert", rule_id="US-THREAT")["id"] == alert["id"]
            # a private note reaches the agent's console during the call
            sup_ws.send_text(json.dumps({"type": "note", "call_id": "floor-1", "text": "Stop. Apologise and retract that."}))
            sup.of("note_sent", call_id="floor-1")
            note = agent.of("supervisor_note")
            assert note["text"] == "Stop. Apologise and retract that." and note["author"] == "sam" and note["call_id"] == "floor-1"
            agent_ws.send_text(json.dumps({"type": "stop"}))
            agent.of("scorecard")
        ended = sup.of("ended", call_id="floor-1")
        assert ended["status"] == "complete" and ended["review"] == "/v1/calls/floor-1"
        assert client.get(ended["review"], headers={"Authorization": f"Bearer {tokens['supervisor']}"}).status_code == 200
        # a supervisor who connects after the call ended is still shown the alert not acknowledged yet
        with watch(client, tokens["coach"]) as late_ws:
            late = Inbox(late_ws).of("snapshot")
            assert late["calls"] == [] and alert["id"] in {a["id"] for a in late["alerts"]}
        with watch(client, tokens["coach_south"]) as other_ws:  # a coach of another team: nothing
            assert Inbox(other_ws).of("snapshot")["alerts"] == []
        with watch(client, tokens["admin"]) as all_ws:
            assert alert["id"] in {a["id"] for a in Inbox(all_ws).of("snapshot")["alerts"]}
        # acknowledged by a click: who and when is stored, and every watcher hears of it
        sup_ws.send_text(json.dumps({"type": "ack", "alert_id": alert["id"]}))
        acked = sup.of("alert_ack", id=alert["id"])
        assert acked["acknowledged_by"] == "sam" and acked["acknowledged_at"]
        assert admin.of("alert_ack", id=alert["id"])["acknowledged_by"] == "sam"
        # the other team's supervisor saw nothing of it
        assert not [m for m in south.drain() if m.get("call_id") == "floor-1" or m.get("call", {}).get("call_id") == "floor-1"]
    # once acknowledged, a supervisor who connects later is not shown it again
    with watch(client, tokens["supervisor"]) as late_ws:
        assert alert["id"] not in {a["id"] for a in Inbox(late_ws).of("snapshot")["alerts"]}
    stored = client.get("/v1/alerts?call_id=floor-1", headers={"Authorization": f"Bearer {tokens['supervisor']}"}).json()["alerts"]
    threat = next(a for a in stored if a["id"] == alert["id"])
    assert threat["acknowledged_by"] == "sam" and threat["acknowledged_at"] and threat["rule_id"] == "US-THREAT"
    # the note is kept with the call, so its review shows what the agent was told
    notes = client.get("/v1/calls/floor-1/notes", headers={"Authorization": f"Bearer {tokens['supervisor']}"}).json()
    told = "Note to the agent during the call: Stop. Apologise and retract that."
    assert [(n["author"], n["text"]) for n in notes] == [("sam", told)]
    # the first acknowledgement stands
    again = client.post(f"/v1/alerts/{alert['id']}/ack", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert again.status_code == 200 and again.json()["acknowledged_by"] == "sam"
    assert client.get("/v1/alerts", headers={"Authorization": f"Bearer {tokens['south']}"}).json()["alerts"] == []
    # the webhook got the alert, signed
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(json.loads(b)["id"] == alert["id"] for _, b, _ in receiver.requests):
        time.sleep(0.05)
    headers, body, _ = next((h, b, t) for h, b, t in receiver.requests if json.loads(b)["id"] == alert["id"])
    assert verify(body, SECRET, headers["X-Coach-Timestamp"], headers["X-Coach-Signature"])
    assert json.loads(body)["rule_id"] == "US-THREAT"


def test_an_agent_cannot_pass_a_real_call_off_as_a_demo(setup, receiver):
    """A demo call is hidden from the lists, posts no alert and is purged, so only the server makes one:
    ``demo`` from the client is refused, and a call naming a sample is fed the sample, never the agent's
    audio. The threat streamed as it must be is an ordinary call: its S1 alert reaches the webhook."""
    client, store, tokens = setup
    agent = {"Authorization": f"Bearer {tokens['agent']}"}
    threat = np.concatenate([threat_call(), np.zeros((2, 16_000 * 6), np.float32)], axis=1)  # 10 s
    with client.websocket_connect("/v1/stream", headers=agent) as ws:
        ws.send_text(json.dumps({**START, "call_id": "sneaky-demo", "demo": True}))
        refusal = json.loads(ws.receive_text())
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert (refusal["type"], refusal["code"], closed.value.code) == ("error", "bad_start", 1008)
    assert '"sample"' in refusal["message"] and not store.has_call("sneaky-demo")
    # naming a sample: the server plays the sample's first 10 s for the agent's 10 s; the threat is never heard
    with client.websocket_connect("/v1/stream", headers=agent) as ws:
        played = Inbox(ws)
        ws.send_text(json.dumps({**START, "call_id": "sneaky-sample", "sample": "en-cooperative"}))
        played.of("ready")
        send_audio(ws, threat)
        ws.send_text(json.dumps({"type": "stop"}))
        played.of("scorecard")
    heard = " ".join(e["text"] for e in played.seen if e["type"] == "utterance").lower()
    assert "jail" not in heard and any(word in heard for word in ("afternoon", "angela", "crestline")), heard
    assert not [e for e in played.seen if e.get("rule_id") == "US-THREAT"]
    assert store.get_call("sneaky-sample").source == "demo"
    # the threat as an ordinary call: listed, alerted, and kept by `coach calls purge-demo`
    with client.websocket_connect("/v1/stream", headers=agent) as ws:
        real = Inbox(ws)
        ws.send_text(json.dumps({**START, "call_id": "sneaky-real"}))
        real.of("ready")
        send_audio(ws, threat)
        ws.send_text(json.dumps({"type": "stop"}))
        real.of("scorecard")
    assert [e for e in real.seen if e.get("rule_id") == "US-THREAT"]

    def posted() -> set[str]:
        return {json.loads(body)["call_id"] for _, body, _ in receiver.requests}

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "sneaky-real" not in posted():
        time.sleep(0.05)
    assert "sneaky-real" in posted() and "sneaky-sample" not in posted()
    for _ in range(200):  # stored once the call is closed
        if store.get_call("sneaky-real").status != "live":
            break
        time.sleep(0.05)
    assert "sneaky-real" in [c["id"] for c in client.get("/v1/calls", headers=agent).json()["calls"]]
    store.purge_demo_calls()
    assert store.has_call("sneaky-real") and not store.has_call("sneaky-sample")


def test_a_call_stored_under_another_id_keeps_its_alerts_and_review_there(setup):
    client, store, tokens = setup
    store.begin_call(NewCall(call_id="taken-1", language="en", playbook="en-US-collections", source="live", team="north"))
    with watch(client, tokens["supervisor"]) as sup_ws:
        sup = Inbox(sup_ws)
        sup.of("snapshot")
        with client.websocket_connect("/v1/stream", headers={"Authorization": f"Bearer {tokens['agent']}"}) as agent_ws:
            agent = Inbox(agent_ws)
            agent_ws.send_text(json.dumps({**START, "call_id": "taken-1"}))
            taken = agent.of("error", code="call_id_taken")
            stored_id = taken["message"].split("stored as ")[1].strip("'")
            send_audio(agent_ws, threat_call())
            alert = sup.of("alert", rule_id="US-THREAT")
            assert alert["call_id"] == "taken-1"  # the call's id on the floor
            agent_ws.send_text(json.dumps({"type": "stop"}))
            agent.of("scorecard")
        ended = sup.of("ended", call_id="taken-1")
        assert ended["review"] == f"/v1/calls/{stored_id}" and stored_id.startswith("taken-1-")
        # alerts are written off the event loop, on the alerts' thread: under load the write may
        # land after the call's end is announced
        deadline = time.monotonic() + 10
        while True:
            stored = client.get(f"/v1/alerts?call_id={stored_id}",
                                headers={"Authorization": f"Bearer {tokens['admin']}"}).json()
            if stored["alerts"] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [a["id"] for a in stored["alerts"]] == [alert["id"]]
        assert client.post(f"/v1/alerts/{alert['id']}/ack", headers={"Authorization": f"Bearer {tokens['coach']}"}).json()[
            "acknowledged_by"] == "cho"
        assert sup.of("alert_ack", id=alert["id"])["acknowledged_by"] == "cho"


def test_the_rest_routes_need_a_watching_role(setup):
    client, _, tokens = setup
    assert client.get("/v1/alerts").status_code == 401
    assert client.get("/v1/alerts", headers={"Authorization": f"Bearer {tokens['agent']}"}).status_code == 403
    assert client.post("/v1/alerts/nope/ack", headers={"Authorization": f"Bearer {tokens['trainer']}"}).status_code == 403
    assert client.post("/v1/alerts/nope/ack", headers={"Authorization": f"Bearer {tokens['supervisor']}"}).status_code == 404
    assert client.get("/v1/alerts?limit=0", headers={"Authorization": f"Bearer {tokens['admin']}"}).status_code == 422


def test_supervisors_read_their_teams_calls_like_coaches(setup):
    client, store, tokens = setup
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {tokens['supervisor']}"}).json()
    assert me == {"name": "sam", "role": "supervisor", "agent_id": None, "team": "north"}
    for team in ("north", "south"):
        store.begin_call(NewCall(call_id=f"stored-{team}", language="en", playbook="en-US-collections", source="live",
                                 agent_id="a5", team=team))
    calls = client.get("/v1/calls", headers={"Authorization": f"Bearer {tokens['supervisor']}"}).json()["calls"]
    assert "stored-north" in {c["id"] for c in calls} and all(c["team"] == "north" for c in calls)
    assert client.get("/v1/calls/stored-south", headers={"Authorization": f"Bearer {tokens['supervisor']}"}).status_code == 404
    with pytest.raises(InputError, match="team"):
        store.create_token("no-team", "supervisor")


@pytest.mark.parametrize("who,code", [("agent", 4403), ("trainer", 4403), ("integration", 4403), (None, 4401),
                                      ("coach_wrong", 4401)])
def test_other_roles_are_refused(setup, who, code):
    client, _, tokens = setup
    url = "/v1/supervisor" if who is None else f"/v1/supervisor?token={tokens.get(who, 'coach_not-a-token')}"
    with client.websocket_connect(url) as ws:
        error = json.loads(ws.receive_text())
        assert error["type"] == "error" and error["code"] in ("forbidden", "unauthorized")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == code


def test_bad_messages_get_clear_errors_and_the_socket_stays(setup):
    client, _, tokens = setup
    with watch(client, tokens["coach"]) as ws:
        inbox = Inbox(ws)
        inbox.of("snapshot")
        cases = [
            ("{not json", "bad_message", "unknown or missing message type"),
            (json.dumps({"type": "dance"}), "bad_message", "'dance'"),
            (json.dumps({"type": "subscribe"}), "bad_message", "call_id"),
            (json.dumps({"type": "subscribe", "call_id": "nobody"}), "unknown_call", "no call 'nobody'"),
            (json.dumps({"type": "note", "call_id": "nobody", "text": "hi"}), "unknown_call", "no call"),
            (json.dumps({"type": "note", "call_id": "x", "text": "a" * 501}), "bad_message", "500"),
            (json.dumps({"type": "ack", "alert_id": "0" * 32}), "unknown_alert", "no alert"),
            (json.dumps({"type": "ping", "extra": 1}), "bad_message", "extra"),
            ("x" * 20_000, "message_too_large", "16384"),
        ]
        for text, code, needle in cases:
            ws.send_text(text)
            error = inbox.of("error")
            assert error["code"] == code and needle in error["message"], (text[:40], error)
            assert "Traceback" not in error["message"] and len(error["message"]) < 600
        ws.send_bytes(b"\x00\x01")
        assert inbox.of("error")["code"] == "bad_message"
        ws.send_text(json.dumps({"type": "ping"}))
        inbox.of("pong")


def test_a_failing_webhook_never_delays_the_call(tmp_path, setup):
    _, _, _ = setup  # the models are loaded
    hanging = Receiver(delay=3.0)
    settings = Settings(data_dir=tmp_path, streams_per_minute=0, alert_webhook_url=hanging.url, alert_webhook_secret="k",
                        alert_webhook_attempts=5, alert_webhook_timeout_seconds=2.0)
    store = CallStore(settings.database(), settings)
    agent = store.create_token("ann", "agent", agent_id="a1", team="north")[0]
    app = create_app(settings, store=store)
    audio = threat_call()
    with TestClient(app) as client:
        for _ in range(300):
            if client.get("/readyz").status_code == 200:
                break
            time.sleep(0.5)
        hub = app.state.supervisor
        with client.websocket_connect("/v1/stream", headers={"Authorization": f"Bearer {agent}"}) as ws:
            inbox = Inbox(ws)
            ws.send_text(json.dumps({**START, "call_id": "slow-hook"}))
            inbox.of("ready")
            send_audio(ws, audio)
            inbox.of("compliance", rule_id="US-THREAT")
            alerted = time.monotonic()
            ws.send_text(json.dumps({"type": "stop"}))
            inbox.of("scorecard")
            finished = time.monotonic()
        # the call ended while the webhook was still hanging on its first try
        assert finished - alerted < 3.0 and hub.webhook.delivered == 0 and hub.webhook.failed == 0
        deadline = time.monotonic() + 5
        while not hanging.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hanging.requests and json.loads(hanging.requests[0][1])["rule_id"] == "US-THREAT"
    hanging.close()


def test_fifty_busy_calls_and_an_alert_on_the_socket_within_a_second(setup):
    """50 calls publishing from their own threads (as the speech models do), 10 batches a second each:
    an S1 on one of them reaches a watching supervisor within 1 s."""
    from coach.events import ComplianceEvent, UtteranceEvent

    client, _, tokens = setup
    floor = client.app.state.supervisor.floor
    keys = [floor.open(f"busy-{i}", language="en", agent_id=f"b{i}", team="north") for i in range(50)]
    stop = threading.Event()

    def talk(key: str) -> None:
        uid = 0
        while not stop.is_set():
            floor.publish(key, [UtteranceEvent(call_id=key, utterance_id=uid, speaker="debtor", text="i cant pay this month",
                                               start=uid, end=uid + 0.9, stage="negotiation")])
            uid += 1
            time.sleep(0.1)

    threads = [threading.Thread(target=talk, args=(k,), daemon=True) for k in keys]
    try:
        with watch(client, tokens["supervisor"]) as ws:
            inbox = Inbox(ws)
            assert {c["call_id"] for c in inbox.of("snapshot")["calls"]} >= set(keys)
            for thread in threads:
                thread.start()
            time.sleep(1.0)
            raised = time.monotonic()
            floor.publish(keys[37], [ComplianceEvent(
                call_id=keys[37], utterance_id=999, rule_id="US-THREAT", name="Threat", severity="S1", message="m",
                evidence="you will go to jail", citation="1692e", confidence=0.9, method="phrase", speaker="agent", ref="r")])
            alert = inbox.of("alert", call_id=keys[37], timeout=5)
            assert alert["_at"] - raised < 1.0, alert["_at"] - raised
            # the tile's update with the S1 (an update sent just before it, from the call's own
            # utterances, may still be on its way: the first one seen need not carry the S1)
            top = inbox.until(lambda m: m["type"] == "call" and m["call"]["call_id"] == keys[37]
                              and m["call"]["risk"] >= 4, timeout=5)
            assert top["call"]["risk"] >= 4
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=2)
        for key in keys:
            floor.close(key)


def test_a_revoked_token_stops_watching_at_once_it_acts_and_within_seconds_when_quiet(setup, monkeypatch):
    """A supervisor's socket stays open a whole shift: revoking the token ends it, not only the next
    connection (an attacker kept watching the floor and sending notes after ``coach token revoke``)."""
    import server.auth

    client, store, _ = setup
    acting = store.create_token("rev-acting", "supervisor", team="north")[0]
    with watch(client, acting) as ws:
        inbox = Inbox(ws)
        inbox.of("snapshot")
        store.revoke_token("rev-acting")
        ws.send_text(json.dumps({"type": "note", "call_id": "any", "text": "still here?"}))
        assert inbox.of("error")["code"] == "unauthorized"
        assert inbox.of("_closed")["code"] == 4401
    monkeypatch.setattr(server.auth, "TOKEN_CHECK_SECONDS", 0.5)
    quiet = store.create_token("rev-quiet", "supervisor", team="north")[0]
    with watch(client, quiet) as ws:
        inbox = Inbox(ws)
        inbox.of("snapshot")
        ws.send_text(json.dumps({"type": "ping"}))
        inbox.of("pong")
        store.revoke_token("rev-quiet")
        assert inbox.of("error", timeout=10)["code"] == "unauthorized"
        assert inbox.of("_closed", timeout=10)["code"] == 4401
