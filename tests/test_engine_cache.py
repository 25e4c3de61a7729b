"""The fitted engine is cached on disk: a second start loads it, and a corrupt, stale or foreign file
is rebuilt, never trusted."""

from __future__ import annotations

import logging
import pickle

import pytest

from coach import engine_cache
from coach.analyzers import intent as intent_module
from coach.config import Settings
from coach.engine import CoachEngine
from coach.playbook import load_playbook


@pytest.fixture(scope="module")
def small_book(small_zh_book):
    return small_zh_book


def _settings(tmp_path) -> Settings:
    return Settings(cache_dir=tmp_path, embedding_model_zh="none")


def _cached_files(tmp_path):
    return sorted((tmp_path / "engines").glob("*.pkl"))


def _top(engine, text):
    result = engine.detector.detect(engine.space.encode([text]))
    return None if result is None else result.intent


def test_a_second_start_loads_the_fit(small_book, tmp_path, monkeypatch):
    first = CoachEngine(small_book, _settings(tmp_path))
    assert len(_cached_files(tmp_path)) == 1

    def no_fitting(*args, **kwargs):
        raise AssertionError("fitted again instead of loading the cache")

    monkeypatch.setattr(intent_module.ObjectionDetector, "__init__", no_fitting)
    second = CoachEngine(small_book, _settings(tmp_path))
    for text in ("别再给我打电话了", "我已经还清了", "好的"):
        assert _top(second, text) == _top(first, text)
    assert [a.name for a in second.analyzers] == [a.name for a in first.analyzers]


def test_a_corrupt_cache_file_is_rebuilt(small_book, tmp_path, caplog):
    CoachEngine(small_book, _settings(tmp_path))
    (path,) = _cached_files(tmp_path)
    path.write_bytes(b"not a pickle at all")
    with caplog.at_level(logging.WARNING, logger="coach.engine_cache"):
        engine = CoachEngine(small_book, _settings(tmp_path))
    assert "not usable" in caplog.text and _top(engine, "别再给我打电话了") == "stop_calling"
    stored = pickle.loads(path.read_bytes())
    assert isinstance(stored, dict) and "parts" in stored


def test_a_file_stored_under_another_key_is_not_trusted(small_book, tmp_path):
    key = engine_cache.cache_key(small_book, None, ["objections"])
    path = tmp_path / "engines" / f"small-zh@{key[:24]}.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(pickle.dumps({"key": "someone else's", "parts": {}}))
    assert engine_cache.load(tmp_path, "small-zh", key) is None


def test_the_key_follows_the_playbook_and_the_analyzers(small_book):
    changed = small_book.model_copy(update={"version": small_book.version + ".1"})
    key = engine_cache.cache_key(small_book, None, ["objections"])
    assert engine_cache.cache_key(changed, None, ["objections"]) != key
    assert engine_cache.cache_key(small_book, None, ["objections", "tone"]) != key
    assert engine_cache.cache_key(small_book, None, ["objections"]) == key


def test_an_unwritable_cache_only_means_fitting_again(small_book, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    engine = CoachEngine(small_book, _settings(blocker / "cache"))  # a folder under a file cannot exist
    assert _top(engine, "别再给我打电话了") == "stop_calling"


def test_the_key_follows_the_fitting_code_not_the_speech_or_storage_code(tmp_path, monkeypatch):
    """Editing an analyzer refits; editing the speech front end or the command line keeps the fit."""
    package = tmp_path / "coach"
    for relative in ("engine.py", "analyzers/intent.py", "audio/streaming.py", "cli.py"):
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text("# v1\n")
    monkeypatch.setattr(engine_cache, "__file__", str(package / "engine_cache.py"))

    def digest() -> str:
        engine_cache._code_digest.cache_clear()
        return engine_cache._code_digest()

    base = digest()
    (package / "audio/streaming.py").write_text("# v2\n")
    (package / "cli.py").write_text("# v2\n")
    assert digest() == base
    (package / "analyzers/intent.py").write_text("# v2\n")
    assert digest() != base
    engine_cache._code_digest.cache_clear()


def test_a_few_configurations_of_one_playbook_keep_their_fits(tmp_path):
    """A benchmark with another embedder must not evict the default fit; the folder stays bounded."""
    import os

    for index in range(engine_cache.KEEP_PER_PLAYBOOK + 2):
        engine_cache.store(tmp_path, "book", str(index) * 64, {"n": index})
        for path in _cached_files(tmp_path):  # one write a second, as far as the clock can tell
            if path.name.startswith(f"book@{index}"):
                os.utime(path, (1_000_000 + index, 1_000_000 + index))
    assert len(_cached_files(tmp_path)) == engine_cache.KEEP_PER_PLAYBOOK
    newest = engine_cache.KEEP_PER_PLAYBOOK + 1
    assert engine_cache.load(tmp_path, "book", str(newest) * 64) == {"n": newest}
    assert engine_cache.load(tmp_path, "book", str(newest - 2) * 64) == {"n": newest - 2}
    assert engine_cache.load(tmp_path, "book", "0" * 64) is None


LOAD_AND_JUDGE = """
import sys
from coach.engine import get_engine
from coach.transcript import Utterance

for playbook, lines in (("en-US-collections", ["i already paid this you idiot", "pay today or we come to your house"]),
                        ("zh-CN-bank-collections", ["我上个月已经还了", "不还钱就让你坐牢"])):
    session = get_engine(playbook).session("t", metadata={})
    session.start()
    for index, (speaker, text) in enumerate(zip(("debtor", "agent"), lines)):
        session.process(Utterance(speaker=speaker, text=text, start=2.0 * index, end=2.0 * index + 1.5))
    session.finish()
print(sorted({name.split(".")[0] for name in sys.modules} & {"sklearn", "profanity_check", "torch", "pandas"}))
"""


def test_a_cached_engine_loads_and_judges_without_scikit_learn(en_engine, zh_engine):
    """Importing scikit-learn (with the SciPy and pandas modules it pulls in) was a third of every
    cached `coach analyze` start on a 2-core machine: it fits the engine; loading a fit and judging
    a call, offensive language included, needs none of it, nor PyTorch."""
    import subprocess
    import sys

    from conftest import ROOT

    result = subprocess.run([sys.executable, "-c", LOAD_AND_JUDGE], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
