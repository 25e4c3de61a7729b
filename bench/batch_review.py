"""Recorded-call throughput: how fast ``coach review`` gets through a day's recordings, and how fast
the store writes live calls.

* Audio: every ``examples/audio/*.flac`` (two-channel calls, agent left, debtor right) reviewed end to
  end in its own language (decode, Silero VAD, language check, batched Whisper: tiny.en for English,
  Whisper base for Chinese, the engine, outcome, summary, one store transaction) with a warm process,
  ``--passes`` times. Figure per language: audio hours per wall-clock hour (targets: >= 30 English,
  >= 15 Chinese).
* Transcripts: every ``examples/*.json`` call reviewed and stored: calls per second.
* Memory: the process's peak RSS.
* Live storage: a live call's events appended in batches of the sizes the server produces (1-6 events
  per batch, each its own transaction) to SQLite (and PostgreSQL with ``--postgres URL``): events and
  batches per second.

The store is a fresh SQLite file in a temporary folder; each pass reviews under new call ids and
hashes (the duplicate check would otherwise skip the work).
"""

from __future__ import annotations

import argparse
import glob
import resource
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import REPO, machine, wait_for_idle, write_result

from coach.config import Settings
from coach.review.pipeline import ReviewRequest, review_file, store_review
from coach.storage import CallStore, NewCall


def language_of(path: str) -> str | None:
    """A bundled recording's language, from the transcript beside it (transcripts say their own)."""
    sidecar = Path(path).with_suffix(".json")
    if Path(path).suffix == ".json" or not sidecar.is_file():
        return None
    import json

    return json.loads(sidecar.read_text(encoding="utf-8"))["language"]


def review_all(paths: list[str], store: CallStore, settings: Settings, passes: int, tag: str) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for n in range(passes):
        for path in paths:
            request = ReviewRequest(call_id=f"{Path(path).name}-{tag}-{n}", language=language_of(path))
            reviewed = review_file(path, request, settings)
            reviewed.content_hash = f"{reviewed.content_hash[:48]}{tag}{n:04d}".ljust(64, "0")[:64]
            store_review(store, reviewed, source="cli", settings=settings)
            count += 1
    return time.perf_counter() - started, count


def audio_seconds(paths: list[str]) -> float:
    import av

    total = 0.0
    for path in paths:
        with av.open(path) as container:
            total += container.duration / 1_000_000
    return total


def live_write_rate(url: str, settings: Settings, events: list, calls: int) -> dict[str, float]:
    store = CallStore(url, settings)
    body = [e for e in events if e.type != "scorecard"]
    batches: list[list] = []
    i = 0
    sizes = [1, 3, 2, 6, 4, 1]
    while i < len(body):
        size = sizes[len(batches) % len(sizes)]
        batches.append(body[i : i + size])
        i += size
    started = time.perf_counter()
    for n in range(calls):
        call_id = f"live-{time.time_ns()}-{n}"
        store.begin_call(NewCall(call_id=call_id, language="en", playbook="bench", source="live"))
        for batch in batches:
            store.append_events(call_id, batch)
        store.finish_call(call_id, outcome={"kind": "none"}, summary="bench")
    elapsed = time.perf_counter() - started
    store.close()
    return {"events_per_s": round(len(body) * calls / elapsed, 1), "batches_per_s": round(len(batches) * calls / elapsed, 1),
            "ms_per_batch": round(elapsed * 1000 / (len(batches) * calls), 2), "batches_per_call": len(batches)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=2, help="Times to review the sample recordings.")
    parser.add_argument("--postgres", default="", help="Also measure live writes on this PostgreSQL URL.")
    parser.add_argument("--wait-idle", type=float, default=0, help="Wait up to this many seconds for an idle machine.")
    args = parser.parse_args()
    began = time.perf_counter()
    idle = wait_for_idle(args.wait_idle) if args.wait_idle else None
    recordings = sorted(glob.glob(str(REPO / "examples" / "audio" / "*.flac")))
    transcripts = sorted(glob.glob(str(REPO / "examples" / "*.json")))
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), keep_audio=False)
        store = CallStore(settings.database(), settings)
        by_language = {code: [r for r in recordings if language_of(r) == code] for code in ("en", "zh")}
        warm_started = time.perf_counter()
        for files in by_language.values():  # each language's models loaded once before timing
            review_all(files[:1], store, settings, 1, "warm")
        review_all(transcripts, store, settings, 1, "warm")
        warm_s = time.perf_counter() - warm_started
        audio = {}
        for code, files in by_language.items():
            seconds = audio_seconds(files) * args.passes
            wall, calls = review_all(files, store, settings, args.passes, f"a-{code}")
            audio[code] = {"calls": calls, "audio_s": round(seconds, 1), "wall_s": round(wall, 1),
                           "realtime_factor": round(seconds / wall, 1)}
            print(f"{code}: {seconds:.0f} s of audio in {wall:.1f} s: {seconds / wall:.1f}x real time", flush=True)
        text_wall, text_calls = review_all(transcripts, store, settings, args.passes * 3, "t")
        from coach.engine import get_engine
        from coach.transcript import load_call

        call = load_call(REPO / "examples" / "en-violations.json")
        events = list(get_engine(language="en", settings=settings).analyze(call))
        live = {"sqlite": live_write_rate(settings.database(), settings, events, calls=20)}
        if args.postgres:
            live["postgresql"] = live_write_rate(args.postgres, settings, events, calls=20)
        store.close()
    result = {
        "machine": machine(),
        "idle": idle,
        "warm_up_s": round(warm_s, 1),
        "audio": audio,
        "transcripts": {"calls": text_calls, "wall_s": round(text_wall, 2), "calls_per_s": round(text_calls / text_wall, 2)},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "live_storage": live,
    }
    path = write_result("batch_review", result, began)
    print(result)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
