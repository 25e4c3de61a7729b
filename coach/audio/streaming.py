"""Streaming transcription of one audio channel: voice activity, partials and finals.

The interface follows ufal/whisper_streaming: :meth:`StreamingTranscriber.insert_audio` adds samples,
:meth:`StreamingTranscriber.process` (blocking; run it off the event loop) returns what is new, and
:meth:`StreamingTranscriber.finish` flushes the last utterance.

Silero VAD (shipped with faster-whisper) marks speech frame by frame. While someone speaks, the
growing utterance is decoded about once a second, when the speech model has nothing else to do
(finals come first); the words two successive decodes agree on are reported as stable
(LocalAgreement-2). When the speaker has been silent for ``end_silence_ms`` the
utterance is decoded once more, as a final. That final decode starts speculatively as soon as a
shorter silence is seen, so its result is usually ready the moment the silence is confirmed; when it
ends a sentence, the utterance ends right there (punctuation-aware endpointing).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

import numpy as np

from coach.audio.asr import AsrOptions, SpeechRecognizer, accept
from coach.audio.recognizer import EngineBusy
from coach.audio.segmenter import FRAME, RATE, PauseStarted, Segment, Segmenter, SegmenterOptions, SpeechDetector

#: Unprocessed audio beyond which partial decodes are skipped until the channel catches up.
BACKLOG_SKIPS_PARTIALS_MS = 300


@dataclass(frozen=True)
class StreamingOptions:
    """Tunable behaviour of the streaming transcriber (all times in milliseconds)."""

    #: Where utterances start and end (shared with recorded calls).
    segmenter: SegmenterOptions = field(default_factory=SegmenterOptions)
    #: End the utterance at the speculative decode, without waiting for the full pause, when that
    #: decode ends a sentence (Whisper punctuates finished sentences): hints arrive ~250 ms sooner,
    #: and a pause mid-sentence (no full stop yet) still waits for the full silence.
    end_on_full_stop: bool = True
    #: Audio kept before speech starts and after it ends.
    pad_ms: int = 200
    #: Interval between partial decodes while someone is speaking (0 disables partials).
    partial_interval_ms: int = 1000


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


@dataclass
class _Decodes:
    """What was decoded of the utterance in progress."""

    start: int
    next_partial_sample: int
    previous_hypothesis: list[str] = field(default_factory=list)
    speculative: tuple[int, str | None] | None = None  # (end sample, text) decoded at the pause


class StreamingTranscriber:
    """One channel (one party) of a call."""

    def __init__(self, asr: SpeechRecognizer, language: str, options: StreamingOptions = StreamingOptions(),
                 asr_options: AsrOptions = AsrOptions()) -> None:
        self.asr = asr
        self.language = language
        self.options = options
        self.asr_options = asr_options
        self._detector = SpeechDetector()
        self._segmenter = Segmenter(options.segmenter)
        #: Held while audio is added or processed: the network and the decoder run on different threads.
        self.lock = threading.Lock()
        self._audio = np.zeros(0, dtype=np.float32)  # everything since _offset
        self._offset = 0  # sample index of _audio[0]
        self._scored = 0  # samples scored by the VAD
        self._decodes: _Decodes | None = None
        #: Keep the speech of each finalised utterance (its segment, without padding), whether or not
        #: its decode gave words, for :meth:`take_speech` (a live call's language check).
        self.keep_speech = False
        self._speech: list[np.ndarray] = []

    # -- input ---------------------------------------------------------------------------------

    def insert_audio(self, samples: np.ndarray) -> None:
        self._audio = np.concatenate([self._audio, samples.astype(np.float32, copy=False)])

    def take_speech(self) -> list[np.ndarray]:
        """The speech kept (see :attr:`keep_speech`) since the last call, each utterance's samples."""
        speech, self._speech = self._speech, []
        return speech

    @property
    def received_seconds(self) -> float:
        return (self._offset + len(self._audio)) / RATE

    @property
    def processed_seconds(self) -> float:
        return self._scored / RATE

    @property
    def settled_seconds(self) -> float:
        """Time before which this channel will report no new utterance: where speech in progress
        began, or else how far the audio has been scored. The other party's utterances that start
        earlier can be analysed without waiting for this channel."""
        pending = self._segmenter.pending_start
        return (pending if pending is not None else self._scored) / RATE

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
                event = self._on_frame(self._scored + index * FRAME, float(probability))
                if event is not None:
                    out.append(event)
            self._scored += n_frames * FRAME
        decodes = self._decodes
        if decodes is not None and self.options.partial_interval_ms and not self._segmenter.in_pause and not behind:
            if self._scored >= decodes.next_partial_sample:
                try:
                    partial = self._partial(decodes)
                except EngineBusy:  # tried again with the next audio, once the engine is free
                    partial = None
                else:
                    decodes.next_partial_sample = self._scored + self._ms(self.options.partial_interval_ms)
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
        final = self._finalise(self._segmenter.flush())
        if final is not None:
            out.append(final)
        return out

    def _on_frame(self, frame_start: int, probability: float) -> Final | None:
        signal = self._segmenter.push(frame_start, probability)
        if self._decodes is None and self._segmenter.open_start is not None:
            begin = self._segmenter.open_start
            self._decodes = _Decodes(begin, begin + self._ms(self.options.partial_interval_ms))
        if isinstance(signal, PauseStarted) and self._decodes is not None:
            # Decode now, while the pause may still turn out to be the end: the final is then
            # usually ready the moment the pause is confirmed.
            text = self._decode(self._decodes.start, signal.end)
            self._decodes.speculative = (signal.end, text)
            if self.options.end_on_full_stop and ends_sentence(text):
                return self._finalise(self._segmenter.cut())
            return None
        if isinstance(signal, Segment):
            return self._finalise(signal)
        return None

    def _finalise(self, segment: Segment | None) -> Final | None:
        decodes, self._decodes = self._decodes, None
        if segment is None:
            return None
        if self.keep_speech:
            begin = max(segment.start, self._offset) - self._offset
            self._speech.append(self._audio[begin : max(begin, segment.end - self._offset)].copy())
        if decodes is not None and decodes.speculative is not None and decodes.speculative[0] == segment.end:
            text = decodes.speculative[1]
        else:
            text = self._decode(segment.start, segment.end)
        if not text:
            return None
        return Final(text, segment.start / RATE, segment.end / RATE)

    def _partial(self, decodes: _Decodes) -> Partial | None:
        """The utterance so far, decoded only when the speech model is idle (raises EngineBusy)."""
        text = self._decode(decodes.start, self._scored, pad_after=False, only_when_idle=True)
        if not text:
            return None
        words = text.split() if " " in text else list(text)
        previous = decodes.previous_hypothesis
        agreed = 0
        while agreed < min(len(words), len(previous)) and _same(words[agreed], previous[agreed]):
            agreed += 1
        decodes.previous_hypothesis = words
        joiner = " " if " " in text else ""
        return Partial(text, joiner.join(words[:agreed]), decodes.start / RATE, self._scored / RATE)

    def _decode(self, start: int, end: int, pad_after: bool = True, only_when_idle: bool = False) -> str | None:
        pad = self._ms(self.options.pad_ms)
        begin = max(self._offset, start - pad)
        stop = min(self._offset + len(self._audio), end + (pad if pad_after else 0))
        audio = self._audio[begin - self._offset : stop - self._offset]
        if len(audio) < FRAME:
            return None
        options = replace(self.asr_options, only_when_idle=True) if only_when_idle else self.asr_options
        return accept(self.asr.recognize(audio, self.language, options), self.language)

    def _trim(self) -> None:
        """Drop audio no open utterance can need (keeps memory flat on long calls)."""
        pending = self._segmenter.pending_start
        keep_from = (pending if pending is not None else self._scored) - self._ms(self.options.pad_ms)
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
