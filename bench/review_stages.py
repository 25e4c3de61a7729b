"""Where a recorded review's time goes, stage by stage, and what it transcribes.

Every ``examples/audio/*.flac`` (or those whose names contain a given word) reviewed in one warm
process, stage by stage as ``coach review`` runs them: decode and voice activity, the language
check, Whisper, the engine. Each stage is timed on its own, and each transcript scored against the
sample's script (word error rate for English, character error rate for Chinese; see
``asr_accuracy.py``). One warm-up pass runs first, so models and engines are loaded.

This is the A/B tool for review speed: run it at two commits back to back (for example one checked
out with ``git worktree add``, run with the same virtual environment). A change that only moves
time between stages shows here even when ``batch_review.py``'s total is lost in the machine's noise.

    python bench/review_stages.py [--passes N] [en- zh-hardship ...]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import REPO
from asr_accuracy import edit_distance, units

from coach.config import Settings
from coach.review.pipeline import (
    ReviewRequest,
    analyse_recording,
    decode_recording,
    recognize_recording,
    recording_language,
    review_engine,
)

STAGES = ("decode", "language_check", "whisper", "engine")


def review_in_stages(path: Path, settings: Settings) -> tuple[str, float, dict[str, float], float]:
    """The sample's language, its duration, each stage's seconds, and the transcript's error rate."""
    script = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    request = ReviewRequest(call_id=path.stem, language=script["language"])
    times: dict[str, float] = {}
    started = time.perf_counter()
    decoded = decode_recording(path, settings)
    times["decode"] = time.perf_counter() - started
    language, decoded = recording_language(decoded, request, settings)
    times["language_check"] = time.perf_counter() - started - sum(times.values())
    heard = recognize_recording(decoded, language, request, settings)
    times["whisper"] = time.perf_counter() - started - sum(times.values())
    analyse_recording(heard, request, review_engine(request, language, settings))
    times["engine"] = time.perf_counter() - started - sum(times.values())
    reference = units(" ".join(u["text"] for u in script["utterances"]), language)
    hypothesis = units(" ".join(clip.text for clip in heard.clips), language)
    return language, heard.duration, times, edit_distance(reference, hypothesis) / len(reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only samples whose file name contains one of these")
    parser.add_argument("--passes", type=int, default=1, help="timed passes (after one warm-up pass)")
    args = parser.parse_args()
    settings = Settings()
    paths = [p for p in sorted((REPO / "examples" / "audio").glob("*.flac"))
             if not args.names or any(name in p.name for name in args.names)]
    rows: dict[str, dict] = {}
    for n in range(args.passes + 1):
        for path in paths:
            language, duration, times, error = review_in_stages(path, settings)
            if n == 0:
                continue
            row = rows.setdefault(path.stem, {"language": language, "duration": duration, "error": error,
                                              **{stage: 0.0 for stage in STAGES}})
            for stage in STAGES:
                row[stage] += times[stage] / args.passes
    for language in ("en", "zh"):
        chosen = {name: row for name, row in rows.items() if row["language"] == language}
        if not chosen:
            continue
        for name, row in chosen.items():
            print(f"{name:18s} {row['duration']:6.1f} s  " + "  ".join(f"{stage} {row[stage]:.2f}" for stage in STAGES)
                  + f"  error {row['error']:.3f}")
        audio = sum(row["duration"] for row in chosen.values())
        wall = sum(row[stage] for row in chosen.values() for stage in STAGES)
        shares = "  ".join(f"{stage} {sum(row[stage] for row in chosen.values()) / wall:.0%}" for stage in STAGES)
        mean_error = sum(row["error"] for row in chosen.values()) / len(chosen)
        print(f"{language}: {audio / wall:.1f}x real time  ({shares})  mean error {mean_error:.3f}\n")


if __name__ == "__main__":
    main()
