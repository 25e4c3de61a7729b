"""Offensive-language detection (``coach.text.offensive``): accuracy and latency.

* Chinese, on COLD's dev and test splits (``shared/data/cold``; the model was fitted on train and its
  ``C`` chosen on dev, so test is the held-out figure): the model as trained (probability >= 0.5 on
  the normalised text) and the detector as shipped (prior shift, benign phrases blanked, lexicon),
  with accuracy, precision, recall and F1, and for test the share flagged in each of COLD's
  fine-grained classes (attacks on a person or a group, anti-bias comments, other).
* English, on a small labelled list written for this script (below: collection-call lines, not
  taken from the repository's tests, playbooks or examples): profanity-check alone (the package's
  own ``predict_prob`` >= 0.5), the lexicon alone, and the detector.
* Latency of ``detector.score([text])`` per utterance (normalisation cache cleared before each call,
  so every call does the whole work), on short call lines and on COLD's longer comments, and the
  time to load each detector.

Runtime: about 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import csv
import time
from typing import Any

import _common
from _common import REPO, machine, percentile, write_result

# (text, 1 = offensive). Offensive: insults, abuse or profanity aimed at the other party, or profane
# hostility; not offensive: ordinary collection talk, including anger and distress without abuse.
ENGLISH = [
    ("You're a deadbeat, plain and simple.", 1),
    ("Get a job, you bum.", 1),
    ("Nobody cares about your sob story.", 1),
    ("People like you are the reason interest rates are high.", 1),
    ("What are you, stupid?", 1),
    ("You're a parasite living off other people's money.", 1),
    ("I'm reporting you, you crook.", 1),
    ("Shove it.", 1),
    ("You clowns can't even get my name right.", 1),
    ("You're an embarrassment to your family.", 1),
    ("Typical low-class behaviour from someone like you.", 1),
    ("You idiots at the bank lost my payment.", 1),
    ("Are you deaf? I said pay today.", 1),
    ("What a dumb excuse.", 1),
    ("Quit whining and pay what you owe, loser.", 1),
    ("You lazy freeloader.", 1),
    ("Don't give me that crap.", 1),
    ("Go screw yourself.", 1),
    ("This is a bunch of bullshit.", 1),
    ("Fuck you and your collection agency.", 1),
    ("Pay up, you pathetic little man.", 1),
    ("You're the worst kind of scum.", 1),
    ("I don't give a damn about your problems.", 1),
    ("Shut your mouth and listen.", 1),
    ("Stop lying, you cheat.", 1),
    ("Only a moron would miss three payments.", 1),
    ("You're a liar and a thief.", 1),
    ("Your whole family is trash.", 1),
    ("Keep calling me and I'll tell you where to stick it, asshole.", 1),
    ("You goddamn vultures.", 1),
    ("Everyone in your neighbourhood is a deadbeat.", 1),
    ("Man up and pay your debts, you coward.", 1),
    ("You disgust me.", 1),
    ("What kind of a lowlife ignores his bills?", 1),
    ("Stop being such a baby about it.", 1),
    ("Piss off.", 1),
    ("You people are leeches.", 1),
    ("Who raised you, wolves? Pay your bills.", 1),
    ("You're a bloodsucker.", 1),
    ("Listen here, sweetheart, you're not as smart as you think.", 1),
    ("Good morning, may I speak with Mr. Alvarez please?", 0),
    ("This is Jenna from Summit Credit Services.", 0),
    ("The purpose of this call is to collect a debt.", 0),
    ("I see the last payment we received was in March.", 0),
    ("Can we agree on twenty-five dollars every two weeks?", 0),
    ("I'll mail you a copy of the agreement today.", 0),
    ("Your account was placed with us by Northwind Bank.", 0),
    ("Would you like to pay by debit card or bank transfer?", 0),
    ("I can put a note on the account that you're unemployed.", 0),
    ("There's no penalty for paying early.", 0),
    ("I'm not able to waive the interest, but I can ask my supervisor.", 0),
    ("Is this still a good number to reach you?", 0),
    ("You won't be arrested, this is a civil matter.", 0),
    ("Nobody is going to come to your house.", 0),
    ("I hear you, that sounds really hard.", 0),
    ("Let me repeat that back to make sure I have it right.", 0),
    ("Your confirmation number is 48213.", 0),
    ("We received your dispute letter and the account is on hold.", 0),
    ("That's a killer deal, honestly, forty percent off.", 0),
    ("I'll call you back on Thursday after five.", 0),
    ("I'm sick of waiting on hold every time I call.", 0),
    ("My dad died last year and I'm handling his estate.", 0),
    ("That's ridiculous, I never agreed to that fee.", 0),
    ("I hate this situation, I really do.", 0),
    ("Can I speak to your supervisor?", 0),
    ("My mother has dementia and I'm her carer.", 0),
    ("I was in the hospital for three weeks with cancer.", 0),
    ("My kids come first, I have to feed them.", 0),
    ("I'm on disability, I get nine hundred a month.", 0),
    ("Honestly this debt is killing me, I can't sleep.", 0),
    ("I'll die before I can pay all of that.", 0),
    ("The car got repossessed, so I can't get to work.", 0),
    ("I'm going to file for bankruptcy.", 0),
    ("My lawyer told me not to talk to you.", 0),
    ("Please send everything by mail, not phone.", 0),
    ("You've got the wrong person, I'm her sister.", 0),
    ("I paid it off in 2019, check your records.", 0),
    ("Why is the balance higher than last month?", 0),
    ("I'm at work, I can't talk right now.", 0),
    ("I can do a hundred on the first of the month.", 0),
    ("Stop calling my mother's house.", 0),
    ("What the heck is this charge?", 0),
    ("I'm so frustrated with your company.", 0),
    ("I feel like I'm drowning in bills.", 0),
    ("My husband handles the finances, call him.", 0),
    ("I never got a letter about this.", 0),
    ("This is the fifth call this week, it's harassment.", 0),
    ("I'll report you to the CFPB if this keeps up.", 0),
    ("Is this a scam? How do I know you're real?", 0),
    ("Fine, set up the plan, whatever.", 0),
    ("I'm crying right now, I don't know what to do.", 0),
    ("The dog ate the payment coupon, can you resend it?", 0),
    ("Can you lower the monthly amount?", 0),
    ("I want everything in writing before I pay a cent.", 0),
    ("Sorry, my baby is screaming, give me a second.", 0),
    ("I'm a single mom working two jobs.", 0),
    ("This account belongs to my late father.", 0),
    ("I got laid off when the plant shut down.", 0),
    ("I'm not paying until you validate the debt.", 0),
    ("Goodbye.", 0),
]


def read_cold(split: str) -> list[dict[str, str]]:
    with open(_common.SHARED_DATA / "cold" / f"{split}.csv", newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def metrics(labels: list[int], predicted: list[bool]) -> dict[str, Any]:
    tp = sum(1 for y, p in zip(labels, predicted) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted) if not y and p)
    fn = sum(1 for y, p in zip(labels, predicted) if y and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "n": len(labels), "positive": sum(labels),
        "accuracy": round(sum(1 for y, p in zip(labels, predicted) if bool(y) == p) / len(labels), 4),
        "precision": round(precision, 4), "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
    }


def latency(detector: Any, texts: list[str]) -> dict[str, Any]:
    from coach.text.normalize import normalize

    times = []
    for text in texts:
        normalize.cache_clear()
        start = time.perf_counter()
        detector.score([text])
        times.append((time.perf_counter() - start) * 1000)
    return {"utterances": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
            "p50_ms": round(percentile(times, 50), 3), "p95_ms": round(percentile(times, 95), 3),
            "max_ms": round(max(times), 3), "mean_ms": round(sum(times) / len(times), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    started = time.perf_counter()
    from coach.text.normalize import normalize
    from coach.text.offensive import THRESHOLD, OffensiveLanguageDetector

    result: dict[str, Any] = {"machine": machine(), "threshold": THRESHOLD}
    t0 = time.perf_counter()
    zh = OffensiveLanguageDetector.for_language("zh")
    zh_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    en = OffensiveLanguageDetector.for_language("en")
    en_load = time.perf_counter() - t0
    result["load_seconds"] = {"zh": round(zh_load, 3), "en": round(en_load, 3)}

    result["cold"] = {}
    for split in ("dev", "test"):
        rows = read_cold(split)
        labels = [int(r["label"]) for r in rows]
        texts = [r["TEXT"] for r in rows]
        raw = [zh.model.predict(normalize(t, "zh"))[0] >= 0.5 for t in texts]
        shipped = [s.probability >= THRESHOLD for s in zh.score(texts)]
        entry = {"model": metrics(labels, raw), "detector": metrics(labels, shipped)}
        if split == "test":
            names = {"0": "other non-offensive", "1": "attacks a person", "2": "attacks a group", "3": "anti-bias"}
            entry["flagged_by_fine_grained_class"] = {
                names[c]: {
                    "n": sum(1 for r in rows if r["fine-grained-label"] == c),
                    "model": round(sum(p for r, p in zip(rows, raw) if r["fine-grained-label"] == c)
                                   / max(1, sum(1 for r in rows if r["fine-grained-label"] == c)), 4),
                    "detector": round(sum(p for r, p in zip(rows, shipped) if r["fine-grained-label"] == c)
                                      / max(1, sum(1 for r in rows if r["fine-grained-label"] == c)), 4),
                }
                for c in sorted(names)
            }
        result["cold"][split] = entry
        for system in ("model", "detector"):
            m = entry[system]
            print(f"COLD {split:4s} {system:8s}: accuracy {m['accuracy']:.2%}  P {m['precision']:.2%}  "
                  f"R {m['recall']:.2%}  F1 {m['f1']:.2%}  (n={m['n']}, {m['positive']} offensive)")
    for name, shares in result["cold"]["test"]["flagged_by_fine_grained_class"].items():
        print(f"  test flagged, {name:20s} (n={shares['n']:4d}): model {shares['model']:.1%}, detector {shares['detector']:.1%}")

    from profanity_check import predict_prob

    labels = [y for _, y in ENGLISH]
    texts = [t for t, _ in ENGLISH]
    scores = en.score(texts)
    systems = {
        "profanity-check": [p >= 0.5 for p in predict_prob(texts)],
        "lexicon": [en.lexicon.find(normalize(t, "en")) is not None for t in texts],
        "detector": [s.probability >= THRESHOLD for s in scores],
    }
    result["english"] = {name: metrics(labels, predicted) for name, predicted in systems.items()}
    result["english"]["detector_errors"] = [
        {"text": t, "label": y, "probability": s.probability, "evidence": s.evidence}
        for (t, y), s in zip(ENGLISH, scores) if (s.probability >= THRESHOLD) != bool(y)
    ]
    for name in systems:
        m = result["english"][name]
        print(f"English {name:15s}: P {m['precision']:.2%}  R {m['recall']:.2%}  F1 {m['f1']:.2%}  "
              f"accuracy {m['accuracy']:.2%}  (n={m['n']}, {m['positive']} offensive)")
    for error in result["english"]["detector_errors"]:
        print(f"  missed/false: {error}")

    cold_test = [r["TEXT"] for r in read_cold("test")]
    short_zh = [t for t in cold_test if len(t) <= 20][:1000]
    result["latency"] = {
        "en_call_lines": latency(en, texts * 10),
        "zh_cold_test_short": latency(zh, short_zh),
        "zh_cold_test_all": latency(zh, cold_test),
    }
    for name, m in result["latency"].items():
        print(f"latency {name:20s}: p50 {m['p50_ms']:.3f} ms  p95 {m['p95_ms']:.3f} ms  max {m['max_ms']:.2f} ms  "
              f"({m['utterances']} calls, {m['mean_chars']} chars on average)")
    print(f"load: zh {zh_load:.2f}s, en {en_load:.2f}s")
    path = write_result("offensive", result, started)
    print(f"wrote {path.relative_to(REPO)} ({result['wall_seconds']}s)")


if __name__ == "__main__":
    main()
