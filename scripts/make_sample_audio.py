"""Synthesise two-channel (agent left, debtor right) call recordings from transcripts with espeak-ng.

    python scripts/make_sample_audio.py            # every sample (English and Chinese) + the short test call
    python scripts/make_sample_audio.py examples/zh-hardship.json

Chinese is read by espeak-ng's Mandarin voice, which takes tone-numbered pinyin only: the text is
converted with pypinyin (Style.TONE3; in the dev extras). Only its female variant f3 comes out of Whisper base close to
the text (the male voices and f1/f2/f4/f5 are garbled or silent), so the two parties differ by pitch.
One call per language is also written as a phone line delivers it: 8 kHz G.711 mu-law, two channels
(``<name>.8k-ulaw.wav``).

Each utterance is spoken with its party's voice and placed on its own channel; the timeline is laid
out from the synthesised durations (short gaps, an occasional overlap where the transcript has one),
and the timed transcript is written next to the audio, so tests know what was said and when. Output:
16 kHz 16-bit stereo FLAC (tiny.en on espeak-ng speech loses words at 8 kHz; the server also takes 8 kHz and mu-law).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "examples" / "audio"
RATE = 16_000
#: (voice, words a minute, pitch 0-99) per language and party.
VOICES = {
    "en": {"agent": ("en-us", 160, 50), "debtor": ("en-us+f3", 150, 50), "third_party": ("en-us+m7", 150, 50)},
    "zh": {"agent": ("cmn-latn-pinyin+f3", 150, 35), "debtor": ("cmn-latn-pinyin+f3", 150, 60),
           "third_party": ("cmn-latn-pinyin+f3", 140, 80)},
}
#: The calls also written at 8 kHz G.711 mu-law.
TELEPHONE = ("en-short-call", "zh-violations")
GAP = 0.6

SHORT_CALL = {
    "call_id": "en-short-call",
    "language": "en",
    "metadata": {"local_time": "14:10", "calls_last_7d": 1, "balance": 1243.5, "first_contact": True},
    "utterances": [
        {"speaker": "agent", "text": "hello this is sam calling from crestline recovery services may i speak with dana reyes"},
        {"speaker": "debtor", "text": "yes this is dana"},
        {"speaker": "agent", "text": "thank you dana this is an attempt to collect a debt and any information obtained will be used for that purpose"},
        {"speaker": "debtor", "text": "look i lost my job last month and i cannot pay anything right now"},
        {"speaker": "agent", "text": "if you do not pay today you will go to jail"},
        {"speaker": "debtor", "text": "stop calling me i do not want any more calls from you people"},
        {"speaker": "agent", "text": "so how much can you pay today"},
        {"speaker": "debtor", "text": "i am going to talk to my lawyer about this"},
        {"speaker": "agent", "text": "ok i understand thank you goodbye"},
    ],
}


def pinyin(text: str) -> str:
    """Chinese as tone-numbered pinyin (5 for the neutral tone), what espeak-ng's Mandarin voice reads."""
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(text.replace(" ", "，"), style=Style.TONE3, neutral_tone_with_five=True))


def speak(text: str, speaker: str, language: str = "en") -> np.ndarray:
    voices = VOICES["zh" if language == "zh" else "en"]
    voice, speed, pitch = voices.get(speaker, voices["debtor"])
    if language == "zh":
        text = pinyin(text)
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                         capture_output=True, check=True).stdout
    raw = subprocess.run(["sox", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1", "-"],
                         input=wav, capture_output=True, check=True).stdout
    audio = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    nonzero = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[nonzero[0] : nonzero[-1] + 1] if len(nonzero) else audio


def synthesise(call: dict, name: str) -> Path:
    channels = {"agent": 0}
    clips, timeline, clock = [], [], 1.0
    original = call["utterances"]
    for index, utterance in enumerate(original):
        audio = speak(utterance["text"], utterance["speaker"], call.get("language", "en"))
        start = clock
        if index and "start" in utterance and utterance["start"] < original[index - 1].get("end", 0):
            start = max(1.0, clock - GAP - 0.8)  # the transcript has the speaker talking over the other
        clips.append((utterance["speaker"], start, audio))
        end = start + len(audio) / RATE
        timeline.append({"speaker": utterance["speaker"], "text": utterance["text"], "start": round(start, 2), "end": round(end, 2)})
        clock = max(clock, end) + GAP
    total = int((clock + 1.0) * RATE)
    stereo = np.zeros((total, 2), dtype=np.float32)
    for speaker, start, audio in clips:
        channel = channels.get(speaker, 1)
        offset = int(start * RATE)
        stereo[offset : offset + len(audio), channel] += audio
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "call.raw"
        (np.clip(stereo, -1, 1) * 32767).astype("<i2").tofile(raw)
        target = OUT / f"{name}.flac"
        subprocess.run(["sox", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "2", str(raw),
                        "-r", str(RATE), str(target)], check=True)
        if name in TELEPHONE:
            subprocess.run(["sox", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "2", str(raw),
                            "-r", "8000", "-e", "u-law", "-b", "8", str(OUT / f"{name}.8k-ulaw.wav")], check=True)
    transcript = {key: value for key, value in call.items() if key != "utterances"}
    transcript.update(call_id=name, utterances=timeline)
    (OUT / f"{name}.json").write_text(json.dumps(transcript, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return target


def main(paths: list[str]) -> None:
    if not paths:
        print(synthesise(SHORT_CALL, "en-short-call"))
        paths = [str(p) for p in sorted((ROOT / "examples").glob("*.json"))]
    for path in paths:
        call = json.loads(Path(path).read_text(encoding="utf-8"))
        print(synthesise(call, Path(path).stem))


if __name__ == "__main__":
    main(sys.argv[1:])
