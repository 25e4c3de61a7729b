"""The analyzer seam: a registry by name, one error boundary and one time budget per analyzer."""

from __future__ import annotations

import time

import pytest

from coach.analyzers.base import ANALYZERS, EVERYONE, Analyzer, analyzer_classes
from coach.errors import ConfigError
from coach.events import SentimentEvent
from coach.transcript import Utterance


def test_unknown_analyzer_names_the_known_ones():
    with pytest.raises(ConfigError, match="available: .*objections"):
        analyzer_classes(["objections", "no_such_head"])


def test_built_in_analyzers_run_in_order():
    names = [cls.name for cls in analyzer_classes(None)]
    assert names.index("dialogue_act") < names.index("objections") < names.index("tone") < names.index("compliance")
    assert set(names) <= set(ANALYZERS)


class _Shout(Analyzer):
    """A new analyzer written outside the engine: flags an utterance in capitals."""

    name = "shout"
    speakers = EVERYONE
    order = 99

    def analyze(self, turn, session):
        if turn.text.isupper():
            return [SentimentEvent(call_id=session.call_id, utterance_id=turn.uid, time=turn.time, speaker=turn.speaker,
                                   label="angry", valence=-0.5, confidence=0.9, evidence=["capitals"], method="shout")]
        return []


class _Slow(Analyzer):
    name = "slow"
    speakers = EVERYONE
    order = 98

    def analyze(self, turn, session):
        time.sleep(0.3)
        return [SentimentEvent(call_id=session.call_id, utterance_id=turn.uid, time=turn.time, speaker=turn.speaker,
                               label="calm", valence=0.0, confidence=0.5, method="slow")]


def test_a_new_analyzer_needs_no_engine_edit(en_engine, monkeypatch):
    monkeypatch.setattr(en_engine, "analyzers", en_engine.analyzers + [_Shout(en_engine)])
    session = en_engine.session("shout")
    events = session.process(Utterance(speaker="debtor", text="I SAID NO", start=0, end=1))
    assert any(e.type == "sentiment" and e.method == "shout" for e in events)


def test_an_analyzer_over_its_budget_is_dropped_and_the_call_goes_on(en_engine, monkeypatch):
    monkeypatch.setattr(en_engine, "analyzers", en_engine.analyzers + [_Slow(en_engine)])
    monkeypatch.setattr(en_engine, "analyzer_budget", 0.2)
    session = en_engine.session("slow")
    events = session.process(Utterance(speaker="debtor", text="i lost my job and cant pay", start=0, end=1))
    errors = [e for e in events if e.type == "error"]
    assert len(errors) == 1 and errors[0].code == "analyzer_failed" and "slow" in errors[0].message
    assert not any(e.type == "sentiment" and e.method == "slow" for e in events)
    assert any(e.type == "intent" for e in events)  # the others still answered
    assert session.finish()[-1].type == "scorecard"
