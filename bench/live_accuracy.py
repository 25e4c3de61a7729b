"""Speech recognition accuracy and decoding time of the live path on the bundled recordings.

    python bench/live_accuracy.py                                  # every sample, both languages
    python bench/live_accuracy.py --files examples/audio/zh-violations.flac
    python bench/live_accuracy.py --encoder-seconds 30             # A/B: the utterance in a 30 s window

Each channel of a recording goes through the live transcriber (`StreamingTranscriber`: the shared
segmenter, speculative decode at the pause, each utterance decoded on its own) half a second of audio
at a time, as fast as the machine allows, with the default speech model of the call's language. The
finals of both channels, in spoken order, are aligned with the synthesised text as in
`bench/asr_accuracy.py` (WER for English, CER for Chinese). `--encoder-seconds` sets the encoder
input of one utterance (`coach.audio.asr.SHORT_CONTEXT_SECONDS`; 0 sends every utterance through
faster-whisper's own 30 s windows, as before session 13). The audio is espeak-ng speech: these are
not figures for real calls.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import REPO, machine, write_result
from asr_accuracy import edit_distance, units

CHUNK = 8_000  # half a second at 16 kHz


def transcribe_live(path: Path, language: str) -> tuple[list[tuple[float, str]], float]:
    """(start, text) of every final of both channels in spoken order, and the seconds it took."""
    from coach.audio.files import load_audio
    from coach.audio.streaming import Final, StreamingTranscriber
    from coach.config import get_settings
    from coach.live import load_speech_model

    asr = load_speech_model(language, get_settings())
    audio = load_audio(path)
    finals: list[tuple[float, str]] = []
    started = time.perf_counter()
    for channel in audio:
        transcriber = StreamingTranscriber(asr, language)
        for offset in range(0, len(channel), CHUNK):
            transcriber.insert_audio(channel[offset : offset + CHUNK])
            finals += [(f.start, f.text) for f in transcriber.process() if isinstance(f, Final)]
        finals += [(f.start, f.text) for f in transcriber.finish()]
    return sorted(finals), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", nargs="+", type=Path,
                        default=sorted((REPO / "examples" / "audio").glob("*.flac")))
    parser.add_argument("--encoder-seconds", type=float, default=None,
                        help="encoder input of one utterance (default: the product's; 0: 30 s windows)")
    parser.add_argument("--tag", default=None, help="write bench/results/live_accuracy.TAG.json instead")
    args = parser.parse_args()
    import coach.audio.asr as asr

    if args.encoder_seconds is not None:
        asr.SHORT_CONTEXT_SECONDS = args.encoder_seconds
    began = time.perf_counter()
    rows = []
    warm: set[str] = set()
    for path in args.files:
        reference = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        language = reference["language"]
        if language not in warm:  # the first recording of a language once unmeasured: models loaded
            transcribe_live(path, language)
            warm.add(language)
        finals, seconds = transcribe_live(path, language)
        expected = units(" ".join(u["text"] for u in reference["utterances"]), language)
        heard = units(" ".join(text for _, text in finals), language)
        error = edit_distance(expected, heard) / max(1, len(expected))
        rows.append({"file": path.name, "language": language, "error_rate": round(error, 4),
                     "decode_s": round(seconds, 2), "finals": len(finals)})
        print(f"{path.name:28s} {'CER' if language == 'zh' else 'WER'} {error:6.1%}  "
              f"{seconds:6.1f} s  {len(finals)} finals", flush=True)
    summary = {}
    for language in sorted({r["language"] for r in rows}):
        mine = [r for r in rows if r["language"] == language]
        summary[language] = {"mean_error_rate": round(sum(r["error_rate"] for r in mine) / len(mine), 4),
                             "decode_s": round(sum(r["decode_s"] for r in mine), 1)}
        print(f"{language}: mean {'CER' if language == 'zh' else 'WER'} {summary[language]['mean_error_rate']:.1%}, "
              f"decoding {summary[language]['decode_s']} s")
    write_result("live_accuracy", {"machine": machine(), "encoder_seconds": asr.SHORT_CONTEXT_SECONDS,
                                   "files": rows, "summary": summary}, began, args.tag)


if __name__ == "__main__":
    main()
