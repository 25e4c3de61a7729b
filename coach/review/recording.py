"""Turning a recorded call into utterances: speech found by Silero VAD, decoded in batches.

A two-channel recording has one party per channel (the usual call-centre format), so each channel's
speech belongs to that channel's role. A mono recording is cut at shorter pauses (turns change
quickly) and its parties are told apart afterwards (:mod:`coach.review.speakers`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.audio.asr import WhisperASR, accept
from coach.audio.files import RATE
from coach.transcript import Utterance

#: Pause (ms) that ends an utterance: a little longer than live calls use, since nobody is waiting.
STEREO_PAUSE_MS = 500
#: Mono recordings hold both parties on one track; a shorter pause keeps their turns apart.
MONO_PAUSE_MS = 300
MAX_UTTERANCE_S = 20.0


@dataclass(frozen=True)
class Clip:
    """One stretch of speech on one channel, and what was said in it."""

    channel: int
    start: float
    end: float
    text: str


def speech_clips(samples: np.ndarray, pause_ms: int) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in one channel."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=pause_ms, speech_pad_ms=150, max_speech_duration_s=MAX_UTTERANCE_S,
                         min_speech_duration_ms=200)
    return [(s["start"] / RATE, s["end"] / RATE) for s in get_speech_timestamps(samples, options)]


def channel_speech(audio: np.ndarray) -> list[list[tuple[float, float]]]:
    """Each channel's stretches of speech (seconds)."""
    pause = STEREO_PAUSE_MS if audio.shape[0] > 1 else MONO_PAUSE_MS
    return [speech_clips(samples, pause) for samples in audio]


def transcribe_channels(audio: np.ndarray, asr: WhisperASR, language: str, *, batch_size: int = 8,
                        speech: list[list[tuple[float, float]]] | None = None) -> list[Clip]:
    """Every channel's speech (found here unless ``speech`` gives it), transcribed and guarded against
    Whisper's failure modes, in time order."""
    found: list[Clip] = []
    for channel, (samples, clips) in enumerate(zip(audio, speech or channel_speech(audio))):
        for (start, end), recognition in zip(clips, asr.recognize_recording(samples, clips, language, batch_size)):
            text = accept(recognition, language)
            if text:
                found.append(Clip(channel, round(start, 3), round(end, 3), text))
    return sorted(found, key=lambda c: (c.start, c.channel))


def utterances_from_channels(clips: list[Clip], roles: tuple[str, ...]) -> list[Utterance]:
    return [Utterance(speaker=roles[c.channel], text=c.text, start=c.start, end=c.end) for c in clips]
