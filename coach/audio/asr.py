"""Speech recognition with faster-whisper, guarded against Whisper's known failure modes.

One model per (name, device, compute type) per process, shared by every call. Whisper invents text
on silence and noise, loops on repetitions, and drifts into other languages; :func:`accept` rejects
or repairs such output before it reaches the coaching engine.
"""

from __future__ import annotations

import bisect
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coach.audio.recognizer import AsrOptions, Recognition, SpeechRecognizer, register_backend
from coach.errors import ModelUnavailableError
from coach.models import offline_environment, resolve_model_path
from coach.text.normalize import cjk_ratio, to_simplified

if TYPE_CHECKING:
    from faster_whisper import BatchedInferencePipeline

#: Phrases Whisper produces from silence or noise (subtitle credits from its training data).
HALLUCINATIONS = (
    "thank you", "thanks for watching", "thank you for watching", "please subscribe", "bye", "you",
    "字幕", "请不吝点赞", "订阅", "谢谢观看", "明镜与点点栏目", "優優獨播劇場",
)
NO_SPEECH_THRESHOLD = 0.6
LOGPROB_THRESHOLD = -1.0
COMPRESSION_THRESHOLD = 2.4
#: Whisper's input window: recorded calls are decoded this much at a time.
WINDOW_SECONDS = 30.0


__all__ = ["AsrOptions", "Recognition", "SpeechRecognizer", "WhisperASR", "accept", "load_asr"]


