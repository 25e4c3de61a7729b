"""The engine's judgement on the frozen development set (devset/): phrasings nobody tuned it on.

    python bench/devset.py                      # both languages, summary + per intent / rule
    python bench/devset.py --languages zh --errors 30 --json out.json
    python bench/devset.py --set devset2        # a second development set (devset2/README.md)
    python bench/devset.py --set devset3        # a third (devset3/README.md)
    python bench/devset.py --set devset4        # a fourth (devset4/README.md)
    python bench/devset.py --set devset5        # a fifth (devset5/README.md)
    python bench/devset.py --set devset6        # a sixth (devset6/README.md)
    python bench/devset.py --set devset7        # a seventh, as speech recognition writes (devset7/README.md)
    python bench/devset.py --set devset8        # an eighth, turns lifted out of calls in progress (devset8/README.md)
    python bench/devset.py --set devset9        # a ninth, rapport and chit-chat around the business (devset9/README.md)
    python bench/devset.py --set devset10       # a tenth, firm lawful lines and feelings under the surface (devset10/README.md)
    python bench/devset.py --set holdout        # the sealed set (holdout/README.md): figures only

Debtor turns: the top hint (first intent event) against the label, the share of turns without an
objection that raise a hint anyway, emotion recall per label. Collector lines: each rule caught (the
rule itself, and any rule), an S1 raised on a compliant line. Call excerpts: third-party disclosure
after the right party was verified, and pressing on after stop calling / lawyer / bankruptcy / dispute.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "devset"
sys.path.insert(0, str(ROOT))

from coach.engine import get_engine
from coach.transcript import Utterance

#: A canonical verification exchange, fed before lines the set marks as said after verification.
VERIFY = {
    "en": [("agent", "hi this is sam with crestline am i speaking with jordan lee"), ("debtor", "yes this is jordan")],
    "zh": [("agent", "您好 我是招商银行信用卡中心的 请问是张伟先生本人吗"), ("debtor", "对 是我")],
}
THREAT_ABUSE = {"US-THREAT", "US-ABUSE", "CN-ABUSE", "CN-MISLEAD"}


def check_frozen(folder: Path = DEVSET) -> list[str]:
    """Files whose SHA-256 differs from the set's FROZEN list."""
    changed = []
    for line in (folder / "FROZEN").read_text().splitlines():
        digest, name = line.split()
        if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
            changed.append(name)
    return changed


