"""`coach mine --ray`: pages read and digested in Ray actors give the plain mining's result, on a local
Ray with two CPUs; a cluster address that does not answer is refused quickly and changes nothing."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coach.mining import mine
from coach.mining.distributed import mine_on_ray, mining_ray_session
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (two CPUs, as a small laptop; never a cluster that `ray start` left
    recorded on this machine), shut down after it; mining's session joins it and leaves it running."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        with mining_ray_session() as joined:
            assert joined is ray
        yield ray
    finally:
        ray.shutdown()


def as_json(result) -> dict:
    return result.model_dump(mode="json")


def test_ray_mining_gives_the_plain_result(local_ray, mined_store, mined, engines, monkeypatch):
    import coach.mining.corpus

    # 71 calls in pages of 10: eight pages over two actors, each reading its pages from the database
    monkeypatch.setattr(coach.mining.corpus, "PAGE_SIZE", 10)
    on_ray = as_json(mine_on_ray(mined_store))
    assert on_ray["clusters"] and on_ray["responses"] and on_ray["intents"]
    assert on_ray == as_json(mine(mined_store, engines=engines))  # the plain path, the same pages
    assert on_ray == as_json(mined)                                # and in pages of 200


def test_an_address_that_does_not_answer_is_one_line_quickly_and_changes_nothing(mined_store, tmp_path):
    database = Path(mined_store.engine.url.database)
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    report = tmp_path / "mining.html"
    env = {"COACH_DATABASE_URL": f"sqlite:///{database}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "coach.cli", "mine", "--ray", "--ray-address", "127.0.0.1:1",
                             "--report", str(report)], capture_output=True, text=True, check=False, timeout=120, cwd=ROOT,
                            env={**__import__("os").environ, **env})
    assert result.returncode == 2, result.stderr
    assert "no Ray cluster answers at 127.0.0.1:1" in result.stderr and "nothing was mined" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 2  # the message, its hint
    assert time.monotonic() - started < 30
    assert not report.exists() and hashlib.sha256(database.read_bytes()).hexdigest() == before
