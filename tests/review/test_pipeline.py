"""The review pipeline on real recordings: two channels, transcripts, and what comes out."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES

from coach.config import Settings
from coach.errors import InputError
from coach.review.pipeline import ReviewRequest, review_file, review_into_store
from coach.storage import CallStore

SHORT = EXAMPLES / "audio" / "en-short-call.flac"


@pytest.fixture(scope="module")
def short_call():
    return review_file(SHORT, ReviewRequest(language="en"))


def test_a_two_channel_recording_becomes_the_call_it_was(short_call):
    truth = json.loads(SHORT.with_suffix(".json").read_text())
    utterances = short_call.call.utterances
    assert [u.speaker for u in utterances] == [u["speaker"] for u in truth["utterances"]]
    for heard, said in zip(utterances, truth["utterances"]):
        assert abs(heard.start - said["start"]) < 0.6 and abs(heard.end - said["end"]) < 0.6
    assert short_call.duration == pytest.approx(36.8, abs=0.2)
    types = {e.type for e in short_call.events}
    assert {"utterance", "sentiment", "intent", "scorecard"} <= types
    assert short_call.outcome["kind"] and short_call.summary


def test_the_recording_gives_the_same_objections_as_its_transcript(short_call, en_engine):
    from coach.transcript import Call

    transcript = Call.model_validate(json.loads(SHORT.with_suffix(".json").read_text()))
    expected = [e.intent for e in en_engine.analyze(transcript) if e.type == "intent"]
    heard = [e.intent for e in short_call.events if e.type == "intent"]
    assert heard == expected


@pytest.fixture
def never_decoded(monkeypatch):
    """Decoding a recording fails the test: what is checked must be refused before it."""
    import coach.review.pipeline as pipeline

    def decode(path, settings):
        raise AssertionError(f"{path} was decoded before the request was refused")

    monkeypatch.setattr(pipeline, "decode_recording", decode)


@pytest.mark.parametrize(("roles", "message"), [
    (("agent",), "has 2 channels but roles were given for 1"),
    (("agent", "debtor", "third_party"), "has 2 channels but roles were given for 3"),
    (("agent", "boss"), "unknown role 'boss'"),
    (("agent", "debtor", "agent"), "name 'agent' twice"),
    (("agent", "agent"), "name 'agent' twice"),
    (("agent", ""), "a role is empty"),
])
def test_roles_must_match_the_channels_and_are_refused_before_decoding(never_decoded, roles, message):
    """A long recording takes minutes to decode and transcribe: roles wrong whatever the file, or
    wrong for the channels its header declares, are refused before any of it."""
    with pytest.raises(InputError, match=message) as error:
        review_file(SHORT, ReviewRequest(channel_roles=roles))
    assert "one role per channel" in error.value.hint


def test_roles_wrong_for_a_file_stored_before_are_refused_too(never_decoded, tmp_path, monkeypatch):
    """The stored review of the same file is no answer to a request that cannot be right."""
    import coach.review.pipeline as pipeline
    from coach.review.pipeline import StoredReview

    settings = Settings(data_dir=tmp_path)
    store = CallStore(settings.database(), settings)
    monkeypatch.setattr(pipeline, "stored_duplicate", lambda store, digest: StoredReview("stored", duplicate=True))
    with pytest.raises(InputError, match="has 2 channels but roles were given for 3"):
        review_into_store(store, SHORT, ReviewRequest(channel_roles=("agent", "debtor", "unknown")), source="cli",
                          settings=settings)
    assert review_into_store(store, SHORT, ReviewRequest(), source="cli", settings=settings).duplicate
    store.close()


def test_roles_are_parsed_from_the_option_and_the_form_field():
    from coach.review.pipeline import check_channel_roles, parse_roles

    assert parse_roles(" agent , debtor ") == ("agent", "debtor")
    assert parse_roles("debtor,third_party") == ("debtor", "third_party")
    with pytest.raises(InputError, match="twice"):
        parse_roles("debtor,debtor")
    check_channel_roles(SHORT, ("agent", "debtor"), 1)  # mono: parties told apart by voice, roles unused
    with pytest.raises(InputError, match="has 6 channels, reviewed as 2"):
        check_channel_roles(SHORT, ("agent", "debtor", "third_party"), 6)


def test_a_playbook_that_cannot_be_used_is_refused_before_decoding(never_decoded):
    from coach.errors import PlaybookError

    with pytest.raises(PlaybookError, match="unknown playbook"):
        review_file(SHORT, ReviewRequest(playbook="martian"))
    with pytest.raises(InputError, match="language 'en': playbook 'zh-CN-bank-collections' is for Chinese calls, "
                                         "but the call is English") as error:
        review_file(SHORT, ReviewRequest(language="en", playbook="zh-CN-bank-collections"))
    assert "leave out the playbook" in error.value.hint


def test_a_playbook_for_another_language_than_the_one_heard_is_refused_before_recognition(monkeypatch):
    """--language auto: the language is known only once heard, and the playbook is checked then,
    before the speech model transcribes anything."""
    import coach.review.pipeline as pipeline

    monkeypatch.setattr(pipeline, "recording_language", lambda decoded, request, settings: ("zh", decoded))
    monkeypatch.setattr(pipeline, "recognize_recording", lambda *args: pytest.fail("transcribed"))
    with pytest.raises(InputError, match="is for English calls, but the call is Chinese") as error:
        review_file(SHORT, ReviewRequest(language="auto", playbook="en-US-collections"))
    assert str(SHORT) in str(error.value) and "leave out the playbook" in error.value.hint


def test_a_renamed_copy_is_a_duplicate_and_a_new_file_with_a_taken_name_is_kept(tmp_path):
    settings = Settings(data_dir=tmp_path)
    store = CallStore(settings.database(), settings)
    first = review_into_store(store, EXAMPLES / "en-cooperative.json", source="cli", settings=settings)
    copy = tmp_path / "copy.json"
    copy.write_bytes((EXAMPLES / "en-cooperative.json").read_bytes())
    assert review_into_store(store, copy, source="cli", settings=settings) == type(first)(first.call_id, duplicate=True)
    changed = tmp_path / "en-cooperative.json"
    data = json.loads((EXAMPLES / "en-cooperative.json").read_text())
    data["utterances"] = data["utterances"][:-1]
    changed.write_text(json.dumps(data))
    second = review_into_store(store, changed, source="cli", settings=settings)
    assert not second.duplicate and second.call_id != first.call_id and second.call_id.startswith(first.call_id)
    store.close()


def test_the_same_file_reviewed_twice_at_once_is_stored_once_and_both_are_told(tmp_path, monkeypatch):
    """Two reviews of one file started together both pass the duplicate check before either has
    stored it; the second to store hears "already reviewed", not a database error."""
    import coach.review.pipeline as pipeline

    settings = Settings(data_dir=tmp_path)
    store = CallStore(settings.database(), settings)
    first_check = pipeline.stored_duplicate
    racing = []

    def checked_before_the_other_stored(store, digest):
        if not racing:  # the first look finds nothing: the other review has not stored it yet
            racing.append(digest)
            return None
        return first_check(store, digest)

    other = review_into_store(store, EXAMPLES / "en-cooperative.json", source="cli", settings=settings)
    monkeypatch.setattr(pipeline, "stored_duplicate", checked_before_the_other_stored)
    late = review_into_store(store, EXAMPLES / "en-cooperative.json", source="cli", settings=settings)
    assert late.duplicate and late.call_id == other.call_id
    assert [c.id for c in store.list_calls()] == [other.call_id]
    store.close()


def test_a_phone_line_recording_keeps_the_turns_and_the_hints():
    """The same call as it arrives from a phone system, 8 kHz G.711 mu-law (scripts/make_sample_audio.py):
    every turn is found on its party's channel, and the debtor's request to stop calling still comes
    through the narrower band."""
    call = review_file(EXAMPLES / "audio" / "en-short-call.8k-ulaw.wav", ReviewRequest(language="en"))
    truth = json.loads(SHORT.with_suffix(".json").read_text())
    assert [u.speaker for u in call.call.utterances] == [u["speaker"] for u in truth["utterances"]]
    assert "stop_calling" in [e.intent for e in call.events if e.type == "intent"]


def test_a_chinese_recording_is_reviewed_with_the_default_speech_model(tmp_path):
    """The last 55 s of a Chinese sample call (the whole call takes a minute of Whisper base here)."""
    import subprocess

    clip = tmp_path / "zh-violations-end.flac"
    subprocess.run(["sox", str(EXAMPLES / "audio" / "zh-violations.flac"), str(clip), "trim", "139.5"], check=True)
    call = review_file(clip, ReviewRequest(language="zh"))
    truth = [u for u in json.loads((EXAMPLES / "audio" / "zh-violations.json").read_text())["utterances"] if u["start"] >= 139.5]
    assert len(call.call.utterances) >= 0.8 * len(truth)
    assert all(u.speaker in ("agent", "debtor") for u in call.call.utterances)
    said = sum(ch >= "\u4e00" for u in truth for ch in u["text"])
    assert sum(ch >= "\u4e00" for u in call.call.utterances for ch in u.text) > 0.5 * said  # Chinese, not gibberish
    assert "CN-ABUSE" in [e.rule_id for e in call.events if e.type == "compliance"]


def test_a_window_where_whisper_loops_is_decoded_again_clip_by_clip():
    """In en-violations the agent's first words ("hi this is mark from summit") come out of tiny.en as
    a phrase it then repeats over the agent's next three turns when they share a 30 s window; those
    turns are decoded again on their own, so the collector's own threat is heard."""
    from types import SimpleNamespace

    from coach.audio.asr import _loops

    said = [SimpleNamespace(text=t) for t in ["Nip in Marca.", "nip in marca", "Nip in Marca", "the balance is due"]]
    assert _loops(said)
    assert not _loops([SimpleNamespace(text=t) for t in ["yes", "yes", "the balance is due", "ok thanks", "bye"]])
    call = review_file(EXAMPLES / "audio" / "en-violations.flac", ReviewRequest(language="en"))
    agent = [u.text.lower() for u in call.call.utterances if u.speaker == "agent"]
    assert len(set(agent[:4])) == 4  # no turn is another turn's words
    assert any("department" in text for text in agent[:3])  # the second agent turn has its own words


