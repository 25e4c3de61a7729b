"""The bundled sample calls (``examples/audio/*.flac``), and playing one as a demo call.

Whether a call is a demo is the server's decision, never the client's: a demo call is hidden from the
call lists, posts no alert to the webhook and is deleted by ``coach calls purge-demo``, so a client
that could mark its own call as one could hide a real call. A client asks for a sample by its name
(``"sample": "en-short-call"`` in the start message, a name from ``GET /v1/samples``; never a path),
and the server feeds the call its own copy of that sample: the frames the client sends only set the
pace (each frame is replaced by as many bytes of the sample), so what is transcribed, analysed and
stored is the bundled sample, whatever the client sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from coach.audio.files import load_audio
from coach.audio.formats import TARGET_RATE, AudioFormat, encode_mulaw
from coach.errors import InputError
from coach.resources import data_dir


@dataclass(frozen=True)
class Sample:
    """One bundled sample call: its audio file and its timed transcript (language, metadata)."""

    name: str
    path: Path
    transcript: dict[str, Any] = field(hash=False, compare=False)

    @property
    def language(self) -> str:
        return str(self.transcript.get("language", "en"))


@cache
def bundled() -> dict[str, Sample]:
    """The samples by name (the audio file's stem), read once: the fixed list a client chooses from."""
    folder = data_dir("examples") / "audio"
    samples = {}
    for path in sorted(folder.glob("*.flac")):
        transcript = path.with_suffix(".json")
        meta = json.loads(transcript.read_text(encoding="utf-8")) if transcript.is_file() else {}
        samples[path.stem] = Sample(path.stem, path, meta)
    return samples


def sample_named(name: str) -> Sample:
    """The sample called ``name``; an InputError listing the names for any other. The name is only
    compared with the list, never joined to a path."""
    samples = bundled()
    if name in samples:
        return samples[name]
    if "/" in name or "\\" in name:  # not quoted: the error handler would cut the folders out of what was sent
        raise InputError(f"a sample is named, never a path; the samples: {', '.join(samples)}")
    shown = name if len(name) <= 60 else name[:57] + "..."
    raise InputError(f"no bundled sample named {shown!r}; the samples: {', '.join(samples)}")


class SamplePlayback:
    """A sample fed to a live call in the call's wire format, as fast as the client's frames come."""

    def __init__(self, sample: Sample, audio: AudioFormat, wire: bytes) -> None:
        self.sample = sample
        self.audio = audio
        self._wire = wire
        self._position = 0

    @classmethod
    def open(cls, name: str, audio: AudioFormat, language: str) -> SamplePlayback:
        """The playback of sample ``name`` for a call that declared ``audio`` and ``language``; an
        InputError when the sample is not one or does not fit what the call declared (blocking: the
        first play of a sample decodes it)."""
        sample = sample_named(name)
        if sample.language != language:
            raise InputError(f"sample {name!r} is a {sample.language!r} call; send \"language\": \"{sample.language}\"")
        channels, wire = _wire_audio(sample.name, audio.encoding, audio.sample_rate)
        if audio.channels != channels:
            raise InputError(f"sample {name!r} has {channels} channel(s); send \"channels\": {channels}")
        return cls(sample, audio, wire)

    def take(self, frame: bytes) -> bytes:
        """The sample's next ``len(frame)`` bytes in place of the client's ``frame`` (fewer at the
        end, none once the sample is over). Raises InputError for a frame that is not a whole number
        of samples, like any frame, without moving on."""
        self.audio.check(frame)
        chunk = self._wire[self._position : self._position + len(frame)]
        self._position += len(chunk)
        return chunk


def _wire_audio(name: str, encoding: str, sample_rate: int) -> tuple[int, bytes]:
    """Sample ``name``'s channel count, and its audio as a client would send it: ``encoding`` at
    ``sample_rate``, channels interleaved (converted for each play: a few hundred ms at most, off the
    event loop; only the decoded samples are kept)."""
    samples = _decoded(name)  # float32 (channels, samples) at 16 kHz
    if sample_rate != TARGET_RATE:
        from scipy.signal import resample_poly

        samples = resample_poly(samples, sample_rate, TARGET_RATE, axis=1)
    interleaved = np.clip(samples.T.reshape(-1), -1.0, 1.0)
    wire = encode_mulaw(interleaved) if encoding == "mulaw" else (interleaved * 32767).astype("<i2").tobytes()
    return int(samples.shape[0]), wire


@lru_cache(maxsize=16)
def _decoded(name: str) -> np.ndarray:
    """A bundled sample decoded once (the console plays the same few again and again); one entry per
    sample, whatever formats it is played in."""
    return load_audio(bundled()[name].path)
