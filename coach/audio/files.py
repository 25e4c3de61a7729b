"""Reading recorded calls from audio files (wav, flac, mp3, ogg, m4a... anything FFmpeg decodes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coach.errors import InputError

RATE = 16_000


def load_audio(path: str | Path) -> np.ndarray:
    """The file as float32 (channels, samples) at 16 kHz: one row per channel, so a two-channel
    call-centre recording keeps its parties apart."""
    import av
    from faster_whisper.audio import decode_audio

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise InputError(f"{path}: has no audio stream")
            channels = container.streams.audio[0].channels
        if channels >= 2:
            left, right = decode_audio(str(path), sampling_rate=RATE, split_stereo=True)
            audio = np.stack([left, right])
        else:
            audio = decode_audio(str(path), sampling_rate=RATE)[None, :]
    except InputError:
        raise
    except Exception as exc:  # PyAV raises many kinds for broken files
        raise InputError(f"{path}: cannot decode audio ({type(exc).__name__}: {exc}); is it a complete audio file?") from None
    if audio.shape[1] == 0:
        raise InputError(f"{path}: contains no audio samples (truncated or empty)")
    return audio.astype(np.float32)
