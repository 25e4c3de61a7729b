"""Shared fixtures: real engines (MiniLM for English, lexical Chinese) built once per test session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def en_engine():
    from coach.engine import get_engine

    return get_engine("en-US-collections")


@pytest.fixture(scope="session")
def zh_engine():
    from coach.engine import get_engine

    return get_engine("zh-CN-bank-collections")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Tiny random models built locally: a Chinese-vocabulary sentence embedder, an NLI classifier
    and a sentiment classifier."""
    import tiny_models

    base = tmp_path_factory.mktemp("tiny-models")
    return {
        "embedder": tiny_models.build_sentence_transformer(base / "embedder"),
        "nli": tiny_models.build_classifier(base / "nli", ["entailment", "neutral", "contradiction"]),
        "sentiment": tiny_models.build_classifier(base / "sentiment", ["negative", "positive"]),
    }


def run_call(engine, utterances, call_id="t", metadata=None):
    """Feed ``(speaker, text)`` pairs (2.5 s apart) through a session; return all events."""
    from coach.transcript import Utterance

    session = engine.session(call_id, metadata=metadata or {})
    events = list(session.start())
    clock = 0.0
    for speaker, text in utterances:
        duration = max(1.0, len(text) / 12)
        events += session.process(Utterance(speaker=speaker, text=text, start=clock, end=clock + duration))
        clock += duration + 0.5
    events += session.finish()
    return events


def of_type(events, kind):
    return [e for e in events if e.type == kind]


def write_call(path: Path, utterances, language="en", **extra) -> Path:
    path.write_text(json.dumps({"call_id": path.stem, "language": language, "utterances": utterances, **extra}), encoding="utf-8")
    return path
