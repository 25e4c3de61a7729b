"""The engine on whole calls: the bundled samples, the event contract, and failure isolation."""

from __future__ import annotations

import pytest

from coach.errors import InputError
from coach.events import parse_event
from coach.transcript import Utterance, load_call
from conftest import EXAMPLES, of_type


def _events(engine, name):
    return list(engine.analyze(load_call(EXAMPLES / name)))


def test_english_violations_call(en_engine):
    events = _events(en_engine, "en-violations.json")
    rules = {e.rule_id for e in of_type(events, "compliance")}
    assert {"US-TIME", "US-FREQ", "US-3P", "US-THREAT", "US-IMPERS", "US-ABUSE", "US-CEASE", "US-ATTY", "US-AMT", "US-MINI"} <= rules
    intents = {e.intent for e in of_type(events, "intent")}
    assert {"wrong_party", "stop_calling", "legal_representation", "hostile"} <= intents
    scorecard = of_type(events, "scorecard")[0]
    assert scorecard.score < 40


def test_english_hardship_call(en_engine):
    events = _events(en_engine, "en-hardship.json")
    intents = {e.intent for e in of_type(events, "intent")}
    assert {"cannot_afford", "hardship", "dispute_amount", "stalling", "settlement_request"} <= intents
    # the agent records the dispute, then asks whether to go over the hardship options now or once the
    # statement has come; the debtor says to go on: a good call, no violation at all
    assert not of_type(events, "compliance")
    assert of_type(events, "scorecard")[0].score >= 80


def test_english_cooperative_call(en_engine):
    events = _events(en_engine, "en-cooperative.json")
    assert "promise_to_pay" in {e.intent for e in of_type(events, "intent")}
    assert not of_type(events, "compliance")
    assert of_type(events, "scorecard")[0].score >= 90


def test_chinese_violations_call(zh_engine):
    events = _events(zh_engine, "zh-violations.json")
    rules = {e.rule_id for e in of_type(events, "compliance")}
    assert {"CN-HOURS", "CN-FREQ", "CN-3P", "CN-MISLEAD", "CN-IMPERS", "CN-PRIV", "CN-CHANNEL", "CN-ABUSE", "CN-ESTATE"} <= rules
    assert of_type(events, "scorecard")[0].score < 40


def test_chinese_hardship_call(zh_engine):
    events = _events(zh_engine, "zh-hardship.json")
    intents = {e.intent for e in of_type(events, "intent")}
    assert {"cannot_afford", "hardship", "dispute_amount", "settlement_request"} <= intents
    assert not of_type(events, "compliance")


def test_chinese_cooperative_call(zh_engine):
    events = _events(zh_engine, "zh-cooperative.json")
    assert "promise_to_pay" in {e.intent for e in of_type(events, "intent")}
    assert of_type(events, "scorecard")[0].score >= 90


def test_event_contract(en_engine):
    events = _events(en_engine, "en-hardship.json")
    for event in events:
        data = event.model_dump(mode="json")
        assert {"type", "call_id", "utterance_id"} <= set(data)
        assert parse_event(event.to_json()) == event
    intent = of_type(events, "intent")[0]
    assert intent.suggestions and all(s.ref.startswith("en-US-collections@1.0.0#intents/") for s in intent.suggestions)
    assert intent.evidence and 0 < intent.confidence <= 1
    utterance_ids = [e.utterance_id for e in of_type(events, "utterance")]
    assert utterance_ids == list(range(len(utterance_ids)))
    assert events[-1].type == "scorecard"


def test_suggestions_follow_the_stage(en_engine):
    session = en_engine.session("s")
    session.process(Utterance(speaker="agent", text="lets talk about a payment plan that works for your budget", start=0, end=3))
    events = session.process(Utterance(speaker="debtor", text="i honestly dont have any money right now", start=3, end=5))
    intent = of_type(events, "intent")[0]
    assert intent.intent == "cannot_afford"
    assert {s.stage for s in intent.suggestions} <= {"negotiation", "any"}


