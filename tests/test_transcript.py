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
