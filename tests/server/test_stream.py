"""The live-call WebSocket protocol against the real app and models (in-process test client)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from coach.audio.formats import encode_mulaw
from server.app import create_app
from tests.audio.test_streaming import silence, speak

START = {"type": "start", "call_id": "t1", "language": "en", "encoding": "pcm_s16le", "sample_rate": 16000,
         "channels": 2, "channel_roles": ["agent", "debtor"]}


@pytest.fixture(scope="module")
def client(agent_token):
    app = create_app()
    with TestClient(app) as client:
        for _ in range(300):
            if client.get("/readyz").status_code == 200:
                break
            time.sleep(0.5)
        # every stream of these tests carries an agent's token
        client.headers["Authorization"] = f"Bearer {agent_token}"
        yield client


def pcm(channels: np.ndarray) -> bytes:
    return (np.clip(channels.T, -1, 1) * 32767).astype("<i2").tobytes()


def receive_until(ws, kind: str, limit: int = 500) -> list[dict]:
    events = []
    for _ in range(limit):
        event = json.loads(ws.receive_text())
        events.append(event)
        if event["type"] == kind:
            return events
    raise AssertionError(f"no {kind} event")


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "storage": "ok"}
    assert "/v1/stream" in client.get("/openapi.json").text or client.get("/docs").status_code == 200


def test_a_call_from_start_to_scorecard(client):
    debtor = np.concatenate([silence(0.5), speak("i lost my job and i cannot pay anything right now", "en-us+f3"), silence(1.0)])
    audio = np.stack([np.zeros_like(debtor), debtor])
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps({**START, "call_id": "full"}))
        ready = json.loads(ws.receive_text())
        assert ready["type"] == "ready" and ready["channels"] == ["agent", "debtor"]
        for offset in range(0, audio.shape[1], 1600):
            ws.send_bytes(pcm(audio[:, offset : offset + 1600]))
        ws.send_text(json.dumps({"type": "stop"}))
        events = receive_until(ws, "scorecard")
    utterances = [e for e in events if e["type"] == "utterance"]
    assert utterances and utterances[0]["speaker"] == "debtor" and "job" in utterances[0]["text"].lower()
    intents = [e for e in events if e["type"] == "intent"]
    assert intents and intents[0]["intent"] == "cannot_afford"
    assert all(e["emitted_at"] and e["lag"] is not None for e in events if e["type"] != "ready")


def test_mulaw_8khz_mono(client):
    speech = np.concatenate([silence(0.3), speak("please stop calling me", "en-us+f3"), silence(1.0)])
    telephone = speech[::2]  # 8 kHz
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps({**START, "call_id": "mulaw", "encoding": "mulaw", "sample_rate": 8000, "channels": 1,
                                 "channel_roles": ["debtor"]}))
        assert json.loads(ws.receive_text())["type"] == "ready"
        data = encode_mulaw(telephone)
        for offset in range(0, len(data), 800):
            ws.send_bytes(data[offset : offset + 800])
        ws.send_text(json.dumps({"type": "stop"}))
        events = receive_until(ws, "scorecard")
    assert any(e["type"] == "utterance" and "calling" in e["text"].lower() for e in events)


def _rejected(client, first) -> tuple[dict, int]:
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_bytes(first) if isinstance(first, bytes) else ws.send_text(first)
        event = json.loads(ws.receive_text())
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    return event, closed.value.code


def test_audio_before_start(client):
    event, code = _rejected(client, b"\x00\x00" * 100)
    assert event["code"] == "audio_before_start" and code == 1008


def test_malformed_start(client):
    event, code = _rejected(client, "{not json")
    assert event["code"] == "bad_message" and code == 1008
    # half a character in the metadata: stored, the call's detail was a 500 for everyone ever after
    event, code = _rejected(client, json.dumps({**START, "metadata": {"note": "\ud800"}}))
    assert event["code"] == "bad_message" and "lone surrogate" in event["message"] and code == 1008


@pytest.mark.parametrize(
    "change,needle",
    [({"encoding": "opus"}, "unsupported encoding"), ({"sample_rate": 44100}, "sample rate"),
     ({"channel_roles": ["agent"]}, "channel_roles"), ({"language": "fr"}, "language"),
     ({"playbook": "martian"}, "unknown playbook"), ({"channel_roles": ["agent", "robot"]}, "unknown role 'robot'"),
     ({"channel_roles": ["agent", "agent"]}, "name 'agent' twice"),  # refused as an upload's are
     ({"playbook": "/etc/passwd"}, "installed playbooks: en-US-collections, zh-CN-bank-collections"),
     ({"playbook": "../../playbooks/en-US-collections.yaml"}, "never a path"),
     ({"call_id": "../../../x"}, "may not hold slashes"), ({"call_id": "fz\u0000nul"}, "control or format characters"),
     ({"call_id": "\u202eevil"}, "control or format characters")],
)
def test_bad_start_messages(client, change, needle):
    event, code = _rejected(client, json.dumps({**START, **change}))
    assert event["type"] == "error" and needle in event["message"] and code == 1008
    assert "root:" not in event["message"] and "not found" not in event["message"]  # no file is read or probed


def test_bad_frames_and_messages_do_not_end_the_call(client):
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps({**START, "call_id": "bad-frames"}))
        receive_until(ws, "ready")
        ws.send_bytes(b"\x00" * 7)  # not a whole number of stereo samples
        assert json.loads(ws.receive_text())["code"] == "bad_audio"
        ws.send_bytes(b"\x00" * (2 * 1024 * 1024))
        assert json.loads(ws.receive_text())["code"] == "frame_too_large"
        ws.send_text("{oops")
        assert json.loads(ws.receive_text())["code"] == "bad_message"
        ws.send_text(json.dumps({"type": "pause"}))
        assert json.loads(ws.receive_text())["code"] == "bad_message"
        ws.send_bytes(pcm(np.zeros((2, 16000), dtype=np.float32)))
        ws.send_text(json.dumps({"type": "stop"}))
        events = receive_until(ws, "scorecard")
    assert not [e for e in events if e["type"] == "utterance"]  # silence stays silent


def test_client_vanishing_mid_call_keeps_the_transcript(client):
    debtor = np.concatenate([silence(0.3), speak("i already paid this last week", "en-us+f3"), silence(1.0)])
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps({**START, "call_id": "vanished", "channels": 1, "channel_roles": ["debtor"]}))
        receive_until(ws, "ready")
        for offset in range(0, len(debtor), 1600):
            ws.send_bytes(pcm(debtor[None, offset : offset + 1600]))
        receive_until(ws, "utterance")
    # the socket is gone; the server finishes the call and keeps what it heard
    call = client.app.state.calls.get("vanished")
    for _ in range(600):
        if call.finished:
            break
        time.sleep(0.1)
    assert call.finished and "paid" in call.transcript[0][1].lower()
    assert client.get("/healthz").status_code == 200


def test_a_client_streaming_faster_than_real_time_is_held_to_the_models_pace(agent_token):
    """Audio sent all at once waits in the client's queue, not the server's: the server stops reading
    while more than max_stream_backlog_seconds of it waits for the models (a flood is bounded work),
    and every second of it is still transcribed."""
    from coach.config import get_settings

    settings = get_settings().model_copy(update={"max_stream_backlog_seconds": 2.0})
    said = ["i already paid this last week", "please stop calling me at work", "i can pay fifty dollars on friday"]
    debtor = np.concatenate([part for text in said for part in (speak(text, "en-us+f3"), silence(1.0))])
    lags: list[float] = []
    with TestClient(create_app(settings)) as flood:
        flood.headers["Authorization"] = f"Bearer {agent_token}"
        with flood.websocket_connect("/v1/stream") as ws:
            ws.send_text(json.dumps({**START, "call_id": "flood", "channels": 1, "channel_roles": ["debtor"]}))
            receive_until(ws, "ready")
            call = flood.app.state.calls.get("flood")
            for offset in range(0, len(debtor), 8000):  # half a second a frame, as fast as it goes
                ws.send_bytes(pcm(debtor[None, offset : offset + 8000]))
            ws.send_text(json.dumps({"type": "stop"}))
            for _ in range(600):
                lags.append(call.lag)
                if call.finished:
                    break
                time.sleep(0.05)
            events = receive_until(ws, "scorecard")
    assert len(debtor) / 16_000 > 8 and max(lags) <= 2.0 + 0.5 + 0.1, max(lags)  # the limit, plus the frame that passed it
    heard = " ".join(e["text"].lower() for e in events if e["type"] == "utterance")
    assert "paid" in heard and "calling" in heard and "friday" in heard


def test_a_storage_outage_is_told_without_the_servers_paths(client, monkeypatch):
    """The client hears that storage is down and that the call goes on; the database's file path
    stays in the server's log."""
    from coach.errors import StorageError

    store = client.app.state.store

    def locked(*_args, **_kwargs):
        raise StorageError("the database sqlite:////srv/private/coach-data/coach.db is locked by another process; "
                           "nothing was written")

    monkeypatch.setattr(store, "begin_call", locked)
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps({**START, "call_id": "outage"}))
        receive_until(ws, "ready")
        ws.send_bytes(pcm(np.zeros((2, 16000), dtype=np.float32)))
        ws.send_text(json.dumps({"type": "stop"}))
        events = receive_until(ws, "scorecard")
    (told,) = [e for e in events if e["type"] == "error" and e["code"] == "storage_unavailable"]
    assert "is locked" in told["message"] and "/srv/private" not in told["message"]


