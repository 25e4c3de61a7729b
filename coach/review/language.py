"""Which language a recording is spoken in.

A Chinese call reviewed as English comes back as fluent English nonsense, and the reverse as Chinese
nonsense: nothing in the transcript itself says it is wrong. Whisper's language identification on the
longest stretches of speech says it, so a review in the wrong language carries a ``language_mismatch``
warning, and ``--language auto`` reviews each recording in the language it is spoken in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coach.audio.files import RATE
from coach.config import Settings
from coach.transcript import LANGUAGE_NAMES

#: Languages the product reviews (a playbook and a speech model each).
SUPPORTED = ("en", "zh")
#: Probability above which a language other than the declared one counts as a mismatch, ...
MISMATCH_PROBABILITY = 0.8
#: ... or above which it does when the declared language is heard at most at
#: :data:`DECLARED_UNLIKELY`: the synthesised Mandarin call heard as Chinese at 0.79 scores English
#: 0.06, while the bundled English calls score English 0.80-0.94.
LIKELY_PROBABILITY = 0.5
DECLARED_UNLIKELY = 0.1
#: Speech listened to (Whisper identifies a language from one 30 s window).
SAMPLE_SECONDS = 30
#: A first listen to this much speech, with Whisper's encoder input cut to it (a third of the full
#: check's cost: Whisper base 0.4-0.5 s against 1.2-1.4 s on two cores), ...
QUICK_SAMPLE_SECONDS = 15
#: ... answers when it hears a language at least this surely; else the full 30 s decide. On the
#: bundled calls the quick listen heard English at 0.77-0.98 (three of four above this) and the
#: synthesised Mandarin at 0.53-0.70, which the full listen hears at 0.79-0.94.
QUICK_PROBABILITY = 0.85
#: Less speech than this is not enough to tell.
MIN_SPEECH_SECONDS = 1.0


@dataclass(frozen=True)
class SpokenLanguage:
    code: str
    probability: float
    #: Every language's probability, as heard (empty: only the top one is known).
    probabilities: dict[str, float] = field(default_factory=dict, compare=False)

    @classmethod
    def heard(cls, probabilities: dict[str, float]) -> SpokenLanguage:
        code = max(probabilities, key=probabilities.__getitem__)
        return cls(code, round(probabilities[code], 3), probabilities)

    @property
    def name(self) -> str:
        return LANGUAGE_NAMES.get(self.code, self.code)

    @property
    def described(self) -> str:
        """What was heard, in the words every ``language_mismatch`` message opens with."""
        return f"the speech sounds like {self.name} ({self.probability:.0%})"

    @property
    def settled(self) -> bool:
        """Heard surely enough by a quick listen that the full one is not needed."""
        return self.probability >= QUICK_PROBABILITY

    @property
    def sure(self) -> bool:
        """Heard clearly enough to review the recording in it when no language was asked for."""
        return self.code in SUPPORTED and self.probability >= LIKELY_PROBABILITY

    def contradicts(self, declared: str) -> bool:
        """Whether the speech is surely not in the ``declared`` language: another one heard at
        :data:`MISMATCH_PROBABILITY`, or heard likely while the declared one is very unlikely."""
        if self.code == declared:
            return False
        declared_probability = self.probabilities.get(declared, 1.0 if not self.probabilities else 0.0)
        return self.probability >= MISMATCH_PROBABILITY or (
            self.probability >= LIKELY_PROBABILITY and declared_probability <= DECLARED_UNLIKELY)


def speech_sample(audio: np.ndarray, speech: list[list[tuple[float, float]]]) -> np.ndarray:
    """Up to :data:`SAMPLE_SECONDS` of the recording's longest stretches of speech, any channel."""
    stretches = [audio[channel, int(start * RATE):int(end * RATE)]
                 for channel, clips in enumerate(speech) for start, end in clips]
    stretches.sort(key=len, reverse=True)
    sample = np.concatenate(stretches) if stretches else np.zeros(0, dtype=np.float32)
    return sample[: SAMPLE_SECONDS * RATE]


def spoken_language(audio: np.ndarray, speech: list[list[tuple[float, float]]], settings: Settings) -> SpokenLanguage | None:
    """The language of the speech, or None when it is not checked (no model configured) or there is
    too little speech to tell. A quick listen to the first 15 s of the sample settles most calls;
    an unsure one is heard again in full. (A live call listens the same way, as its speech comes:
    :class:`coach.live.LanguageCheck`.)"""
    if not settings.language_id_model:
        return None
    sample = speech_sample(audio, speech)
    if len(sample) < MIN_SPEECH_SECONDS * RATE:
        return None
    from coach.live import speech_model_named

    model = speech_model_named(settings.language_id_model, settings)
    heard = listen(model, sample, quick=True)
    return heard if heard.settled else listen(model, sample, quick=False)


def listen(model: Any, sample: np.ndarray, *, quick: bool) -> SpokenLanguage:
    """What ``model`` (a language-identification model: ``detect_language``) hears in ``sample``: quick, its first
    :data:`QUICK_SAMPLE_SECONDS` with Whisper's encoder input cut to them, or in full (its first
    :data:`SAMPLE_SECONDS`). Blocking."""
    sample = sample[: SAMPLE_SECONDS * RATE]
    if quick:
        return SpokenLanguage.heard(model.detect_language(sample, QUICK_SAMPLE_SECONDS))
    return SpokenLanguage.heard(model.detect_language(sample))


#: A recording whose speech is identified this much more surely when played at half speed was
#: sampled at half the rate its header declares (8 kHz telephone audio labelled 16 kHz).
HALF_SPEED_GAIN = 0.25
HALF_SPEED_PROBABILITY = 0.6


def half_speed_language(audio: np.ndarray, speech: list[list[tuple[float, float]]], heard: SpokenLanguage | None,
                        settings: Settings) -> SpokenLanguage | None:
    """The language heard when the recording is played at half speed, when that is clearly speech and
    the recording as declared is not: its samples are 8 kHz audio labelled 16 kHz (it plays twice as
    fast, and Whisper hears babble). None when the recording sounds right, or cannot be checked.

    Only checked when the half-speed recording could still win by :data:`HALF_SPEED_GAIN`: speech
    heard as declared with more than 1 - HALF_SPEED_GAIN (a recording at the right rate usually
    scores 0.75 or more) costs no second listen."""
    if heard is None or heard.probability > 1 - HALF_SPEED_GAIN:
        return None
    from scipy.signal import resample_poly

    from coach.live import speech_model_named

    sample = speech_sample(audio, speech)
    slowed = resample_poly(sample, 2, 1).astype(np.float32)[: SAMPLE_SECONDS * RATE]
    slow = SpokenLanguage.heard(speech_model_named(settings.language_id_model, settings).detect_language(slowed))
    if slow.probability >= HALF_SPEED_PROBABILITY and slow.probability >= heard.probability + HALF_SPEED_GAIN:
        return slow
    return None


def at_double_rate(audio: np.ndarray) -> np.ndarray:
    """Samples taken at 8 kHz, as 16 kHz audio."""
    from scipy.signal import resample_poly

    return resample_poly(audio, 2, 1, axis=1).astype(np.float32)
