"""Turning a recorded call into utterances: cut by the live calls' segmenter, decoded in batches.

A two-channel recording has one party per channel (the usual call-centre format), so each channel's
speech belongs to that channel's role. A mono recording is cut at shorter pauses (turns change
quickly) and its parties are told apart afterwards (:mod:`coach.review.speakers`). Utterances are
found by the same :class:`~coach.audio.segmenter.Segmenter` as in a live call (with the same pause
that ends an utterance), so a call reviewed from its recording and the same call streamed live give
the engine the same utterances.
"""

from __future__ import annotations

import inspect
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from coach.audio.asr import accept
from coach.audio.files import RATE
from coach.audio.recognizer import SpeechRecognizer
from coach.audio.segmenter import SegmenterOptions, speech_segments
from coach.deadline import Deadline
from coach.transcript import Utterance

#: Mono recordings hold both parties on one track; a shorter pause keeps their turns apart.
MONO_PAUSE_MS = 300
#: Audio decoded before and after each stretch of speech, as live calls do.
PAD_SECONDS = 0.2
#: Finds speech in a recording's channels side by side (shared by every review in the process).
_CHANNELS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="review-channel")


@dataclass(frozen=True)
class Clip:
    """One stretch of speech on one channel, and what was said in it."""

    channel: int
    start: float
    end: float
    text: str


def speech_clips(samples: np.ndarray, pause_ms: int) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in one channel."""
    return [(s.start / RATE, s.end / RATE) for s in speech_segments(samples, SegmenterOptions(end_silence_ms=pause_ms))]


def channel_speech(audio: np.ndarray, pause_ms: int = SegmenterOptions.end_silence_ms) -> list[list[tuple[float, float]]]:
    """Each channel's stretches of speech (seconds); ``pause_ms`` ends an utterance on a two-channel
    recording (a live call's pause, COACH_END_SILENCE_MS), a mono one is cut at shorter pauses."""
    pause = pause_ms if audio.shape[0] > 1 else MONO_PAUSE_MS
    # Silero runs on one thread per call: the two channels side by side take half the time.
    return list(_CHANNELS.map(lambda samples: speech_clips(samples, pause), audio))


def transcribe_channels(audio: np.ndarray, asr: SpeechRecognizer, language: str, *, batch_size: int = 8,
                        speech: list[list[tuple[float, float]]] | None = None,
                        deadline: Deadline | None = None) -> list[Clip]:
    """Every channel's speech (found here unless ``speech`` gives it), transcribed and guarded against
    Whisper's failure modes, in spoken order (by start time across channels).

    The channels are laid end to end and decoded as one: their clips share the speech model's
    windows and batches (each channel decoded on its own left two part-filled windows a call)."""
    speech = speech or channel_speech(audio)
    duration = audio.shape[1] / RATE
    placed = [(channel, start, end) for channel, clips in enumerate(speech) for start, end in clips]
    padded = [(channel * duration + max(0.0, start - PAD_SECONDS), channel * duration + min(duration, end + PAD_SECONDS))
              for channel, start, end in placed]
    # a speech engine registered before deadlines existed decodes the recording whole, checked after
    limited = {"deadline": deadline} if deadline is not None and _takes_deadline(asr) else {}
    recognitions = asr.recognize_batch(audio.reshape(-1), padded, language, batch_size, **limited)
    if deadline is not None:
        deadline.check("speech recognition")
    found = []
    for (channel, start, end), recognition in zip(placed, recognitions):
        text = accept(recognition, language)
        if text:
            found.append(Clip(channel, round(start, 3), round(end, 3), text))
    return sorted(found, key=lambda c: (c.start, c.channel))


def _takes_deadline(asr: SpeechRecognizer) -> bool:
    try:
        return "deadline" in inspect.signature(asr.recognize_batch).parameters
    except (TypeError, ValueError):
        return False


def utterances_from_channels(clips: list[Clip], roles: tuple[str, ...]) -> list[Utterance]:
    return [Utterance(speaker=roles[c.channel], text=c.text, start=c.start, end=c.end) for c in clips]
