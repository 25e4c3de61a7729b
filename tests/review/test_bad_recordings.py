"""Recordings that are not what they claim: each gets a clear error or a warning, and what could be
transcribed is kept (issue 9's bad-input cases, with the real models)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES

from coach.errors import InputError
from coach.review.pipeline import ReviewRequest, review_file

SHORT = EXAMPLES / "audio" / "en-short-call.flac"


def sox(*args: str | Path) -> None:
    subprocess.run(["sox", *map(str, args)], check=True, capture_output=True)


def codes(reviewed) -> list[str]:
    return [w.code for w in reviewed.call.warnings]


def test_silence_is_refused_with_a_clear_message(tmp_path):
    silent = tmp_path / "silent.flac"
    sox("-n", "-r", "16000", "-c", "2", silent, "trim", "0", "10")
    with pytest.raises(InputError, match="no speech was recognised"):
        review_file(silent, ReviewRequest(language="en"))


def test_music_without_speech_is_refused(tmp_path):
    music = tmp_path / "hold-music.flac"
    sox("-n", "-r", "16000", "-c", "1", music, "synth", "3", "pluck", "C4", ":", "synth", "3", "pluck", "E4", ":",
        "synth", "3", "pluck", "G4", ":", "synth", "3", "sine", "440")
    with pytest.raises(InputError, match="no speech was recognised"):
        review_file(music, ReviewRequest(language="en"))


def test_a_channel_of_noise_is_said_and_the_other_party_is_kept(tmp_path):
    agent, noise, call = tmp_path / "agent.wav", tmp_path / "noise.wav", tmp_path / "one-sided.flac"
    sox(SHORT, "-c", "1", agent, "remix", "1")
    sox("-n", "-r", "16000", "-c", "1", noise, "synth", "36.8", "whitenoise", "gain", "-20")
    sox("-M", agent, noise, call)
    reviewed = review_file(call, ReviewRequest(language="en"))
    assert "silent_channel" in codes(reviewed)
    message = next(w.message for w in reviewed.call.warnings if w.code == "silent_channel")
    assert "channel 2 (debtor)" in message
    agent_lines = [u.text.lower() for u in reviewed.call.utterances if u.speaker == "agent"]
    assert len(agent_lines) >= 4 and any("jail" in line for line in agent_lines)
    assert not [u for u in reviewed.call.utterances if u.speaker == "debtor"]


def test_8_khz_audio_labelled_16_khz_is_recognised_and_reviewed_at_its_real_rate(tmp_path):
    raw, mislabelled = tmp_path / "call.raw", tmp_path / "mislabelled.wav"
    sox(SHORT, "-r", "8000", "-c", "2", "-b", "16", "-e", "signed", raw)
    sox("-r", "16000", "-c", "2", "-b", "16", "-e", "signed", raw, mislabelled)  # the header lies
    reviewed = review_file(mislabelled, ReviewRequest(language="en"))
    assert "wrong_sample_rate" in codes(reviewed)
    assert reviewed.duration == pytest.approx(36.8, abs=0.3)  # the call's real length
    said = " ".join(u.text.lower() for u in reviewed.call.utterances)
    assert "jail" in said and "lawyer" in said
    assert any(e.type == "compliance" for e in reviewed.events)


def test_a_recording_at_the_right_rate_is_not_flagged():
    reviewed = review_file(SHORT, ReviewRequest(language="en"))
    assert not {"wrong_sample_rate", "silent_channel", "unrecognised_speech", "truncated"} & set(codes(reviewed))


def test_a_truncated_file_keeps_what_was_recorded(tmp_path):
    whole, cut = tmp_path / "whole.wav", tmp_path / "cut.wav"
    sox(SHORT, "-b", "16", whole)
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # an interrupted copy: the header still promises 36.8 s
    reviewed = review_file(cut, ReviewRequest(language="en"))
    assert "truncated" in codes(reviewed)
    assert "36.8 s" in reviewed.call.warnings[0].message and "18.4 s" in reviewed.call.warnings[0].message
    assert 3 <= len(reviewed.call.utterances) <= 6 and max(u.end for u in reviewed.call.utterances) < 18.5
    tiny = tmp_path / "tiny.wav"
    tiny.write_bytes(data[:20_000])  # not even a second: nothing worth reviewing
    with pytest.raises(InputError, match="truncated"):
        review_file(tiny, ReviewRequest(language="en"))


def test_sound_that_mostly_gives_no_words_is_said():
    from coach.review.pipeline import speech_warnings
    from coach.review.recording import Clip

    speech = [[(0.0, 1.0), (2.0, 3.0), (4.0, 5.0)], [(1.0, 2.0), (3.0, 4.0)]]
    heard = [Clip(0, 0.0, 1.0, "hello"), Clip(1, 1.0, 2.0, "hi")]
    assert [w.code for w in speech_warnings(speech, heard, ("agent", "debtor"))] == ["unrecognised_speech"]
    assert speech_warnings(speech, heard + [Clip(0, 2.0, 3.0, "yes")], ("agent", "debtor")) == []