class Feeder:
    """Feeds (speaker, text) turns 2.5 s apart through one session; returns the events per turn."""

    def __init__(self, engine, call_id: str, metadata: dict | None = None) -> None:
        self.session = engine.session(call_id, metadata=metadata or {})
        self.session.start()
        self.clock = 0.0

    def say(self, speaker: str, text: str) -> list:
        duration = max(1.0, len(text) / 12)
        events = self.session.process(Utterance(speaker=speaker, text=text, start=self.clock, end=self.clock + duration))
        self.clock += duration + 0.5
        return events


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def debtor_report(engine, items: list[dict], errors: int) -> dict:
    top_right = Counter()
    per_intent = Counter()
    predicted_count = Counter()
    confusion = Counter()
    false_hints = 0
    none_total = 0
    emotion_hits = Counter()
    emotion_total = Counter()
    emotion_confusion = Counter()
    also_hits = also_total = 0
    mistakes = []
    latencies = []
    for n, item in enumerate(items):
        feeder = Feeder(engine, f"dev-d{n}")
        if item.get("after"):
            feeder.say("agent", item["after"])
        began = time.perf_counter()
        events = feeder.say("debtor", item["text"])
        latencies.append(time.perf_counter() - began)
        intents = [e.intent for e in events if e.type == "intent"]
        top = intents[0] if intents else "none"
        want = item["intent"]
        predicted_count[top] += 1
        if want == "none":
            none_total += 1
            if intents:
                false_hints += 1
                confusion[("none", top)] += 1
                mistakes.append((want, top, item["text"]))
        else:
            per_intent[want] += 1
            if top == want:
                top_right[want] += 1
            else:
                confusion[(want, top)] += 1
                mistakes.append((want, top, item["text"]))
        for extra in item.get("also") or []:
            also_total += 1
            also_hits += extra in intents
        if item.get("emotion"):
            label = next((e.label for e in events if e.type == "sentiment"), "none")
            emotion_total[item["emotion"]] += 1
            emotion_hits[item["emotion"]] += label == item["emotion"]
            if label != item["emotion"]:
                emotion_confusion[(item["emotion"], label)] += 1
    objections = sum(per_intent.values())
    recalls = {e: _rate(emotion_hits[e], emotion_total[e]) for e in sorted(emotion_total)}
    latencies.sort()
    return {
        "turns": len(items),
        "top_hint_right": _rate(sum(top_right.values()), objections),
        "false_hint_rate": _rate(false_hints, none_total),
        "also_found": _rate(also_hits, also_total),
        "per_intent": {
            i: {"n": per_intent[i], "recall": _rate(top_right[i], per_intent[i]),
                "precision": _rate(top_right[i], predicted_count[i])}
            for i in sorted(per_intent)
        },
        "confusion": [f"{a} -> {b}: {c}" for (a, b), c in confusion.most_common(15)],
        "emotion_macro_recall": round(sum(v for v in recalls.values() if v is not None) / max(1, len(recalls)), 4),
        "emotion_recall": recalls,
        "emotion_confusion": [f"{a} -> {b}: {c}" for (a, b), c in emotion_confusion.most_common(10)],
        "latency_ms_p50_p95": [round(latencies[len(latencies) // 2] * 1000, 1),
                               round(latencies[int(len(latencies) * 0.95)] * 1000, 1)],
        "mistakes": [f"{w} -> {p}: {t}" for w, p, t in mistakes[:errors]],
    }


def _line_findings(events: list, uid: int) -> list:
    return [e for e in events if e.type == "compliance" and e.utterance_id == uid and e.method != "deadline"]


def agent_report(engine, language: str, items: list[dict], errors: int) -> dict:
    caught = Counter()
    caught_any = Counter()
    totals = Counter()
    compliant = s1_false = any_false = 0
    false_rules = Counter()
    mistakes = []
    for n, item in enumerate(items):
        metadata = dict(item.get("metadata") or {})
        if item.get("time_barred"):
            metadata["time_barred"] = True
        feeder = Feeder(engine, f"dev-a{n}", metadata)
        if item.get("verified", True):
            for speaker, text in VERIFY[language]:
                feeder.say(speaker, text)
        events = feeder.say("agent", item["text"])
        uid = events[0].utterance_id
        found = _line_findings(events, uid)
        rules = {e.rule_id for e in found}
        want = item["rule"]
        if want == "none":
            compliant += 1
            if any(e.severity == "S1" for e in found):
                s1_false += 1
            if found:
                any_false += 1
                false_rules.update(rules)
                mistakes.append(f"none -> {sorted(rules)}: {item['text']}")
        else:
            totals[want] += 1
            caught[want] += want in rules
            caught_any[want] += bool(rules)
            if want not in rules:
                mistakes.append(f"{want} -> {sorted(rules) or 'nothing'}: {item['text']}")
    group = [r for r in totals if r in THREAT_ABUSE]
    return {
        "lines": len(items),
        "violations_caught": _rate(sum(caught.values()), sum(totals.values())),
        "violations_caught_any_rule": _rate(sum(caught_any.values()), sum(totals.values())),
        "threat_abuse_caught": _rate(sum(caught[r] for r in group), sum(totals[r] for r in group)),
        "s1_on_compliant_line": _rate(s1_false, compliant),
        "any_rule_on_compliant_line": _rate(any_false, compliant),
        "per_rule": {r: {"n": totals[r], "caught": _rate(caught[r], totals[r]), "any": _rate(caught_any[r], totals[r])}
                     for r in sorted(totals)},
        "false_alarm_rules": dict(false_rules.most_common()),
        "mistakes": mistakes[:errors],
    }


def calls_report(engine, calls: list[dict], errors: int) -> dict:
    stats: dict[str, Counter] = defaultdict(Counter)
    mistakes = []
    duties = {r.id for r in engine.playbook.rules if r.kind == "duty"}
    for call in calls:
        feeder = Feeder(engine, f"dev-c-{call['id']}", call.get("metadata"))
        kind = call.get("kind", "other")
        if kind == "pressing":
            # cut from the middle of a call with the right party (writers open with the balance), as a
            # single collector line is: what is measured is the pressing, not a disclosure before any check
            for speaker, text in VERIFY[engine.language]:
                feeder.say(speaker, text)
        for turn in call["turns"]:
            events = feeder.say(turn["speaker"], turn["text"])
            if "expect" not in turn or turn["speaker"] != "agent":
                continue
            uid = events[0].utterance_id
            fired = {e.rule_id for e in _line_findings(events, uid)}
            want = set(turn["expect"] or [])
            if want:
                stats[kind]["violations"] += 1
                stats[kind]["caught"] += want <= fired
                # the set's writers knew only domain.md's rules: a request to stop that the playbook
                # answers with a rule of its own (CN-CEASE) is still pressing caught
                stats[kind]["caught_as_duty"] += bool(want & duties and fired & duties)
            else:
                stats[kind]["clean"] += 1
                stats[kind]["false_alarm"] += bool(fired)
            if (want and not want <= fired) or (not want and fired):
                mistakes.append(f"{call['id']}: want {sorted(want)} got {sorted(fired)}: {turn['text']}")
    return {
        kind: {"caught": _rate(s["caught"], s["violations"]), "violations": s["violations"],
               "false_alarm_on_clean_turns": _rate(s["false_alarm"], s["clean"]), "clean": s["clean"]}
        | ({"caught_by_a_duty_rule": _rate(s["caught_as_duty"], s["violations"])} if kind == "pressing" else {})
        for kind, s in stats.items()
    } | {"mistakes": mistakes[:errors]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="which", choices=("devset", "devset2", "devset3", "devset4", "devset5", "devset6", "devset7", "devset8", "devset9", "devset10", "holdout"),
                        default="devset",
                        help="devset (default); devset2 to devset10: development sets written in sessions 23-25, 47, 48, 53, 57, 60 and 62 "
                             "(their README.md); holdout: the sealed set, whose mistakes are never listed")
    parser.add_argument("--languages", nargs="+", default=["en", "zh"])
    parser.add_argument("--parts", nargs="+", default=["debtor", "agent", "calls"])
    parser.add_argument("--errors", type=int, default=0, help="list this many mistakes per part")
    parser.add_argument("--json", type=Path, help="write the full report here")
    args = parser.parse_args()
    root = ROOT / args.which
    if args.which == "holdout" and args.errors:
        parser.error("the held-out set's mistakes are not listed (holdout/README.md): no --errors")
    changed = check_frozen(root)
    if changed:
        print(f"warning: {args.which} files changed since frozen: {', '.join(changed)}", file=sys.stderr)
    report: dict = {"set": args.which, "frozen_intact": not changed}
    for language in args.languages:
        began = time.perf_counter()
        engine = get_engine(language=language)
        entry: dict = {"engine_start_s": round(time.perf_counter() - began, 1), "method": engine.space.method}
        folder = root / language
        if "debtor" in args.parts:
            entry["debtor"] = debtor_report(engine, yaml.safe_load((folder / "debtor.yaml").read_text())["items"], args.errors)
        if "agent" in args.parts:
            entry["agent"] = agent_report(engine, language, yaml.safe_load((folder / "agent.yaml").read_text())["items"],
                                          args.errors)
        if "calls" in args.parts:
            entry["calls"] = calls_report(engine, yaml.safe_load((folder / "calls.yaml").read_text())["calls"], args.errors)
        report[language] = entry
        print(json.dumps({language: entry}, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
