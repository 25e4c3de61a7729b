"""Wall time of `coach analyze` on a bundled sample call, as a user runs it: a fresh process each time.

    python bench/analyze_wall.py                  # en and zh samples, 1 warm-up (fills the cache) + 3 timed runs
    python bench/analyze_wall.py --runs 5 --cache-dir /tmp/coach-cache
    git worktree add /tmp/base HEAD~3 && python bench/analyze_wall.py --baseline /tmp/base

The first run fits the engine and stores it in the cache (COACH_CACHE_DIR); the timed runs load it,
which is what every later start does. With ``--baseline`` the same runs of another checkout (its
``coach`` package, this interpreter and cache) are interleaved with these: a shared machine's speed
drifts by a third within an hour, so only runs taken side by side compare.
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


def run_once(sample: Path, env: dict[str, str], tree: Path = ROOT) -> float:
    """One `python -m coach.cli analyze` started in ``tree``, whose ``coach`` package it then imports."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "coach.cli", "analyze", str(sample), "--format", "jsonl"], env=env, cwd=tree,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def summary(first: float, timed: list[float]) -> dict:
    return {"first_run_s": round(first, 1), "cached_runs_s": [round(t, 2) for t in timed],
            "cached_median_s": round(statistics.median(timed), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="+", default=["en", "zh"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, help="COACH_CACHE_DIR for the runs (default: the user's)")
    parser.add_argument("--baseline", type=Path, help="another checkout whose runs are interleaved with these")
    args = parser.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if args.cache_dir:
        env["COACH_CACHE_DIR"] = str(args.cache_dir)
    trees = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    for language in args.languages:
        first = {name: run_once(SAMPLES[language], env, tree) for name, tree in trees.items()}
        timed: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(args.runs):
            for name, tree in trees.items():
                timed[name].append(run_once(SAMPLES[language], env, tree))
        report = {name: summary(first[name], timed[name]) for name in trees}
        print(json.dumps({language: report["this"]} if not args.baseline else {language: report}))


if __name__ == "__main__":
    main()
