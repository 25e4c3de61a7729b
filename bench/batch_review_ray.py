"""Batch review on Ray Data against the plain ``coach review``, on the same files and this machine;
and the per-call cost of each stage, which docs/scaling.md sizes a night's cluster from.

* **Stages** (one warm process): every ``examples/audio/*.flac`` call (two channels) through the
  stages a Ray review runs apart, each timed: read (decode and voice activity; seconds per audio
  minute), language identification (Whisper base, seconds per call), speech recognition (seconds per
  audio minute, per model: tiny.en and Whisper base for English, Whisper base for Chinese), analysis
  (the engine, outcome and summary; seconds per call) and storing (one SQLite transaction per call).
  Models are loaded first, by one untimed call per language and model.
* **Throughput**: the same recordings, each in ``--copies`` copies whose bytes differ (a FLAC comment)
  and whose audio does not (so the duplicate check does not skip them), reviewed by
  ``coach review FILES --language auto --format json`` and by the same command with ``--ray`` (a local
  Ray on every core), each a fresh process with a fresh database: audio seconds per wall-clock second
  (x real time) and calls per minute, the whole command (start-up, model loading, Ray start-up) timed.
  The two commands' JSON must be identical but for the moment each call was stored.
* **Memory**: the peak resident memory of the plain process, and of each kind of Ray process (the
  driver, speech recognition actors, analysis actors, read tasks, Ray's own daemons), sampled from
  /proc every half second while the commands run.
"""

from __future__ import annotations

import argparse
import functools
import glob
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import REPO, machine, wait_for_idle, write_result
from batch_review import audio_seconds, language_of


def stage_costs(recordings: list[str], english_models: list[str]) -> dict:
    """Seconds per stage for each recording, in one process whose models are loaded first."""
    from coach.config import Settings
    from coach.review.pipeline import (
        ReviewRequest,
        analyse_call,
        decode_recording,
        file_hash,
        from_file,
        recognize_recording,
        recording_language,
        store_reviewed,
    )
    from coach.storage import CallStore

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        base = Settings(data_dir=Path(folder), keep_audio=False)
        store = CallStore(base.database(), base)
        runs = [(path, model) for path in recordings
                for model in (english_models if language_of(path) == "en" else [base.asr_model_zh])]
        warm_up, seen = [], set()
        for path, model in sorted(runs, key=lambda run: os.path.getsize(run[0])):  # the shortest call of each model
            if (language_of(path), model) not in seen:
                seen.add((language_of(path), model))
                warm_up.append((path, model))
        for timed, batch in ((False, warm_up), (True, runs)):  # the untimed calls load every model
            for n, (path, model) in enumerate(batch):
                language = language_of(path)
                settings = base.model_copy(update={"asr_model_en": model} if language == "en" else {})
                request = ReviewRequest(language=language, call_id=f"{Path(path).stem}-{model}-{timed}")
                clock, cpu = [time.perf_counter()], [time.process_time()]  # CPU time: every thread of the process
                lap = functools.partial(_lap, clock, cpu)
                decoded = decode_recording(Path(path), settings)
                lap()
                language, decoded = recording_language(decoded, request, settings)
                lap()
                heard = recognize_recording(decoded, language, request, settings)
                lap()
                digest = f"{file_hash(Path(path))[:56]}{int(timed)}{n:07d}"
                reviewed = from_file(analyse_call(heard, request, settings), Path(path), digest)
                lap()
                store_reviewed(store, reviewed, request, source="cli", settings=settings)
                lap()
                if timed:
                    row = {"call": Path(path).stem, "language": language, "asr_model": model,
                           "audio_s": round(heard.duration, 1), "utterances": len(reviewed.call.utterances)}
                    for stage, wall, used in zip(STAGES, itertools.pairwise(clock), itertools.pairwise(cpu), strict=True):
                        row[f"{stage}_s"] = round(wall[1] - wall[0], 3)
                        row[f"{stage}_cpu_s"] = round(used[1] - used[0], 3)
                    rows.append(row)
                    print(f"  {row}", flush=True)
        store.close()
    return {"calls": rows, "summary": summarise(rows)}


def _lap(clock: list[float], cpu: list[float]) -> None:
    clock.append(time.perf_counter())
    cpu.append(time.process_time())


#: The stages a Ray review runs apart, in order.
STAGES = ("read", "language_id", "asr", "analysis", "store")


