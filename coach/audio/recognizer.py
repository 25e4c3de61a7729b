"""The speech-recognition seam: what the pipeline asks of a speech engine, and where engines are found.

Live calls decode one utterance at a time (:meth:`SpeechRecognizer.recognize`), recordings many at
once (:meth:`SpeechRecognizer.recognize_batch`); both paths only ever use this protocol. Whisper (via
faster-whisper) is the built-in engine; another one (a streaming Mandarin model, a cloud-free
vendor engine) is added by registering a loader under a name, and selected in the configuration as
``name:model`` (for example ``COACH_ASR_MODEL_ZH=paraformer:/models/paraformer-zh``). A model name
without a registered prefix is a Whisper model, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from coach.deadline import Deadline


@dataclass(frozen=True)
class Recognition:
    """What an engine heard in one stretch of audio, with the scores used to reject noise."""

    text: str
    #: Mean log-probability of the text's tokens (0 is certain).
    avg_logprob: float
    #: Probability that the audio holds no speech at all.
    no_speech_prob: float
    #: gzip compression ratio of the text: repetition loops compress well.
    compression_ratio: float


@dataclass(frozen=True)
class AsrOptions:
    """Decoding options; greedy decoding keeps the end-of-speech latency low on CPUs."""

    beam_size: int = 1
    #: Biases decoding towards the call's vocabulary (agency names, "balance", ...).
    initial_prompt: str | None = None
    #: A decode worth doing only when the engine has nothing else to do (a live partial, superseded a
    #: second later): an engine that is decoding or has decodes waiting raises :class:`EngineBusy`
    #: instead of queueing it, so the finals that hints wait for are not held up behind it. An
    #: engine that cannot tell may decode anyway.
    only_when_idle: bool = False


class EngineBusy(RuntimeError):
    """An ``only_when_idle`` decode was refused: the engine is busy."""


@runtime_checkable
class SpeechRecognizer(Protocol):
    """A loaded speech engine, shared by every call in the process (thread-safe)."""

    name: str
    #: Whether it transcribes other languages than English.
    multilingual: bool

    def recognize(self, audio: np.ndarray, language: str, options: AsrOptions = AsrOptions()) -> Recognition:
        """One utterance (float32 mono, 16 kHz). Blocking."""
        ...

    def recognize_batch(self, samples: np.ndarray, clips: list[tuple[float, float]], language: str,
                        batch_size: int = 8, deadline: Deadline | None = None) -> list[Recognition]:
        """Many utterances of one recording (its channels laid end to end): one Recognition per (start,
        end) clip, in seconds. Blocking; ``deadline`` is checked between batches (a recording's review
        has a wall-clock limit, COACH_REVIEW_TIMEOUT_SECONDS)."""
        ...


#: What loads an engine: (model name or path, device, compute type, CPU threads, workers, allow
#: downloads, cache folder) -> a recognizer.
Loader = Callable[..., SpeechRecognizer]

_BACKENDS: dict[str, Loader] = {}
#: The engine of a model name with no ``backend:`` prefix.
DEFAULT_BACKEND = "whisper"


def register_backend(name: str, loader: Loader) -> None:
    """Make ``name:model`` in the configuration load ``model`` with ``loader`` (keyword arguments:
    device, compute_type, cpu_threads, workers, allow_downloads, cache_dir)."""
    if not name.isidentifier():
        raise ValueError(f"backend name {name!r} must be a plain identifier")
    _BACKENDS[name] = loader


def backends() -> list[str]:
    _register_builtin()
    return sorted(_BACKENDS)


def _register_builtin() -> None:
    if DEFAULT_BACKEND not in _BACKENDS:
        import coach.audio.asr  # noqa: F401  (registers Whisper; imported late: it loads faster-whisper)


def split_backend(spec: str) -> tuple[str, str]:
    """(backend, model) of a configured speech model: ``whisper:tiny.en`` -> (whisper, tiny.en); a
    name without a registered prefix (``tiny.en``, a hub name, a path) is Whisper's."""
    _register_builtin()
    prefix, separator, model = spec.partition(":")
    if separator and prefix in _BACKENDS:
        return prefix, model
    return DEFAULT_BACKEND, spec


def load_recognizer(spec: str, *, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0,
                    workers: int = 1, allow_downloads: bool = False, cache_dir: Path | None = None) -> SpeechRecognizer:
    """The engine a configured name asks for (loaders cache their models: one per process)."""
    backend, model = split_backend(spec)
    return _BACKENDS[backend](model, device=device, compute_type=compute_type, cpu_threads=cpu_threads, workers=workers,
                  allow_downloads=allow_downloads, cache_dir=cache_dir)
