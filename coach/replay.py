"""Streams a recorded call to a coach server as a telephony client would, and measures latency.

Latency of a hint = when its event arrives minus when the client finished sending the audio up to the
end of the utterance it is about (the end-of-speech to hint latency agents experience).

Replays of the bundled sample calls are demo calls: the client names the sample (see
:func:`bundled_sample`), the server feeds the call its own copy of it, stores it as a demo and leaves
it out of call lists. The server never takes a client's word that a call is a demo.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from coach.audio.files import RATE, load_audio
from coach.errors import CoachError
from coach.resources import data_dir

CHUNK_SECONDS = 0.1


@dataclass
class ReplayResult:
    events: list[dict[str, Any]] = field(default_factory=list)
    #: (intent event, seconds from end of the utterance's audio being sent to the event's arrival)
    intent_latencies: list[tuple[dict[str, Any], float]] = field(default_factory=list)
    partial_latencies: list[float] = field(default_factory=list)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]


def bundled_sample(path: str | Path) -> dict[str, Any] | None:
    """The transcript (with its metadata) of a bundled sample call (``examples/audio/*.flac``), or None
    when ``path`` is not one."""
    folder = (data_dir("examples") / "audio").resolve()
    path = Path(path).resolve()
    transcript = path.with_suffix(".json")
    if path.parent != folder or path.suffix != ".flac" or not transcript.is_file():
        return None
    return json.loads(transcript.read_text(encoding="utf-8"))


async def replay(
    path: str | Path, url: str = "ws://127.0.0.1:8000/v1/stream", *, language: str = "en", speed: float | None = 1.0,
    channel_roles: tuple[str, ...] = ("agent", "debtor"), playbook: str | None = None, metadata: dict | None = None,
    call_id: str | None = None, on_event: Callable[[dict[str, Any], float | None], None] | None = None,
    audio: np.ndarray | None = None, token: str | None = None, sample: str | None = None, encoding: str = "pcm_s16le",
    sample_rate: int = RATE,
) -> ReplayResult:
    """Stream ``path`` (or ``audio``) at ``speed`` times real time (None: as fast as possible), with
    the API ``token`` (an agent's, an integration's or an admin's). ``sample``, the name of a bundled
    sample (``path``'s stem), plays it as a demo call: the server swaps in its own copy of the sample
    for the audio sent, which then only sets the pace. A call the server refuses or cuts off is a
    CoachError with the server's reason."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, WebSocketException

    audio = load_audio(path) if audio is None else audio
    channels = audio.shape[0]
    roles = tuple(channel_roles[:channels]) if channels > 1 else (channel_roles[-1] if len(channel_roles) == 1 else "debtor",)
    if encoding == "mulaw":  # as a phone line delivers it: G.711 at 8 kHz, 20 ms frames
        from scipy.signal import resample_poly

        from coach.audio.formats import encode_mulaw

        rate = 8_000
        narrow = resample_poly(audio, 1, 2, axis=1)
        pcm = np.frombuffer(encode_mulaw(narrow.T.reshape(-1)), dtype=np.uint8).reshape(-1, channels)
        chunk = rate // 50
    else:
        rate = sample_rate
        if rate != RATE:
            from scipy.signal import resample_poly

            audio = resample_poly(audio, rate, RATE, axis=1)
        pcm = (np.clip(audio.T, -1, 1) * 32767).astype("<i2")  # interleaved
        chunk = int(rate * CHUNK_SECONDS)
    start = {
        "type": "start", "call_id": call_id or f"{Path(path).stem}-{time.strftime('%Y%m%d-%H%M%S')}", "language": language, "encoding": encoding,
        "sample_rate": rate, "channels": channels, "channel_roles": list(roles), "metadata": metadata or {},
    }
    if playbook:
        start["playbook"] = playbook
    if sample:
        start["sample"] = sample
    headers = {"Authorization": f"Bearer {token}"} if token else None
    result = ReplayResult(audio_seconds=pcm.shape[0] / rate)
    sent_audio: list[float] = []  # audio time at the end of each chunk sent
    sent_wall: list[float] = []
    utterance_end: dict[int, float] = {}

    def latency_for(audio_time: float) -> float | None:
        index = bisect.bisect_left(sent_audio, audio_time - 1e-6)
        return None if index >= len(sent_wall) else time.monotonic() - sent_wall[index]

    close_code: int | None = None
    try:
        async with connect(url, max_size=16 * 1024 * 1024, open_timeout=10, additional_headers=headers) as ws:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(start))

            async def sender() -> None:
                began = time.monotonic()
                for offset in range(0, pcm.shape[0], chunk):
                    block = pcm[offset : offset + chunk]
                    if speed:
                        due = began + (offset + len(block)) / rate / speed
                        await asyncio.sleep(max(0.0, due - time.monotonic()))
                    await ws.send(block.tobytes())
                    sent_audio.append((offset + len(block)) / rate)
                    sent_wall.append(time.monotonic())
                await ws.send(json.dumps({"type": "stop"}))

            async def receiver() -> None:
                with contextlib.suppress(ConnectionClosed):
                    async for raw in ws:
                        handle(json.loads(raw))

            def handle(event: dict[str, Any]) -> None:
                result.events.append(event)
                latency = None
                if event.get("type") == "utterance":
                    utterance_end[event["utterance_id"]] = event["end"]
                elif event.get("type") == "intent" and event.get("utterance_id") in utterance_end:
                    latency = latency_for(utterance_end[event["utterance_id"]])
                    if latency is not None:
                        result.intent_latencies.append((event, latency))
                elif event.get("type") == "partial":
                    latency = latency_for(event["end"])
                    if latency is not None:
                        result.partial_latencies.append(latency)
                if on_event:
                    on_event(event, latency)

            began = time.monotonic()
            send_task = asyncio.create_task(sender())
            await receiver()
            send_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await send_task
            result.wall_seconds = time.monotonic() - began
            close_code = ws.close_code
    except (OSError, WebSocketException) as exc:
        raise CoachError(f"cannot stream to {url}: {exc}", hint="is `coach serve` running?") from None
    if close_code != 1000 or not result.of_type("scorecard"):
        errors = [e for e in result.of_type("error") if e.get("code") not in ("call_id_taken", "storage_unavailable")]
        reason = f"{errors[-1]['code']}: {errors[-1]['message']}" if errors else f"close code {close_code}"
        raise CoachError(f"the server ended the call before its end ({reason})",
                         hint="coach replay needs an API token: --token or COACH_TOKEN (coach token create NAME "
                              "--role agent --agent-id ID)" if errors and errors[-1]["code"] == "unauthorized" else None)
    return result


async def replay_twilio(
    path: str | Path, url: str = "ws://127.0.0.1:8000/v1/telephony/twilio", *, call_sid: str, token: str | None,
    language: str = "en", speed: float | None = 1.0, channel_roles: tuple[str, ...] = ("agent", "debtor"),
    playbook: str | None = None, metadata: dict | None = None, audio: np.ndarray | None = None,
) -> ReplayResult:
    """Stream a two-channel recording as a Twilio Media Stream would, message for message (the agent
    on the outbound track, the debtor on the inbound one). Twilio hears nothing back: the call's
    events are stored under ``call_sid``. A refusal (bad token, bad start) is a CoachError."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, WebSocketException

    from coach.telephony.twilio import twilio_messages

    audio = load_audio(path) if audio is None else audio
    if audio.shape[0] != 2:
        raise CoachError("a Twilio replay needs a two-channel recording (agent and debtor)")
    tracks = tuple("outbound" if role == "agent" else "inbound" for role in channel_roles[:2])
    parameters = {"language": language, **{k: str(v) for k, v in (metadata or {}).items()}}
    if token:
        parameters["token"] = token
    if playbook:
        parameters["playbook"] = playbook
    result = ReplayResult(audio_seconds=audio.shape[1] / RATE)
    try:
        async with connect(url, open_timeout=10) as ws:
            began = time.monotonic()
            with contextlib.suppress(ConnectionClosed):
                for audio_time, message in twilio_messages(audio, call_sid=call_sid, tracks=tracks,
                                                           custom_parameters=parameters):
                    if speed:
                        await asyncio.sleep(max(0.0, began + audio_time / speed - time.monotonic()))
                    await ws.send(message)
                async for _ in ws:  # Twilio reads nothing; wait for the server to finish the call
                    pass
            result.wall_seconds = time.monotonic() - began
            close_code, reason = ws.close_code, ws.close_reason
    except (OSError, WebSocketException) as exc:
        raise CoachError(f"cannot stream to {url}: {exc}", hint="is `coach serve` running?") from None
    if close_code != 1000:
        raise CoachError(f"the server ended the Twilio stream (close code {close_code}: {reason or 'no reason'})",
                         hint="the stream needs an integration token: coach token create pbx --role integration")
    return result


async def replay_audiohook(
    path: str | Path, url: str = "ws://127.0.0.1:8000/v1/telephony/audiohook", *, conversation_id: str,
    api_key: str | None, language: str = "en", speed: float | None = 1.0, audio: np.ndarray | None = None,
    channel_roles: tuple[str, ...] = ("agent", "debtor"), custom_config: dict | None = None,
    on_event: Callable[[dict[str, Any], float | None], None] | None = None,
) -> ReplayResult:
    """Play a two-channel recording as a Genesys Cloud AudioHook client: ``open`` (PCMU 8 kHz, external
    = the debtor, internal = the agent), ``opened`` awaited, a ``ping``, 100 ms stereo frames, then
    ``close`` and ``closed``. The hints the server sends back (``event`` messages) are collected."""
    import uuid

    from scipy.signal import resample_poly
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, WebSocketException

    from coach.audio.formats import encode_mulaw

    audio = load_audio(path) if audio is None else audio
    if audio.shape[0] != 2:
        raise CoachError("an AudioHook replay needs a two-channel recording (agent and debtor)")
    by_role = dict(zip(channel_roles, audio))
    narrow = resample_poly(np.stack([by_role["debtor"], by_role["agent"]]), 1, 2, axis=1)  # external, internal
    frames = np.frombuffer(encode_mulaw(narrow.T.reshape(-1)), dtype=np.uint8)
    session = str(uuid.uuid4())
    seq = 0
    server_seq = 0

    def message(kind: str, parameters: dict[str, Any], position: float) -> str:
        nonlocal seq
        seq += 1
        return json.dumps({"version": "2", "type": kind, "seq": seq, "serverseq": server_seq, "id": session,
                           "position": f"PT{position:.3f}S", "parameters": parameters})

    result = ReplayResult(audio_seconds=audio.shape[1] / RATE)
    headers = {"X-API-KEY": api_key} if api_key else {}
    headers.update({"Audiohook-Session-Id": session, "Audiohook-Organization-Id": str(uuid.UUID(int=0)),
                    "Audiohook-Correlation-Id": str(uuid.uuid4())})
    opened = asyncio.Event()
    closed = asyncio.Event()
    refusal: list[str] = []

    async def receiver(ws) -> None:
        nonlocal server_seq
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                reply = json.loads(raw)
                server_seq = reply.get("seq", server_seq)
                kind = reply.get("type")
                if kind == "opened":
                    opened.set()
                elif kind == "closed":
                    closed.set()
                elif kind == "disconnect":
                    refusal.append(reply.get("parameters", {}).get("info", "disconnected"))
                    opened.set()
                elif kind == "event":
                    for entity in reply.get("parameters", {}).get("entities", []):
                        result.events.append(entity.get("data", {}))
                        if on_event:
                            on_event(entity.get("data", {}), None)

    try:
        async with connect(url, open_timeout=10, additional_headers=headers) as ws:
            listening = asyncio.create_task(receiver(ws))
            began = time.monotonic()
            with contextlib.suppress(ConnectionClosed):
                await ws.send(message("open", {
                    "organizationId": str(uuid.UUID(int=0)), "conversationId": conversation_id,
                    "participant": {"id": str(uuid.uuid4()), "ani": "+15550100", "aniName": "Debtor", "dnis": "+15550199"},
                    "media": [{"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000},
                              {"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000}],
                    "language": "zh-CN" if language == "zh" else "en-US", "customConfig": custom_config or {},
                }, 0.0))
                await asyncio.wait_for(opened.wait(), 60)
                if not refusal:
                    await ws.send(message("ping", {}, 0.0))
                    step = 8_000 // 10 * 2  # 100 ms of stereo
                    for offset in range(0, len(frames), step):
                        if speed:
                            await asyncio.sleep(max(0.0, began + (offset + step) / 2 / 8_000 / speed - time.monotonic()))
                        await ws.send(frames[offset : offset + step].tobytes())
                    await ws.send(message("close", {"reason": "end"}, len(frames) / 2 / 8_000))
                    await asyncio.wait_for(closed.wait(), 600)
            await listening
            result.wall_seconds = time.monotonic() - began
    except (OSError, WebSocketException, TimeoutError) as exc:
        raise CoachError(f"cannot stream to {url}: {exc}", hint="is `coach serve` running?") from None
    if refusal or not closed.is_set():
        raise CoachError(f"the server ended the AudioHook session: {refusal[0] if refusal else 'no closed message'}",
                         hint="the session needs an integration token as its API key: coach token create genesys --role integration")
    return result


async def replay_audiofork(
    path: str | Path, url: str = "ws://127.0.0.1:8000/v1/telephony/audiofork", *, token: str | None,
    metadata: dict[str, Any], speed: float | None = 1.0, audio: np.ndarray | None = None, sample_rate: int = 8_000,
    on_event: Callable[[dict[str, Any], float | None], None] | None = None,
) -> ReplayResult:
    """Play a recording as FreeSWITCH's mod_audio_fork does: the sub-protocol ``audio.drachtio.org``,
    the metadata as the first text frame, then 20 ms frames of 16-bit PCM (stereo for a two-channel
    recording: its channels in the order ``metadata["roles"]`` names), and a close at the end. The
    hints sent back (``{"type": "json", "data": ...}``) are collected."""
    from urllib.parse import urlencode

    from scipy.signal import resample_poly
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, WebSocketException

    audio = load_audio(path) if audio is None else audio
    channels = audio.shape[0]
    narrow = resample_poly(audio, sample_rate, RATE, axis=1) if sample_rate != RATE else audio
    pcm = (np.clip(narrow.T, -1, 1) * 32767).astype("<i2")
    query = {"mix": "stereo" if channels == 2 else "mono", "rate": f"{sample_rate // 1000}k"}
    if token:
        query["token"] = token
    result = ReplayResult(audio_seconds=audio.shape[1] / RATE)
    step = sample_rate // 50
    try:
        async with connect(f"{url}?{urlencode(query)}", open_timeout=10, subprotocols=["audio.drachtio.org"]) as ws:

            async def receiver() -> None:
                with contextlib.suppress(ConnectionClosed):
                    async for raw in ws:
                        event = json.loads(raw).get("data", {})
                        result.events.append(event)
                        if on_event:
                            on_event(event, None)

            listening = asyncio.create_task(receiver())
            began = time.monotonic()
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(metadata))
                for offset in range(0, len(pcm), step):
                    if speed:
                        await asyncio.sleep(max(0.0, began + (offset + step) / sample_rate / speed - time.monotonic()))
                    await ws.send(pcm[offset : offset + step].tobytes())
                await ws.close()  # FreeSWITCH hangs up: the end of the call
            await listening
            result.wall_seconds = time.monotonic() - began
            close_code, reason = ws.close_code, ws.close_reason
    except (OSError, WebSocketException) as exc:
        raise CoachError(f"cannot stream to {url}: {exc}", hint="is `coach serve` running?") from None
    if close_code != 1000:
        raise CoachError(f"the server ended the audio fork (close code {close_code}: {reason or 'no reason'})",
                         hint="the fork needs an integration token: coach token create freeswitch --role integration")
    return result


async def replay_audiosocket(
    path: str | Path, api_url: str = "http://127.0.0.1:8000", audiosocket: tuple[str, int] = ("127.0.0.1", 9092), *,
    call_id: str, token: str | None, language: str = "en", speed: float | None = 1.0, audio: np.ndarray | None = None,
    channel_roles: tuple[str, ...] = ("agent", "debtor"), metadata: dict | None = None,
) -> ReplayResult:
    """Play a two-channel recording as Asterisk would with AudioSocket: register the call and one UUID
    per party's leg (``POST /v1/telephony/audiosocket/calls``, an integration token), then open one
    TCP connection per leg and send each party's audio in 20 ms frames, then hang up."""
    import urllib.error
    import urllib.request
    import uuid

    from scipy.signal import resample_poly

    from coach.telephony.audiosocket import leg_frames

    audio = load_audio(path) if audio is None else audio
    roles = tuple(channel_roles[: audio.shape[0]])
    legs = {role: uuid.uuid4() for role in roles}
    body = {"call_id": call_id, "language": language, "metadata": metadata or {},
            "legs": {role: str(leg) for role, leg in legs.items()}}
    request = urllib.request.Request(f"{api_url}/v1/telephony/audiosocket/calls", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        await asyncio.to_thread(urllib.request.urlopen, request, timeout=10)
    except urllib.error.HTTPError as exc:
        raise CoachError(f"the server refused to register the call ({exc.code}: {exc.read().decode()[:200]})") from None
    except OSError as exc:
        raise CoachError(f"cannot reach {api_url}: {exc}", hint="is `coach serve` running?") from None
    narrow = resample_poly(audio, 1, 2, axis=1)
    began = time.monotonic()

    async def leg(role: str, samples: np.ndarray) -> None:
        reader, writer = await asyncio.open_connection(*audiosocket)
        try:
            for audio_time, data in leg_frames(samples, legs[role]):
                if speed:
                    await asyncio.sleep(max(0.0, began + audio_time / speed - time.monotonic()))
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    try:
        await asyncio.gather(*(leg(role, narrow[index]) for index, role in enumerate(roles)))
    except OSError as exc:
        raise CoachError(f"cannot stream to AudioSocket at {audiosocket[0]}:{audiosocket[1]}: {exc}",
                         hint="is COACH_AUDIOSOCKET_PORT set on the server?") from None
    return ReplayResult(audio_seconds=audio.shape[1] / RATE, wall_seconds=time.monotonic() - began)
