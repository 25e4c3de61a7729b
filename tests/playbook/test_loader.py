"""Playbooks: the shipped ones validate, and a trainer's mistakes are reported with file and field."""

from __future__ import annotations

import copy
import os

import pytest

from coach.errors import PlaybookError
from coach.playbook import builtin_playbooks, load_playbook
from coach.playbook.schema import EMOTIONS, STANDARD_INTENTS
from tests import yaml_io

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
    return yaml_io.shipped_playbook("en-US-collections")


def _write(tmp_path, data, name="book.yaml"):
    path = tmp_path / name
    path.write_text(yaml_io.dump(data, allow_unicode=True))
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


def test_a_key_given_twice_is_refused_with_its_line(tmp_path, valid_data):
    """YAML keeps the last of two equal keys: a second ``unless:`` would drop the first's patterns."""
    text = yaml_io.dump(valid_data, allow_unicode=True, sort_keys=False)
    text = text.replace("\nversion:", "\nversion: '0'\nversion:", 1)
    path = tmp_path / "twice.yaml"
    path.write_text(text, encoding="utf-8")
    message = _error(path)
    assert "twice.yaml" in message and "'version' is given twice" in message and "line" in message


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
    assert "rules.0.trigger.patterns.0: not a valid regular expression" in message
    assert "(unclosed" not in message  # errors name the field, never quote the file


