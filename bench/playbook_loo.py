"""Leave-one-out accuracy of the shipped playbooks' own examples, with the offline defaults.

For each playbook: ``CoachEngine(load_playbook(path)).detector.held_out_predictions()`` (exact
leave-one-out: every intent example and every non-objection example is classified by a model fitted
on all the others, with the detector's calibrated abstention threshold), the same call that
``coach playbook check`` makes. ``--folds K`` passes K through for a fast K-fold run instead.

Reported per playbook: accuracy per intent, overall intent accuracy (intent examples predicted as
their own intent; abstaining counts as wrong), the share of non-objection examples kept silent
(predicted ``__none__``), the abstention threshold, and the time taken.

Runtime: several minutes per playbook for exact LOO on 2 cores (about 590 fits each, run in parallel
by joblib over all cores); well under a minute per playbook with ``--folds 5``.
"""

from __future__ import annotations

import argparse
import glob
import time
from collections import Counter
from typing import Any

import _common  # noqa: F401
from _common import REPO, coach_settings, machine, write_result


def run(path: str, folds: int | None, jobs: int) -> dict[str, Any]:
    from coach.analyzers.intent import NONE
    from coach.engine import CoachEngine
    from coach.playbook import load_playbook

    book = load_playbook(path)
    t0 = time.perf_counter()
    engine = CoachEngine(book)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = engine.detector.held_out_predictions(folds, jobs=jobs)
    held_out_s = time.perf_counter() - t0

    totals: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    confusions: dict[str, Counter[str]] = {}
    for truth, predicted in results:
        totals[truth] += 1
        if truth == predicted:
            correct[truth] += 1
        else:
            confusions.setdefault(truth, Counter())[predicted] += 1
    per_intent = {}
    for intent in book.intents:
        label = intent.id
        per_intent[label] = {
            "examples": totals[label],
            "accuracy": round(correct[label] / totals[label], 4) if totals[label] else None,
            "abstained": confusions.get(label, Counter())[NONE],
            "confused_with": dict(confusions.get(label, Counter()).most_common(3)),
        }
    intent_total = sum(totals[i.id] for i in book.intents)
    intent_correct = sum(correct[i.id] for i in book.intents)
    abstained = sum(confusions.get(i.id, Counter())[NONE] for i in book.intents)
    return {
        "playbook": f"{book.id}@{book.version}",
        "path": str(path),
        "language": book.language,
        "method": engine.space.method,
        "evaluation": "leave-one-out" if folds is None else f"{folds}-fold cross-validation",
        "threshold": engine.detector.threshold,
        "intents": len(book.intents),
        "intent_examples": intent_total,
        "intent_accuracy": round(intent_correct / intent_total, 4) if intent_total else None,
        "intent_correct": intent_correct,
        "intent_examples_abstained": abstained,
        "intent_examples_wrong_intent": intent_total - intent_correct - abstained,
        "non_objection_examples": totals[NONE],
        "non_objection_kept_silent": round(correct[NONE] / totals[NONE], 4) if totals[NONE] else None,
        "non_objection_fired_as": dict(confusions.get(NONE, Counter()).most_common(5)),
        "per_intent": per_intent,
        "seconds": {"engine_build": round(build_s, 1), "held_out": round(held_out_s, 1)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("playbooks", nargs="*", help="playbook YAML files (default: playbooks/*.yaml)")
    parser.add_argument("--folds", type=int, default=None, help="K-fold cross-validation instead of exact LOO (fast)")
    parser.add_argument("--jobs", type=int, default=-1, help="joblib workers for the held-out fits (default -1: all cores)")
    args = parser.parse_args()
    started = time.perf_counter()
    paths = args.playbooks or sorted(glob.glob(str(REPO / "playbooks" / "*.yaml")))
    result: dict[str, Any] = {"machine": machine(), **coach_settings(), "folds": args.folds, "jobs": args.jobs,
                              "playbooks": []}
    for path in paths:
        entry = run(path, args.folds, args.jobs)
        result["playbooks"].append(entry)
        print(f"\n{entry['playbook']} ({entry['language']}, {entry['method']}): {entry['evaluation']}, "
              f"abstain below {entry['threshold']}")
        for label, row in entry["per_intent"].items():
            confused = ", ".join(f"{k} x{v}" for k, v in row["confused_with"].items())
            print(f"  {label:24s} {row['examples']:3d}  {row['accuracy']:6.1%}  {confused}")
        print(f"  overall intent accuracy {entry['intent_accuracy']:.1%} ({entry['intent_correct']}/{entry['intent_examples']}; "
              f"{entry['intent_examples_abstained']} abstained, {entry['intent_examples_wrong_intent']} wrong intent); "
              f"non-objection kept silent {entry['non_objection_kept_silent']:.1%} of {entry['non_objection_examples']}; "
              f"engine build {entry['seconds']['engine_build']}s, held-out {entry['seconds']['held_out']}s")
    path = write_result("playbook_loo", result, started)
    print(f"\nwrote {path.relative_to(REPO)} ({result['wall_seconds']}s)")


if __name__ == "__main__":
    main()
