"""Wire formats: PCM 16/8 kHz, G.711 mu-law, interleaved stereo, and malformed frames."""

from __future__ import annotations

import numpy as np
import pytest

from coach.audio.formats import AudioFormat, encode_mulaw
from coach.errors import InputError


def _tone(rate: int, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.4 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)


def test_pcm16_stereo_splits_channels():
    left, right = _tone(16_000), -_tone(16_000)
    data = (np.stack([left, right], axis=1) * 32767).astype("<i2").tobytes()
    decoded = AudioFormat("pcm_s16le", 16_000, 2).decode(data)
    assert decoded.shape == (2, len(left))
    assert np.allclose(decoded[0], left, atol=1e-3) and np.allclose(decoded[1], right, atol=1e-3)


def test_8khz_is_resampled_to_16khz():
    decoded = AudioFormat("pcm_s16le", 8_000, 1).decode((_tone(8_000) * 32767).astype("<i2").tobytes())
    assert decoded.shape == (1, 8_000)
    spectrum = np.abs(np.fft.rfft(decoded[0]))
    assert abs(np.argmax(spectrum) * 16_000 / len(decoded[0]) - 300) < 5


def test_mulaw_round_trip():
    tone = _tone(8_000)
    decoded = AudioFormat("mulaw", 8_000, 1).decode(encode_mulaw(tone))
    assert decoded.shape == (1, 8_000)
    assert np.corrcoef(decoded[0, ::2][100:-100], tone[100:-100])[0, 1] > 0.99


@pytest.mark.parametrize(
    "encoding,rate,channels,needle",
    [("opus", 16_000, 1, "unsupported encoding"), ("pcm_s16le", 44_100, 1, "sample rate"),
     ("mulaw", 16_000, 1, "sample rate"), ("pcm_s16le", 16_000, 3, "channel count")],
)
def test_unsupported_formats(encoding, rate, channels, needle):
    with pytest.raises(InputError, match=needle):
        AudioFormat(encoding, rate, channels)


def test_odd_length_frame():
    with pytest.raises(InputError, match="not a whole number"):
        AudioFormat("pcm_s16le", 16_000, 2).decode(b"\x00" * 7)


def test_a_stream_decodes_the_same_however_it_is_framed():
    """Twilio sends 20 ms frames, a replay 100 ms ones: an 8 kHz stream must reach the models as the
    same samples either way, with no click at the frame edges."""
    from coach.audio.formats import StreamDecoder

    stereo = np.stack([_tone(8_000), _tone(8_000)[::-1]], axis=1).reshape(-1)
    data = encode_mulaw(stereo)
    audio = AudioFormat("mulaw", 8_000, 2)

    def decoded(frame_bytes: int) -> np.ndarray:
        decoder = StreamDecoder(audio)
        pieces = [decoder.decode(data[i : i + frame_bytes]) for i in range(0, len(data), frame_bytes)]
        return np.concatenate(pieces + [decoder.decode(b"", last=True)], axis=1)

    twenty_ms, hundred_ms = decoded(320), decoded(1600)
    assert np.array_equal(twenty_ms, hundred_ms)
    assert twenty_ms.shape == (2, len(stereo))  # 8 kHz stereo in, twice the samples per channel out
    steps = np.abs(np.diff(twenty_ms[0, 1000:-1000]))
    assert steps.max() < 3 * np.median(steps) + 0.05  # smooth across the 160 frame edges