def test_a_mono_call_saved_as_stereo_is_reviewed_once_as_mono(tmp_path):
    """Both channels the same signal: reviewed as one channel with the parties told apart by voice
    (not every turn twice, once per "party"), and the call says so."""
    import subprocess

    from coach.audio.files import duplicate_channels, load_audio

    stereo = tmp_path / "mono-as-stereo.wav"
    subprocess.run(["sox", str(SHORT), "-c", "1", str(tmp_path / "mono.wav"), "remix", "1,2"], check=True)
    subprocess.run(["sox", str(tmp_path / "mono.wav"), "-c", "2", str(stereo)], check=True)
    assert duplicate_channels(load_audio(stereo)) and not duplicate_channels(load_audio(SHORT))
    call = review_file(stereo, ReviewRequest(language="en"))
    (warning,) = [w for w in call.call.warnings if w.code == "duplicate_channels"]
    assert "same signal" in warning.message
    truth = json.loads(SHORT.with_suffix(".json").read_text())
    assert len(call.call.utterances) <= len(truth["utterances"]) + 3  # once, not twice
    assert {u.speaker for u in call.call.utterances} == {"agent", "debtor"}


def test_a_transcript_analysed_in_the_other_language_says_so():
    """--language zh on an English transcript runs the Chinese playbook over English words: nothing
    matches, and only the warning says why."""
    reviewed = review_file(EXAMPLES / "en-hardship.json", ReviewRequest(language="zh"))
    (warning,) = [w for w in reviewed.call.warnings if w.code == "language_mismatch"]
    assert "text is English" in warning.message and "analysed as Chinese" in warning.message
    assert "--language en" in warning.message
    reviewed = review_file(EXAMPLES / "zh-hardship.json", ReviewRequest(language="en"))
    assert [w.code for w in reviewed.call.warnings] == ["language_mismatch"]
    assert not review_file(EXAMPLES / "en-hardship.json", ReviewRequest(language="en")).call.warnings


