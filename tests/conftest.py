"""Shared fixtures: real engines (MiniLM for English, lexical Chinese) built once per test session."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Tests never touch the user's stored calls: each session gets a throwaway data folder and database.
os.environ["COACH_DATA_DIR"] = tempfile.mkdtemp(prefix="coach-test-data-")
os.environ.pop("COACH_DATABASE_URL", None)
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


#: Turns that verify the right party, so that an agent line after them is judged as said to the debtor.
VERIFY_EN = [("agent", "hi this is sam from crestline am i speaking with dana reyes"), ("debtor", "yes speaking")]
VERIFY_ZH = [("agent", "您好 我是招商银行信用卡中心的 请问是李明先生本人吗"), ("debtor", "对 是我")]


@pytest.fixture
def engine_for(en_engine, zh_engine):
    """The engine for a language, and the turns that verify the right party in it."""
    return lambda language: (en_engine, VERIFY_EN) if language == "en" else (zh_engine, VERIFY_ZH)


def small_book(shipped: str, new_id: str, folder: Path):
    """A shipped playbook cut down to a few examples of everything: quick to fit, for tests of how an
    engine is built (cache, configured models) or of what is done with one (a mined playbook's check),
    not of its judgement."""
    from coach.playbook import load_playbook
    from tests import yaml_io

    data = yaml_io.shipped_playbook(shipped)
    for intent in data["intents"]:
        intent["examples"] = intent["examples"][:16]
    data["non_objection_examples"] = data["non_objection_examples"][:30]
    data["compliant_agent_examples"] = data.get("compliant_agent_examples", [])[:30]
    for emotion in data["emotions"]:
        emotion["examples"] = emotion["examples"][:12]
    for rule in data["rules"]:
        if rule.get("trigger", {}).get("examples"):
            rule["trigger"]["examples"] = rule["trigger"]["examples"][:16]
    data["calibration_examples"] = data.get("calibration_examples", [])[:60]
    data["id"] = new_id
    path = folder / f"{new_id}.yaml"
    path.write_text(yaml_io.dump(data, allow_unicode=True), encoding="utf-8")
    return load_playbook(path)


@pytest.fixture(scope="session")
def small_zh_book(tmp_path_factory):
    return small_book("zh-CN-bank-collections", "small-zh", tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="session")
def small_en_book(tmp_path_factory):
    return small_book("en-US-collections", "small-en", tmp_path_factory.mktemp("book"))


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


@pytest.fixture(scope="session")
def multilingual_whisper(tmp_path_factory):
    """A tiny random multilingual Whisper in faster-whisper's format, built locally (a path for
    ``COACH_ASR_MODEL_ZH``): no multilingual speech weights are available offline."""
    import tiny_models

    return tiny_models.build_multilingual_whisper(tmp_path_factory.mktemp("whisper-multilingual"))


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served(int):
    """The port of a server started by :func:`serving`, with its process and what it printed so far."""

    process: subprocess.Popen
    log: Any

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")


@contextlib.contextmanager
def serving(env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
    """A real `coach serve` on a free port (with ``args``), once it is ready (models loaded); yields
    the port (a :class:`Served`). The server must exit without a traceback. Its output goes to a file,
    never a pipe nobody reads, so a chatty server cannot block on a full pipe."""
    served = Served(free_port())
    served.log = tempfile.TemporaryFile()
    served.process = process = subprocess.Popen(
        [sys.executable, "-m", "coach.cli", "serve", "--port", str(served), *args], cwd=ROOT, stdout=served.log,
        stderr=subprocess.STDOUT, env={**(env or os.environ), "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert process.poll() is None, served.output()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{served}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("server never became ready")
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)
        output = served.output()
        served.log.close()
        assert "Traceback" not in output, output


@pytest.fixture(scope="session")
def agent_token() -> str:
    """An agent's API token (agent a-test, team north) in the session's database, the one the
    in-process apps and ``live_server`` use: live streams need a token."""
    import uuid

    from coach.storage import CallStore

    store = CallStore.from_settings()
    secret, _ = store.create_token(f"test-agent-{uuid.uuid4().hex[:8]}", "agent", agent_id="a-test", team="north")
    store.close()
    return secret


@pytest.fixture(scope="session")
def live_server():
    """A real `coach serve` shared by the session's tests; yields the port."""
    with serving() as port:
        yield port
