"""Leave-one-out accuracy of the shipped playbooks' own examples, with the offline defaults.

For each playbook: ``CoachEngine(load_playbook(path)).detector.held_out_predictions()`` (exact
leave-one-out: every intent example and every non-objection example is classified by a model fitted
on all the others, with the detector's calibrated abstention threshold), tallied by
``coach.playbook.evaluation.evaluate_detector``, the same code ``coach playbook check`` runs.
``--folds K`` passes K through for a fast K-fold run instead. The held-out fits run in parallel on all
cores (joblib, ``n_jobs=-1``, the library's default).

Reported per playbook: accuracy per intent, overall intent accuracy (intent examples predicted as
their own intent; abstaining counts as wrong), the share of non-objection examples kept silent
(predicted ``__none__``), the abstention threshold, and the time taken.

Runtime: exact LOO took 5.4 min (en, ~590 fits) and 1.4 min (zh) on an idle 2-core machine, about
twice that with other jobs running; ``--folds 5`` takes about 30 s for both.
"""

from __future__ import annotations

import argparse
import glob
import time
from typing import Any

import _common  # noqa: F401
from _common import REPO, coach_settings, machine, write_result


def run(path: str, folds: int | None) -> dict[str, Any]:
    from coach.analyzers.intent import NONE
    from coach.engine import CoachEngine
    from coach.playbook import load_playbook
    from coach.playbook.evaluation import evaluate_detector

    book = load_playbook(path)
    t0 = time.perf_counter()
    engine = CoachEngine(book)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    # evaluate_detector = detector.held_out_predictions(folds), tallied: the code `coach playbook check` uses
    report = evaluate_detector(engine.detector, folds)
    held_out_s = time.perf_counter() - t0

    per_intent = {
        s.intent: {
            "examples": s.examples,
            "accuracy": round(s.accuracy, 4),
            "abstained": s.confused_with[NONE],
            "confused_with": dict(s.confused_with.most_common(3)),
        }
        for s in report.per_intent
    }
    intent_total = sum(s.examples for s in report.per_intent)
    intent_correct = sum(s.correct for s in report.per_intent)
    abstained = sum(s.confused_with[NONE] for s in report.per_intent)
    silent = report.non_objection
    return {
        "playbook": f"{book.id}@{book.version}",
        "path": str(path),
        "language": book.language,
        "method": engine.space.method,
        "evaluation": report.method,
        "threshold": engine.detector.threshold,
        "intents": len(book.intents),
        "intent_examples": intent_total,
        "intent_accuracy": round(report.intent_accuracy, 4),
        "intent_correct": intent_correct,
        "intent_examples_abstained": abstained,
        "intent_examples_wrong_intent": intent_total - intent_correct - abstained,
        "worst_intent": {"intent": report.worst.intent, "accuracy": round(report.worst.accuracy, 4)},
        "non_objection_examples": silent.examples,
        "non_objection_kept_silent": round(silent.accuracy, 4) if silent.examples else None,
        "non_objection_fired_as": dict(silent.confused_with.most_common(5)),
        "per_intent": per_intent,
        "seconds": {"engine_build": round(build_s, 1), "held_out": round(held_out_s, 1)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("playbooks", nargs="*", help="playbook YAML files (default: playbooks/*.yaml)")
    parser.add_argument("--folds", type=int, default=None, help="K-fold cross-validation instead of exact LOO (fast); writes playbook_loo.foldsK.json")
    args = parser.parse_args()
    started = time.perf_counter()
    paths = args.playbooks or sorted(glob.glob(str(REPO / "playbooks" / "*.yaml")))
    result: dict[str, Any] = {"machine": machine(), **coach_settings(), "folds": args.folds,
                              "playbooks": []}
    for path in paths:
        entry = run(path, args.folds)
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
    # a K-fold run does not overwrite the exact leave-one-out result
    path = write_result("playbook_loo", result, started, f"folds{args.folds}" if args.folds else None)
    print(f"\nwrote {path.relative_to(REPO)} ({result['wall_seconds']}s)")


if __name__ == "__main__":
    main()
