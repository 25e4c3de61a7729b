"""Telephony adapters against a real `coach serve` on a real port: a bundled call played exactly as the
platform sends it gives the same stored events as the same audio through /v1/stream."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from coach.audio.files import load_audio
from coach.errors import CoachError
from coach.replay import replay, replay_audiofork, replay_audiohook, replay_audiosocket, replay_twilio
from coach.storage import CallStore
from server.telephony import AudioForkStream, _basic_password
from tests.conftest import EXAMPLES

SHORT_CALL = EXAMPLES / "audio" / "en-short-call.flac"


@pytest.fixture(scope="module")
def store():
    store = CallStore.from_settings()
    yield store
    store.close()


@pytest.fixture(scope="module")
def integration_token(store) -> str:
    return store.create_token(f"pbx-{uuid.uuid4().hex[:8]}", "integration")[0]


def _what_happened(events: list[dict]) -> list[tuple]:
    return [(e["type"], e.get("speaker"), e.get("intent") or e.get("rule_id") or e.get("label") or e.get("stage"))
            for e in events if e["type"] not in ("partial", "ready", "error")]


METADATA = json.loads(SHORT_CALL.with_suffix(".json").read_text())["metadata"]


@pytest.fixture(scope="module")
def through_stream(live_server, store, agent_token) -> list[dict]:
    """The events stored for the sample call sent on /v1/stream as 8 kHz mu-law (a phone line's audio)."""
    call_id = f"stream-{uuid.uuid4().hex[:8]}"
    asyncio.run(replay(SHORT_CALL, f"ws://127.0.0.1:{live_server}/v1/stream", speed=None, audio=load_audio(SHORT_CALL),
                       token=agent_token, encoding="mulaw", call_id=call_id, metadata=METADATA))
    return store.events(call_id)


def test_a_twilio_stream_gives_the_hints_of_the_same_call_on_v1_stream(live_server, store, integration_token, through_stream):
    call_sid = f"CA{uuid.uuid4().hex}"
    asyncio.run(replay_twilio(SHORT_CALL, f"ws://127.0.0.1:{live_server}/v1/telephony/twilio", call_sid=call_sid,
                              token=integration_token, speed=None, audio=load_audio(SHORT_CALL),
                              metadata={**METADATA, "agent_id": "a-twilio", "team": "north"}))
    twilio = store.get_call(call_sid)
    assert twilio.agent_id == "a-twilio" and twilio.team == "north" and twilio.status == "complete"
    twilio_events = store.events(call_sid)
    assert _what_happened(twilio_events) == _what_happened(through_stream)
    said = [e for e in twilio_events if e["type"] == "utterance"]
    assert [e["speaker"] for e in said][:2] == ["agent", "debtor"]  # outbound is the agent, inbound the debtor
    assert {"US-THREAT"} <= {e.get("rule_id") for e in twilio_events}
    assert {"stop_calling"} <= {e.get("intent") for e in twilio_events}


async def _twilio_start(port: int, parameters: dict) -> tuple[int | None, str]:
    from coach.telephony.twilio import twilio_messages
    import numpy as np

    async with connect(f"ws://127.0.0.1:{port}/v1/telephony/twilio") as ws:
        messages = twilio_messages(np.zeros((2, 1600), np.float32), call_sid=f"CA{uuid.uuid4().hex}",
                                   custom_parameters=parameters)
        for _, text in list(messages)[:2]:
            await ws.send(text)
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                pass
        return ws.close_code, ws.close_reason


@pytest.mark.parametrize("who, code", [(None, 4401), ("bogus-token", 4401), ("agent", 4403)])
def test_a_stream_without_an_integration_token_is_refused(live_server, agent_token, who, code):
    token = agent_token if who == "agent" else who
    parameters = {"token": token} if token else {}
    close_code, reason = asyncio.run(_twilio_start(live_server, parameters))
    assert close_code == code, reason
    if who is None:
        assert "customParameters.token" in reason


def test_bad_start_parameters_and_bad_messages(live_server, integration_token, store):
    close_code, reason = asyncio.run(_twilio_start(live_server, {"token": integration_token, "language": "fr"}))
    assert close_code == 1008 and "customParameters" in reason

    async def noisy_call(call_sid: str) -> int | None:
        from coach.telephony.twilio import twilio_messages
        import numpy as np

        async with connect(f"ws://127.0.0.1:{live_server}/v1/telephony/twilio") as ws:
            for n, (_, text) in enumerate(twilio_messages(np.zeros((2, 8000), np.float32), call_sid=call_sid,
                                                          custom_parameters={"token": integration_token})):
                await ws.send(text)
                if n == 3:  # garbage mid-call: logged and skipped, the call goes on
                    await ws.send("{not json")
                    await ws.send(b"\x00\x01")
                    await ws.send(json.dumps({"event": "media", "media": {"track": "inbound", "timestamp": "1", "payload": "***"}}))
                    # a stamp hours ahead: its gap would be gigabytes of silence to fill
                    await ws.send(json.dumps({"event": "media", "media": {"track": "inbound", "timestamp": "999999999999",
                                                                          "payload": base64.b64encode(b"\xff" * 160).decode()}}))
            async for _ in ws:
                pass
            return ws.close_code

    call_sid = f"CA{uuid.uuid4().hex}"
    assert asyncio.run(noisy_call(call_sid)) == 1000
    assert store.get_call(call_sid).status == "complete"


def test_coach_replay_twilio_needs_a_token(live_server):
    with pytest.raises(CoachError, match="4401"):
        asyncio.run(replay_twilio(SHORT_CALL, f"ws://127.0.0.1:{live_server}/v1/telephony/twilio", call_sid="CAx",
                                  token=None, speed=None))


def test_an_audiohook_session_gets_the_hints_back_and_stores_the_same_call(live_server, store, integration_token,
                                                                         through_stream):
    conversation = str(uuid.uuid4())
    result = asyncio.run(replay_audiohook(SHORT_CALL, f"ws://127.0.0.1:{live_server}/v1/telephony/audiohook",
                                          conversation_id=conversation, api_key=integration_token, speed=None,
                                          audio=load_audio(SHORT_CALL),
                                          custom_config={**METADATA, "agent_id": "a-genesys", "team": "north"}))
    stored = store.events(conversation)
    assert _what_happened(stored) == _what_happened(through_stream)
    sent_back = {e["type"] for e in result.events}
    assert {"intent", "compliance", "scorecard"} <= sent_back
    assert "utterance" not in sent_back and "partial" not in sent_back  # hints, not the transcript
    call = store.get_call(conversation)
    assert call.agent_id == "a-genesys" and call.status == "complete"


@pytest.mark.parametrize("who, code", [(None, 4401), ("agent", 4403)])
def test_an_audiohook_session_without_an_integration_key_is_disconnected(live_server, agent_token, who, code):
    with pytest.raises(CoachError, match="unauthorized|integration"):
        asyncio.run(replay_audiohook(SHORT_CALL, f"ws://127.0.0.1:{live_server}/v1/telephony/audiohook",
                                     conversation_id=str(uuid.uuid4()), api_key=agent_token if who else None,
                                     speed=None))


def test_audiohook_pings_bad_messages_and_media_coach_cannot_take(live_server, integration_token):
    async def session(open_media: list[dict], then: list) -> list[dict]:
        replies: list[dict] = []
        async with connect(f"ws://127.0.0.1:{live_server}/v1/telephony/audiohook",
                           additional_headers={"X-API-KEY": integration_token}) as ws:
            base = {"version": "2", "serverseq": 0, "id": str(uuid.uuid4()), "position": "PT0S"}
            await ws.send(json.dumps({**base, "type": "open", "seq": 1, "parameters": {
                "conversationId": str(uuid.uuid4()), "media": open_media, "language": "en-US"}}))
            for n, item in enumerate(then, start=2):
                await ws.send(item if isinstance(item, (str, bytes)) else json.dumps({**base, "seq": n, **item}))
            with contextlib.suppress(ConnectionClosed):
                async for raw in ws:
                    replies.append(json.loads(raw))
                    if replies[-1]["type"] in ("closed", "disconnect"):
                        break
        return replies

    pcmu = [{"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000}]
    replies = asyncio.run(session(pcmu, [
        {"type": "ping", "parameters": {}}, "{not json", json.dumps({"version": "1", "type": "ping", "seq": 9, "id": "x"}),
        b"\xff" * 1600, {"type": "discarded", "parameters": {"start": "PT0.1S", "discarded": "PT2S"}},
        {"type": "close", "parameters": {"reason": "end"}}]))
    kinds = [r["type"] for r in replies]
    assert kinds[0] == "opened" and replies[0]["parameters"]["media"] == pcmu and replies[0]["clientseq"] == 1
    assert "pong" in kinds and kinds[-1] == "closed"
    errors = [e["data"]["message"] for r in replies if r["type"] == "event" for e in r["parameters"]["entities"]
              if e["type"] == "coach.error"]
    assert any("not a JSON message" in m for m in errors) and any("version" in m for m in errors)
    assert [r["seq"] for r in replies] == list(range(1, len(replies) + 1))
    wide = asyncio.run(session([{"type": "audio", "format": "L16", "channels": ["external"], "rate": 16000}], []))
    assert wide[-1]["type"] == "disconnect" and "PCMU" in wide[-1]["parameters"]["info"]


def _stored(store, call_id: str, timeout: float = 120.0):
    """The call once it is finished and stored (a platform that hangs up does not wait for that)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.has_call(call_id) and store.get_call(call_id).status != "live":
            return store.get_call(call_id)
        time.sleep(0.5)
    raise AssertionError(f"{call_id} was not finished in {timeout:.0f} s")


def test_a_freeswitch_audio_fork_stores_the_same_call_as_v1_stream(live_server, store, integration_token, agent_token):
    audio = load_audio(SHORT_CALL)
    reference = f"stream-l16-{uuid.uuid4().hex[:8]}"
    asyncio.run(replay(SHORT_CALL, f"ws://127.0.0.1:{live_server}/v1/stream", speed=None, audio=audio, token=agent_token,
                       sample_rate=8_000, call_id=reference, metadata=METADATA))
    fork = str(uuid.uuid4())
    result = asyncio.run(replay_audiofork(SHORT_CALL, f"ws://127.0.0.1:{live_server}/v1/telephony/audiofork",
                                          token=integration_token, audio=audio, speed=None,
                                          metadata={"uuid": fork, "language": "en", "roles": ["agent", "debtor"],
                                                    "agent_id": "a-fs", **METADATA}))
    call = _stored(store, fork)
    assert call.status == "complete" and call.agent_id == "a-fs"  # a hang-up is the end of the call, not a cut
    assert _what_happened(store.events(fork)) == _what_happened(store.events(reference))
    assert all(e.get("type") in AudioForkStream.SENT + ("error",) for e in result.events)


def test_a_freeswitch_audio_fork_needs_an_integration_token(live_server):
    with pytest.raises(CoachError, match="4401"):
        asyncio.run(replay_audiofork(SHORT_CALL, f"ws://127.0.0.1:{live_server}/v1/telephony/audiofork", token=None,
                                     metadata={"uuid": "x"}, speed=None))


def test_a_platform_cannot_mark_its_call_a_demo(live_server, store, integration_token):
    """Telephony starts have no demo flag: ``demo`` or ``sample`` among Twilio's custom parameters or a
    fork's metadata is only metadata, and the call an ordinary one (listed, alerted, never purged)."""
    import numpy as np

    audio = np.zeros((2, 8000), np.float32)
    claims = {"demo": "true", "sample": "en-short-call"}
    call_sid = f"CA{uuid.uuid4().hex}"
    asyncio.run(replay_twilio(SHORT_CALL, f"ws://127.0.0.1:{live_server}/v1/telephony/twilio", call_sid=call_sid,
                              token=integration_token, speed=None, audio=audio, metadata=claims))
    fork = str(uuid.uuid4())
    asyncio.run(replay_audiofork(SHORT_CALL, f"ws://127.0.0.1:{live_server}/v1/telephony/audiofork",
                                 token=integration_token, audio=audio, speed=None,
                                 metadata={"uuid": fork, "language": "en", "roles": ["agent", "debtor"], **claims}))
    for call_id in (call_sid, fork):
        call = _stored(store, call_id)
        assert call.source == "live" and call.metadata["demo"] == "true", call_id


def test_the_basic_auth_password_of_mod_audio_fork_is_read():
    import base64

    assert _basic_password("Basic " + base64.b64encode(b"coach:s3cret").decode()) == "s3cret"
    assert _basic_password("Basic !!!") is None and _basic_password("Bearer x") is None


@pytest.fixture(scope="module")
def audiosocket_server():
    """A real `coach serve` with its AudioSocket listener on: (HTTP port, AudioSocket port)."""
    import os

    from tests.conftest import free_port, serving

    tcp = free_port()
    with serving({**os.environ, "COACH_AUDIOSOCKET_PORT": str(tcp)}) as port:
        yield int(str(port)), tcp


def test_asterisk_audiosocket_legs_become_one_call(audiosocket_server, store, integration_token):
    http, tcp = audiosocket_server
    call_id = f"asterisk-{uuid.uuid4().hex[:8]}"
    # Paced (twice real time) as Asterisk paces its legs: a leg far ahead of the other counts as the
    # other having gone quiet.
    asyncio.run(replay_audiosocket(SHORT_CALL, f"http://127.0.0.1:{http}", ("127.0.0.1", tcp), call_id=call_id,
                                   token=integration_token, speed=2.0, audio=load_audio(SHORT_CALL),
                                   metadata={**METADATA, "agent_id": "a-asterisk"}))
    call = _stored(store, call_id)
    assert call.agent_id == "a-asterisk" and call.status == "complete"
    said = [e for e in store.events(call_id) if e["type"] == "utterance"]
    assert len(said) >= 8 and [e["speaker"] for e in said][:2] == ["agent", "debtor"]
    assert {"US-THREAT"} <= {e.get("rule_id") for e in store.events(call_id)}


def test_audiosocket_legs_must_be_registered_by_an_integration(audiosocket_server, agent_token, store):
    import socket

    from coach.telephony.audiosocket import HANGUP, UUID, frame

    http, tcp = audiosocket_server
    with pytest.raises(CoachError, match="403"):
        asyncio.run(replay_audiosocket(SHORT_CALL, f"http://127.0.0.1:{http}", ("127.0.0.1", tcp), call_id="x",
                                       token=agent_token, speed=None))
    with socket.create_connection(("127.0.0.1", tcp), timeout=10) as leg:  # a UUID nobody registered
        leg.sendall(frame(UUID, uuid.uuid4().bytes))
        assert leg.recv(3) == frame(HANGUP)


def test_audiosocket_metadata_is_checked_when_the_call_is_registered(audiosocket_server, integration_token):
    """Refused at registration, not when a leg connects (where nobody would hear of it)."""
    import urllib.error
    import urllib.request

    http, _ = audiosocket_server
    body = {"call_id": "as-meta", "legs": {"agent": str(uuid.uuid4())}, "metadata": {"balance": "1,234 dollars"}}
    request = urllib.request.Request(f"http://127.0.0.1:{http}/v1/telephony/audiosocket/calls", method="POST",
                                     data=json.dumps(body).encode(), headers={"Authorization": f"Bearer {integration_token}",
                                                                              "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 422 and "balance" in refused.value.read().decode()


def test_twilio_media_before_start_is_refused(live_server, integration_token):
    async def media_first() -> tuple[int | None, str]:
        async with connect(f"ws://127.0.0.1:{live_server}/v1/telephony/twilio") as ws:
            await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
            await ws.send(json.dumps({"event": "media", "sequenceNumber": "2", "streamSid": "MZ1",
                                      "media": {"track": "inbound", "chunk": "1", "timestamp": "0", "payload": ""}}))
            with contextlib.suppress(ConnectionClosed):
                async for _ in ws:
                    pass
            return ws.close_code, ws.close_reason

    code, reason = asyncio.run(media_first())
    assert code == 1008 and "start" in reason


def test_audiosocket_bad_frames_are_skipped_and_the_call_kept(audiosocket_server, store, integration_token):
    import socket
    import urllib.request

    from coach.telephony.audiosocket import AUDIO, frame, leg_frames

    http, tcp = audiosocket_server
    call_id, leg = f"asterisk-bad-{uuid.uuid4().hex[:6]}", uuid.uuid4()
    request = urllib.request.Request(
        f"http://127.0.0.1:{http}/v1/telephony/audiosocket/calls", method="POST",
        data=json.dumps({"call_id": call_id, "legs": {"debtor": str(leg)}}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {integration_token}"})
    assert urllib.request.urlopen(request, timeout=10).status == 201
    from scipy.signal import resample_poly

    debtor = resample_poly(load_audio(SHORT_CALL)[1, : 16_000 * 20], 1, 2)
    frames = [data for _, data in leg_frames(debtor, leg)]
    with socket.create_connection(("127.0.0.1", tcp), timeout=10) as connection:
        connection.sendall(b"".join(frames[:200]))  # 4 s of speech, as Asterisk sends it
        connection.sendall(frame(AUDIO, b"\x01\x02\x03"))  # an odd length: not whole samples
        connection.sendall(bytes([0x42]) + (2).to_bytes(2, "big") + b"\x00\x00")  # a kind nobody defined
        connection.sendall(b"".join(frames[200:-1]))
        connection.sendall(bytes([AUDIO]) + (320).to_bytes(2, "big") + b"\x00" * 100)  # cut short: the leg ends
    call = _stored(store, call_id)
    said = [e["text"].lower() for e in store.events(call_id) if e["type"] == "utterance"]
    assert call.status == "complete" and any("lost my job" in text for text in said)  # what came before is kept


def _register_audiosocket(http: int, token: str, body: dict) -> int:
    """POST a registration; its HTTP status (an error's too)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{http}/v1/telephony/audiosocket/calls", method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_audiosocket_legs_join_only_the_call_of_their_own_registration(audiosocket_server, store, integration_token):
    """Two registrations naming one call id (a guessed CRM id) are two calls: the second's legs never
    go into the first's call, nor under its agent or team; the second is stored under a free id."""
    import socket
    import threading

    from scipy.signal import resample_poly

    from coach.storage.records import CallFilter
    from coach.telephony.audiosocket import leg_frames

    http, tcp = audiosocket_server
    call_id, first, second = f"crm-{uuid.uuid4().hex[:6]}", uuid.uuid4(), uuid.uuid4()
    agents = {first: f"a-first-{uuid.uuid4().hex[:4]}", second: f"a-second-{uuid.uuid4().hex[:4]}"}
    audio = resample_poly(load_audio(SHORT_CALL)[:, : 16_000 * 12], 1, 2, axis=1)
    for leg, role in ((first, "agent"), (second, "debtor")):
        assert _register_audiosocket(http, integration_token, {"call_id": call_id, "agent_id": agents[leg],
                                                               "legs": {role: str(leg)}}) == 201

    def stream(leg: uuid.UUID, channel: int) -> None:
        with socket.create_connection(("127.0.0.1", tcp), timeout=30) as connection:
            for _, data in leg_frames(audio[channel], leg):
                connection.sendall(data)
                time.sleep(0.002)

    legs = [threading.Thread(target=stream, args=(first, 0)), threading.Thread(target=stream, args=(second, 1))]
    legs[0].start()
    time.sleep(1.0)  # the first registration's leg is the call under the asked id
    legs[1].start()
    for thread in legs:
        thread.join(60)
    mine = _stored(store, call_id)
    assert mine.agent_id == agents[first]
    assert {e["speaker"] for e in store.events(call_id) if e["type"] == "utterance"} == {"agent"}
    theirs = store.list_calls(CallFilter(agent_id=agents[second]))
    assert len(theirs) == 1 and theirs[0].id.startswith(f"{call_id}-")
    other = _stored(store, theirs[0].id)
    assert {e["speaker"] for e in store.events(other.id) if e["type"] == "utterance"} == {"debtor"}


def test_an_audiosocket_registration_with_an_unknown_playbook_is_refused(audiosocket_server, integration_token):
    http, _ = audiosocket_server
    body = {"call_id": "as-book", "playbook": "no-such-book", "legs": {"debtor": str(uuid.uuid4())}}
    assert _register_audiosocket(http, integration_token, body) == 422


def test_an_audiosocket_leg_is_read_no_faster_than_its_call_takes_its_audio():
    """A leg that floods (66 hours of audio in 10 s, from an attack helper) is read only while the
    call has room: its audio waits in the sender's TCP buffers, not in the server's memory; once the
    call has ended, the leg is read no more."""
    from coach.telephony.audiosocket import AUDIO, frame
    from coach.telephony.tracks import TrackMixer
    from server.audiosocket import MAX_QUEUED_AUDIO_BYTES, AudioSocketServer, LoopbackSocket, _JoinedCall

    async def flood() -> tuple[int, int, bool]:
        loopback = LoopbackSocket("flooder")
        joined = _JoinedCall(loopback, TrackMixer(["debtor"], sample_rate=8_000, sample_width=2), time.monotonic())
        call = asyncio.get_running_loop().create_future()  # a call that takes none of its audio
        joined.task = asyncio.ensure_future(call)
        reader = asyncio.StreamReader()
        chunk = frame(AUDIO, b"\x01\x00" * 32_000)  # 4 s a frame
        reader.feed_data(chunk * 200)  # 800 s of audio
        leg = asyncio.create_task(AudioSocketServer(None, None)._stream(reader, joined, "debtor"))  # type: ignore[arg-type]
        await asyncio.sleep(0.5)
        queued, unread = loopback.queued_bytes, len(reader._buffer)
        call.cancel()  # the call ends: the leg is let go
        await asyncio.wait_for(leg, 5)
        return queued, unread, leg.done()

    queued, unread, let_go = asyncio.run(flood())
    assert queued <= MAX_QUEUED_AUDIO_BYTES + 64_000 and unread > 190 * 64_000 and let_go