@pytest.mark.parametrize(("engine_name", "illness", "cue", "crisis_line"), [
    ("en", "my wife is in the hospital with pneumonia and i had to take unpaid leave",
     "since the layoff i honestly dont want to be alive anymore", "988"),
    ("zh", "我爸住院做手术了 我这个月工资全垫进去了", "家里出了这么多事 我真是活不下去了", "12356"),
])
def test_the_crisis_script_comes_only_with_a_self_harm_cue_and_then_first(request, engine_name, illness, cue, crisis_line):
    """An illness or a lost job gets the hardship scripts; the crisis line is read only to a debtor who
    says they may hurt themselves, and then before anything else."""
    engine = request.getfixturevalue(f"{engine_name}_engine")
    hardship = [e for e in of_type(engine.session("ill").process(Utterance(speaker="debtor", text=illness, start=0, end=3)), "intent")]
    assert hardship and hardship[0].intent == "hardship"
    assert hardship[0].suggestions and not any(crisis_line in s.text for s in hardship[0].suggestions)
    heard = of_type(engine.session("cue").process(Utterance(speaker="debtor", text=cue, start=0, end=3)), "intent")
    assert heard and heard[0].intent == "hardship" and crisis_line in heard[0].suggestions[0].text


def test_an_analyzer_failure_becomes_an_error_event(en_engine, monkeypatch):
    session = en_engine.session("boom")

    def broken(*args, **kwargs):
        raise RuntimeError("model crashed")

    monkeypatch.setattr(en_engine.detector, "detect", broken)
    events = session.process(Utterance(speaker="debtor", text="i cant pay", start=0, end=1))
    # the objection head failed; the emotion head still answers
    assert [e.type for e in events] == ["utterance", "sentiment", "error"]
    assert events[2].code == "analyzer_failed" and "objections: model crashed" in events[2].message
    monkeypatch.undo()
    after = session.process(Utterance(speaker="debtor", text="i really cant pay anything", start=1, end=2))
    assert after[0].utterance_id == 1 and of_type(after, "intent")
    assert session.finish()[-1].type == "scorecard"


def test_language_mismatch(en_engine):
    with pytest.raises(InputError, match="playbook"):
        list(en_engine.analyze(load_call(EXAMPLES / "zh-hardship.json")))


def test_empty_text_is_kept_but_not_analyzed(en_engine):
    session = en_engine.session("e")
    events = session.process(Utterance(speaker="debtor", text="   ", start=0, end=1))
    assert [e.type for e in events] == ["utterance"]


def test_blas_is_held_to_the_engine_thread_count(en_engine):
    """OpenBLAS's spare threads spin on the core the second embedding view and speech need."""
    from threadpoolctl import threadpool_info

    from coach.config import get_settings

    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == get_settings().torch_threads for pool in blas)


def test_one_engine_per_playbook_kept_while_its_playbook_is_the_same(monkeypatch, tmp_path):
    """The engine of a playbook read again (its parsed copy let go: an attack helper made that happen
    on every listing with 34 playbooks installed) is the engine already built, not a new one kept
    beside it forever; an edited playbook's replaces it. Engines faked: only the keeping is tested."""
    import os

    from coach import engine as module
    from coach.playbook import loader
    from tests import yaml_io

    built = []

    class Built:
        def __init__(self, playbook, settings=None) -> None:
            self.playbook = playbook
            built.append(self)

    monkeypatch.setattr(module, "CoachEngine", Built)
    monkeypatch.setattr(module, "_ENGINES", {})
    path = tmp_path / "own.yaml"
    data = yaml_io.shipped_playbook("en-US-collections")
    path.write_text(yaml_io.dump({**data, "id": "own"}, allow_unicode=True), encoding="utf-8")
    first = module.get_engine(str(path))
    loader._load.cache_clear()
    assert module.get_engine(str(path)) is first and len(built) == 1
    path.write_text(yaml_io.dump({**data, "id": "own", "version": "9.9.9"}, allow_unicode=True), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    second = module.get_engine(str(path))
    assert second is not first and second.playbook.version == "9.9.9" and module._ENGINES == {str(path): second}
