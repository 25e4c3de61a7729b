"""Recorded calls' clips packed into Whisper windows, and each segment Whisper returns given back to
the clip it was spoken in. The real model is exercised by tests/review (whole recordings); here the
decoder is replaced by a script of segments, to pin down which clips are decoded again."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from coach.audio.asr import PACKING_GAP_SECONDS, WINDOW_SECONDS, Recognition, WhisperASR, pack_clips

RATE = 16_000


def tone(seconds: float, value: float) -> np.ndarray:
    return np.full(int(seconds * RATE), value, np.float32)


def test_each_clip_goes_to_the_first_window_with_room_and_keeps_its_audio():
    lengths = [12.0, 12.0, 12.0, 3.0, 2.0]  # the third long clip opens a window; the short ones fill the first
    samples = np.concatenate([tone(length, i + 1) for i, length in enumerate(lengths)])
    starts = np.cumsum([0.0] + lengths[:-1])
    clips = [(float(start), float(start + length)) for start, length in zip(starts, lengths)]

    packed, windows, spans = pack_clips(samples, clips)

    assert len(windows) == 2
    assert all(end - start <= WINDOW_SECONDS for start, end in windows)
    first, second = windows
    assert [i for i, (start, _) in enumerate(spans) if first[0] <= start < first[1]] == [0, 1, 3]  # in spoken order
    assert [i for i, (start, _) in enumerate(spans) if second[0] <= start < second[1]] == [2, 4]
    for i, (start, end) in enumerate(spans):
        piece = packed[int(start * RATE) : int(end * RATE)]
        assert len(piece) == int(lengths[i] * RATE) and np.all(piece == i + 1)
    gap = packed[int(spans[0][1] * RATE) : int(spans[0][1] * RATE) + int(PACKING_GAP_SECONDS * RATE)]
    assert np.all(gap == 0)  # a pause after every clip


def test_a_clip_longer_than_a_window_is_cut_to_fit():
    packed, windows, spans = pack_clips(tone(40.0, 1), [(0.0, 40.0)])
    assert len(windows) == 1 and windows[0][1] <= WINDOW_SECONDS
    assert spans[0][1] - spans[0][0] == WINDOW_SECONDS - PACKING_GAP_SECONDS


def scripted_model(script, alone):
    """A WhisperASR whose packed decoder answers from ``script(windows, timestamps)`` and whose
    single-utterance decoder (the last resort, as on a live call) from ``alone(n)`` for its n-th
    call; records calls as (windows, timestamps)."""
    asr = WhisperASR.__new__(WhisperASR)
    asr.calls = []

    def decode(audio, windows, language, batch_size):  # packed windows are decoded with timestamps
        asr.calls.append((len(windows), True))
        return script(windows, True)

    def recognize(audio, language, options=None):
        asr.calls.append((1, False))
        return Recognition(alone(sum(1 for _, timestamps in asr.calls if not timestamps) - 1), -0.2, 0.01, 1.2)

    asr._decode_batched = decode
    asr.recognize = recognize
    return asr


def segment(start: float, end: float, text: str) -> SimpleNamespace:
    return SimpleNamespace(start=start, end=end, text=text, avg_logprob=-0.2, no_speech_prob=0.01, compression_ratio=1.2)


def test_segments_go_back_to_their_clips_and_only_unclear_clips_are_decoded_again():
    clips = [(0.0, 4.0), (5.0, 9.0), (10.0, 14.0), (15.0, 19.0)]
    samples = tone(20.0, 0.1)
    _, _, spans = pack_clips(samples, clips)

    def script(windows, timestamps):
        if timestamps and len(windows) == 1 and windows[0][1] > 15:  # the first pass: all four clips
            (a, b, c, _d) = spans
            return [segment(a[0], a[1], "first"),
                    segment(b[0] + 0.5, c[0] + 2.0, "second and third"),  # runs over two clips
                    ]  # the fourth clip dropped
        assert timestamps  # packed again: the three unclear clips, the dropped one still dropped
        return [segment(0.0, 4.0, "second"), segment(5.0, 9.0, "third")]

    asr = scripted_model(script, alone=lambda n: "fourth on its own")
    results = asr.recognize_batch(samples, clips, "en")

    assert [r.text for r in results] == ["first", "second", "third", "fourth on its own"]
    assert asr.calls == [(1, True), (1, True), (1, False)]


def test_a_window_in_a_loop_is_decoded_again():
    clips = [(0.0, 3.0), (4.0, 7.0), (8.0, 11.0)]
    samples = tone(12.0, 0.1)
    _, _, spans = pack_clips(samples, clips)

    def script(windows, timestamps):
        if timestamps and len(asr.calls) == 1:
            return [segment(start, end, "nip in marca") for start, end in spans]
        assert timestamps
        return [segment(start, end, "nip in marca") for start, end in pack_clips(samples, clips)[2]]

    asr = scripted_model(script, alone=lambda n: f"turn {n}")
    results = asr.recognize_batch(samples, clips, "en")
    assert [r.text for r in results] == ["turn 0", "turn 1", "turn 2"]
