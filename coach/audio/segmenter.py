"""Where speech starts and ends on one channel: the one segmenter of live and recorded calls.

Silero VAD (shipped with faster-whisper) scores each 32 ms frame; :class:`Segmenter` turns the scores
into utterances with hysteresis (a dip between the two thresholds neither starts nor ends anything),
a minimum speech length (coughs, clicks), a pause that ends an utterance and a maximum length. A live
call feeds it frame by frame as audio arrives; a recording is scored in one pass and fed the same
way (:func:`speech_segments`), so both paths cut a call at the same places and the engine sees the
same utterances.

Live calls also want to know when a pause *might* end the utterance, to decode speculatively before
the pause is confirmed: the segmenter reports that moment (:class:`PauseStarted`), and the caller may
end the utterance right there (:meth:`Segmenter.cut`) when the decode ends a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 16_000
FRAME = 512  # Silero's frame at 16 kHz: 32 ms
CONTEXT = 64  # samples of the previous frame Silero sees with each frame
#: Silence inside a starting speech run that does not restart it (Silero drops single frames).
ONSET_DROPOUT_MS = 100


@dataclass(frozen=True)
class SegmenterOptions:
    """How speech is cut into utterances (all times in milliseconds)."""

    #: Speech probability above which a frame is speech, and below which it is silence again.
    threshold: float = 0.5
    negative_threshold: float = 0.35
    #: Silence that ends an utterance.
    end_silence_ms: int = 400
    #: Silence after which a pause is reported (live calls start their final decode there).
    speculative_silence_ms: int = 160
    #: Speech shorter than this is ignored (coughs, clicks).
    min_speech_ms: int = 250
    #: An utterance longer than this is cut (monologues, stuck VAD).
    max_utterance_ms: int = 20_000


@dataclass(frozen=True)
class Segment:
    """One utterance's speech, in samples from the start of the channel."""

    start: int
    end: int


@dataclass(frozen=True)
class PauseStarted:
    """The speaker paused long enough that the utterance may end at ``end`` (a sample index)."""

    end: int


class SpeechDetector:
    """Frame-level speech probabilities from the shared Silero model, for audio that arrives in pieces.

    Silero is recurrent: each frame's score depends on the state left by the frames before it (and on
    the last 64 samples of the previous frame). faster-whisper's wrapper starts from a blank state on
    every call, so scoring a live call chunk by chunk that way gives other probabilities than scoring
    its recording at once, and the two would be cut differently. This detector carries the state from
    one chunk to the next: any chunking gives exactly the scores of the whole recording.
    """

    #: Frames per model run (bounds memory on long recordings, as faster-whisper does).
    BATCH = 10_000

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session
        self._previous = np.zeros(FRAME, dtype=np.float32)
        self._state = (np.zeros((1, 1, 128), dtype=np.float32), np.zeros((1, 1, 128), dtype=np.float32))

    def probabilities(self, frames: np.ndarray) -> np.ndarray:
        """Speech probability per 512-sample frame of ``frames`` (length a multiple of 512)."""
        if not len(frames):
            return np.zeros(0, dtype=np.float32)
        rows = frames.astype(np.float32, copy=False).reshape(-1, FRAME)
        context = np.concatenate([self._previous[None, -CONTEXT:], rows[:-1, -CONTEXT:]])
        batch = np.concatenate([context, rows], axis=1)
        scores = []
        h, c = self._state
        for first in range(0, len(batch), self.BATCH):
            out, h, c = self._session.run(None, {"input": batch[first : first + self.BATCH], "h": h, "c": c})
            scores.append(np.asarray(out).reshape(-1))
        self._state = (h, c)
        self._previous = rows[-1].copy()
        return np.concatenate(scores)


class Segmenter:
    """The speech/silence state of one channel, advanced one scored frame at a time."""

    def __init__(self, options: SegmenterOptions = SegmenterOptions()) -> None:
        self.options = options
        self._open: Segment | None = None  # the utterance in progress (end = last speech so far)
        self._silence_frames = 0
        self._speech_frames = 0
        self._onset = 0
        self._dropout = 0
        self._paused = False  # PauseStarted reported for the current pause

    @property
    def open_start(self) -> int | None:
        """Start of the utterance in progress, if any."""
        return self._open.start if self._open is not None else None

    @property
    def pending_start(self) -> int | None:
        """Where the next utterance would start: the open one's start, or a speech run not yet long
        enough to count. None when the channel is silent."""
        if self._open is not None:
            return self._open.start
        return self._onset if self._speech_frames else None

    @property
    def last_speech(self) -> int | None:
        return self._open.end if self._open is not None else None

    @property
    def in_pause(self) -> bool:
        return self._open is not None and self._silence_frames > 0

    def push(self, frame_start: int, probability: float) -> Segment | PauseStarted | None:
        """Advance by one frame: a finished utterance, a pause worth decoding at, or nothing."""
        options = self.options
        utterance = self._open
        if utterance is None:
            # Hysteresis: a dip between the two thresholds does not restart the onset, so the
            # utterance begins where the speech run began (a clipped first word derails Whisper).
            if probability >= options.threshold:
                if self._speech_frames == 0:
                    self._onset = frame_start
                self._speech_frames += 1
                self._dropout = 0
                if self._speech_frames * FRAME >= _samples(options.min_speech_ms):
                    self._open = Segment(self._onset, frame_start + FRAME)
                    self._silence_frames = 0
                    self._paused = False
            elif probability < options.negative_threshold and self._speech_frames:
                self._dropout += 1
                if self._dropout * FRAME > _samples(ONSET_DROPOUT_MS):
                    self._speech_frames = 0
            return None
        if probability >= options.negative_threshold:
            self._open = utterance = Segment(utterance.start, frame_start + FRAME)
            self._silence_frames = 0
            self._paused = False
        else:
            self._silence_frames += 1
        silence = self._silence_frames * FRAME
        too_long = frame_start + FRAME - utterance.start >= _samples(options.max_utterance_ms)
        if silence >= _samples(options.end_silence_ms) or too_long:
            return self._close(utterance.end if not too_long else frame_start + FRAME)
        if silence and not self._paused and silence >= _samples(options.speculative_silence_ms):
            self._paused = True
            return PauseStarted(utterance.end)
        return None

    def cut(self) -> Segment | None:
        """End the utterance in progress at its last speech (its pause is its end)."""
        if self._open is None:
            return None
        return self._close(self._open.end)

    def flush(self) -> Segment | None:
        """The end of the audio: the utterance in progress, if any, ends at its last speech."""
        return self.cut()

    def _close(self, end: int) -> Segment:
        assert self._open is not None
        segment = Segment(self._open.start, end)
        self._open = None
        self._speech_frames = 0
        self._silence_frames = 0
        self._paused = False
        return segment


def speech_segments(samples: np.ndarray, options: SegmenterOptions = SegmenterOptions()) -> list[Segment]:
    """Every utterance's speech in a whole channel, cut exactly as a live call of it would be."""
    padded = np.pad(samples.astype(np.float32, copy=False), (0, (-len(samples)) % FRAME))
    segmenter = Segmenter(options)
    found: list[Segment] = []
    for index, probability in enumerate(SpeechDetector().probabilities(padded)):
        signal = segmenter.push(index * FRAME, float(probability))
        if isinstance(signal, Segment):
            found.append(signal)
    last = segmenter.flush()
    if last is not None:
        found.append(last)
    return found


def _samples(milliseconds: int) -> int:
    return int(milliseconds * RATE / 1000)