def test_a_taken_call_id_is_refused_before_the_review(tmp_path, monkeypatch):
    import coach.review.pipeline as pipeline

    settings = Settings(data_dir=tmp_path)
    store = CallStore(settings.database(), settings)
    first = review_into_store(store, EXAMPLES / "en-cooperative.json", source="cli", settings=settings)

    def no_review(*_args, **_kwargs):
        raise AssertionError("reviewed a file whose call id is taken")

    monkeypatch.setattr(pipeline, "review_file", no_review)
    with pytest.raises(InputError, match="already stored"):
        review_into_store(store, EXAMPLES / "en-violations.json", ReviewRequest(call_id=first.call_id),
                          source="cli", settings=settings)
    store.close()


def test_a_review_again_under_a_taken_call_id_is_refused_and_the_earlier_review_kept(tmp_path):
    """Reviewing a stored file again (another language) under a call id another call has is the
    user's mistake: refused before the earlier review is deleted, not after."""
    settings = Settings(data_dir=tmp_path)
    store = CallStore(settings.database(), settings)
    first = review_into_store(store, EXAMPLES / "en-cooperative.json", source="cli", settings=settings)
    other = review_into_store(store, EXAMPLES / "en-violations.json", source="cli", settings=settings)
    with pytest.raises(InputError, match="already stored"):
        review_into_store(store, EXAMPLES / "en-cooperative.json", ReviewRequest(language="zh", call_id=other.call_id),
                          source="cli", settings=settings)
    assert store.has_call(first.call_id) and store.has_call(other.call_id)
    store.close()


