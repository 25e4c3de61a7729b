"""`coach serve` exits with the README's codes: 5 for a port that cannot be had, 4 for a missing
speech model, with one line and no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from coach.config import Settings
from coach.errors import ConfigError, ModelUnavailableError
from server import preflight
from tests.conftest import ROOT, free_port


def serve(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coach.cli", "serve", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


@pytest.fixture
def busy_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_bind_refuses_a_busy_port(busy_port):
    with pytest.raises(ConfigError, match=f"port {busy_port} on 127.0.0.1 is already in use"):
        preflight.bind("127.0.0.1", busy_port)
    sock = preflight.bind("127.0.0.1", free_port())
    sock.close()


def test_a_missing_speech_model_is_found_before_start(tmp_path):
    with pytest.raises(ModelUnavailableError, match="COACH_ASR_MODEL_EN"):
        preflight.check_speech_models(Settings(asr_model_en=str(tmp_path / "no-such-model")))
    preflight.check_speech_models(Settings())  # the bundled tiny.en


def test_serve_exits_5_on_a_busy_port(busy_port):
    result = serve("--port", str(busy_port))
    assert result.returncode == 5, result.stderr
    assert "already in use" in result.stderr and "Traceback" not in result.stderr


def test_serve_exits_4_without_its_speech_model(tmp_path):
    result = serve("--port", str(free_port()), COACH_ASR_MODEL_EN=str(tmp_path / "missing"))
    assert result.returncode == 4, result.stderr
    assert "speech model" in result.stderr and "Traceback" not in result.stderr
