"""Speech recognition with faster-whisper, guarded against Whisper's known failure modes.

One model per (name, device, compute type) per process, shared by every call. Whisper invents text
on silence and noise, loops on repetitions, and drifts into other languages; :func:`accept` rejects
or repairs such output before it reaches the coaching engine.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coach.audio.recognizer import AsrOptions, EngineBusy, Recognition, SpeechRecognizer, register_backend
from coach.audio.segmenter import RATE
from coach.deadline import Deadline
from coach.errors import ModelUnavailableError
from coach.models import offline_environment, resolve_model_path
from coach.text.normalize import cjk_ratio, to_simplified

if TYPE_CHECKING:
    from faster_whisper.tokenizer import Tokenizer

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
#: Encoder input for one utterance on its own (live calls): a third of Whisper's window.
SHORT_CONTEXT_SECONDS = 10.0
#: Silence an utterance leaves at the end of that input at least; a longer one gets 30 s windows.
SHORT_CONTEXT_MARGIN_SECONDS = 1.0
#: Most tokens a decode may write per second of audio (speech is ~3-5 a second in English, ~5-8 in
#: Chinese): a repetition loop ends there instead of at Whisper's 448.
MAX_TOKENS_PER_SECOND = 15
#: Clips a packed decode left empty are packed again only when they hold this much audio (seconds):
#: two thirds of a window, where one window costs about what four short clips decoded alone cost.
REPACK_SECONDS = 20.0


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
        self._slots = DecodingSlots(workers)
        self._tokenizers: dict[str | None, tuple[Tokenizer, list[int]]] = {}

    @property
    def busy(self) -> bool:
        """Whether the model is decoding or has decodes waiting (work that can wait, such as a live
        call's language check, waits for it to be idle)."""
        return self._slots.busy

    def detect_language(self, audio: np.ndarray, seconds: float = WINDOW_SECONDS) -> dict[str, float]:
        """Each language's probability in ``audio`` (16 kHz mono), most likely first, as Whisper hears
        the first ``seconds`` of it: under 30, the encoder input is cut to that length (its cost falls
        with it, as for a live utterance; see :meth:`_recognize_short`). All of them, not only the top
        one: how unlikely the declared language is says as much as which one wins."""
        if not self.multilingual:
            raise ModelUnavailableError(f"speech model {self.name!r} is English-only and cannot tell languages apart")
        with self._slots.hold():
            if seconds >= WINDOW_SECONDS:
                _, _, ranked = self._model.detect_language(audio)
                return {code: float(p) for code, p in ranked}
            (ranked,) = self._model.model.detect_language(self._encode(audio, seconds))
        return {token[2:-2]: float(p) for token, p in ranked}  # "<|zh|>" -> "zh"

    def recognize(self, audio: np.ndarray, language: str, options: AsrOptions = AsrOptions()) -> Recognition:
        """Transcribe one utterance (float32 mono, 16 kHz). Blocking: call it off the event loop.

        An utterance that fits in :data:`SHORT_CONTEXT_SECONDS` less a margin is heard through a
        shorter encoder input (:meth:`_recognize_short`); a longer one goes through faster-whisper's
        own 30-second windows. With ``options.only_when_idle`` it raises :class:`EngineBusy` rather
        than wait for another decode."""
        with self._slots.hold(only_when_idle=options.only_when_idle):
            if len(audio) / RATE <= SHORT_CONTEXT_SECONDS - SHORT_CONTEXT_MARGIN_SECONDS:
                return self._recognize_short(audio, language, options)
            segments, _ = self._model.transcribe(
                audio, language=language if self.multilingual else None, beam_size=options.beam_size,
                condition_on_previous_text=False, without_timestamps=True, vad_filter=False,
                initial_prompt=options.initial_prompt, temperature=0.0,
            )
            segments = list(segments)
        return _recognition(segments)

    def _recognize_short(self, audio: np.ndarray, language: str, options: AsrOptions) -> Recognition:
        """One utterance decoded from :data:`SHORT_CONTEXT_SECONDS` of encoder input instead of 30.

        Whisper's encoder costs the same for any 30 s window however little speech it holds, and on
        a live call it is most of the wait between the end of speech and the hint: a 3 s utterance
        took ~0.6 s to decode with tiny.en on two cores, ~0.2 s with 10 s of input. CTranslate2's
        encoder takes the shorter input as it is (its positions are the first of the 30 s), and the
        decode is otherwise faster-whisper's (greedy, no timestamps, its suppressed tokens). Cut
        much shorter, to the utterance itself, Whisper loses the silence it expects after speech and
        repeats itself; at 10 s, English WER on the sample calls' utterances went from 35.9 to 37.1 %
        (docs/benchmarks.md §20). Tokens are capped by the audio's length, so a loop stays short."""
        from faster_whisper.transcribe import get_compression_ratio

        model = self._model
        tokenizer, suppressed = self._tokenizer(language)
        previous = tokenizer.encode(" " + options.initial_prompt.strip()) if options.initial_prompt else []
        prompt = model.get_prompt(tokenizer, previous, without_timestamps=True)
        encoded = self._encode(audio, SHORT_CONTEXT_SECONDS)
        budget = int(MAX_TOKENS_PER_SECOND * len(audio) / RATE) + 8
        (result,) = model.model.generate(
            encoded, [prompt], beam_size=options.beam_size, max_length=min(model.max_length, len(prompt) + budget),
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            suppress_tokens=suppressed, sampling_temperature=0.0,
        )
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = readable(tokenizer.decode(tokens))
        if not text:
            return _NOTHING
        return Recognition(text, _avg_logprob(result), float(result.no_speech_prob), float(get_compression_ratio(text)))

    def recognize_batch(self, samples: np.ndarray, clips: list[tuple[float, float]], language: str,
                        batch_size: int = 8, deadline: Deadline | None = None) -> list[Recognition]:
        """Transcribe many clips (start, end seconds) of one recording: one Recognition per clip.

        Clips are packed into 30-second windows with a one-second pause between them (far fewer
        encoder passes than one per utterance; speech spliced without pauses, or windows with the
        long silences of the other party's turns, make Whisper skip sentences), decoded in batches
        with segment timestamps, and each segment goes back to the clip it overlaps (the pauses
        between clips are where Whisper ends its segments; aligning every word instead cost an
        eighth of the decoding time). In timestamp mode Whisper sometimes ends a window early and
        drops its last clips: the clips left empty are decoded again, packed together, when they fill
        two thirds of a window (:data:`REPACK_SECONDS`); fewer are cheaper decoded one by one, and
        a window of a few short clips and much silence made Whisper base loop. A clip in a window
        where Whisper repeated one sentence over and over, or sharing a segment with another clip,
        would meet the same neighbours again when re-packed (clips keep their spoken order), so it
        is decoded on its own. A clip decoded on its own goes through :meth:`recognize`, as a live
        call decodes an utterance (a third of the encoder's cost for a short clip). Blocking;
        ``deadline`` is checked before each batch of windows and each clip decoded alone."""
        deadline = deadline or Deadline(None)
        results = [_NOTHING] * len(clips)
        pending = list(range(len(clips)))
        alone: list[int] = []
        for _ in range(2):  # the first packing, and at most one more for the clips it dropped
            if not pending:
                break
            found, empty, tangled = self._decode_packed(samples, [clips[i] for i in pending], language, batch_size,
                                                        deadline)
            for i, recognition in zip(pending, found):
                results[i] = recognition
            alone += [pending[j] for j in tangled]
            pending = [pending[j] for j in empty]
            if sum(clips[i][1] - clips[i][0] for i in pending) < REPACK_SECONDS:
                break
        alone += pending
        for i in sorted(alone):
            deadline.check("speech recognition")
            start, end = clips[i]
            results[i] = self.recognize(samples[int(start * RATE) : int(end * RATE)], language)
        return results

    def _decode_packed(self, samples: np.ndarray, clips: list[tuple[float, float]], language: str,
                       batch_size: int, deadline: Deadline) -> tuple[list[Recognition], list[int], list[int]]:
        """Each clip's recognition from packed windows, the clips that came back empty, and the clips
        tangled with others (a segment over two clips, or a window where Whisper looped)."""
        packed, windows, spans = pack_clips(samples, clips)
        segments = self._decode_batched(packed, windows, language, batch_size, deadline)
        heard: list[list] = [[] for _ in clips]
        tangled: set[int] = set()
        for segment in segments:
            overlaps = _overlapping(segment, spans)
            if len(overlaps) > 1:
                tangled.update(overlaps)  # one segment over two clips: whose words are whose is unknown
            else:
                heard[overlaps[0]].append(segment)
        window_starts = [start for start, _ in windows]
        looping = {w for w, group in enumerate(_group_by_window(segments, windows)) if _loops(group)}
        tangled.update(i for i, (start, _) in enumerate(spans) if bisect.bisect_right(window_starts, start) - 1 in looping)
        results = [_recognition(group) for group in heard]
        empty = [i for i, result in enumerate(results) if not result.text and i not in tangled]
        return results, empty, sorted(tangled)

    def _decode_batched(self, audio: np.ndarray, windows: list[tuple[float, float]], language: str,
                        batch_size: int, deadline: Deadline) -> list[WindowSegment]:
        """The segments, with timestamps, of packed ``windows`` of ``audio``.

        Each window goes through the encoder on its own and ``batch_size`` windows through the decoder
        together: on two cores a batch of eight 30 s windows encoded at once took a quarter longer per
        window than one at a time (tiny.en 0.55 against 0.44 s; its activations no longer fit the
        cache), while decoding gains from the batch. The decode is faster-whisper's batched one
        (greedy, segment timestamps, its suppressed tokens) with the same output."""
        import ctranslate2
        from faster_whisper.transcribe import get_compression_ratio

        model = self._model
        tokenizer, suppressed = self._tokenizer(language)
        prompt = model.get_prompt(tokenizer, [], without_timestamps=False)
        found: list[WindowSegment] = []
        # One batch at a time holds a decoding slot, so live calls sharing the model wait at most one
        # batch (a second or two), never a whole recording.
        for first in range(0, len(windows), batch_size):
            deadline.check("speech recognition")
            group = windows[first : first + batch_size]
            with self._slots.hold():
                encoded = [np.asarray(self._encode(audio[int(start * RATE) : int(end * RATE)], WINDOW_SECONDS))
                           for start, end in group]
                results = model.model.generate(
                    ctranslate2.StorageView.from_array(np.concatenate(encoded)), [prompt] * len(group), beam_size=1,
                    max_length=model.max_length, return_scores=True, return_no_speech_prob=True, suppress_blank=True,
                    suppress_tokens=suppressed, sampling_temperature=0.0,
                )
            for (start, end), result in zip(group, results):
                avg_logprob = _avg_logprob(result)
                pieces, _, _ = model._split_segments_by_timestamps(
                    tokenizer=tokenizer, tokens=result.sequences_ids[0], time_offset=start,
                    segment_size=int(np.ceil(end - start) * model.frames_per_second), segment_duration=end - start,
                    seek=0)
                for piece in pieces:
                    text = tokenizer.decode(piece["tokens"])
                    found.append(WindowSegment(piece["start"], piece["end"], text, avg_logprob,
                                               float(result.no_speech_prob), float(get_compression_ratio(text))))
        return found

    def _encode(self, audio: np.ndarray, seconds: float):
        """Whisper's encoder output for ``audio`` cut or padded to ``seconds`` of input (30: a full
        window; less: CTranslate2 takes the shorter input as it is, at a lower cost)."""
        from faster_whisper.audio import pad_or_trim

        model = self._model
        frames = int(seconds * model.feature_extractor.sampling_rate / model.feature_extractor.hop_length)
        features = model.feature_extractor(audio[: int(seconds * RATE)])[..., :-1]  # faster-whisper drops the last frame too
        return model.encode(pad_or_trim(features, frames))

    def _tokenizer(self, language: str) -> tuple[Tokenizer, list[int]]:
        """The tokenizer for ``language`` and the tokens faster-whisper suppresses with it: made once
        per language (building them took 1-2 ms, on every live decode)."""
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        key = language if self.multilingual else None
        if key not in self._tokenizers:
            tokenizer = Tokenizer(self._model.hf_tokenizer, self.multilingual, task="transcribe", language=key)
            self._tokenizers[key] = (tokenizer, get_suppressed_tokens(tokenizer, [-1]))
        return self._tokenizers[key]


def _avg_logprob(result) -> float:
    """faster-whisper's avg_logprob of a generated sequence: its summed log-probability (the tokens'
    and the end-of-text's) over their number."""
    length = len(result.sequences_ids[0])
    return float(result.scores[0] * length / (length + 1))


@dataclass(frozen=True)
class WindowSegment:
    """A stretch of a packed window that Whisper transcribed, in packed time (seconds); the scores
    are the window's."""
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


class DecodingSlots:
    """The model's parallel decodes (one per CTranslate2 worker), and whether any is taken or awaited.

    Knowing that is what lets a live partial step aside: other calls' partials queued in front of a
    call's final held English calls on two cores to four at p95 ≤ 1.5 s (docs/benchmarks.md §21)."""

    def __init__(self, workers: int) -> None:
        self._free = threading.Semaphore(max(1, workers))
        self._lock = threading.Lock()
        self._wanted = 0  # decodes running or waiting for a slot

    @property
    def busy(self) -> bool:
        """Whether a decode is running or waiting for a slot."""
        return self._wanted > 0

    @contextmanager
    def hold(self, only_when_idle: bool = False) -> Iterator[None]:
        with self._lock:
            if only_when_idle and self._wanted:
                raise EngineBusy("the speech model is busy")
            self._wanted += 1
        try:
            with self._free:
                yield
        finally:
            with self._lock:
                self._wanted -= 1


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


def pack_clips(samples: np.ndarray, clips: list[tuple[float, float]], rate: int = RATE,
               window: float = WINDOW_SECONDS) -> tuple[np.ndarray, list[tuple[float, float]], list[tuple[float, float]]]:
    """The clips laid out in windows of at most ``window`` seconds with short pauses between them:
    (packed audio, each window's span in packed time, each clip's span in packed time).

    Each clip, in spoken order, goes into the first window with room for it, so windows come out
    nearly full (every window is one encoder pass, however little it holds) and each keeps its
    clips in the order they were said."""
    gap = int(PACKING_GAP_SECONDS * rate)
    limit = int(window * rate)
    pieces = [samples[int(start * rate) : int(end * rate)][: limit - gap] for start, end in clips]
    members: list[list[int]] = []
    fill: list[int] = []
    for index, piece in enumerate(pieces):
        size = len(piece) + gap
        room = next((w for w, used in enumerate(fill) if used + size <= limit), None)
        if room is None:
            members.append([])
            fill.append(0)
            room = len(members) - 1
        members[room].append(index)
        fill[room] += size
    silence = np.zeros(gap, np.float32)
    laid: list[np.ndarray] = []
    windows: list[tuple[float, float]] = []
    spans: list[tuple[float, float]] = [(0.0, 0.0)] * len(clips)
    position = 0
    for indices in members:
        window_start = position
        for index in indices:
            spans[index] = (position / rate, (position + len(pieces[index])) / rate)
            laid += [pieces[index], silence]
            position += len(pieces[index]) + gap
        windows.append((window_start / rate, position / rate))
    return (np.concatenate(laid) if laid else np.zeros(0, np.float32)), windows, spans


#: A segment overlapping more than one clip by this much (seconds) holds words of both.
STRADDLE_SECONDS = 0.2


def _overlapping(segment, spans: list[tuple[float, float]]) -> list[int]:
    """The clips (indices into ``spans``) that ``segment`` overlaps by more than STRADDLE_SECONDS, or
    else the one it overlaps most, or else (a segment in a pause) the nearest one."""
    overlap = [(min(segment.end, end) - max(segment.start, start), i) for i, (start, end) in enumerate(spans)]
    clear = [i for amount, i in overlap if amount > STRADDLE_SECONDS]
    return clear or [max(overlap)[1]]


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


def readable(text: str) -> str:
    """The decoded text without U+FFFD: tokens that stop inside a multi-byte character (Whisper's
    byte-level vocabulary, mostly in Chinese) decode to it. The character is lost either way; the
    sign itself must not reach a transcript, or a classifier that reads it as a word."""
    return text.replace("\ufffd", "").strip()


#: What a clip with no words comes back as.
_NOTHING = Recognition("", 0.0, 1.0, 0.0)


def _recognition(segments: list) -> Recognition:
    if not segments:
        return _NOTHING
    text = readable("".join(s.text for s in segments))
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


#: Chinese text: a character with what follows it up to the next (punctuation, spaces, Latin words).
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CJK_UNITS = re.compile(r"[\u4e00-\u9fff][^\u4e00-\u9fff]*|[^\u4e00-\u9fff]+")
_NOT_WORD = re.compile(r"[^\w\u4e00-\u9fff]+")


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
    """Cut Whisper's repetition loops ("i cant i cant i cant i cant ...", "饰, 饰, 饰,饰,饰,...") down
    to ``max_repeats``. Units are words, or Chinese characters with what follows them (a loop of
    Chinese comes with commas and spaces, which hid "饰,饰,饰" in one whitespace-separated unit); two
    units are the same when they differ only in punctuation, spaces and case."""
    if _CJK.search(text):
        units, joiner = _CJK_UNITS.findall(text), ""
    else:
        units, joiner = text.split(), " "
    keys = [_NOT_WORD.sub("", unit.lower()) for unit in units]
    for size in range(1, min(8, len(units) // (max_repeats + 1)) + 1):
        kept: list[str] = []
        kept_keys: list[str] = []
        i = 0
        while i < len(units):
            chunk = keys[i : i + size]
            repeats = 1
            while keys[i + repeats * size : i + (repeats + 1) * size] == chunk:
                repeats += 1
            if repeats > max_repeats and any(chunk):
                # the first copies, then the run's last one, which ends with what follows the loop ("嘞嘞嘞," -> "嘞嘞,")
                end = i + repeats * size
                span = list(range(i, i + (max_repeats - 1) * size)) + list(range(end - size, end))
                kept += [units[j] for j in span]
                kept_keys += [keys[j] for j in span]
                i = end
            else:
                kept.append(units[i])
                kept_keys.append(keys[i])
                i += 1
        units, keys = kept, kept_keys
    return joiner.join(units).strip()