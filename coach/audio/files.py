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
            declared = container.duration / 1_000_000 if container.duration else None
            estimated = container.format.name == "mp3"  # ffmpeg guesses MP3 lengths from the bit rate
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
    decoded = audio.shape[1] / RATE
    if declared and _truncated(declared, decoded, estimated):
        raise InputError(f"{path}: truncated: its header says {declared:.1f} s but only {decoded:.1f} s could be decoded",
                         hint="upload the complete file")
    return audio.astype(np.float32)


def _truncated(declared: float, decoded: float, estimated: bool) -> bool:
    """Whether most of what the header promises is missing (a copy cut short)."""
    share = 0.5 if estimated else 0.9
    return decoded < share * declared and declared - decoded > 1.0


#: Correlation above which two channels count as one signal (exact copies correlate at 1.0; lossy
#: joint-stereo codecs keep them above 0.99; two parties on their own channels stay near 0).
DUPLICATE_CORRELATION = 0.98


def duplicate_channels(audio: np.ndarray) -> bool:
    """A two-channel recording whose channels carry the same signal: a mono call saved as stereo, which
    would otherwise be transcribed twice as if each party had said everything."""
    if audio.shape[0] < 2:
        return False
    left, right = audio[0, : RATE * 120], audio[1, : RATE * 120]
    if float(np.std(left)) < 1e-4 or float(np.std(right)) < 1e-4:
        return False  # a silent channel is a different case (one party not recorded)
    return float(np.corrcoef(left, right)[0, 1]) >= DUPLICATE_CORRELATION

