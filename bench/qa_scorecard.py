"""The QA scorecard against a reviewer's: whole calls, each check labelled pass / fail / na by
writers who saw only the checks' definitions (qaset/README.md), never the playbooks or the code.

    python bench/qa_scorecard.py                          # the development half, both languages
    python bench/qa_scorecard.py --languages zh --errors 40
    python bench/qa_scorecard.py --set test               # the sealed half: figures only

Per check: agreement with the reviewer where the reviewer said pass or fail, and, where the reviewer
said the check does not apply (na), how often the scorecard failed the call on it anyway (a na read
as pass or as not applicable costs the agent nothing). Per call: the reviewer's score (the same
weights, the checks labelled) against the scorecard's, and the outcome (promise, refusal, dispute, ...)
against the reviewer's. Checks measured by time (talk ratio, interruptions, silences) and by call
metadata (pre-call gates) are not labelled: the transcripts carry no real timing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

import _common  # noqa: F401  (puts the repo on sys.path)
from devset import Feeder, _rate, check_frozen

from coach.engine import get_engine
from coach.events import ScorecardEvent
from coach.outcome import determine_outcome
from coach.scorecard import weighted_score

ROOT = Path(__file__).resolve().parents[1] / "qaset"
#: Checks a transcript cannot show; the scorecard's own figure is compared without them.
UNLABELLED = {"pre_call_gates", "talk_ratio", "interruptions", "long_silences", "stage_order"}


def call_report(engine, call: dict) -> dict:
    feeder = Feeder(engine, f"qa-{call['id']}")
    events: list = []
    for turn in call["turns"]:
        events += feeder.say(turn["speaker"], turn["text"])
    events += feeder.session.finish()
    card = next(e for e in events if isinstance(e, ScorecardEvent))
    outcome = determine_outcome(events, engine.language)
    return {"checks": {c.id: c for c in card.checks}, "outcome": outcome}


def _score(weights: dict[str, float], passed: dict[str, bool | None]) -> float | None:
    return weighted_score([(weights[k], v) for k, v in passed.items() if k in weights])


def report(engine, calls: list[dict], errors: int) -> dict:
    weights = {c.id: c.weight for c in engine.playbook.scorecard if c.id not in UNLABELLED}
    agree: dict[str, Counter] = defaultdict(Counter)
    mistakes: list[str] = []
    score_gaps: list[float] = []
    outcomes = Counter()
    outcome_confusion = Counter()
    amounts = Counter()
    for call in calls:
        got = call_report(engine, call)
        labels = call["labels"]
        for check_id, want in labels.items():
            if check_id not in weights:
                continue
            result = got["checks"].get(check_id)
            passed = None if result is None else result.passed
            tally = agree[check_id]
            if want == "na":
                tally["na"] += 1
                tally["na_failed"] += passed is False
                if passed is False:
                    mistakes.append(f"{call['id']} {check_id}: want na got fail ({result.detail})")
                continue
            tally["labelled"] += 1
            right = passed is (want == "pass")
            tally["agree"] += right
            tally[f"{want}_n"] += 1
            tally[f"{want}_right"] += right
            if not right:
                mistakes.append(f"{call['id']} {check_id}: want {want} got "
                                f"{'na' if passed is None else 'pass' if passed else 'fail'} ({result.detail if result else ''})")
        reviewer = _score(weights, {k: None if v == "na" else v == "pass" for k, v in labels.items()})
        product = _score(weights, {k: got["checks"][k].passed for k in labels if k in got["checks"]})
        if reviewer is not None and product is not None:
            score_gaps.append(abs(reviewer - product))
        want_outcome, outcome = call.get("outcome"), got["outcome"]
        if want_outcome:
            outcomes["n"] += 1
            outcomes["right"] += outcome.kind == want_outcome
            if outcome.kind != want_outcome:
                outcome_confusion[(want_outcome, outcome.kind)] += 1
                mistakes.append(f"{call['id']} outcome: want {want_outcome} got {outcome.kind} ({outcome.evidence!r})")
        if call.get("promise_amount") is not None and want_outcome in ("promise_to_pay", "payment_made"):
            amounts["n"] += 1
            amounts["right"] += outcome.amount is not None and abs(outcome.amount - float(call["promise_amount"])) < 0.01
    per_check = {
        check_id: {
            "labelled": t["labelled"],
            "agreement": _rate(t["agree"], t["labelled"]),
            "pass_recall": _rate(t["pass_right"], t["pass_n"]),
            "fail_recall": _rate(t["fail_right"], t["fail_n"]),
            "na": t["na"],
            "na_failed": t["na_failed"],
        }
        for check_id, t in sorted(agree.items())
    }
    labelled = sum(t["labelled"] for t in agree.values())
    return {
        "calls": len(calls),
        "agreement": _rate(sum(t["agree"] for t in agree.values()), labelled),
        "balanced_agreement": _mean([v for c in per_check.values() for v in (c["pass_recall"], c["fail_recall"]) if v is not None]),
        "na_failed": _rate(sum(t["na_failed"] for t in agree.values()), sum(t["na"] for t in agree.values())),
        "score_mean_abs_gap": round(sum(score_gaps) / len(score_gaps), 1) if score_gaps else None,
        "outcome_right": _rate(outcomes["right"], outcomes["n"]),
        "promise_amount_right": _rate(amounts["right"], amounts["n"]),
        "per_check": per_check,
        "outcome_confusion": [f"{a} -> {b}: {n}" for (a, b), n in outcome_confusion.most_common(10)],
        "mistakes": mistakes[:errors],
    }


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="which", choices=("dev", "test"), default="dev",
                        help="dev (default): the half to learn from; test: sealed, figures only")
    parser.add_argument("--languages", nargs="+", default=["en", "zh"])
    parser.add_argument("--errors", type=int, default=0, help="list this many mistakes per language")
    parser.add_argument("--json", type=Path, help="write the full report here")
    args = parser.parse_args()
    if args.which == "test" and args.errors:
        parser.error("the sealed half's mistakes are not listed (qaset/README.md): no --errors")
    folder = ROOT / args.which
    changed = check_frozen(folder)
    if changed:
        print(f"warning: qaset/{args.which} files changed since frozen: {', '.join(changed)}", file=sys.stderr)
    result: dict = {"set": args.which, "frozen_intact": not changed}
    for language in args.languages:
        engine = get_engine(language=language)
        calls = yaml.safe_load((folder / language / "calls.yaml").read_text())["calls"]
        result[language] = report(engine, calls, args.errors)
        print(json.dumps({language: result[language]}, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
