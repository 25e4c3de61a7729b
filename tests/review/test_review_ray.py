"""`coach review --ray`: the same stored calls and the same output as the plain review, on a local Ray
with two CPUs; a cluster address that does not answer is refused quickly and changes nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, ROOT, free_port

from coach.config import Settings, get_settings
from coach.errors import ConfigError
from coach.review.distributed import Plan, ray_session

SHORT = EXAMPLES / "audio" / "en-short-call.flac"


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (two CPUs, as a small laptop); `coach review --ray` run in this
    process uses it instead of starting its own."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[Path]:
    """Two short two-channel recordings with the same name in different folders (the first 20 s of a
    sample call, the second as a phone line records it, 8 kHz mu-law), its first 16 s mixed to mono
    (the parties told apart in the analysis actor), a transcript and a copy of it, a broken file and a
    missing one. Clips, not the whole call: every file is reviewed three times."""
    folder = tmp_path_factory.mktemp("ray-review")
    (folder / "line").mkdir()
    clip = folder / "en-short-call.flac"
    subprocess.run(["sox", str(SHORT), str(clip), "trim", "0", "20"], check=True)
    line = folder / "line" / "en-short-call.wav"
    subprocess.run(["sox", str(clip), "-r", "8000", "-e", "mu-law", str(line)], check=True)
    mono = folder / "en-short-call-mono.wav"
    subprocess.run(["sox", str(SHORT), "-c", "1", str(mono), "remix", "1,2", "trim", "0", "16"], check=True)
    copy = folder / "copy-of-violations.json"
    copy.write_bytes((EXAMPLES / "en-violations.json").read_bytes())
    broken = folder / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEjunk" * 50)
    return [clip, line, mono, EXAMPLES / "en-violations.json", copy, broken, folder / "missing.flac"]


def review(tmp_path: Path, name: str, files: list[Path], *extra: str, monkeypatch) -> tuple[int, list, str, Path]:
    """`coach review FILES --format json` in this process, storing into its own data folder; returns
    the exit code, the printed JSON, the lines written for people, and the data folder."""
    from coach.cli import main

    data = tmp_path / name
    monkeypatch.setenv("COACH_DATA_DIR", str(data))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["review", *map(str, files), "--format", "json", *extra], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    return result.exit_code, json.loads(result.stdout), result.stderr, data


def without_times(value):
    """Stored calls without the moment they were stored (the only thing that may differ)."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k != "created_at"}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def test_ray_review_stores_and_prints_what_the_plain_review_does(local_ray, files, tmp_path, monkeypatch):
    plain_code, plain, plain_text, plain_data = review(tmp_path, "plain", files, monkeypatch=monkeypatch)
    ray_code, on_ray, ray_text, ray_data = review(tmp_path, "ray", files, "--ray", monkeypatch=monkeypatch)
    assert plain_code == ray_code == 2  # the broken and the missing file, reported in their places
    ids = [call["call"]["id"] for call in plain]
    assert ids == ["en-short-call", f"en-short-call-{hashlib.sha256(files[1].read_bytes()).hexdigest()[:8]}",
                   "en-short-call-mono", "en-violations-001", "en-violations-001"]  # a taken name gets a suffix; a copy is the same call
    assert without_times(on_ray) == without_times(plain)
    assert plain[2]["call"]["speaker_method"]  # the mono call's parties were told apart
    assert ray_text.split("stored in")[0] == plain_text.split("stored in")[0]  # the same lines, in the same order
    assert "already reviewed" in plain_text and "broken.wav" in plain_text and "missing.flac: file not found" in plain_text
    for data in (plain_data, ray_data):  # the recordings are kept for the review page's player
        assert sorted(p.name for p in (data / "audio").iterdir()) == sorted(
            f"{hashlib.sha256(f.read_bytes()).hexdigest()}{f.suffix}" for f in files[:3])
    # again, the files it stored: every one is already stored, nothing is reviewed twice (the broken
    # and the missing file left out: they would be tried again, and start the actors for nothing)
    again_code, again, again_text, _ = review(tmp_path, "ray", files[:5], "--ray", monkeypatch=monkeypatch)
    assert again_code == 0 and [c["call"]["id"] for c in again] == ids
    assert again_text.count("already reviewed") == 5


def test_the_driver_replaces_a_stored_review_the_request_asks_to_redo_as_the_plain_review_does(tmp_path):
    """The driver's decisions, without a cluster: a file stored before whose request names another
    language is to be reviewed (not a duplicate), its new review replaces the stored one, and a copy
    of it later in the same run is then the new review's duplicate."""
    from coach.config import Settings
    from coach.review.distributed import _store, _Work
    from coach.review.pipeline import ReviewRequest, earlier_review, file_hash, review_file, review_into_store
    from coach.storage import CallStore

    settings = Settings(data_dir=tmp_path)
    store = CallStore(settings.database(), settings)
    path = EXAMPLES / "en-violations.json"
    first = review_into_store(store, path, source="cli", settings=settings)
    digest = file_hash(path)
    request = ReviewRequest(language="zh")
    standing, replacing = earlier_review(store, digest, request)
    assert standing is None and replacing == first.call_id
    work = _Work(path, digest, stage=review_file(path, request, settings, content_hash=digest))
    redone = _store(store, path, digest, work, replacing, request, "cli", settings)
    assert not redone.duplicate and redone.replaced == first.call_id and store.has_call(redone.call_id)
    copy = _store(store, path, digest, None, None, request, "cli", settings)
    assert copy.duplicate and copy.call_id == redone.call_id
    store.close()


def test_a_cluster_that_does_not_answer_is_refused_quickly_and_changes_nothing(tmp_path):
    from coach.review.pipeline import review_into_store
    from coach.storage import CallStore

    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    store = CallStore(settings.database(), settings)
    review_into_store(store, EXAMPLES / "en-cooperative.json", source="cli", settings=settings)
    store.close()
    env = {**os.environ, "COACH_DATA_DIR": str(data)}
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "coach.cli", "review", "--ray", "--ray-address", address,
                             str(EXAMPLES / "en-hardship.json")], check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert f"error: no Ray cluster answers at {address}" in result.stderr and "hint: start one with `ray start --head`" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert elapsed < 30  # the process's own start-up included; the probe itself gives up after 3 s
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == before


def test_without_ray_installed_the_message_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as when it is not installed
    with pytest.raises(ConfigError, match="needs Ray") as caught, ray_session():
        pass
    assert "pip install 'coach[ray]'" in str(caught.value)


def test_the_actors_fit_the_cluster():
    small = Plan.for_cluster(2, Settings())
    assert (small.recognizers, small.analysers) == (1, 1)
    assert small.recognizers * small.recognizer_cpus + small.analyser_cpus + small.reader_cpus <= 2
    large = Plan.for_cluster(64, Settings())
    assert (large.recognizers, large.recognizer_cpus, large.analysers) == (26, 2.0, 6)  # and 6 CPUs for reading


def test_a_gpu_setting_is_refused_before_ray_starts():
    with pytest.raises(ConfigError, match="CPUs only"), ray_session(settings=Settings(device="cuda")):
        pass
