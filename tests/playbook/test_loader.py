"""Playbooks: the shipped ones validate, and a trainer's mistakes are reported with file and field."""

from __future__ import annotations

import copy

import pytest
import yaml

from coach.errors import PlaybookError
from coach.playbook import builtin_playbooks, load_playbook
from coach.playbook.schema import EMOTIONS, STANDARD_INTENTS

SHIPPED = ["en-US-collections", "zh-CN-bank-collections"]


@pytest.mark.parametrize("playbook_id", SHIPPED)
def test_shipped_playbooks_cover_the_taxonomy(playbook_id):
    book = load_playbook(playbook_id)
    assert {i.id for i in book.intents} >= set(STANDARD_INTENTS)
    assert {e.id for e in book.emotions} == set(EMOTIONS)
    assert all(len(i.examples) >= 15 and i.responses for i in book.intents)
    assert [s.id for s in book.stages][:2] == ["opening", "identity_verification"]
    assert book.identity_stage is not None


def test_shipped_rules_use_the_fixed_ids():
    us = {r.id for r in load_playbook("en-US-collections").rules}
    cn = {r.id for r in load_playbook("zh-CN-bank-collections").rules}
    assert {"US-TIME", "US-ATTY", "US-BANKRUPTCY", "US-3P", "US-CEASE", "US-FREQ", "US-ABUSE", "US-MINI", "US-IMPERS",
            "US-THREAT", "US-AMT", "US-TBD", "US-DISPUTE", "US-DECEASED", "US-TCPA"} <= us
    assert {"CN-HOURS", "CN-FREQ", "CN-3P", "CN-PRIV", "CN-IMPERS", "CN-ABUSE", "CN-MISLEAD", "CN-CHANNEL",
            "CN-DISPUTE", "CN-ESTATE"} <= cn


def test_builtins_listed():
    assert set(SHIPPED) <= set(builtin_playbooks())


@pytest.fixture
def valid_data():
    return yaml.safe_load(builtin_playbooks()["en-US-collections"].read_text())


def _write(tmp_path, data, name="book.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _error(path) -> str:
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    return str(info.value)


def test_copy_of_shipped_playbook_loads_from_path(tmp_path, valid_data):
    assert load_playbook(_write(tmp_path, valid_data)).id == "en-US-collections"


def test_unknown_id_lists_builtins():
    message = _error("no-such-playbook")
    assert "unknown playbook" in message and "en-US-collections" in message


def test_missing_file(tmp_path):
    assert "not found" in _error(tmp_path / "missing.yaml")


def test_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nintents:\n  - id: [unclosed\n")
    message = _error(path)
    assert "broken.yaml" in message and "line" in message


def test_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    assert "mapping" in _error(path)


def test_too_few_examples_names_field(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["intents"][3]["examples"] = data["intents"][3]["examples"][:5]
    message = _error(_write(tmp_path, data))
    assert "intents.3.examples" in message and "15" in message


def test_typo_in_key_is_rejected(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["intents"][0]["exmaples"] = ["x"]
    assert "intents.0.exmaples" in _error(_write(tmp_path, data))


def test_bad_regex_names_pattern(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["rules"][0]["trigger"] = {"patterns": ["(unclosed"]}
    data["rules"][0]["kind"] = "prohibited"
    data["rules"][0].pop("metadata_check", None)
    message = _error(_write(tmp_path, data))
    assert "rules.0.trigger.patterns" in message and "(unclosed" in message


def test_unknown_stage_reference(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["intents"][0]["responses"][0]["stage"] = "haggling"
    assert "unknown stage 'haggling'" in _error(_write(tmp_path, data))


def test_duplicate_intent(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["intents"].append(copy.deepcopy(data["intents"][0]))
    assert "duplicate id" in _error(_write(tmp_path, data))


def test_rule_kind_needs_its_fields(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    rule = next(r for r in data["rules"] if r["kind"] == "required")
    del rule["within_seconds"]
    assert "within_seconds" in _error(_write(tmp_path, data))


def test_bad_severity(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["rules"][0]["severity"] = "S9"
    assert "rules.0.severity" in _error(_write(tmp_path, data))


def test_unknown_emotion_label(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["emotions"][0]["id"] = "grumpy"
    assert "emotions.0.id" in _error(_write(tmp_path, data))
