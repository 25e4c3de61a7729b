"""Every model loading path, with tiny random models built locally, and fail-fast offline."""

from __future__ import annotations

import time

import pytest

from coach.config import Settings
from coach.embeddings import load_embedder
from coach.engine import CoachEngine
from coach.errors import ModelUnavailableError
from coach.models import resolve_model_path
from coach.playbook import load_playbook
from coach.transcript import Utterance


def test_bundled_minilm_resolves():
    assert resolve_model_path("all-MiniLM-L6-v2", allow_downloads=False)


def test_hub_name_offline_fails_fast():
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError, match="downloads are off"):
        load_embedder("BAAI/bge-small-zh-v1.5")
    assert time.monotonic() - started < 5


def test_missing_local_path():
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        load_embedder("/nonexistent/model")


def test_empty_name_means_lexical_only():
    assert load_embedder("") is None and load_embedder("none") is None


def test_broken_model_folder(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelUnavailableError, match="cannot load"):
        load_embedder(str(tmp_path))


def test_configured_chinese_embedder_is_used(tiny_models, small_zh_book):
    settings = Settings(embedding_model_zh=str(tiny_models["embedder"]))
    engine = CoachEngine(small_zh_book, settings)
    assert engine.space.embedder is not None and engine.space.method.startswith("dense:")
    events = engine.session("z").process(Utterance(speaker="debtor", text="我现在没有钱还", start=0, end=1))
    assert events[0].type == "utterance" and any(e.type == "sentiment" for e in events)


def test_configured_nli_and_sentiment_models(tiny_models):
    settings = Settings(nli_model=str(tiny_models["nli"]), sentiment_model_zh=str(tiny_models["sentiment"]))
    engine = CoachEngine(load_playbook("zh-CN-bank-collections"), settings)
    assert engine.detector.nli is not None and engine.sentiment.model is not None
    scores = engine.detector.nli.score("我没有钱")
    assert set(scores) == {i.id for i in load_playbook("zh-CN-bank-collections").intents}
    assert abs(sum(scores.values()) - 1) < 1e-5
    result = engine.sentiment.analyze(engine.space.encode(["我没有钱"]))
    assert -1 <= result.valence <= 1 and result.method.startswith("model:")


def test_classifier_without_entailment_label_is_rejected(tiny_models):
    from coach.analyzers.nli import ZeroShotScorer
    from coach.errors import ConfigError

    with pytest.raises(ConfigError, match="entailment"):
        ZeroShotScorer(str(tiny_models["sentiment"]), "zh", ["cannot_afford"])
