"""Which language a recording is spoken in.

A Chinese call reviewed as English comes back as fluent English nonsense, and the reverse as Chinese
nonsense: nothing in the transcript itself says it is wrong. Whisper's language identification on the
longest stretches of speech says it, so a review in the wrong language carries a ``language_mismatch``
warning, and ``--language auto`` reviews each recording in the language it is spoken in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.audio.files import RATE
from coach.config import Settings

#: Languages the product reviews (a playbook and a speech model each).
SUPPORTED = ("en", "zh")
#: Probability above which a language other than the declared one counts as a mismatch.
MISMATCH_PROBABILITY = 0.8
#: Speech listened to (Whisper identifies a language from one 30 s window).
SAMPLE_SECONDS = 30
#: Less speech than this is not enough to tell.
MIN_SPEECH_SECONDS = 1.0
NAMES = {"en": "English", "zh": "Chinese"}


@dataclass(frozen=True)
class SpokenLanguage:
    code: str
    probability: float

    @property
    def name(self) -> str:
        return NAMES.get(self.code, self.code)


def speech_sample(audio: np.ndarray, speech: list[list[tuple[float, float]]]) -> np.ndarray:
    """Up to :data:`SAMPLE_SECONDS` of the recording's longest stretches of speech, any channel."""
    stretches = [audio[channel, int(start * RATE):int(end * RATE)]
                 for channel, clips in enumerate(speech) for start, end in clips]
    stretches.sort(key=len, reverse=True)
    sample = np.concatenate(stretches) if stretches else np.zeros(0, dtype=np.float32)
    return sample[: SAMPLE_SECONDS * RATE]


def spoken_language(audio: np.ndarray, speech: list[list[tuple[float, float]]], settings: Settings) -> SpokenLanguage | None:
    """The language of the speech, or None when it is not checked (no model configured) or there is
    too little speech to tell."""
    if not settings.language_id_model:
        return None
    sample = speech_sample(audio, speech)
    if len(sample) < MIN_SPEECH_SECONDS * RATE:
        return None
    from coach.live import speech_model_named

    code, probability = speech_model_named(settings.language_id_model, settings).detect_language(sample)
    return SpokenLanguage(code, round(probability, 3))