# -- the spoken language ------------------------------------------------------------------------

def _conversation(turns: list[np.ndarray]) -> np.ndarray:
    """Two channels taking turns (agent first), 0.8 s apart."""
    gap = silence(0.8)
    length = sum(len(turn) + len(gap) for turn in turns) + len(gap)
    audio = np.zeros((2, length), dtype=np.float32)
    at = len(gap)
    for index, turn in enumerate(turns):
        audio[index % 2, at : at + len(turn)] = turn
        at += len(turn) + len(gap)
    return audio


def _stream_call(client, call_id: str, audio: np.ndarray, language: str) -> list[dict]:
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps({**START, "call_id": call_id, "language": language}))
        receive_until(ws, "ready")
        for offset in range(0, audio.shape[1], 3200):
            ws.send_bytes(pcm(audio[:, offset : offset + 3200]))
        ws.send_text(json.dumps({"type": "stop"}))
        return receive_until(ws, "scorecard", limit=2000)


def _stored(client, call_id: str) -> dict:
    for _ in range(300):
        detail = client.get(f"/v1/calls/{call_id}").json()
        if detail["status"] != "live":
            return detail
        time.sleep(0.1)
    raise AssertionError("the call was never closed")


def test_a_call_spoken_in_another_language_than_declared_is_told_and_stored_with_a_warning(client, monkeypatch):
    """Mandarin streamed as an English call (about 40 s of speech): the agent gets a warning event
    during the call saying what was heard and what to do, and the stored call carries the same warning.
    (Whisper base hears espeak's Mandarin unsurely in 15 s of it, surely in 30: the full listen decides.)
    The end of the call waits for the listen longer than the product's 8 s here: beside the suite's other
    worker on two cores the full listen took longer (a fresh clone's run, session 46); that the end does not
    wait for ever is tests/test_live.py's."""
    import coach.live
    from tests.review.test_language import _pinyin

    monkeypatch.setattr(coach.live, "LANGUAGE_CHECK_WAIT", 60.0)

    said = ["您好 这里是招商银行信用卡中心 请问是李明先生本人吗", "我上个月已经还过了 你们别再打电话了",
            "您的账单已经逾期三十天了 请尽快还款", "我现在真的没有钱 我失业了 家里还有老人要照顾",
            "那您看下个月十五号能不能先还一部分", "可以 我下个月十五号先还五百块钱",
            "好的 我们会给您发一条短信确认 谢谢您的配合"]
    audio = _conversation([speak(_pinyin(text), "cmn-latn-pinyin+f3") for text in said])
    events = _stream_call(client, "zh-as-en", audio, "en")

    (warning,) = [e for e in events if e["type"] == "warning"]
    assert warning["code"] == "language_mismatch" and warning["emitted_at"]
    assert warning["message"].startswith("the speech sounds like Chinese (")
    assert "started as English" in warning["message"] and "restart the call with language zh" in warning["message"]
    # streamed far faster than real time, the check may only be heard as the call ends (it waits for
    # the speech model to be idle); during a call at real pace it is (tests/test_live.py)
    assert events.index(warning) < [e["type"] for e in events].index("scorecard")
    assert {"code": warning["code"], "message": warning["message"]} in _stored(client, "zh-as-en")["warnings"]


def test_a_call_in_its_declared_language_is_checked_and_not_warned(client):
    said = ["hello this is sam from crestline recovery calling about your account",
            "i already paid this bill last month so please check again", "i lost my job and i cannot pay right now",
            "we can set up a payment plan for the balance if that helps", "please stop calling me at work",
            "i understand, i will note that and send you a letter today"]
    audio = _conversation([speak(text, "en-us+f3") for text in said])
    events = _stream_call(client, "en-as-en", audio, "en")

    assert not [e for e in events if e["type"] == "warning"]
    check = client.app.state.calls.get("en-as-en").language_check
    assert check.started and check.heard is not None and check.heard.code == "en"  # checked, and heard right
    assert _stored(client, "en-as-en")["warnings"] == []