def summarise(rows: list[dict]) -> dict:
    """Per language and model, each stage's wall-clock and CPU seconds per audio minute and per call
    (CPU seconds add up every thread: what a cluster must provide, in core-seconds)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[f"{row['language']} {row['asr_model']}"].append(row)
    summary = {}
    for key, group in groups.items():
        minutes = sum(r["audio_s"] for r in group) / 60
        figures: dict = {"calls": len(group), "audio_min": round(minutes, 2)}
        for stage in STAGES:
            for kind in ("s", "cpu_s"):
                total = sum(r[f"{stage}_{kind}"] for r in group)
                figures[f"{stage}_{kind}_per_audio_min"] = round(total / minutes, 3)
                figures[f"{stage}_{kind}_per_call"] = round(total / len(group), 3)
        summary[key] = figures
    return summary


def copies_of(recordings: list[str], copies: int, folder: Path) -> list[Path]:
    """``copies`` files per recording with the same audio and different bytes (a FLAC comment)."""
    made = []
    for path in recordings:
        made.append(Path(path))
        for n in range(1, copies):
            target = folder / f"{Path(path).stem}.copy{n}.flac"
            subprocess.run(["sox", path, "--comment", f"copy {n}", str(target)], check=True)
            made.append(target)
    return made


class MemoryWatch:
    """Peak resident memory of a process and its descendants, by kind, sampled from /proc."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak: dict[str, int] = defaultdict(int)
        self.peak_total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {**{k: round(v / 1024, 0) for k, v in sorted(self.peak.items())}, "all_processes": round(self.peak_total / 1024, 0)}

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            total = 0
            for pid, kind, rss_kb in self._descendants():
                self.peak[kind] = max(self.peak[kind], rss_kb)
                total += rss_kb
            self.peak_total = max(self.peak_total, total)

    def _descendants(self) -> list[tuple[int, str, int]]:
        parents, found = {}, []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
        tree = {self.root}
        for _ in range(6):  # a few levels: driver, Ray's daemons, their workers
            tree |= {pid for pid, parent in parents.items() if parent in tree}
        for pid in tree:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    command = handle.read().split(b"\0")[0].decode(errors="replace")
                with open(f"/proc/{pid}/status") as handle:
                    rss = next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
            except (OSError, StopIteration, ValueError):
                continue
            found.append((pid, _kind(pid, self.root, command), rss))
        return found


def _kind(pid: int, root: int, command: str) -> str:
    if pid == root:
        return "coach process (plain review, or the Ray driver)"
    if command.startswith("ray::"):
        name = command.removeprefix("ray::").split()[0]
        return f"ray worker {name}"
    return "ray daemons " + Path(command.split()[0]).name if command else "other"


def review_command(files: list[Path], extra: list[str], data: Path) -> dict:
    """One `coach review` process over ``files``: its wall time, exit code, JSON and peak memory."""
    env = {**os.environ, "COACH_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "coach.cli", "review", *map(str, files), "--language", "auto", "--format", "json", *extra]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err)
        watch = MemoryWatch(process.pid)
        code = process.wait()
        wall = time.perf_counter() - started
        memory = watch.stop()
        out.seek(0)
        err.seek(0)
        printed, messages = out.read().decode(), err.read().decode(errors="replace")
    if code != 0:
        raise SystemExit(f"`{' '.join(command[2:6])} ... {' '.join(extra)}` failed ({code}):\n{messages[-3000:]}")
    return {"wall_s": round(wall, 1), "load_at_start": round(load, 2), "load_at_end": round(os.getloadavg()[0], 2),
            "peak_rss_mb": memory, "json": json.loads(printed)}


def without_times(value):
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k != "created_at"}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=2, help="Copies of each bundled recording in the throughput run.")
    parser.add_argument("--english-models", default="tiny.en,whisper-base", help="English speech models timed by stage.")
    parser.add_argument("--skip-stages", action="store_true", help="Only the throughput comparison.")
    parser.add_argument("--skip-throughput", action="store_true", help="Only the stage costs.")
    parser.add_argument("--wait-idle", type=float, default=0, help="Wait up to this many seconds for an idle machine.")
    args = parser.parse_args()
    began = time.perf_counter()
    idle = wait_for_idle(args.wait_idle) if args.wait_idle else None
    recordings = sorted(glob.glob(str(REPO / "examples" / "audio" / "*.flac")))
    result: dict = {"machine": machine(), "idle": idle}
    if not args.skip_stages:
        print("stage costs (warm process):", flush=True)
        result["stages"] = stage_costs(recordings, args.english_models.split(","))
        for key, figures in result["stages"]["summary"].items():
            print(f"  {key}: {figures}", flush=True)
    if not args.skip_throughput:
        with tempfile.TemporaryDirectory() as folder:
            files = copies_of(recordings, args.copies, Path(folder))
            seconds = audio_seconds([str(f) for f in files])
            runs = {}
            for name, extra in (("plain", []), ("ray", ["--ray"])):
                run = review_command(files, extra, Path(folder) / f"data-{name}")
                run["x_real_time"] = round(seconds / run["wall_s"], 1)
                run["calls_per_min"] = round(len(files) * 60 / run["wall_s"], 2)
                runs[name] = run
                print(f"{name}: {len(files)} calls, {seconds:.0f} s of audio in {run['wall_s']} s: {run['x_real_time']}x real "
                      f"time, {run['calls_per_min']} calls/min (load {run['load_at_start']} -> {run['load_at_end']}); "
                      f"peak RSS {run['peak_rss_mb']}", flush=True)
            identical = without_times(runs["plain"]["json"]) == without_times(runs["ray"]["json"])
            print(f"identical results: {identical}", flush=True)
            for run in runs.values():
                del run["json"]
            result["throughput"] = {"calls": len(files), "audio_s": round(seconds, 1), "identical_results": identical, **runs}
    tag = "stages" if args.skip_throughput else "throughput" if args.skip_stages else None
    path = write_result("batch_review_ray", result, began, tag=tag)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
