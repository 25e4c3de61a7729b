"""Reading recorded calls from audio files (wav, flac, mp3, ogg, m4a... anything FFmpeg decodes)."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach.errors import InputError

RATE = 16_000
#: Most channels a recording is decoded to: one with more is mixed down to two (see decode_samples).
MAX_CHANNELS = 2


#: A file cut short still gets reviewed when at least this much of it decodes.
MIN_PARTIAL_SECONDS = 2.0
#: Longest recording reviewed (seconds), unless the caller says otherwise (COACH_MAX_RECORDING_SECONDS):
#: two hours of two-channel audio is ~0.9 GB decoded.
MAX_RECORDING_SECONDS = 7_200.0
#: Samples handed to the resampler at a time (faster-whisper's grouping), counted at 16 kHz: a file
#: at a lower rate hands over fewer, so one group never resamples into more than this.
DECODE_GROUP_SAMPLES = 500_000
#: Sample rates a recording may have: telephone audio is 8 kHz, studio audio up to 384 kHz. Below
#: the lowest, a few kilobytes resample into hours of audio in one step.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4_000, 384_000
#: The FFmpeg demuxers a recording may be read with (auto-detected among these only). Others read
#: more than the file: a playlist (``.m3u8``, HLS) or ``concat`` list would have FFmpeg open files
#: it names on the server's own disk, and an upload decode them into a call.
AUDIO_DEMUXERS = ("wav", "w64", "flac", "mp3", "ogg", "mov", "mp4", "m4a", "3gp", "matroska", "webm", "aac", "amr",
                  "aiff", "au", "asf", "caf", "wv")
#: FFmpeg's options for every recording opened: those demuxers, and local files only.
OPEN_OPTIONS = {"format_whitelist": ",".join(AUDIO_DEMUXERS), "protocol_whitelist": "file"}


#: Media types of the recording formats a kept recording is served as (the review page's player).
#: A recording is stored under one of these suffixes or none: the suffix a client gave its upload
#: must never pick what a browser makes of the file (a recording with HTML appended and named
#: ``.html`` still decodes, and would run as a page on the server's own origin).
AUDIO_MEDIA_TYPES = {
    ".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg",
    ".opus": "audio/ogg", ".m4a": "audio/mp4", ".mp4": "audio/mp4", ".aac": "audio/aac", ".webm": "audio/webm",
    ".amr": "audio/amr", ".aif": "audio/aiff", ".aiff": "audio/aiff", ".au": "audio/basic", ".wma": "audio/x-ms-wma",
}


def stored_suffix(path: Path) -> str:
    """The suffix a recording is kept under: its own when it names an audio format, else none."""
    suffix = path.suffix.lower()
    return suffix if suffix in AUDIO_MEDIA_TYPES else ""


def audio_media_type(path: Path) -> str:
    """What a kept recording is served as: an audio type, or bytes to download, never a page."""
    return AUDIO_MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class Recording:
    """A decoded recording, and what is wrong with the file when it could be read anyway."""

    audio: np.ndarray
    #: (seconds the header declares, seconds decoded) of a file cut short, else None.
    truncated: tuple[float, float] | None = None


def load_audio(path: str | Path) -> np.ndarray:
    """The file as float32 (channels, samples) at 16 kHz: one row per channel, so a two-channel
    call-centre recording keeps its parties apart. A file cut short is refused."""
    recording = load_recording(path, min_partial_seconds=float("inf"))
    return recording.audio


def probe_channels(path: str | Path) -> int | None:
    """The number of channels a recording's header declares, read without decoding anything, so a
    request that cannot fit the file (more roles than channels) is refused at once instead of after
    minutes of decoding a long call. None when the header cannot be read: decoding then says why."""
    import av

    try:
        with av.open(str(path), container_options=OPEN_OPTIONS) as container:
            streams = container.streams.audio
            return int(streams[0].channels) if streams else None
    except Exception:  # PyAV raises many kinds for broken files; load_recording reports them
        return None


def load_recording(path: str | Path, *, min_partial_seconds: float = MIN_PARTIAL_SECONDS,
                   max_seconds: float = MAX_RECORDING_SECONDS) -> Recording:
    """The file decoded; one cut short (an interrupted copy or upload) is kept with what decodes when
    that is at least ``min_partial_seconds``, and refused otherwise. A recording longer than
    ``max_seconds`` is refused: by its header before anything is decoded, or else as soon as that
    much has decoded (a few megabytes of compressed silence can hold hours of audio, which decoded
    would fill the server's memory)."""
    import av

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    try:
        container = av.open(str(path), container_options=OPEN_OPTIONS)
    except av.FFmpegError as exc:
        if exc.errno == errno.EINVAL:  # found to be a format not allowed
            raise InputError(f"{path}: not a recording in a format coach reads",
                             hint="convert it to wav, flac, mp3, ogg, m4a or another audio format") from None
        raise _undecodable(path, exc) from None
    try:
        with container:
            if not container.streams.audio:
                raise InputError(f"{path}: has no audio stream")
            stream = container.streams.audio[0]
            channels = stream.channels
            if not MIN_SAMPLE_RATE <= (stream.rate or 0) <= MAX_SAMPLE_RATE:
                raise InputError(f"{path}: its sample rate ({stream.rate or 0} Hz) is not one of a recording",
                                 hint=f"recordings are {MIN_SAMPLE_RATE:,} to {MAX_SAMPLE_RATE:,} Hz; telephone audio is 8,000")
            declared = container.duration / 1_000_000 if container.duration else None
            estimated = container.format.name == "mp3"  # ffmpeg guesses MP3 lengths from the bit rate
            if container.format.name == "wav":  # ffmpeg takes a WAV's length from the file's size
                declared = wav_declared_seconds(path) or declared
            if declared and declared > max_seconds:
                raise _too_long(path, max_seconds, f"its header says {declared / 60:.0f} min")
            audio = decode_samples(container, stereo=channels >= 2, max_seconds=max_seconds, path=path,
                                   group=max(1, DECODE_GROUP_SAMPLES * min(stream.rate, RATE) // RATE))
    except InputError:
        raise
    except Exception as exc:  # PyAV raises many kinds for broken files
        raise _undecodable(path, exc) from None
    if audio.shape[1] == 0:
        raise InputError(f"{path}: contains no audio samples (truncated or empty)")
    decoded = audio.shape[1] / RATE
    truncated = None
    if declared and _truncated(declared, decoded, estimated):
        if decoded < min_partial_seconds:
            raise InputError(f"{path}: truncated: its header says {declared:.1f} s but only {decoded:.1f} s could be decoded",
                             hint="upload the complete file")
        truncated = (round(declared, 1), round(decoded, 1))
    return Recording(audio, truncated)


def decode_samples(container, *, stereo: bool, max_seconds: float, path: Path,
                   group: int = DECODE_GROUP_SAMPLES) -> np.ndarray:
    """The container's first audio stream as float32 (channels, samples) at 16 kHz, refused once it
    passes ``max_seconds``, checked every ``group`` samples of the stream. faster-whisper's
    ``decode_audio`` (whose steps these are: frames that do not decode skipped, grouped for the
    resampler, 16-bit samples) has no such bound."""
    import av

    resampler = av.audio.resampler.AudioResampler(format="s16", layout="stereo" if stereo else "mono", rate=RATE)
    fifo = av.audio.fifo.AudioFifo()
    pieces: list[np.ndarray] = []
    limit = int(max_seconds * RATE)
    decoded = 0

    def resample(group) -> None:
        nonlocal decoded
        for frame in resampler.resample(group):
            piece = frame.to_ndarray().reshape(-1)
            pieces.append(piece)
            decoded += len(piece) // (2 if stereo else 1)
        if decoded > limit:
            raise _too_long(path, max_seconds, "it is longer")

    frames = container.decode(audio=0)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except av.error.InvalidDataError:  # a damaged frame: skip it, as faster-whisper does
            continue
        frame.pts = None
        fifo.write(frame)
        while fifo.samples >= group:
            resample(fifo.read(group))
    if fifo.samples:
        resample(fifo.read())
    resample(None)  # flush the resampler
    samples = np.concatenate(pieces) if pieces else np.zeros(0, np.int16)
    pieces.clear()  # the 16-bit pieces are copied: let them go before the float copy is made
    channels = 2 if stereo else 1
    audio = np.empty((channels, len(samples) // channels), dtype=np.float32)  # one float copy, no transposed one
    for channel in range(channels):
        np.multiply(samples[channel::channels], 1 / 32768.0, out=audio[channel], casting="unsafe")
    return audio


def _undecodable(path: Path, exc: Exception) -> InputError:
    """FFmpeg's own words, without its errno; anything else is PyAV tripping on a stream it half read
    ("'AudioStream' object has no attribute ...")."""
    import av

    reason = (getattr(exc, "strerror", None) or f"{type(exc).__name__}: {exc}" if isinstance(exc, av.FFmpegError)
              else "an unsupported or damaged audio stream")
    return InputError(f"{path}: cannot decode audio ({reason}); is it a complete audio file?",
                      hint="coach reviews recordings (wav, flac, mp3, ogg, m4a...) and transcripts (.json, .jsonl)")


def _too_long(path: Path, max_seconds: float, why: str) -> InputError:
    return InputError(f"{path}: the recording is too long to review ({why}; at most {max_seconds / 60:.0f} min)",
                      hint="split it into calls, or raise COACH_MAX_RECORDING_SECONDS")


def wav_declared_seconds(path: Path) -> float | None:
    """The length a WAV file's header declares (its data chunk's size over the byte rate), which a
    copy cut short no longer has; None when the header does not say."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    position, byte_rate = 12, 0
    while position + 8 <= len(head):
        chunk, size = head[position : position + 4], int.from_bytes(head[position + 4 : position + 8], "little")
        if chunk == b"fmt " and size >= 12:
            byte_rate = int.from_bytes(head[position + 16 : position + 20], "little")
        elif chunk == b"data":
            return size / byte_rate if byte_rate and size < 0xFFFFFFF0 else None  # streamed WAVs leave it unset
        position += 8 + size + (size & 1)
    return None


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

