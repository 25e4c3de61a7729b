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
    """A WhisperASR whose packed decoder answers from ``script(windows)`` and whose single-utterance
    decoder (as on a live call) from ``alone(n)`` for its n-th call; records its calls as
    ("packed", number of windows) and ("alone", clip length in seconds)."""
    asr = WhisperASR.__new__(WhisperASR)
    asr.calls = []

    def decode(audio, windows, language, batch_size, deadline):
        asr.calls.append(("packed", len(windows)))
        return script(windows)

    def recognize(audio, language, options=None):
        asr.calls.append(("alone", round(len(audio) / RATE, 1)))
        return Recognition(alone(sum(1 for kind, _ in asr.calls if kind == "alone") - 1), -0.2, 0.01, 1.2)

    asr._decode_batched = decode
    asr.recognize = recognize
    return asr


def segment(start: float, end: float, text: str) -> SimpleNamespace:
    return SimpleNamespace(start=start, end=end, text=text, avg_logprob=-0.2, no_speech_prob=0.01, compression_ratio=1.2)


def test_segments_go_back_to_their_clips_and_unclear_clips_are_decoded_on_their_own():
    clips = [(0.0, 4.0), (5.0, 9.0), (10.0, 14.0), (15.0, 19.0)]
    samples = tone(20.0, 0.1)
    _, _, spans = pack_clips(samples, clips)
    a, b, c, _d = spans

    def script(windows):
        return [segment(a[0], a[1], "first"),
                segment(b[0] + 0.5, c[0] + 2.0, "second and third")]  # runs over two clips; the fourth dropped

    asr = scripted_model(script, alone=lambda n: ["second", "third", "fourth"][n])
    results = asr.recognize_batch(samples, clips, "en")

    assert [r.text for r in results] == ["first", "second", "third", "fourth"]
    # Packed again, the second and third would meet again; the dropped fourth is too short to fill a window.
    assert asr.calls == [("packed", 1), ("alone", 4.0), ("alone", 4.0), ("alone", 4.0)]


def test_clips_dropped_at_the_ends_of_windows_are_packed_again_when_they_fill_one():
    lengths = [8.0, 19.0] * 3  # each window: an 8 s clip, then a 19 s clip that Whisper drops
    starts = np.cumsum([0.0] + [length + 1.0 for length in lengths[:-1]])
    clips = [(float(start), float(start + length)) for start, length in zip(starts, lengths)]
    samples = tone(float(starts[-1] + lengths[-1] + 1.0), 0.1)

    def script(windows):
        if len(asr.calls) == 1:  # three windows: only each one's first clip is heard
            _, _, spans = pack_clips(samples, clips)
            return [segment(*spans[i], f"short {i // 2}") for i in (0, 2, 4)]
        _, _, spans = pack_clips(samples, [clips[i] for i in (1, 3, 5)])
        return [segment(*spans[0], "long 0")]  # 57 s of dropped clips, a window each; two dropped again

    asr = scripted_model(script, alone=lambda n: f"long {n + 1} alone")
    results = asr.recognize_batch(samples, clips, "en")

    assert [r.text for r in results] == ["short 0", "long 0", "short 1", "long 1 alone", "short 2", "long 2 alone"]
    assert asr.calls == [("packed", 3), ("packed", 3), ("alone", 19.0), ("alone", 19.0)]  # no third packing


def test_a_window_in_a_loop_is_decoded_clip_by_clip():
    clips = [(0.0, 3.0), (4.0, 7.0), (8.0, 11.0)]
    samples = tone(12.0, 0.1)
    _, _, spans = pack_clips(samples, clips)

    def script(windows):
        return [segment(start, end, "nip in marca") for start, end in spans]

    asr = scripted_model(script, alone=lambda n: f"turn {n}")
    results = asr.recognize_batch(samples, clips, "en")
    assert [r.text for r in results] == ["turn 0", "turn 1", "turn 2"]
    assert asr.calls == [("packed", 1), ("alone", 3.0), ("alone", 3.0), ("alone", 3.0)]


def test_a_character_whisper_split_between_tokens_leaves_no_replacement_sign():
    """A token ending inside a multi-byte character decodes to U+FFFD: dropped, never transcribed."""
    clips = [(0.0, 4.0)]
    samples = tone(5.0, 0.1)
    _, _, ((start, end),) = pack_clips(samples, clips)
    asr = scripted_model(lambda windows: [segment(start, end, " 喷喷\ufffd 是我\ufffd")], alone=lambda n: "")
    assert [r.text for r in asr.recognize_batch(samples, clips, "zh")] == ["喷喷 是我"]
