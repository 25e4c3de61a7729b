"""Chinese sentiment polarity on ChnSentiCorp (hotel reviews, 7,766 rows) with the offline default.

Two systems, neither tuned to this data:

* ``lexicon``: ``coach.text.valence.text_valence(review, "zh")``: valence > 0 is positive, < 0 negative,
  exactly 0 is "no opinion" (nothing in the lexicon fired, or it cancelled out).
* ``analyzer``: the full ``SentimentAnalyzer`` of the shipped zh-CN playbook as the engine builds it
  (``get_engine(language="zh").sentiment.analyze(...)``, offline defaults: no Chinese embedding or
  sentiment model), whose valence blends the lexicon (0.6) with the emotion classifier's prior (0.4), or
  is the prior alone when the lexicon says 0. Sign of its valence, as above.

Reported for each: coverage (share with a non-zero valence), accuracy on the covered rows, accuracy
counting "no opinion" as wrong, balanced accuracy (mean of the positive and negative recalls, "no
opinion" counted as a miss), and the recall of each class. The data set is 69% positive, so a
constant "positive" guess scores 68.5% accuracy but 50% balanced accuracy.

Runtime: about 1-2 minutes on a 2-core machine (most of it the zh engine build).
"""

from __future__ import annotations

import argparse
import csv
import time
from typing import Any

import _common
from _common import REPO, coach_settings, machine, write_result


def read() -> list[tuple[int, str]]:
    path = _common.SHARED_DATA / "chnsenticorp" / "ChnSentiCorp_htl_all.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        return [(int(row["label"]), row["review"] or "") for row in csv.DictReader(handle)]


def score(labels: list[int], valences: list[float]) -> dict[str, Any]:
    n = len(labels)
    predicted = [1 if v > 0 else 0 if v < 0 else None for v in valences]
    covered = [(y, p) for y, p in zip(labels, predicted) if p is not None]
    right = sum(1 for y, p in covered if y == p)
    recall = {}
    for cls, name in ((1, "positive"), (0, "negative")):
        rows = [p for y, p in zip(labels, predicted) if y == cls]
        recall[name] = {
            "n": len(rows),
            "recall": round(sum(1 for p in rows if p == cls) / max(1, len(rows)), 4),
            "no_opinion": round(sum(1 for p in rows if p is None) / max(1, len(rows)), 4),
        }
    return {
        "n": n,
        "coverage": round(len(covered) / n, 4),
        "accuracy_on_covered": round(right / len(covered), 4) if covered else None,
        "accuracy_no_opinion_counts_wrong": round(right / n, 4),
        "balanced_accuracy": round((recall["positive"]["recall"] + recall["negative"]["recall"]) / 2, 4),
        "by_class": recall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", nargs="+", default=["lexicon", "analyzer"], choices=["lexicon", "analyzer"])
    parser.add_argument("--limit", type=int, default=None, help="only N rows, evenly spaced (smoke test)")
    args = parser.parse_args()
    started = time.perf_counter()

    rows = read()
    if args.limit:
        rows = rows[:: max(1, len(rows) // args.limit)][: args.limit]  # the file is sorted by label
    labels = [y for y, _ in rows]
    texts = [t for _, t in rows]
    positives = sum(labels)
    result: dict[str, Any] = {
        "machine": machine(), **coach_settings(), "rows": len(rows), "positive": positives,
        "negative": len(rows) - positives, "majority_baseline_accuracy": round(max(positives, len(rows) - positives) / len(rows), 4),
        "systems": {},
    }
    print(f"ChnSentiCorp: {len(rows)} reviews ({positives} positive, {len(rows) - positives} negative)")

    if "lexicon" in args.systems:
        from coach.text.valence import text_valence

        t0 = time.perf_counter()
        valences = [text_valence(t, "zh")[0] for t in texts]
        entry = score(labels, valences)
        entry["what"] = "sign of coach.text.valence.text_valence(review, 'zh')"
        entry["seconds"] = round(time.perf_counter() - t0, 1)
        result["systems"]["lexicon"] = entry

    if "analyzer" in args.systems:
        from coach.engine import get_engine

        t0 = time.perf_counter()
        engine = get_engine(language="zh")
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        valences = []
        for start in range(0, len(texts), 512):
            features = engine.space.encode(texts[start : start + 512])
            valences += [engine.sentiment.analyze(features.row(i)).valence for i in range(len(features.texts))]
        entry = score(labels, valences)
        entry["what"] = f"sign of SentimentAnalyzer valence, playbook {engine.ref}, {engine.space.method}"
        entry["seconds"] = round(time.perf_counter() - t0, 1)
        entry["engine_build_seconds"] = round(build_s, 1)
        result["systems"]["analyzer"] = entry

    for name, entry in result["systems"].items():
        print(f"  {name:8s}: coverage {entry['coverage']:.1%}, accuracy on covered {entry['accuracy_on_covered']:.2%}, "
              f"accuracy (no opinion = wrong) {entry['accuracy_no_opinion_counts_wrong']:.2%}, balanced accuracy "
              f"{entry['balanced_accuracy']:.2%} (recall pos {entry['by_class']['positive']['recall']:.1%}, "
              f"neg {entry['by_class']['negative']['recall']:.1%}); {entry['seconds']}s")
    print(f"  majority-class baseline accuracy {result['majority_baseline_accuracy']:.2%} (balanced 50%)")
    path = write_result("chnsenticorp", result, started)
    print(f"wrote {path.relative_to(REPO)} ({result['wall_seconds']}s)")


if __name__ == "__main__":
    main()
