"""Wall time of `coach analyze` on a bundled sample call, as a user runs it: a fresh process each time.

    python bench/analyze_wall.py                  # en and zh samples, 1 warm-up (fills the cache) + 3 timed runs
    python bench/analyze_wall.py --runs 5 --cache-dir /tmp/coach-cache

The first run fits the engine and stores it in the cache (COACH_CACHE_DIR); the timed runs load it,
which is what every later start does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = {"en": ROOT / "examples" / "en-hardship.json", "zh": ROOT / "examples" / "zh-hardship.json"}


def run_once(sample: Path, env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "coach.cli", "analyze", str(sample), "--format", "jsonl"], env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="+", default=["en", "zh"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, help="COACH_CACHE_DIR for the runs (default: the user's)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.cache_dir:
        env["COACH_CACHE_DIR"] = str(args.cache_dir)
    report = {}
    for language in args.languages:
        first = run_once(SAMPLES[language], env)
        timed = [run_once(SAMPLES[language], env) for _ in range(args.runs)]
        report[language] = {"first_run_s": round(first, 1), "cached_runs_s": [round(t, 2) for t in timed],
                            "cached_median_s": round(statistics.median(timed), 2)}
        print(json.dumps({language: report[language]}))


if __name__ == "__main__":
    main()