class WhisperASR:
    """Whisper through faster-whisper (CTranslate2): the built-in :class:`SpeechRecognizer`."""

    def __init__(self, name: str, *, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0,
                 workers: int = 1, allow_downloads: bool = False, cache_dir: Path | None = None) -> None:
        from faster_whisper import WhisperModel

        offline_environment(allow_downloads)
        path = resolve_model_path(name, allow_downloads=allow_downloads, kind="speech model", cache_dir=cache_dir)
        try:
            self._model = WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads,
                                       num_workers=workers, local_files_only=not allow_downloads)
        except Exception as exc:
            raise ModelUnavailableError(f"cannot load speech model {name!r} from {path}: {exc}") from None
        self._model.feature_extractor = _steady_features(self._model.feature_extractor)
        self.name = name
        self.multilingual = bool(self._model.model.is_multilingual)
        self._slots = threading.Semaphore(max(1, workers))
        self._batched: BatchedInferencePipeline | None = None  # made on first use by recorded calls

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The language Whisper hears in ``audio`` (16 kHz mono, up to 30 s used) and its probability."""
        if not self.multilingual:
            raise ModelUnavailableError(f"speech model {self.name!r} is English-only and cannot tell languages apart")
        with self._slots:
            language, probability, _ = self._model.detect_language(audio)
        return language, float(probability)

    def recognize(self, audio: np.ndarray, language: str, options: AsrOptions = AsrOptions()) -> Recognition:
        """Transcribe one utterance (float32 mono, 16 kHz). Blocking: call it off the event loop."""
        with self._slots:
            segments, _ = self._model.transcribe(
                audio, language=language if self.multilingual else None, beam_size=options.beam_size,
                condition_on_previous_text=False, without_timestamps=True, vad_filter=False,
                initial_prompt=options.initial_prompt, temperature=0.0,
            )
            segments = list(segments)
        return _recognition(segments)

    def recognize_batch(self, samples: np.ndarray, clips: list[tuple[float, float]], language: str,
                            batch_size: int = 8) -> list[Recognition]:
        """Transcribe a whole channel of a recorded call: one Recognition per clip (start, end seconds).

        Clips are packed into 30-second windows with a one-second pause between them (far fewer
        encoder passes than one per utterance; speech spliced without pauses, or windows with the
        long silences of the other party's turns, make Whisper skip sentences). Windows are decoded in
        batches and each word goes back to the clip it was spoken in. A clip left without words
        (Whisper dropped it), or in a window where Whisper repeated one sentence over and over, is
        decoded again on its own. Blocking."""
        if not clips:
            return []
        packed, windows, spans = pack_clips(samples, clips)
        words: list[list[tuple[str, float]]] = [[] for _ in clips]
        stats: list[list] = [[] for _ in clips]
        segments = self._decode_batched(packed, windows, language, batch_size, word_timestamps=True)
        looping = {w for w, group in enumerate(_group_by_window(segments, windows)) if _loops(group)}
        window_starts = [start for start, _ in windows]
        for segment in segments:
            for word in segment.words or []:
                index = _nearest_span((word.start + word.end) / 2, spans)
                words[index].append((word.word, float(word.probability)))
                if not stats[index] or stats[index][-1] is not segment:
                    stats[index].append(segment)
        results = [_from_words(w, st) for w, st in zip(words, stats)]
        # A clip Whisper dropped, or one in a window where it fell into a loop (one clip's words
        # repeated over the next clips' audio), is decoded again on its own.
        missing = [i for i, result in enumerate(results)
                   if not result.text or bisect.bisect_right(window_starts, spans[i][0]) - 1 in looping]
        if missing:
            again = self._decode_batched(samples, [clips[i] for i in missing], language, batch_size, word_timestamps=False)
            for i, found in zip(missing, _group_by_window(again, [clips[i] for i in missing])):
                results[i] = _recognition(found)
        return results

    def _decode_batched(self, audio: np.ndarray, windows: list[tuple[float, float]], language: str, batch_size: int,
                        *, word_timestamps: bool) -> list:
        from faster_whisper import BatchedInferencePipeline

        if self._batched is None:
            self._batched = BatchedInferencePipeline(self._model)
        found: list = []
        # One batch at a time holds a decoding slot, so live calls sharing the model wait at most one
        # batch (a second or two), never a whole recording.
        for first in range(0, len(windows), batch_size):
            group = windows[first : first + batch_size]
            with self._slots:
                segments, _ = self._batched.transcribe(
                    audio, language=language if self.multilingual else None, batch_size=batch_size, beam_size=1,
                    word_timestamps=word_timestamps, without_timestamps=not word_timestamps, vad_filter=False,
                    clip_timestamps=[{"start": start, "end": end} for start, end in group], temperature=0.0,
                    condition_on_previous_text=False,
                )
                found += list(segments)
        return found


def _steady_features(extractor):
    """``extractor`` computing its mel filter bank product in float64: in float32 the product's
    rounding depends on how many threads OpenBLAS splits it over, and the last bit of one feature can
    change a greedy decode (a Ray worker, held to one thread, heard "press-line recovery" where the
    same recording reviewed in one process gave "Kressine Recovery"). Transcripts then do not depend
    on the machine's core count or the process's thread settings."""
    from faster_whisper.feature_extractor import FeatureExtractor

    class SteadyFeatureExtractor(FeatureExtractor):
        def __call__(self, waveform: np.ndarray, padding: int = 160, chunk_length: int | None = None) -> np.ndarray:
            return super().__call__(waveform, padding, chunk_length).astype(np.float32)

    extractor.__class__ = SteadyFeatureExtractor
    extractor.mel_filters = extractor.mel_filters.astype(np.float64)
    return extractor


#: Pause put between packed clips, so Whisper hears where one utterance ends.
PACKING_GAP_SECONDS = 1.0


def pack_clips(samples: np.ndarray, clips: list[tuple[float, float]], rate: int = 16_000,
               window: float = WINDOW_SECONDS) -> tuple[np.ndarray, list[tuple[float, float]], list[tuple[float, float]]]:
    """The clips laid end to end with short pauses: (packed audio, windows of at most ``window``
    seconds in packed time, each clip's span in packed time)."""
    gap = np.zeros(int(PACKING_GAP_SECONDS * rate), np.float32)
    pieces: list[np.ndarray] = []
    windows: list[tuple[float, float]] = []
    spans: list[tuple[float, float]] = []
    position = window_start = 0
    for start, end in clips:
        piece = samples[int(start * rate) : int(end * rate)][: int(window * rate) - len(gap)]
        if position > window_start and position + len(piece) + len(gap) - window_start > window * rate:
            windows.append((window_start / rate, position / rate))
            window_start = position
        spans.append((position / rate, (position + len(piece)) / rate))
        pieces += [piece, gap]
        position += len(piece) + len(gap)
    windows.append((window_start / rate, position / rate))
    return np.concatenate(pieces), windows, spans


def _nearest_span(time: float, spans: list[tuple[float, float]]) -> int:
    index = max(0, bisect.bisect_right([s for s, _ in spans], time) - 1)
    candidates = [i for i in (index, index + 1) if i < len(spans)]
    return min(candidates, key=lambda i: 0.0 if spans[i][0] <= time <= spans[i][1] else min(abs(time - spans[i][0]), abs(time - spans[i][1])))


def _loops(segments: list) -> bool:
    """Whisper fell into a loop in this window: one text is at least half of three or more segments."""
    texts = [re.sub(r"[^\w]+", " ", s.text.lower()).strip() for s in segments]
    texts = [t for t in texts if t]
    if len(texts) < 3:
        return False
    return max(texts.count(t) for t in set(texts)) >= max(3, len(texts) / 2)


def _group_by_window(segments: list, windows: list[tuple[float, float]]) -> list[list]:
    grouped: list[list] = [[] for _ in windows]
    starts = [start for start, _ in windows]
    for segment in segments:
        grouped[max(0, bisect.bisect_right(starts, (segment.start + segment.end) / 2 + 1e-3) - 1)].append(segment)
    return grouped


def _from_words(words: list[tuple[str, float]], segments: list) -> Recognition:
    if not words:
        return Recognition("", 0.0, 1.0, 0.0)
    text = "".join(w for w, _ in words).strip()
    return Recognition(
        text=text,
        avg_logprob=float(np.mean([np.log(max(p, 1e-6)) for _, p in words])),
        no_speech_prob=float(max(s.no_speech_prob for s in segments)),
        compression_ratio=float(max(s.compression_ratio for s in segments)),
    )


def _recognition(segments: list) -> Recognition:
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
             allow_downloads: bool = False, cache_dir: Path | None = None) -> WhisperASR:
    """The shared Whisper model ``name`` (one per process and settings)."""
    return WhisperASR(name, device=device, compute_type=compute_type, cpu_threads=cpu_threads, workers=workers,
                      allow_downloads=allow_downloads, cache_dir=cache_dir)


register_backend("whisper", load_asr)


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
    return to_simplified(text) if language == "zh" else text


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
