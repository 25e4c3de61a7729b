"""The live-call WebSocket fuzzed on a real server: malformed and non-object JSON, wrong types,
reordered messages, random binary, audio before start, huge frames. Whatever a client sends, the
server answers with error events (never a traceback), never closes with 1011, stays healthy, and keeps
what it had already accepted: the speech before the garbage is transcribed and stored.

Seeded, and bounded in time (``FUZZ_SECONDS`` per phase), so a run is repeatable and short."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import urllib.request

import numpy as np

from coach.audio.files import RATE, load_audio
from tests.conftest import EXAMPLES

SEED = int(os.environ.get("COACH_FUZZ_SEED", "20261123"))
FUZZ_SECONDS = float(os.environ.get("COACH_FUZZ_SECONDS", "20"))
START = {"type": "start", "call_id": "fuzz", "language": "en", "encoding": "pcm_s16le", "sample_rate": 16000,
         "channels": 2, "channel_roles": ["agent", "debtor"]}
#: Close codes a fuzzed connection may end with: normal, policy (refused start), too big (over
#: uvicorn's 16 MiB frame limit), idle.
EXPECTED_CLOSE = {1000, 1008, 1009, 4408}


def speech_prefix() -> bytes:
    """The first 8.2 s of the short sample call (the agent's greeting, the debtor's answer) and a
    second of silence, stereo PCM."""
    audio = load_audio(EXAMPLES / "audio" / "en-short-call.flac")[:, : int(8.2 * RATE)]
    audio = np.concatenate([audio, np.zeros((audio.shape[0], RATE), dtype=audio.dtype)], axis=1)
    return (np.clip(audio.T, -1, 1) * 32767).astype("<i2").tobytes()


def garbage_text(rng: random.Random, *, first: bool = False) -> str:
    """A text message that is not a valid ``stop`` (nor, for a ``first`` message, a valid ``start``)."""
    choices = [
        lambda: "{" + "".join(rng.choice('"{}[]:,abc\\') for _ in range(rng.randint(0, 50))),
        lambda: json.dumps(rng.choice([None, 5, -1.5e308, "stop", [1, 2], [], {}, True])),
        lambda: json.dumps({"type": rng.choice(["stop ", "STOP", "pause", "start", None, 7, ["stop"], {"a": 1}])}),
        lambda: json.dumps({"type": "x" * rng.randint(200, 5000)}),
        lambda: "[" * rng.randint(1000, 200_000),
        lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64))).decode("latin-1"),
        lambda: "\ud7ff\ufeff\u0000" * rng.randint(1, 100),
    ]
    if not first:
        choices.append(lambda: json.dumps({**START, "call_id": "again"}))  # a second start, out of order
    return rng.choice(choices)()


def garbage_bytes(rng: random.Random) -> bytes:
    size = rng.choice([0, 1, 3, 7, 3201, rng.randint(1, 20_000), 1_048_577])  # odd sizes, over the frame limit
    return rng.randbytes(size)


def bad_starts(rng: random.Random) -> list[str | bytes]:
    """First messages that must be refused (close 1008) without harm."""
    fixed: list[str | bytes] = [
        b"\x00\x01" * 800, rng.randbytes(5000),  # audio before start
        "", "{", "null", "[]", '"start"', "[" * 100_000,  # not JSON, or not an object
        json.dumps({"type": "stop"}),  # reordered: stop first
        json.dumps({**START, "call_id": 5}), json.dumps({**START, "language": ["en"]}),
        json.dumps({**START, "channels": "two"}), json.dumps({**START, "sample_rate": -1}),
        json.dumps({**START, "metadata": []}), json.dumps({**START, "channel_roles": "agent"}),
        json.dumps({**START, "playbook": "../../../../etc/passwd"}), json.dumps({**START, "extra": 1}),
        json.dumps({**START, "call_id": "x" * 10_000}), json.dumps({**START, "encoding": "opus"}),
        json.dumps({**START, "demo": "yes please"}), "x" * 2_000_000,
    ]
    return fixed + [garbage_text(rng, first=True) for _ in range(10)]


def no_traceback(raw: str) -> dict:
    assert "Traceback" not in raw and 'File "' not in raw, raw[:500]
    event = json.loads(raw)
    assert event.get("type"), raw[:200]
    assert not (event["type"] == "error" and event.get("code") == "internal"), raw[:500]
    if event["type"] == "error":
        assert len(event["message"]) < 600, event["message"][:200]  # never echoes what was sent
    return event


def healthy(port: int) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert response.status == 200
    return time.monotonic() - started


async def exchange(url: str, token: str, messages: list[str | bytes], *, ending: str = "stop") -> tuple[list[dict], int | None]:
    """Send ``messages`` (stopping early if the server closes), then end: ``stop`` (send it and read to
    the end), ``vanish`` (close the connection at once) or ``wait`` (for the server to close). Every
    event received, and the close code."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    events: list[dict] = []
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None,
                       open_timeout=20, close_timeout=60) as ws:

        async def receive() -> None:
            try:
                async for raw in ws:
                    events.append(no_traceback(raw))
            except ConnectionClosed:
                pass

        receiver = asyncio.create_task(receive())
        try:
            for message in messages:
                await ws.send(message)
            if ending == "stop":
                await ws.send(json.dumps({"type": "stop"}))
            elif ending == "vanish":
                await ws.close()
            await asyncio.wait_for(asyncio.shield(receiver), 120)
        except ConnectionClosed:
            await asyncio.wait_for(receiver, 60)
    return events, ws.close_code


