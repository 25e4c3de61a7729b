"""Reading calls: the documented formats work, and every kind of bad input gets a clear error that
names the file, the utterance and the field."""

from __future__ import annotations

import json

import pytest

from coach.config import Settings
from coach.errors import InputError
from coach.transcript import load_call
from conftest import EXAMPLES, write_call

GOOD = [{"speaker": "agent", "text": "hello", "start": 0.0, "end": 1.0}, {"speaker": "debtor", "text": "hi", "start": 1.2, "end": 1.8}]


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_bundled_samples_load(name):
    call = load_call(EXAMPLES / name)
    assert call.utterances and call.language == name[:2]


def test_json_document(tmp_path):
    call = load_call(write_call(tmp_path / "c.json", GOOD, metadata={"balance": 12.5, "custom_flag": True}))
    assert call.call_id == "c" and call.language == "en"
    assert call.metadata.balance == 12.5 and call.metadata.model_dump()["custom_flag"] is True


def test_jsonl_with_header(tmp_path):
    path = tmp_path / "call.jsonl"
    lines = [{"call_id": "abc", "language": "zh"}] + [{"speaker": "agent", "text": "您好", "start": 0, "end": 1}]
    lines.append({"speaker": "客户", "text": "你好", "start": 1, "end": 2})
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    call = load_call(path)
    assert call.call_id == "abc" and call.language == "zh"
    assert [u.speaker for u in call.utterances] == ["agent", "debtor"]


def test_jsonl_without_header_guesses_language_and_id(tmp_path):
    path = tmp_path / "night-call.jsonl"
    path.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in [
            {"speaker": "agent", "text": "请问是王先生吗", "start": 0, "end": 2},
            {"speaker": "debtor", "text": "是我 什么事", "start": 2, "end": 3},
        ])
    )
    call = load_call(path)
    assert call.call_id == "night-call" and call.language == "zh"


def test_a_bare_array_of_utterances_is_a_call(tmp_path):
    """The shape many tools export: the language is guessed and the call id is the file's name."""
    path = tmp_path / "export-17.json"
    path.write_text(json.dumps([
        {"speaker": "agent", "text": "请问是王先生吗", "start": 0, "end": 2},
        {"speaker": "debtor", "text": "是我 什么事", "start": 2, "end": 3},
    ], ensure_ascii=False))
    call = load_call(path)
    assert call.call_id == "export-17" and call.language == "zh" and len(call.utterances) == 2


def test_other_tools_field_names_are_one_line_that_says_so(tmp_path):
    utterances = [{"role": "agent", "content": "hello", "start": 0, "end": 1},
                  {"role": "debtor", "content": "hi", "start": 1, "end": 2}]
    with pytest.raises(InputError) as error:
        load_call(write_call(tmp_path / "c.json", utterances))
    assert str(error.value).splitlines()[0].endswith("the utterances say 'role' for 'speaker' and 'content' for 'text'")
    assert "field required" not in str(error.value).lower()


def test_jsonl_of_one_utterance_without_header(tmp_path):
    """One line, no header: an utterance, as a two-line file's lines are (was "field language:
    Field required", read as a whole call document)."""
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"speaker": "debtor", "text": "i lost my job and cannot pay", "start": 0, "end": 1}) + "\n")
    call = load_call(path)
    assert call.call_id == "one" and call.language == "en" and [u.text for u in call.utterances] == ["i lost my job and cannot pay"]


def test_speaker_aliases(tmp_path):
    utterances = [{"speaker": "Collector", "text": "hi", "start": 0, "end": 1}, {"speaker": "customer", "text": "yo", "start": 1, "end": 2}]
    call = load_call(write_call(tmp_path / "c.json", utterances))
    assert [u.speaker for u in call.utterances] == ["agent", "debtor"]


def _error(path, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        load_call(path, **kwargs)
    return str(info.value)


def test_missing_file(tmp_path):
    assert "file not found" in _error(tmp_path / "nope.json")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("  \n")
    assert "empty" in _error(path)


def test_garbled_json_names_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"call_id": "x",\n "utterances": [1, 2,,]}')
    message = _error(path)
    assert "bad.json" in message and "line 2" in message


