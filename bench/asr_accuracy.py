"""Speech recognition accuracy and speed of `coach review` on the bundled recordings, per language and
line quality (16 kHz FLAC as synthesised, 8 kHz G.711 mu-law as a phone line delivers it).

    python bench/asr_accuracy.py                     # every examples/audio recording with a transcript
    python bench/asr_accuracy.py --files examples/audio/zh-violations.flac

Each recording is reviewed as a user runs it (a fresh `coach review --format json --no-store`
process, default models: tiny.en for English, Whisper base for Chinese) and its transcript is aligned
with the text that was synthesised: English by words, Chinese by characters (Han characters only).
Reported: the share of the reference found in order (a lower bound of 1 - error rate: substitutions
and deletions count, insertions do not), the full error rate (Levenshtein distance over the reference
length: WER for English, CER for Chinese), and the review's wall time against the audio's duration.
The audio is espeak-ng speech, far cleaner and flatter than a real call: these are not figures for
real calls.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import REPO, machine, write_result


def units(text: str, language: str) -> list[str]:
    if language == "zh":
        return re.findall(r"[\u4e00-\u9fff]", text)
    return re.sub(r"[^a-z' ]", " ", text.lower().replace("'", "")).split()


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp))
        previous = current
    return previous[-1]


def found_in_order(reference: list[str], hypothesis: list[str]) -> float:
    from difflib import SequenceMatcher

    matcher = SequenceMatcher(None, reference, hypothesis, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / max(1, len(reference))


def duration(path: Path) -> float:
    out = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def measure(path: Path) -> dict:
    stem = path.name.split(".")[0]
    reference_call = json.loads((path.parent / f"{stem}.json").read_text(encoding="utf-8"))
    language = reference_call.get("language", "en")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "coach.cli", "review", str(path), "--language", language, "--no-store",
                             "--format", "json"], capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        return {"file": str(path.relative_to(REPO)), "error": result.stderr.strip()[-500:]}
    reviewed = json.loads(result.stdout)
    call = reviewed["call"] if isinstance(reviewed, dict) else reviewed[0]["call"]
    hypothesis = units(" ".join(u["text"] for u in call["utterances"]), language)
    reference = units(" ".join(u["text"] for u in reference_call["utterances"]), language)
    seconds = duration(path)
    return {
        "file": str(path.relative_to(REPO)), "language": language, "audio_s": round(seconds, 1),
        "reference_units": len(reference), "found_in_order": round(found_in_order(reference, hypothesis), 3),
        "error_rate": round(edit_distance(reference, hypothesis) / max(1, len(reference)), 3),
        "utterances": f"{len(call['utterances'])} of {len(reference_call['utterances'])}",
        "review_wall_s": round(wall, 1), "x_real_time": round(seconds / wall, 1),
        "warnings": [w.get("code") for w in call.get("warnings") or []],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", nargs="+", type=Path, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    files = args.files or sorted(p for p in (REPO / "examples" / "audio").iterdir()
                                 if p.suffix in (".flac", ".wav") and (p.parent / f"{p.name.split('.')[0]}.json").exists())
    rows = []
    for path in files:
        row = measure(path.resolve())
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    write_result("asr_accuracy", {"machine": machine(), "rows": rows}, started)


if __name__ == "__main__":
    main()