def test_a_review_past_its_time_limit_gives_up_with_a_clear_error_and_stores_nothing(tmp_path):
    """COACH_REVIEW_TIMEOUT_SECONDS: a recording's review that takes longer gives up at its next step,
    says which, and stores nothing (a file reviewed before the limit was hit stays as it was)."""
    from coach.errors import TimeLimitError

    settings = Settings(data_dir=tmp_path)
    store = CallStore(settings.database(), settings)
    kept = review_into_store(store, EXAMPLES / "en-cooperative.json", source="cli", settings=settings)
    hurried = settings.model_copy(update={"review_timeout_seconds": 1e-9})
    with pytest.raises(TimeLimitError, match=r"the review of en-short-call.flac took too long \(decoding\)") as caught:
        review_into_store(store, SHORT, ReviewRequest(language="en"), source="upload", settings=hurried)
    assert caught.value.exit_code == 5 and "COACH_REVIEW_TIMEOUT_SECONDS" in caught.value.hint
    assert [c.id for c in store.list_calls()] == [kept.call_id]
    store.close()


def test_the_time_limit_is_checked_in_speech_recognition_and_in_the_analysis(en_engine):
    """The long steps look at the deadline as they go, not only between steps: each batch of speech
    windows, each clip decoded alone, each event of the analysis."""
    from coach.audio.asr import load_asr
    from coach.audio.files import load_audio
    from coach.deadline import Deadline
    from coach.errors import TimeLimitError
    from coach.review.pipeline import review_transcript
    from coach.review.recording import transcribe_channels
    from coach.transcript import Call

    past = Deadline(0.0, work="the review of x")
    audio = load_audio(SHORT)
    with pytest.raises(TimeLimitError, match=r"\(speech recognition\)"):
        transcribe_channels(audio, load_asr("tiny.en"), "en", deadline=past)
    assert transcribe_channels(audio[:, : 16_000 * 8], load_asr("tiny.en"), "en", deadline=Deadline.after(600))
    call = Call.model_validate(json.loads((EXAMPLES / "en-cooperative.json").read_text()))
    with pytest.raises(TimeLimitError, match=r"\(analysis\)"):
        review_transcript(call, en_engine, deadline=past)


def test_a_speech_engine_without_deadlines_still_reviews_and_the_limit_is_checked_after_it():
    """A backend registered before deadlines existed (its recognize_batch takes none) decodes the
    recording whole; the review's limit is looked at when it returns."""
    import numpy as np

    from coach.audio.recognizer import Recognition
    from coach.deadline import Deadline
    from coach.errors import TimeLimitError
    from coach.review.recording import transcribe_channels

    class OldEngine:
        name, multilingual = "old", False

        def recognize(self, audio, language, options=None):
            raise AssertionError("not called")

        def recognize_batch(self, samples, clips, language, batch_size=8):
            return [Recognition("hello there, this is dana", -0.2, 0.01, 1.2) for _ in clips]

    speech = [[(0.5, 2.0)]]
    audio = np.zeros((1, 16_000 * 3), dtype=np.float32)
    [clip] = transcribe_channels(audio, OldEngine(), "en", speech=speech, deadline=Deadline.after(600))
    assert clip.text == "hello there, this is dana"
    with pytest.raises(TimeLimitError, match=r"\(speech recognition\)"):
        transcribe_channels(audio, OldEngine(), "en", speech=speech, deadline=Deadline(0.0))
