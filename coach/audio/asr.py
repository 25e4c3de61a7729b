"""Speech recognition with faster-whisper, guarded against Whisper's known failure modes.

One model per (name, device, compute type) per process, shared by every call. Whisper invents text
on silence and noise, loops on repetitions, and drifts into other languages; :func:`accept` rejects
or repairs such output before it reaches the coaching engine.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from coach.errors import ModelUnavailableError
from coach.models import offline_environment, resolve_model_path
from coach.text.normalize import cjk_ratio

#: Phrases Whisper produces from silence or noise (subtitle credits from its training data).
HALLUCINATIONS = (
    "thank you", "thanks for watching", "thank you for watching", "please subscribe", "bye", "you",
    "字幕", "请不吝点赞", "订阅", "谢谢观看", "明镜与点点栏目", "優優獨播劇場",
)
NO_SPEECH_THRESHOLD = 0.6
LOGPROB_THRESHOLD = -1.0
COMPRESSION_THRESHOLD = 2.4


@dataclass(frozen=True)
class Recognition:
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


@dataclass(frozen=True)
class AsrOptions:
    """Decoding options; greedy decoding keeps the end-of-speech latency low on CPUs."""

    beam_size: int = 1
    #: Biases decoding towards the call's vocabulary (agency names, "balance", ...).
    initial_prompt: str | None = None


class WhisperASR:
    def __init__(self, name: str, *, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0,
                 workers: int = 1, allow_downloads: bool = False) -> None:
        from faster_whisper import WhisperModel

        offline_environment(allow_downloads)
        path = resolve_model_path(name, allow_downloads=allow_downloads, kind="speech model")
        try:
            self._model = WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads,
                                       num_workers=workers, local_files_only=not allow_downloads)
        except Exception as exc:
            raise ModelUnavailableError(f"cannot load speech model {name!r} from {path}: {exc}") from None
        self.name = name
        self.multilingual = bool(self._model.model.is_multilingual)
        self._slots = threading.Semaphore(max(1, workers))

    def recognize(self, audio: np.ndarray, language: str, options: AsrOptions = AsrOptions()) -> Recognition:
        """Transcribe one utterance (float32 mono, 16 kHz). Blocking: call it off the event loop."""
        with self._slots:
            segments, _ = self._model.transcribe(
                audio, language=language if self.multilingual else None, beam_size=options.beam_size,
                condition_on_previous_text=False, without_timestamps=True, vad_filter=False,
                initial_prompt=options.initial_prompt, temperature=0.0,
            )
            segments = list(segments)
        if not segments:
            return Recognition("", 0.0, 1.0, 0.0)
        text = "".join(s.text for s in segments).strip()
        weights = [max(1, len(s.text)) for s in segments]
        return Recognition(
            text=text,
            avg_logprob=float(np.average([s.avg_logprob for s in segments], weights=weights)),
            no_speech_prob=float(max(s.no_speech_prob for s in segments)),
            compression_ratio=float(max(s.compression_ratio for s in segments)),
        )


@lru_cache(maxsize=4)
def load_asr(name: str, *, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0, workers: int = 1,
             allow_downloads: bool = False) -> WhisperASR:
    return WhisperASR(name, device=device, compute_type=compute_type, cpu_threads=cpu_threads, workers=workers,
                      allow_downloads=allow_downloads)


def accept(result: Recognition, language: str) -> str | None:
    """The text to keep, or None when the recognition is most likely not speech of this call."""
    text = collapse_repetitions(result.text.strip())
    if not text:
        return None
    if result.no_speech_prob > NO_SPEECH_THRESHOLD and result.avg_logprob < LOGPROB_THRESHOLD:
        return None
    bare = re.sub(r"[^\w\u4e00-\u9fff]+", " ", text.lower()).strip()
    if bare in HALLUCINATIONS and (result.avg_logprob < -0.5 or result.no_speech_prob > 0.3):
        return None
    letters = [c for c in text if c.isalpha()]
    if letters:
        chinese = cjk_ratio("".join(letters))
        if (language == "zh" and chinese < 0.3) or (language == "en" and chinese > 0.3):
            return None  # drifted into another language
    return text


def collapse_repetitions(text: str, max_repeats: int = 2) -> str:
    """Cut Whisper's repetition loops ("i cant i cant i cant i cant ...") down to ``max_repeats``."""
    if " " in text:
        units = text.split()
        joiner = " "
    else:
        units = list(text)
        joiner = ""
    for size in range(1, min(8, len(units) // (max_repeats + 1)) + 1):
        out: list[str] = []
        i = 0
        while i < len(units):
            chunk = units[i : i + size]
            repeats = 1
            while units[i + repeats * size : i + (repeats + 1) * size] == chunk:
                repeats += 1
            keep = min(repeats, max_repeats) if repeats > max_repeats else repeats
            if repeats > max_repeats:
                out.extend(chunk * keep)
                i += repeats * size
            else:
                out.append(units[i])
                i += 1
        units = out
    return joiner.join(units)
