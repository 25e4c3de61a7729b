"""Supervisors' live floor under load: 50 calls in progress on one server, and how long an S1 alert
takes to reach a watching supervisor.

    python bench/supervisor_floor.py                 # 50 calls, the threat call replayed 3 times
    python bench/supervisor_floor.py --calls 20 --rounds 1

A real `coach serve` runs on a free port. ``--calls`` agents stream live calls at real time over
/v1/stream (the line is open but quiet, as most of a floor is between turns; their audio is silence,
so the speech models stay free for the call that matters); one supervisor watches the team on
/v1/supervisor. Then the bundled en-short-call, whose agent threatens jail, is streamed at real time
``--rounds`` times. Figure: the time from the agent's console receiving the US-THREAT compliance
event to the supervisor's socket receiving the alert (both clients run in this process, on one
clock), and how many calls the supervisor saw on the floor. Writes bench/results/supervisor_floor.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import REPO, free_port, machine, wait_until_ready, write_result

SAMPLE = REPO / "examples" / "audio" / "en-short-call.flac"


async def quiet_call(url: str, token: str, call_id: str, stop: asyncio.Event) -> None:
    """An agent's line, open and quiet: 100 ms of stereo silence at real time until ``stop``."""
    from websockets.asyncio.client import connect

    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.send(json.dumps({"type": "start", "call_id": call_id, "language": "en", "channels": 2,
                                  "channel_roles": ["agent", "debtor"], "sample_rate": 16000}))
        silence = b"\0" * 3200 * 2
        while not stop.is_set():
            await ws.send(silence)
            await asyncio.sleep(0.1)
        await ws.send(json.dumps({"type": "stop"}))
        async for _ in ws:  # drain until the server closes
            pass


async def run(port: int, agent: str, supervisor: str, calls: int, rounds: int) -> dict:
    from websockets.asyncio.client import connect

    from coach.replay import replay

    stream = f"ws://127.0.0.1:{port}/v1/stream"
    stop = asyncio.Event()
    background = [asyncio.create_task(quiet_call(stream, agent, f"quiet-{i}-{uuid.uuid4().hex[:6]}", stop))
                  for i in range(calls)]
    alerts: dict[str, float] = {}
    tiles: set[str] = set()
    async with connect(f"ws://127.0.0.1:{port}/v1/supervisor?token={supervisor}", max_size=None) as watch:

        async def listen() -> None:
            async for raw in watch:
                message = json.loads(raw)
                if message.get("type") == "alert" and message.get("rule_id") == "US-THREAT":
                    alerts.setdefault(message["call_id"], time.monotonic())
                elif message.get("type") == "call":
                    tiles.add(message["call"]["call_id"])
                elif message.get("type") == "snapshot":
                    tiles.update(c["call_id"] for c in message.get("calls", []))

        listener = asyncio.create_task(listen())
        await asyncio.sleep(5)  # every quiet call started and on the floor
        on_floor = len(tiles)
        results = []
        for n in range(rounds):
            call_id = f"threat-{n}-{uuid.uuid4().hex[:6]}"
            seen: dict[str, float] = {}

            def on_event(event: dict, latency: float | None) -> None:
                if event.get("type") == "compliance" and event.get("rule_id") == "US-THREAT":
                    seen.setdefault("console", time.monotonic())

            await replay(SAMPLE, stream, speed=1.0, token=agent, call_id=call_id, on_event=on_event)
            await asyncio.sleep(1.0)
            if call_id in alerts and "console" in seen:
                # negative: the supervisor heard of it before the agent's console did
                results.append({"console_to_supervisor_s": round(alerts[call_id] - seen["console"], 4)})
            else:
                results.append({"missing": True})
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        listener.cancel()
    gaps = [r["console_to_supervisor_s"] for r in results if "console_to_supervisor_s" in r]
    return {"calls_on_floor": on_floor, "rounds": results,
            "console_to_supervisor_max_s": max(gaps) if gaps else None,
            "console_to_supervisor_median_s": statistics.median(gaps) if gaps else None,
            "alerts_missing": sum(1 for r in results if r.get("missing"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50, help="quiet calls in progress on the floor")
    parser.add_argument("--rounds", type=int, default=3, help="times the threat call is streamed")
    args = parser.parse_args()
    began = time.perf_counter()
    from coach.config import Settings
    from coach.storage import CallStore

    data = tempfile.mkdtemp(prefix="coach-floor-")
    store = CallStore(Settings(data_dir=Path(data)).database())
    agent = store.create_token(f"floor-agent-{uuid.uuid4().hex[:6]}", "agent", agent_id="a-floor", team="floor")[0]
    supervisor = store.create_token(f"floor-sup-{uuid.uuid4().hex[:6]}", "supervisor", team="floor")[0]
    store.close()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "coach.cli", "serve", "--port", str(port)], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                              env={**os.environ, "COACH_DATA_DIR": data, "COACH_STREAMS_PER_MINUTE": "0"})
    try:
        wait_until_ready(port, server)
        result = asyncio.run(run(port, agent, supervisor, args.calls, args.rounds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    result["machine"] = machine()
    path = write_result("supervisor_floor", result, began)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