def test_binary_file(tmp_path):
    path = tmp_path / "call.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(100))
    assert "binary" in _error(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "gbk.json"
    path.write_bytes(json.dumps({"call_id": "x", "language": "zh", "utterances": []}).encode()[:-1] + "欠款".encode("gbk") + b"}")
    assert "UTF-8" in _error(path)


def test_not_a_transcript(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("agent: hello\ndebtor: hi\n")
    assert "not a call transcript" in _error(path)


def test_huge_file_refused(tmp_path):
    path = write_call(tmp_path / "big.json", GOOD * 50)
    message = _error(path, settings=Settings(max_transcript_bytes=1000))
    assert "limit" in message and "COACH_MAX_TRANSCRIPT_BYTES" in message


def test_too_many_utterances(tmp_path):
    assert "more than the limit" in _error(write_call(tmp_path / "c.json", GOOD * 6), settings=Settings(max_utterances=10))


def test_the_default_turn_limit_bounds_one_review(tmp_path):
    """Twenty thousand short lines passed every limit and held the server's one review thread for seven
    minutes; the default now stops a transcript past 5,000 turns (a four-hour call has about 4,000)."""
    turns = [{"speaker": "agent" if n % 2 else "debtor", "text": "ok", "start": n * 1.0, "end": n * 1.0 + 0.5}
             for n in range(5_001)]
    message = _error(write_call(tmp_path / "long.json", turns), settings=Settings())
    assert "5001 utterances is more than the limit of 5000" in message and "COACH_MAX_UTTERANCES" in message
    assert len(load_call(write_call(tmp_path / "ok.json", turns[:5_000]), settings=Settings()).utterances) == 5_000


def test_too_much_text_in_one_call(tmp_path):
    """Each utterance under its limit, but all of them more than one call's: reviews run one at a time."""
    message = _error(write_call(tmp_path / "c.json", GOOD * 6), settings=Settings(max_transcript_chars=20))
    assert "more than the limit of 20 characters" in message and "COACH_MAX_TRANSCRIPT_CHARS" in message


def test_overlong_utterance(tmp_path):
    utterances = [{"speaker": "agent", "text": "blah " * 2000, "start": 0, "end": 1}]
    message = _error(write_call(tmp_path / "c.json", utterances))
    assert "utterance 0, field text" in message


def test_no_utterances(tmp_path):
    assert "no utterances" in _error(write_call(tmp_path / "c.json", []))


def test_unknown_speaker_names_utterance(tmp_path):
    utterances = GOOD + [{"speaker": "robot", "text": "beep", "start": 2, "end": 3}]
    message = _error(write_call(tmp_path / "c.json", utterances))
    assert "utterance 2, field speaker" in message and "robot" in message and "agent, debtor" in message


def test_unknown_language(tmp_path):
    message = _error(write_call(tmp_path / "c.json", GOOD, language="fr"))
    assert "unknown language 'fr'" in message


def test_missing_field_names_utterance(tmp_path):
    utterances = GOOD + [{"speaker": "agent", "start": 2, "end": 3}]
    assert "utterance 2, field text" in _error(write_call(tmp_path / "c.json", utterances))


def test_end_before_start(tmp_path):
    utterances = [{"speaker": "agent", "text": "hi", "start": 5, "end": 1}]
    assert "utterance 0" in _error(write_call(tmp_path / "c.json", utterances))


def test_bad_jsonl_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(GOOD[0]) + "\n{oops\n")
    assert "line 2" in _error(path)


def test_times_beyond_a_plausible_call_are_refused(tmp_path):
    utterances = GOOD + [{"speaker": "agent", "text": "still here", "start": 1e15, "end": 1e15 + 2}]
    message = _error(write_call(tmp_path / "c.json", utterances))
    assert "utterance 2 ends at 1e+15 s" in message and "86400 s (24 h)" in message and "COACH_MAX_CALL_SECONDS" in message
    assert "more than 100 s" in _error(write_call(tmp_path / "d.json", GOOD + [
        {"speaker": "agent", "text": "late", "start": 99, "end": 101}]), settings=Settings(max_call_seconds=100))
    path = tmp_path / "inf.json"
    path.write_text('{"language": "en", "utterances": [{"speaker": "agent", "text": "hi", "start": 0, "end": Infinity}]}')
    assert "utterance 0, field end: must be a finite number" in _error(path)


def test_empty_utterances_are_dropped_with_a_warning(tmp_path):
    utterances = [GOOD[0], {"speaker": "debtor", "text": "  ", "start": 1.0, "end": 1.1}, GOOD[1]]
    call = load_call(write_call(tmp_path / "c.json", utterances, warnings=[{"code": "forged", "message": "x"}]))
    assert [u.text for u in call.utterances] == ["hello", "hi"]
    assert [w.model_dump() for w in call.warnings] == [
        {"code": "empty_utterance_dropped", "message": "utterance 1 (debtor, 1 s) has no text: dropped"}]
    only_empty = [{"speaker": "agent", "text": "", "start": 0, "end": 1}]
    assert "no utterance has any text" in _error(write_call(tmp_path / "e.json", only_empty))
    # indices in later errors are still the file's
    unordered = [GOOD[0], {"speaker": "debtor", "text": "", "start": 0.5, "end": 0.6},
                 {"speaker": "debtor", "text": "hm", "start": 5, "end": 6}, {"speaker": "agent", "text": "so", "start": 2, "end": 3}]
    assert "utterance 3 starts at 2 s, before utterance 2" in _error(write_call(tmp_path / "u.json", unordered))


def test_a_small_same_speaker_overlap_is_repaired_with_a_warning(tmp_path):
    utterances = [{"speaker": "agent", "text": "hello there this is sam", "start": 1, "end": 6},
                  {"speaker": "debtor", "text": "yes", "start": 4, "end": 4.5},
                  {"speaker": "agent", "text": "and again", "start": 4.8, "end": 7}]
    call = load_call(write_call(tmp_path / "c.json", utterances))
    assert [(u.start, u.end) for u in call.utterances] == [(1, 4.8), (4, 4.5), (4.8, 7)]
    [warning] = call.warnings
    assert warning.code == "overlap_repaired" and "utterance 2 (agent) starts 1.2 s before" in warning.message
    assert "utterance 0 now ends at 4.8 s instead of 6 s" in warning.message
    tiny = [{"speaker": "agent", "text": "a", "start": 0, "end": 2.1}, {"speaker": "agent", "text": "b", "start": 2, "end": 3}]
    assert load_call(write_call(tmp_path / "t.json", tiny)).warnings == []  # timestamp rounding: left alone


@pytest.mark.parametrize(("first", "second"), [((1, 20), (3, 25)), ((1, 6), (1, 3))])
def test_an_overlap_that_cannot_be_repaired_is_refused(tmp_path, first, second):
    utterances = [{"speaker": "agent", "text": "hello there", "start": first[0], "end": first[1]},
                  {"speaker": "agent", "text": "and again", "start": second[0], "end": second[1]}]
    message = _error(write_call(tmp_path / "c.json", utterances))
    assert "utterance 1 (agent)" in message and "overlapping times, more than the 5 s that can be repaired" in message


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_text_encodings_are_detected(tmp_path, encoding):
    from coach.review.pipeline import is_transcript

    document = {"call_id": "enc", "language": "zh", "utterances": [
        {"speaker": "agent", "text": "您好，请问是王先生吗", "start": 0, "end": 2},
        {"speaker": "debtor", "text": "是我", "start": 2.2, "end": 3}]}
    path = tmp_path / "call.json"
    path.write_bytes(json.dumps(document, ensure_ascii=False).encode(encoding))
    call = load_call(path)
    assert call.utterances[0].text == "您好，请问是王先生吗" and call.language == "zh"
    assert is_transcript(path) and is_transcript(path.rename(tmp_path / "call.wav"))


def test_audio_is_never_taken_for_text():
    from coach.review.pipeline import is_transcript
    from coach.transcript import text_encoding

    flac = EXAMPLES / "audio" / "en-short-call.flac"
    assert text_encoding(flac.read_bytes()[:4096]) is None and not is_transcript(flac)
    assert text_encoding(b"RIFF\x24\x00\x00\x00WAVEfmt ") is None


@pytest.mark.parametrize(("text", "written"), [
    ("hello this is sam from acme calling about your account", "en"),
    ("您好，这里是招商银行信用卡中心，请问是李明先生本人吗", "zh"),
    ("我的 credit card 这个月还不了, 能不能 delay 一下", None),  # code-switched: not clearly either
    ("hello sam", None),  # too little text to judge
])
def test_a_transcript_in_the_other_language_than_it_is_analysed_in_is_warned(tmp_path, text, written):
    """``language_mismatch`` when the words are clearly the other language, whether the file
    declares the wrong one or --language overrides it; never on mixed or scant text."""
    utterances = [{"speaker": "agent", "text": text, "start": 0, "end": 3}]
    for analysed, other in (("en", "zh"), ("zh", "en")):
        declared = load_call(write_call(tmp_path / f"{analysed}.json", utterances, language=analysed))
        overridden = load_call(write_call(tmp_path / f"{other}-as-{analysed}.json", utterances, language=other),
                               language=analysed)
        expected = ["language_mismatch"] if written not in (None, analysed) else []
        for call in (declared, overridden):
            assert call.language == analysed and [w.code for w in call.warnings] == expected
            if expected:
                name = {"en": "English", "zh": "Chinese"}[written]
                assert f"analyse it as {name} (--language {written})" in call.warnings[0].message


def test_metadata_fields_left_blank_are_not_given_and_oversized_metadata_is_refused():
    """A CRM field sent empty ("", as a telephony platform sends it) is no value; the rest is checked."""
    from pydantic import ValidationError

    from coach.transcript import MAX_METADATA_CHARS, CallMetadata

    blank = CallMetadata.model_validate({"balance": "", "local_time": "", "calls_last_7d": "", "note": ""})
    assert blank.balance is None and blank.local_time is None and blank.model_dump()["note"] == ""
    with pytest.raises(ValidationError, match="longer than"):
        CallMetadata.model_validate({"note": "x" * MAX_METADATA_CHARS})
    for wrong in ({"balance": float("inf")}, {"balance": -1}, {"local_time": "24:00"}):
        with pytest.raises(ValidationError):
            CallMetadata.model_validate(wrong)


@pytest.mark.parametrize("name", ["Caller", "callee"])
def test_a_speaker_name_that_could_be_either_party_is_refused_with_the_reason(tmp_path, name):
    """"caller" is the agent on an outbound call and the customer on an inbound one: guessing would put
    every line on the wrong side of the rules, so the transcript is refused and told how to say it."""
    path = tmp_path / "call.json"
    utterances = [{"speaker": "agent", "text": "hello", "start": 0.0, "end": 1.0},
                  {"speaker": name, "text": "who is this", "start": 1.2, "end": 1.8}]
    path.write_text(json.dumps({"call_id": "c", "language": "en", "utterances": utterances}), encoding="utf-8")
    message = _error(path)
    assert "could be either party" in message and "name it agent or debtor" in message