def test_catastrophic_regex_is_refused_with_file_field_and_reason(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["rules"][12]["trigger"]["unless"] = [r"\b(a|aa)*$"]
    data["rules"][12]["trigger"]["ignore"] = [r"(x+)+y"]
    data["stages"][0]["cues"]["patterns"] = [r"(\w+\s?)+$"]
    message = _error(_write(tmp_path, data))
    assert "book.yaml" in message
    assert "rules.12.trigger.unless.0: can backtrack catastrophically: overlapping alternatives" in message
    assert "rules.12.trigger.ignore.0: can backtrack catastrophically: nested quantifiers" in message
    assert "stages.0.cues.patterns.0: can backtrack catastrophically: nested quantifiers" in message


def test_a_trigger_that_matches_everything_or_nothing_is_refused(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    rule = next(i for i, r in enumerate(data["rules"]) if r["kind"] == "prohibited")
    data["rules"][rule]["trigger"] = {"phrases": ["!!!", "   "], "patterns": ["(debt)?"]}
    message = _error(_write(tmp_path, data))
    assert f"rules.{rule}.trigger.phrases.1: is empty" in message
    assert f"rules.{rule}.trigger.patterns.0: matches the empty string" in message
    data["rules"][rule]["trigger"] = {"phrases": ["!!!"]}
    assert f"rules.{rule}.trigger.phrases.0: nothing is left of it after normalisation" in _error(_write(tmp_path, data))
    data["rules"][rule]["trigger"] = {}
    assert f"rules.{rule}: a prohibited rule needs a trigger" in _error(_write(tmp_path, data))


@pytest.mark.parametrize("field", ["small_talk_agent_examples", "praise_agent_examples"])
def test_a_blank_or_non_text_small_talk_or_praise_line_is_refused(tmp_path, valid_data, field):
    data = copy.deepcopy(valid_data)
    data[field] = ["how's the weather over there", "   "]
    assert f"{field}.1: is empty" in _error(_write(tmp_path, data))
    data[field] = [123]
    assert f"{field}.0: Input should be a valid string" in _error(_write(tmp_path, data))


def test_repeated_examples_count_once(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    examples = data["intents"][2]["examples"][:14]
    data["intents"][2]["examples"] = examples + [examples[0].upper() + "!", " " + examples[1]]
    message = _error(_write(tmp_path, data))
    assert "intents.2.examples: 14 distinct examples after normalisation (2 repeat others" in message
    assert "at least 15" in message


def test_a_file_that_is_not_a_playbook_is_never_quoted(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\nalice:secret-hash:1000:1000::/home/alice:/bin/sh\n")
    message = _error(secret)
    assert "not a playbook" in message and "root" not in message.replace(str(tmp_path), "")
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nname: [top-secret-value\n")
    message = _error(broken)
    assert "line" in message and "top-secret-value" not in message
    binary = tmp_path / "blob.yaml"
    binary.write_bytes(b"\x00\x01secret")
    assert "binary" in _error(binary)


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


def test_lawful_examples_belong_to_duty_rules(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    rule = next(r for r in data["rules"] if r["kind"] == "prohibited")
    rule["lawful_examples"] = ["nobody is going to arrest you over this"]
    assert "lawful_examples belong to duty rules only" in _error(_write(tmp_path, data))


def test_words_for_after_a_death_belong_to_third_party_rules(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    rule = next(r for r in data["rules"] if r["kind"] == "prohibited" and r.get("before") != "identity_verified")
    rule["after_death"] = {"patterns": ["sorry for your loss"]}
    assert "after_death belongs to rules with before: identity_verified" in _error(_write(tmp_path, data))


def test_acknowledged_words_belong_to_duty_rules(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    rule = next(r for r in data["rules"] if r["kind"] == "prohibited")
    rule["acknowledged"] = {"patterns": ["you asked us to stop"]}
    assert "acknowledged belongs to duty rules" in _error(_write(tmp_path, data))
    duty = next(r for r in data["rules"] if r["kind"] == "duty")
    rule["acknowledged"] = None
    duty["acknowledged"] = {"phrases": ["!!!"]}
    where = f"rules.{data['rules'].index(duty)}.acknowledged.phrases.0"
    assert f"{where}: nothing is left of it after normalisation" in _error(_write(tmp_path, data))


def test_anytime_words_belong_to_rules_that_wait_for_something(tmp_path, valid_data):
    """A duty waits for the debtor, a prohibited rule with when_metadata or a metadata rule for the
    call's metadata, a required rule for its deadline; any other rule's trigger already holds at any time."""
    data = copy.deepcopy(valid_data)
    rule = next(r for r in data["rules"] if r["kind"] == "prohibited" and not r.get("when_metadata"))
    rule["anytime"] = {"phrases": ["ignore the letter"]}
    message = _error(_write(tmp_path, data))
    assert "anytime belongs to duty, amount, metadata and required rules and prohibited rules with when_metadata" in message
    assert f"rules.{data['rules'].index(rule)}" in message
    rule["when_metadata"] = {"consent_recorded": False}  # a silent call meets it: the words could never count
    assert "anytime belongs to duty, amount, metadata and required rules" in _error(_write(tmp_path, data))
    rule["when_metadata"] = {"time_barred": True}
    assert load_playbook(_write(tmp_path, data)).rules[data["rules"].index(rule)].anytime.phrases == ["ignore the letter"]


def test_anytime_words_cannot_be_empty(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    rule = next(r for r in data["rules"] if r["kind"] == "duty")
    rule["anytime"] = {"unless": ["nothing"]}
    assert "anytime needs phrases, patterns or examples" in _error(_write(tmp_path, data))


def test_a_playbook_with_a_long_file_name_loads(tmp_path, valid_data):
    """The validated copy is cached under a hash of the path, never the file's own name (255 bytes at most)."""
    assert load_playbook(_write(tmp_path, valid_data, name="催收" * 40 + ".yaml")).id == valid_data["id"]
    undecodable = os.fsdecode(b"book-\xff.yaml")  # a Linux file name that is not UTF-8
    assert load_playbook(_write(tmp_path, valid_data, name=undecodable)).id == valid_data["id"]


def test_bad_severity(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["rules"][0]["severity"] = "S9"
    assert "rules.0.severity" in _error(_write(tmp_path, data))


def test_unknown_emotion_label(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["emotions"][0]["id"] = "grumpy"
    assert "emotions.0.id" in _error(_write(tmp_path, data))


def test_calibration_example_with_an_unknown_intent_is_refused(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["calibration_examples"][3]["intent"] = "already_payed"
    assert "calibration_examples.3.intent: unknown intent 'already_payed'" in _error(_write(tmp_path, data))


def test_an_intent_outranks_only_other_known_intents_and_not_in_a_circle(tmp_path, valid_data):
    """``outranks`` names intents of the playbook; intents that outrank each other, directly or round a
    circle, would leave the top hint to whichever the classifier read first: refused, the circle named."""
    data = copy.deepcopy(valid_data)
    ids = [intent["id"] for intent in data["intents"]]
    data["intents"][0]["outranks"] = ["stop_caling"]
    data["intents"][1]["outranks"] = [ids[1]]
    message = _error(_write(tmp_path, data))
    assert "intents.0.outranks: unknown intent 'stop_caling'" in message
    assert f"intents.1.outranks: {ids[1]} > {ids[1]}" in message
    data["intents"][0]["outranks"] = [ids[1]]
    data["intents"][1]["outranks"] = [ids[2]]
    data["intents"][2]["outranks"] = [ids[0]]
    assert f"intents.0.outranks: {ids[0]} > {ids[1]} > {ids[2]} > {ids[0]}" in _error(_write(tmp_path, data))


def test_consent_lifts_only_a_duty(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    index, rule = next((i, r) for i, r in enumerate(data["rules"]) if r["kind"] != "duty")
    rule["released_by_consent"] = True
    assert f"rules.{index}.released_by_consent: only duty rules" in _error(_write(tmp_path, data))


def test_consent_examples_too_few_to_learn_are_refused(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    data["consent"] = {"offers": ["want me to go over the options"] * 5, "not_offers": ["pay now"] * 5,
                       "agreed": ["sure"] * 5, "declined": ["no"]}
    assert "consent.declined" in _error(_write(tmp_path, data))


def test_shipped_playbooks_carry_calibration_examples_for_every_intent():
    for playbook_id in SHIPPED:
        book = load_playbook(playbook_id)
        labelled = {e.intent for e in book.calibration_examples}
        assert labelled == {i.id for i in book.intents} | {"none"}


def test_a_validated_playbook_is_read_from_the_cache_until_its_bytes_change(tmp_path, valid_data, monkeypatch):
    """Validation takes most of a second at each start; the same bytes validated by the same code come
    from the cache. An edit is validated again (an invalid one rejected), a corrupt cache file rebuilt."""
    import coach.config
    from coach.config import Settings
    from coach.playbook import loader

    monkeypatch.setattr(coach.config, "get_settings", lambda: Settings(cache_dir=tmp_path / "cache"))
    path = _write(tmp_path, valid_data)
    first = load_playbook(path)
    [stored] = (tmp_path / "cache" / "engines").glob("validated-*@*.pkl")

    def refuse(*_):
        raise AssertionError("validated again")

    with monkeypatch.context() as patched:
        patched.setattr(loader, "parse_playbook", refuse)
        loader._load.cache_clear()
        assert load_playbook(path) == first

    data = copy.deepcopy(valid_data)
    data["rules"][0]["severity"] = "S9"
    _write(tmp_path, data)
    loader._load.cache_clear()
    assert "S9" in _error(path) or "severity" in _error(path)

    _write(tmp_path, valid_data)
    stored.write_bytes(b"not a pickle")
    loader._load.cache_clear()
    assert load_playbook(path) == first
    assert stored.read_bytes() != b"not a pickle"


def test_validated_copies_of_many_files_do_not_fill_the_cache(tmp_path, valid_data, monkeypatch):
    """One cached copy per playbook path: a user trying many files (or a test run's temporary
    folders) leaves at most the newest few behind, and the engines' files stay."""
    import coach.config
    from coach import engine_cache
    from coach.config import Settings

    monkeypatch.setattr(coach.config, "get_settings", lambda: Settings(cache_dir=tmp_path / "cache"))
    monkeypatch.setattr(engine_cache, "KEEP_PER_FAMILY", 3)
    engines = tmp_path / "cache" / "engines"
    engines.mkdir(parents=True)
    (engines / "book@0123.pkl").write_bytes(b"a fitted engine")
    for n in range(6):
        folder = tmp_path / f"copy{n}"
        folder.mkdir()
        assert load_playbook(_write(folder, valid_data)).id == valid_data["id"]
    assert len(list(engines.glob("validated-*@*.pkl"))) == 3
    assert (engines / "book@0123.pkl").exists()


def test_a_playbook_cut_short_is_refused_not_read_as_one_without_rules(tmp_path):
    """Half of a playbook still parses as YAML: without this check it loaded with two emotions, no
    rules and no scorecard, and every call reviewed with it read as compliant, with no score."""
    from coach.resources import data_dir

    text = (data_dir("playbooks") / "zh-CN-bank-collections.yaml").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    cut = next(n for n, line in enumerate(lines) if line.startswith("emotions:")) + 400  # inside the emotions
    half = tmp_path / "half-book.yaml"
    half.write_text("".join(lines[:cut]).replace("id: zh-CN-bank-collections", "id: half-book", 1), encoding="utf-8")
    assert isinstance(yaml_io.load(half.read_text(encoding="utf-8")), dict)
    error = _error(half)
    assert "emotions: missing" in error and "rules: none" in error and "scorecard: none" in error
    with pytest.raises(PlaybookError) as info:  # one problem a field, each message whole
        load_playbook(half)
    fields = [field for field, _ in info.value.problems]
    assert fields.count("emotions") == 1 and "(top level)" not in fields
    assert all(message.count("(") == message.count(")") for _, message in info.value.problems)


def test_a_scorecard_check_applies_only_after_known_intents(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    index, check = next((i, c) for i, c in enumerate(data["scorecard"]) if c["id"] == "payment_plan")
    check["applies"]["unless_intents"].append("talk_to_my_lawyer")
    check["applies"]["resumed_by_intents"].append("pays_later")
    message = _error(_write(tmp_path, data))
    assert f"scorecard.{index}.applies.unless_intents: unknown intent 'talk_to_my_lawyer'" in message
    assert f"scorecard.{index}.applies.resumed_by_intents: unknown intent 'pays_later'" in message


def test_a_misspelt_applicability_is_refused(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    index, check = next((i, c) for i, c in enumerate(data["scorecard"]) if c["id"] == "recap")
    check["applies"] = {"promis": True}
    message = _error(_write(tmp_path, data))
    assert f"scorecard.{index}.applies.promis" in message


def test_an_introduction_check_needs_both_the_name_and_the_company(tmp_path, valid_data):
    data = copy.deepcopy(valid_data)
    index, check = next((i, c) for i, c in enumerate(data["scorecard"]) if c["id"] == "greeting")
    assert check["kind"] == "introduction"
    del check["company"]
    message = _error(_write(tmp_path, data))
    assert f"scorecard.{index}" in message and "needs cues (the agent's name) and company" in message
