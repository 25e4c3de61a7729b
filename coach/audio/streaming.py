"""Streaming transcription of one audio channel: voice activity, partials and finals.

The interface follows ufal/whisper_streaming: :meth:`StreamingTranscriber.insert_audio` adds samples,
:meth:`StreamingTranscriber.process` (blocking; run it off the event loop) returns what is new, and
:meth:`StreamingTranscriber.finish` flushes the last utterance.

Silero VAD (shipped with faster-whisper) marks speech frame by frame. While someone speaks, the
growing utterance is decoded about once a second; the words two successive decodes agree on are
reported as stable (LocalAgreement-2). When the speaker has been silent for ``end_silence_ms`` the
utterance is decoded once more, as a final. That final decode starts speculatively as soon as a
shorter silence is seen, so its result is usually ready the moment the silence is confirmed; when it
ends a sentence, the utterance ends right there (punctuation-aware endpointing).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from coach.audio.asr import AsrOptions, WhisperASR, accept

RATE = 16_000
FRAME = 512  # Silero's frame at 16 kHz: 32 ms
#: Silence inside a starting speech run that does not restart it (Silero drops single frames).
ONSET_DROPOUT_MS = 100
#: Unprocessed audio beyond which partial decodes are skipped until the channel catches up.
BACKLOG_SKIPS_PARTIALS_MS = 300


@dataclass(frozen=True)
class StreamingOptions:
    """Tunable behaviour of the streaming transcriber (all times in milliseconds)."""

    #: Speech probability above which a frame is speech, and below which it is silence again.
    threshold: float = 0.5
    negative_threshold: float = 0.35
    #: Silence that ends an utterance.
    end_silence_ms: int = 400
    #: Silence after which the final decode starts speculatively.
    speculative_silence_ms: int = 160
    #: End the utterance at the speculative decode, without waiting for ``end_silence_ms``, when that
    #: decode ends a sentence (Whisper punctuates finished sentences): hints arrive ~250 ms sooner,
    #: and a pause mid-sentence (no full stop yet) still waits for the full silence.
    end_on_full_stop: bool = True
    #: Speech shorter than this is ignored (coughs, clicks).
    min_speech_ms: int = 250
    #: Audio kept before speech starts and after it ends.
    pad_ms: int = 200
    #: Interval between partial decodes while someone is speaking (0 disables partials).
    partial_interval_ms: int = 1000
    #: An utterance longer than this is cut and finalised (monologues, stuck VAD).
    max_utterance_ms: int = 20_000


@dataclass(frozen=True)
class Partial:
    text: str
    stable_text: str
    start: float
    end: float


@dataclass(frozen=True)
class Final:
    text: str
    start: float
    end: float


class SpeechDetector:
    """Frame-level speech probabilities from the shared Silero model.

    faster-whisper's Silero wrapper scores each 512-sample frame with a fixed 64-sample context and no
    recurrent state, so scoring new frames with the previous frame prepended gives exactly the batch
    result.
    """

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._model = get_vad_model()
        self._previous = np.zeros(FRAME, dtype=np.float32)

    def probabilities(self, frames: np.ndarray) -> np.ndarray:
        """Speech probability per 512-sample frame of ``frames`` (length a multiple of 512)."""
        if not len(frames):
            return np.zeros(0, dtype=np.float32)
        scores = self._model(np.concatenate([self._previous, frames]))
        self._previous = frames[-FRAME:].copy()
        return np.asarray(scores).reshape(-1)[1:]


@dataclass
class _Utterance:
    start_sample: int
    last_speech_sample: int
    next_partial_sample: int
    previous_hypothesis: list[str] = field(default_factory=list)
    speculative: tuple[int, str | None] | None = None  # (end sample, text) decoded at silence onset


class StreamingTranscriber:
    """One channel (one party) of a call."""

    def __init__(self, asr: WhisperASR, language: str, options: StreamingOptions = StreamingOptions(),
                 asr_options: AsrOptions = AsrOptions()) -> None:
        self.asr = asr
        self.language = language
        self.options = options
        self.asr_options = asr_options
        self._detector = SpeechDetector()
        #: Held while audio is added or processed: the network and the decoder run on different threads.
        self.lock = threading.Lock()
        self._audio = np.zeros(0, dtype=np.float32)  # everything since _offset
        self._offset = 0  # sample index of _audio[0]
        self._scored = 0  # samples scored by the VAD
        self._utterance: _Utterance | None = None
        self._silence_frames = 0
        self._speech_frames = 0
        self._onset = 0
        self._dropout = 0

    # -- input ---------------------------------------------------------------------------------

    def insert_audio(self, samples: np.ndarray) -> None:
        self._audio = np.concatenate([self._audio, samples.astype(np.float32, copy=False)])

    @property
    def received_seconds(self) -> float:
        return (self._offset + len(self._audio)) / RATE

    @property
    def processed_seconds(self) -> float:
        return self._scored / RATE

    # -- processing ----------------------------------------------------------------------------

    def process(self) -> list[Partial | Final]:
        """Run the VAD over new audio and decode what is due. Blocking."""
        out: list[Partial | Final] = []
        available = self._offset + len(self._audio) - self._scored
        # Behind real time (a busy machine): finals matter more than partials, so skip partials.
        behind = available > self._ms(BACKLOG_SKIPS_PARTIALS_MS)
        n_frames = available // FRAME
        if n_frames:
            start = self._scored - self._offset
            frames = self._audio[start : start + n_frames * FRAME]
            for index, probability in enumerate(self._detector.probabilities(frames)):
                frame_start = self._scored + index * FRAME
                event = self._on_frame(frame_start, float(probability))
                if event is not None:
                    out.append(event)
            self._scored += n_frames * FRAME
        utterance = self._utterance
        if utterance is not None and self.options.partial_interval_ms and self._silence_frames == 0 and not behind:
            if self._scored >= utterance.next_partial_sample:
                partial = self._partial(utterance)
                utterance.next_partial_sample = self._scored + self._ms(self.options.partial_interval_ms)
                if partial is not None:
                    out.append(partial)
        self._trim()
        return out

    def finish(self) -> list[Partial | Final]:
        """Flush: score the remaining audio (padded to a frame) and finalise any open utterance."""
        remainder = (self._offset + len(self._audio) - self._scored) % FRAME
        if remainder:
            self.insert_audio(np.zeros(FRAME - remainder, dtype=np.float32))
        out = [e for e in self.process() if isinstance(e, Final)]
        if self._utterance is not None:
            final = self._finalise(self._utterance, self._utterance.last_speech_sample)
            self._utterance = None
            if final is not None:
                out.append(final)
        return out

    def _on_frame(self, frame_start: int, probability: float) -> Final | None:
        options = self.options
        utterance = self._utterance
        if utterance is None:
            # Hysteresis: a dip between the two thresholds does not restart the onset, so the
            # utterance begins where the speech run began (a clipped first word derails Whisper).
            if probability >= options.threshold:
                if self._speech_frames == 0:
                    self._onset = frame_start
                self._speech_frames += 1
                self._dropout = 0
                if self._speech_frames * FRAME >= self._ms(options.min_speech_ms):
                    begin = self._onset
                    self._utterance = _Utterance(begin, frame_start + FRAME, begin + self._ms(options.partial_interval_ms))
                    self._silence_frames = 0
            elif probability < options.negative_threshold and self._speech_frames:
                self._dropout += 1
                if self._dropout * FRAME > self._ms(ONSET_DROPOUT_MS):
                    self._speech_frames = 0
            return None
        if probability >= options.negative_threshold:
            utterance.last_speech_sample = frame_start + FRAME
            if self._silence_frames:
                utterance.speculative = None  # speech resumed: the speculative decode is stale
            self._silence_frames = 0
        else:
            self._silence_frames += 1
        silence = self._silence_frames * FRAME
        sentence_ended = False
        if silence and utterance.speculative is None and silence >= self._ms(options.speculative_silence_ms):
            utterance.speculative = (utterance.last_speech_sample, self._decode(utterance, utterance.last_speech_sample))
            sentence_ended = options.end_on_full_stop and ends_sentence(utterance.speculative[1])
        too_long = frame_start + FRAME - utterance.start_sample >= self._ms(options.max_utterance_ms)
        if silence >= self._ms(options.end_silence_ms) or too_long or sentence_ended:
            end = utterance.last_speech_sample if not too_long else frame_start + FRAME
            self._utterance = None
            self._speech_frames = 0
            self._silence_frames = 0
            return self._finalise(utterance, end)
        return None

    def _finalise(self, utterance: _Utterance, end: int) -> Final | None:
        if utterance.speculative is not None and utterance.speculative[0] == end:
            text = utterance.speculative[1]
        else:
            text = self._decode(utterance, end)
        if not text:
            return None
        return Final(text, utterance.start_sample / RATE, end / RATE)

    def _partial(self, utterance: _Utterance) -> Partial | None:
        text = self._decode(utterance, self._scored, pad_after=False)
        if not text:
            return None
        words = text.split() if " " in text else list(text)
        previous = utterance.previous_hypothesis
        agreed = 0
        while agreed < min(len(words), len(previous)) and _same(words[agreed], previous[agreed]):
            agreed += 1
        utterance.previous_hypothesis = words
        joiner = " " if " " in text else ""
        return Partial(text, joiner.join(words[:agreed]), utterance.start_sample / RATE, self._scored / RATE)

    def _decode(self, utterance: _Utterance, end: int, pad_after: bool = True) -> str | None:
        pad = self._ms(self.options.pad_ms)
        begin = max(self._offset, utterance.start_sample - pad)
        stop = min(self._offset + len(self._audio), end + (pad if pad_after else 0))
        audio = self._audio[begin - self._offset : stop - self._offset]
        if len(audio) < FRAME:
            return None
        return accept(self.asr.recognize(audio, self.language, self.asr_options), self.language)

    def _trim(self) -> None:
        """Drop audio no open utterance can need (keeps memory flat on long calls)."""
        keep_from = (self._onset if self._speech_frames else self._scored) - self._ms(self.options.pad_ms)
        if self._utterance is not None:
            keep_from = min(keep_from, self._utterance.start_sample - self._ms(self.options.pad_ms))
        drop = keep_from - self._offset
        if drop > RATE:
            self._audio = self._audio[drop:]
            self._offset += drop

    @staticmethod
    def _ms(milliseconds: int) -> int:
        return int(milliseconds * RATE / 1000)


def ends_sentence(text: str | None) -> bool:
    """Whether a decode ends with a full stop, question or exclamation mark (not an ellipsis)."""
    text = (text or "").rstrip()
    return bool(text) and text[-1] in ".?!。？！" and not text.endswith("...") and not text.endswith("…")


def _same(a: str, b: str) -> bool:
    strip = ".,?!;:\"'，。？！、"
    return a.lower().strip(strip) == b.lower().strip(strip)