def test_bad_first_messages_are_refused_cleanly(fuzz_server):
    port, _, tokens = fuzz_server
    rng = random.Random(SEED)
    url = f"ws://127.0.0.1:{port}/v1/stream"
    deadline = time.monotonic() + FUZZ_SECONDS
    tried = 0
    for first in bad_starts(rng):
        if time.monotonic() > deadline:
            break
        events, code = asyncio.run(exchange(url, tokens["agent"], [first], ending="wait"))
        assert code in EXPECTED_CLOSE - {1000}, (first[:80], code, events)
        assert events and events[-1]["type"] == "error", (first[:80], events)
        tried += 1
    assert tried >= 10
    assert healthy(port) < 1.0


def test_garbage_mid_call_never_loses_what_was_accepted(fuzz_server):
    port, store, tokens = fuzz_server
    rng = random.Random(SEED + 1)
    url = f"ws://127.0.0.1:{port}/v1/stream"
    speech = speech_prefix()
    frames = [speech[i : i + 6400] for i in range(0, len(speech), 6400)]  # 100 ms stereo frames
    deadline = time.monotonic() + 2 * FUZZ_SECONDS
    calls = 0
    while calls < 2 or (time.monotonic() < deadline and calls < 6):
        call_id = f"fuzz-{SEED}-{calls}"
        garbage = [garbage_text(rng) if rng.random() < 0.5 else garbage_bytes(rng) for _ in range(rng.randint(5, 40))]
        rng.shuffle(garbage)
        if calls == 1:
            garbage.append(b"\x00" * (17 * 1024 * 1024))  # over uvicorn's frame limit: the server closes (1009)
        ending = "vanish" if calls % 3 == 2 else "stop"  # every third client vanishes without "stop"
        events, code = asyncio.run(exchange(url, tokens["agent"], [json.dumps({**START, "call_id": call_id}), *frames,
                                                                   *garbage], ending=ending))
        assert code in EXPECTED_CLOSE, (call_id, code, events[-3:], port.output()[-3000:])
        assert events[0]["type"] == "ready"
        heard = [e for e in events if e["type"] == "utterance"]
        # what was accepted is kept: every utterance the client got back is stored, in order
        detail = None
        for _ in range(600):
            detail = store.get_call(call_id) if store.has_call(call_id) else None
            if detail is not None and detail.status != "live":
                break
            time.sleep(0.1)
        assert detail is not None and detail.status in ("complete", "interrupted"), call_id
        stored = [(u.utterance_id, u.speaker) for u in detail.utterances]
        assert [(e["utterance_id"], e["speaker"]) for e in heard] == stored[: len(heard)]
        assert {"agent", "debtor"} <= {speaker for _, speaker in stored}, (call_id, stored)  # the speech before it
        if ending == "stop" and code == 1000:
            assert events[-1]["type"] == "scorecard" and detail.status == "complete"
        else:
            assert detail.status == "interrupted"
        calls += 1
        assert healthy(port) < 1.0
    assert calls >= 2
