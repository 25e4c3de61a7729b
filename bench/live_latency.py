"""Live-call figures: end-of-speech to hint latency, partial latency, real-time factor, concurrency.

    python bench/live_latency.py                 # latency (1 call at 1x) + RTF + concurrency 1,2,4,6
    python bench/live_latency.py --calls 1 2 3 4 5 6 --samples en-short-call
    python bench/live_latency.py --samples zh-violations --concurrency-sample zh-violations --calls 1 2 3 4 --seconds 60
    python bench/live_latency.py ... --stagger 7.3     # concurrent calls start 7.3 s apart

By default the concurrent calls are the same recording started together, so every call's utterances
end at the same moment and all their decodes queue at once: the worst case. ``--stagger`` starts call
i that many seconds after call i-1, as independent calls arrive (a stagger that is not a multiple of
the sample's turn length keeps their utterances from lining up again).

A real `coach serve` runs in a subprocess on a free port; clients replay the bundled two-channel
sample calls (examples/audio) exactly as `coach replay` does. Latency of a hint = arrival of its intent
event at the client minus the moment the client finished sending that utterance's last audio.
Writes bench/results/live_latency.json.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import free_port, wait_until_ready

from coach.audio.files import load_audio
from coach.replay import replay  # noqa: E402

SAMPLES = ROOT / "examples" / "audio"
RESULTS = ROOT / "bench" / "results"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "mean_ms": None, "max_ms": None}
    return {"n": len(values), "p50_ms": round(percentile(values, 50) * 1000), "p95_ms": round(percentile(values, 95) * 1000),
            "mean_ms": round(statistics.fmean(values) * 1000) if values else None, "max_ms": round(max(values) * 1000) if values else None}


async def run_calls(url: str, sample: str, n: int, speed: float | None, pid: int, token: str, seconds: float | None = None,
                    stagger: float = 0.0) -> dict:
    meta = json.loads((SAMPLES / f"{sample}.json").read_text())
    audio = load_audio(SAMPLES / f"{sample}.flac")
    if seconds:
        audio = audio[:, : int(seconds * 16_000)]
    peak = [rss_mb(pid)]

    async def watch() -> None:
        while True:
            peak[0] = max(peak[0], rss_mb(pid))
            await asyncio.sleep(0.5)

    watcher = asyncio.create_task(watch())
    started = time.monotonic()
    async def call(i: int):
        await asyncio.sleep(i * stagger)
        return await replay(SAMPLES / f"{sample}.flac", url, language=meta["language"], speed=speed, metadata=meta.get("metadata"),
                            call_id=f"{sample}-{n}-{i}-{time.time_ns()}", audio=audio, token=token)

    results = await asyncio.gather(*[call(i) for i in range(n)])
    wall = time.monotonic() - started
    watcher.cancel()
    latencies = [latency for r in results for _, latency in r.intent_latencies]
    partials = [latency for r in results for latency in r.partial_latencies]
    lags = [e["lag"] for r in results for e in r.events if e.get("lag") is not None]
    return {"calls": n, "sample": sample, "speed": speed or "max", "audio_seconds": round(results[0].audio_seconds, 1),
            "wall_seconds": round(wall, 1), "hint_latency": summary(latencies), "partial_latency": summary(partials),
            "max_server_lag_s": round(max(lags), 2) if lags else None, "peak_rss_mb": round(peak[0]),
            "hints_per_call": round(len(latencies) / n, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", nargs="+", default=["en-short-call", "en-hardship"], help="samples for the 1-call latency run")
    parser.add_argument("--calls", nargs="+", type=int, default=[1, 2, 4, 6], help="concurrency levels (short call, 1x)")
    parser.add_argument("--limit-ms", type=float, default=1500, help="p95 that ends the concurrency sweep's 'held' range")
    parser.add_argument("--concurrency-sample", default="en-short-call", help="sample replayed by the concurrency sweep")
    parser.add_argument("--seconds", type=float, default=None, help="replay only the first SECONDS of each sample")
    parser.add_argument("--stagger", type=float, default=0.0,
                        help="seconds between the starts of concurrent calls (0: all at once, the worst case)")
    args = parser.parse_args()

    port = free_port()
    # Live calls are stored as they happen (the storage write is part of what is measured), in a
    # throwaway SQLite database unless COACH_DATABASE_URL says otherwise.
    data = os.environ.get("COACH_BENCH_DATA_DIR") or tempfile.mkdtemp(prefix="coach-bench-")
    # Streams need a token: an agent's, in the database the server will use (a fresh name each run).
    from coach.config import Settings
    from coach.storage import CallStore

    settings = Settings(data_dir=Path(data))
    store = CallStore(settings.database())
    token = store.create_token(f"bench-{time.time_ns()}", "agent", agent_id="bench", team="bench")[0]
    store.close()
    RESULTS.mkdir(parents=True, exist_ok=True)
    server_log = (RESULTS / "live_latency_server.log").open("wb")  # the server's own log, for what went wrong
    server = subprocess.Popen([sys.executable, "-m", "coach.cli", "serve", "--port", str(port)], cwd=ROOT,
                              stdout=server_log, stderr=subprocess.STDOUT,
                              env={**os.environ, "COACH_DATA_DIR": data})
    url = f"ws://127.0.0.1:{port}/v1/stream"
    try:
        wait_until_ready(port, server)
        idle_rss = rss_mb(server.pid)
        report: dict = {"machine": {"cpus": os.cpu_count(), "cpu": _cpu_model()}, "asr_models": {"en": settings.asr_model_en, "zh": settings.asr_model_zh},
                        "idle_rss_mb": round(idle_rss), "latency": [], "rtf": [], "concurrency": []}
        for sample in args.samples:
            result = asyncio.run(run_calls(url, sample, 1, 1.0, server.pid, token, args.seconds))
            report["latency"].append(result)
            print(f"1 call, {sample} at 1x: hint latency p50 {result['hint_latency']['p50_ms']} ms, "
                  f"p95 {result['hint_latency']['p95_ms']} ms ({result['hint_latency']['n']} hints); "
                  f"partial p50 {result['partial_latency']['p50_ms']} ms", flush=True)
        for sample in args.samples:
            result = asyncio.run(run_calls(url, sample, 1, None, server.pid, token, args.seconds))
            rtf = result["wall_seconds"] / result["audio_seconds"]
            report["rtf"].append({"sample": sample, "audio_seconds": result["audio_seconds"], "wall_seconds": result["wall_seconds"],
                                  "real_time_factor": round(rtf, 3)})
            print(f"as fast as possible, {sample}: {result['audio_seconds']} s of stereo audio in {result['wall_seconds']} s "
                  f"(real-time factor {rtf:.3f})", flush=True)
        for n in args.calls:
            result = asyncio.run(run_calls(url, args.concurrency_sample, n, 1.0, server.pid, token, args.seconds, args.stagger))
            result["stagger_s"] = args.stagger
            result["rss_per_added_call_mb"] = round((result["peak_rss_mb"] - idle_rss) / n, 1)
            report["concurrency"].append(result)
            print(f"{n} concurrent calls ({args.concurrency_sample}, {args.stagger:g} s apart) at 1x: hint p50 {result['hint_latency']['p50_ms']} ms, p95 {result['hint_latency']['p95_ms']} ms, "
                  f"max lag {result['max_server_lag_s']} s, peak RSS {result['peak_rss_mb']} MB", flush=True)
        held = [r["calls"] for r in report["concurrency"] if (r["hint_latency"]["p95_ms"] or 1e9) <= args.limit_ms]
        report["max_calls_p95_within_limit"] = max(held) if held else 0
        report["limit_ms"] = args.limit_ms
        print(f"calls held with p95 <= {args.limit_ms:.0f} ms: {report['max_calls_p95_within_limit']}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "live_latency.json" if args.concurrency_sample.startswith("en") else f"live_latency_{args.concurrency_sample}.json"
    (RESULTS / name).write_text(json.dumps(report, indent=1))


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
