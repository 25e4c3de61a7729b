"""A real server on a real port, a recorded two-channel call streamed at real-time pace."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid

from coach.replay import replay
from coach.storage import CallStore
from conftest import EXAMPLES, ROOT, free_port


def test_real_time_call_gets_hints_and_warnings(live_server, agent_token):
    server = live_server
    call = json.loads((EXAMPLES / "audio" / "en-short-call.json").read_text())
    result = asyncio.run(replay(EXAMPLES / "audio" / "en-short-call.flac", f"ws://127.0.0.1:{server}/v1/stream",
                                speed=1.0, metadata=call["metadata"], token=agent_token))
    intents = {e["intent"] for e in result.of_type("intent")}
    assert {"cannot_afford", "stop_calling", "legal_representation"} <= intents
    rules = {e["rule_id"] for e in result.of_type("compliance")}
    assert {"US-THREAT", "US-CEASE"} <= rules
    assert result.of_type("partial") and result.of_type("scorecard")
    # real-time pace: the call took about as long as its audio, and hints came soon after speech ended
    assert result.wall_seconds >= result.audio_seconds * 0.95
    assert result.intent_latencies and max(latency for _, latency in result.intent_latencies) < 3.0


def test_replay_cli_prints_hints_with_latency(live_server, agent_token):
    server = live_server
    call_id = f"cli-sample-{uuid.uuid4().hex[:6]}"
    output = subprocess.run(
        [sys.executable, "-m", "coach.cli", "replay", str(EXAMPLES / "audio" / "en-short-call.flac"),
         "--server", f"ws://127.0.0.1:{server}/v1/stream", "--speed", "max", "--call-id", call_id],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, "COACH_TOKEN": agent_token},
    )
    assert output.returncode == 0, output.stderr
    assert "stop_calling" in output.stdout and "latency" in output.stdout
    # a bundled sample is a demo call, stored under the token's agent and team, with the sample's metadata
    stored = CallStore.from_settings().get_call(call_id)
    assert (stored.source, stored.agent_id, stored.team) == ("demo", "a-test", "north")
    assert stored.metadata["local_time"] == "14:10"


def test_replay_cli_sets_the_calls_id_agent_team_and_metadata(live_server, tmp_path):
    store = CallStore.from_settings()
    token = store.create_token(f"dialer-{uuid.uuid4().hex[:6]}", "integration")[0]
    recording = tmp_path / "recording.flac"  # not a bundled sample: a real call
    shutil.copy(EXAMPLES / "audio" / "en-short-call.flac", recording)
    call_id = f"cli-real-{uuid.uuid4().hex[:6]}"
    output = subprocess.run(
        [sys.executable, "-m", "coach.cli", "replay", str(recording), "--server", f"ws://127.0.0.1:{live_server}/v1/stream",
         "--speed", "max", "--token", token, "--call-id", call_id, "--agent-id", "a77", "--team", "west",
         "--metadata", json.dumps({"local_time": "21:30", "calls_last_7d": 1})],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert output.returncode == 0, output.stderr
    stored = store.get_call(call_id)
    assert (stored.source, stored.agent_id, stored.team) == ("live", "a77", "west")
    assert stored.metadata["local_time"] == "21:30"
    events = store.events(call_id, types=["compliance"])
    assert any(e["utterance_id"] is None for e in events)  # 21:30 is outside calling hours: a pre-call finding
    bad = subprocess.run([sys.executable, "-m", "coach.cli", "replay", str(recording), "--metadata", "[1]"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert bad.returncode == 2 and "JSON object" in bad.stderr and "Traceback" not in bad.stderr


def test_replay_without_a_token_is_refused_clearly(live_server):
    env = {k: v for k, v in os.environ.items() if k != "COACH_TOKEN"}
    output = subprocess.run(
        [sys.executable, "-m", "coach.cli", "replay", str(EXAMPLES / "audio" / "en-short-call.flac"),
         "--server", f"ws://127.0.0.1:{live_server}/v1/stream", "--speed", "max"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert output.returncode == 1 and "unauthorized" in output.stderr and "--token" in output.stderr
    assert "Traceback" not in output.stderr


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
