"""Load test: 20 live calls and concurrent uploads against a local `coach serve`, bounded in time.

    python bench/load.py                        # 20 calls of en-short-call at 4x, 10 uploads
    python bench/load.py --calls 20 --speed 4 --uploads 10 --timeout 900

A real server starts in a subprocess on 127.0.0.1 (a free port, a throwaway database), with one agent
token per call and a coach token for the uploads. Each call replays a bundled two-channel sample
through /v1/stream faster than real time, as `coach replay` does; the uploads (transcripts and
recordings, each made unique) go to POST /v1/calls at the same time, and /healthz is asked every
100 ms throughout. Nothing leaves the machine: every request goes to 127.0.0.1, and the run stops by
itself (``--timeout``).

Checked and reported:

- nothing lost: every event a client received (partials and ``ready`` aside) is stored, in the order
  it was sent, and every utterance with it;
- spoken order: utterance ids rise, and each party's utterances come in the order they were spoken;
- every upload stored;
- /healthz latency (max, p95) while all of it runs.

Writes bench/results/load.json; exits 1 if anything was lost or out of order.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from _common import REPO, free_port, machine, percentile, wait_until_ready, write_result

SAMPLES = REPO / "examples" / "audio"
TRANSCRIPTS = ["en-cooperative", "en-violations", "en-hardship", "zh-cooperative", "zh-violations", "zh-hardship"]
RECORDINGS = ["en-cooperative", "en-violations"]
#: Events that describe the stream, not the call: never stored (errors are told to the client only).
TRANSIENT = {"partial", "ready", "error"}


def request(url: str, token: str, *, data: bytes | None = None, content_type: str | None = None,
            timeout: float = 600) -> tuple[int, dict | list | None]:
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class HealthProbe(threading.Thread):
    """Asks /healthz every ``interval`` seconds until stopped; keeps every latency (failures as inf)."""

    def __init__(self, port: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/healthz"
        self.interval = interval
        self.latencies: list[float] = []
        self.failures = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    response.read()
                self.latencies.append(time.perf_counter() - started)
            except OSError:
                self.failures += 1
            self._halt.wait(max(0.0, self.interval - (time.perf_counter() - started)))

    def stop(self) -> None:
        self._halt.set()
        self.join(10)


async def live_call(url: str, token: str, sample: str, index: int, speed: float, audio) -> dict:
    from coach.replay import replay

    meta = json.loads((SAMPLES / f"{sample}.json").read_text())
    call_id = f"load-{index:02d}-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    try:
        result = await replay(SAMPLES / f"{sample}.flac", url, speed=speed, metadata=meta.get("metadata"),
                              call_id=call_id, token=token, audio=audio)
    except Exception as exc:  # reported, not raised: one failed call must not hide the others' figures
        return {"call_id": call_id, "error": str(exc), "events": []}
    return {"call_id": call_id, "events": result.events, "wall_seconds": round(time.monotonic() - started, 1),
            "audio_seconds": round(result.audio_seconds, 1),
            "hint_latencies": [latency for _, latency in result.intent_latencies]}


def upload(port: int, token: str, name: str, index: int) -> dict:
    if name.endswith(".flac"):
        content, filename = (SAMPLES / name).read_bytes(), name
    else:  # a transcript, made unique so it is not recognised as a duplicate
        call = json.loads((REPO / "examples" / name).read_text())
        call["call_id"] = f"upload-{index:02d}-{uuid.uuid4().hex[:6]}"
        content, filename = json.dumps(call).encode(), name
    body, content_type = multipart({"call_id": f"upload-{index:02d}-{uuid.uuid4().hex[:6]}"}, filename, content)
    started = time.perf_counter()
    status, answer = request(f"http://127.0.0.1:{port}/v1/calls", token, data=body, content_type=content_type)
    return {"file": name, "status": status, "seconds": round(time.perf_counter() - started, 2),
            "call_id": (answer or {}).get("call", {}).get("id") if isinstance(answer, dict) else None,
            "detail": None if status in (200, 201) else answer}


def check_call(port: int, token: str, call: dict) -> dict:
    """Compare what the client received with what was stored."""
    received = [e for e in call["events"] if e.get("type") not in TRANSIENT]
    status, stored_events = request(f"http://127.0.0.1:{port}/v1/calls/{call['call_id']}/events", token)
    _, detail = request(f"http://127.0.0.1:{port}/v1/calls/{call['call_id']}", token)
    stored_events = stored_events if status == 200 else []
    key = lambda e: (e.get("type"), e.get("utterance_id"), e.get("intent") or e.get("rule_id") or e.get("label"))
    got, kept = [key(e) for e in received], [key(e) for e in stored_events]
    utterances = [e for e in received if e.get("type") == "utterance"]
    stored_utterances = {(u["utterance_id"], u["speaker"], u["start"]) for u in (detail or {}).get("utterances", [])}
    missing_utterances = [u["utterance_id"] for u in utterances
                          if (u["utterance_id"], u["speaker"], u["start"]) not in stored_utterances]
    ids = [u["utterance_id"] for u in utterances]
    by_speaker: dict[str, list[float]] = {}
    for u in utterances:
        by_speaker.setdefault(u["speaker"], []).append(u["start"])
    inversions = sum(1 for a, b in itertools.pairwise(utterances) if b["start"] < a["start"])
    return {
        "call_id": call["call_id"], "status": (detail or {}).get("status"), "events_received": len(got),
        "events_stored": len(kept), "all_stored_in_order": got == kept, "utterances": len(utterances),
        "missing_utterances": missing_utterances,
        "ids_rise": ids == sorted(ids) and len(set(ids)) == len(ids),
        "each_party_in_spoken_order": all(starts == sorted(starts) for starts in by_speaker.values()),
        "cross_party_inversions": inversions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--speed", type=float, default=4.0, help="times real time the calls are replayed at")
    parser.add_argument("--sample", default="en-short-call")
    parser.add_argument("--uploads", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=900, help="seconds before the run gives up (it always stops)")
    args = parser.parse_args()
    started = time.perf_counter()

    from coach.audio.files import load_audio
    from coach.config import Settings
    from coach.storage import CallStore

    data = Path(tempfile.mkdtemp(prefix="coach-load-"))
    settings = Settings(data_dir=data)
    store = CallStore(settings.database(), settings)
    agents = [store.create_token(f"agent-{i:02d}", "agent", agent_id=f"a{i:02d}", team="north" if i % 2 else "south")[0]
              for i in range(args.calls)]
    coach_token = store.create_token("coach", "coach", team="north")[0]
    admin = store.create_token("admin", "admin")[0]
    store.close()

    port = free_port()
    env = {**os.environ, "COACH_DATA_DIR": str(data)}
    env.pop("COACH_DATABASE_URL", None)
    log_file = tempfile.TemporaryFile()
    server = subprocess.Popen([sys.executable, "-m", "coach.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    report: dict = {"machine": machine(), "calls": args.calls, "speed": args.speed, "sample": args.sample,
                    "uploads_requested": args.uploads}
    try:
        wait_until_ready(port, server)
        audio = load_audio(SAMPLES / f"{args.sample}.flac")
        url = f"ws://127.0.0.1:{port}/v1/stream"
        files = ([f"{name}.json" for name in TRANSCRIPTS] + [f"{name}.flac" for name in RECORDINGS]) * args.uploads
        files = files[: args.uploads]
        probe = HealthProbe(port)
        probe.start()
        run_started = time.monotonic()

        async def everything() -> tuple[list[dict], list[dict]]:
            calls = [live_call(url, agents[i], args.sample, i, args.speed, audio) for i in range(args.calls)]
            uploads = [asyncio.to_thread(upload, port, coach_token, name, i) for i, name in enumerate(files)]
            results = await asyncio.wait_for(asyncio.gather(asyncio.gather(*calls), asyncio.gather(*uploads)), args.timeout)
            return results[0], results[1]

        calls, uploads = asyncio.run(everything())
        report["run_seconds"] = round(time.monotonic() - run_started, 1)
        probe.stop()
        checks = [check_call(port, admin, call) for call in calls if not call.get("error")]
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
    lat = probe.latencies
    hints = [latency for call in calls for latency in call.get("hint_latencies", [])]
    lags = [e["lag"] for call in calls for e in call["events"] if e.get("lag") is not None]
    report.update({
        "command": "python " + " ".join(["bench/load.py", *sys.argv[1:]]),
        "calls_failed": [{"call_id": c["call_id"], "error": c["error"]} for c in calls if c.get("error")],
        "call_wall_seconds": {"max": max((c.get("wall_seconds", 0) for c in calls), default=0),
                              "audio_seconds": calls[0].get("audio_seconds") if calls else None},
        "events_received": sum(c["events_received"] for c in checks),
        "events_stored": sum(c["events_stored"] for c in checks),
        "utterances_received": sum(c["utterances"] for c in checks),
        "calls_all_stored_in_order": sum(c["all_stored_in_order"] and not c["missing_utterances"] for c in checks),
        "calls_in_spoken_order": sum(c["ids_rise"] and c["each_party_in_spoken_order"] for c in checks),
        "cross_party_inversions": sum(c["cross_party_inversions"] for c in checks),
        "call_statuses": sorted({c["status"] for c in checks if c["status"]}),
        "uploads": {"stored": sum(u["status"] in (200, 201) for u in uploads), "total": len(uploads),
                    "seconds_max": max((u["seconds"] for u in uploads), default=0),
                    "failed": [u for u in uploads if u["status"] not in (200, 201)]},
        "healthz": {"n": len(lat), "failures": probe.failures, "p50_ms": round(percentile(lat, 50) * 1000, 1) if lat else None,
                    "p95_ms": round(percentile(lat, 95) * 1000, 1) if lat else None,
                    "max_ms": round(max(lat) * 1000, 1) if lat else None,
                    "over_200ms": sum(x > 0.2 for x in lat)},
        "hint_latency_ms": {"n": len(hints), "p50": round(percentile(hints, 50) * 1000) if hints else None,
                            "p95": round(percentile(hints, 95) * 1000) if hints else None},
        "max_server_lag_s": round(max(lags), 2) if lags else None,
        "per_call": checks,
    })
    path = write_result("load", report, started)
    ok = (not report["calls_failed"] and report["calls_all_stored_in_order"] == args.calls
          and report["calls_in_spoken_order"] == args.calls and report["uploads"]["stored"] == len(uploads))
    print(f"{args.calls} live calls ({args.sample} at {args.speed:g}x) + {len(uploads)} uploads in {report['run_seconds']} s")
    print(f"nothing lost: {report['calls_all_stored_in_order']}/{args.calls} calls have every event received stored in order "
          f"({report['events_stored']}/{report['events_received']} events, {report['utterances_received']} utterances); "
          f"failed calls: {len(report['calls_failed'])}")
    print(f"spoken order: {report['calls_in_spoken_order']}/{args.calls} calls (cross-party start inversions: "
          f"{report['cross_party_inversions']})")
    print(f"uploads stored: {report['uploads']['stored']}/{len(uploads)} (slowest {report['uploads']['seconds_max']} s)")
    h = report["healthz"]
    print(f"/healthz: {h['n']} probes, p50 {h['p50_ms']} ms, p95 {h['p95_ms']} ms, max {h['max_ms']} ms, "
          f"{h['over_200ms']} over 200 ms, {h['failures']} failed")
    print(f"hint latency p50 {report['hint_latency_ms']['p50']} ms, p95 {report['hint_latency_ms']['p95']} ms; "
          f"max server lag {report['max_server_lag_s']} s; written to {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
