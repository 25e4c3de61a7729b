"""A real server on a real port, a recorded two-channel call streamed at real-time pace."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from coach.replay import replay
from conftest import EXAMPLES, ROOT, free_port


def test_real_time_call_gets_hints_and_warnings(live_server):
    server = live_server
    call = json.loads((EXAMPLES / "audio" / "en-short-call.json").read_text())
    result = asyncio.run(replay(EXAMPLES / "audio" / "en-short-call.flac", f"ws://127.0.0.1:{server}/v1/stream",
                                speed=1.0, metadata=call["metadata"]))
    intents = {e["intent"] for e in result.of_type("intent")}
    assert {"cannot_afford", "stop_calling", "legal_representation"} <= intents
    rules = {e["rule_id"] for e in result.of_type("compliance")}
    assert {"US-THREAT", "US-CEASE"} <= rules
    assert result.of_type("partial") and result.of_type("scorecard")
    # real-time pace: the call took about as long as its audio, and hints came soon after speech ended
    assert result.wall_seconds >= result.audio_seconds * 0.95
    assert result.intent_latencies and max(latency for _, latency in result.intent_latencies) < 3.0


def test_replay_cli_prints_hints_with_latency(live_server):
    server = live_server
    output = subprocess.run(
        [sys.executable, "-m", "coach.cli", "replay", str(EXAMPLES / "audio" / "en-short-call.flac"),
         "--server", f"ws://127.0.0.1:{server}/v1/stream", "--speed", "max"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert output.returncode == 0, output.stderr
    assert "stop_calling" in output.stdout and "latency" in output.stdout


def test_replay_of_a_broken_file_is_a_clear_error(live_server, tmp_path):
    server = live_server
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3" + os.urandom(2000))
    output = subprocess.run([sys.executable, "-m", "coach.cli", "replay", str(broken), "--server", f"ws://127.0.0.1:{server}/v1/stream"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert output.returncode == 2 and "cannot decode audio" in output.stderr and "Traceback" not in output.stderr


def test_replay_without_a_server_is_a_clear_error(tmp_path):
    output = subprocess.run([sys.executable, "-m", "coach.cli", "replay", str(EXAMPLES / "audio" / "en-short-call.flac"),
                             "--server", f"ws://127.0.0.1:{free_port()}/v1/stream"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert output.returncode == 1 and "coach serve" in output.stderr and "Traceback" not in output.stderr
