"""Models shipped in parts across PyPI packages (Whisper base for Chinese): assembled once into the
cache, verified by size and SHA-256, never loaded half-written or from mismatched parts."""

from __future__ import annotations

import hashlib
import os
import sys

import pytest

from coach import models
from coach.errors import ModelUnavailableError
from coach.models import SplitModel, resolve_model_path


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Two importable packages holding the two halves of a file, plus a config beside the second."""
    payload = os.urandom(3_000_000)
    for n, chunk in ((1, payload[:1_800_000]), (2, payload[1_800_000:])):
        package = tmp_path / "site" / f"fake_model_part_{n}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"model.bin.part{n}").write_bytes(chunk)
    (tmp_path / "site" / "fake_model_part_2" / "data" / "config.json").write_text('{"ok": true}')
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = SplitModel(
        parts=(("fake_model_part_1", "data/model.bin.part1"), ("fake_model_part_2", "data/model.bin.part2")),
        output="model.bin", files=(("fake_model_part_2", "data/config.json"),),
        size=len(payload), sha256=hashlib.sha256(payload).hexdigest(),
    )
    monkeypatch.setitem(models.SPLIT_MODELS, "fake-model", spec)
    yield spec, payload
    for name in ("fake_model_part_1", "fake_model_part_2"):
        sys.modules.pop(name, None)


def test_parts_are_joined_verified_and_reused(fake_parts, tmp_path):
    spec, payload = fake_parts
    path = resolve_model_path("fake-model", allow_downloads=False, cache_dir=tmp_path / "cache")
    assert (tmp_path / "cache" / "models").exists() and path.endswith(spec.sha256[:12])
    assert open(f"{path}/model.bin", "rb").read() == payload
    assert open(f"{path}/config.json").read() == '{"ok": true}'
    written = os.stat(f"{path}/model.bin").st_mtime_ns
    assert resolve_model_path("FAKE-MODEL", allow_downloads=False, cache_dir=tmp_path / "cache") == path
    assert os.stat(f"{path}/model.bin").st_mtime_ns == written  # not assembled twice
    assert [p.name for p in (tmp_path / "cache" / "models").iterdir()] == [os.path.basename(path)]  # no scratch left


def test_a_damaged_copy_in_the_cache_is_assembled_again(fake_parts, tmp_path):
    spec, payload = fake_parts
    path = resolve_model_path("fake-model", allow_downloads=False, cache_dir=tmp_path)
    with open(f"{path}/model.bin", "r+b") as handle:
        handle.truncate(1000)
    assert resolve_model_path("fake-model", allow_downloads=False, cache_dir=tmp_path) == path
    assert open(f"{path}/model.bin", "rb").read() == payload


def test_parts_that_do_not_make_the_recorded_model_are_refused(fake_parts, tmp_path, monkeypatch):
    spec, _ = fake_parts
    monkeypatch.setitem(models.SPLIT_MODELS, "fake-model", SplitModel(spec.parts, spec.output, spec.files, spec.size, "0" * 64))
    with pytest.raises(ModelUnavailableError, match="do not make the recorded model") as error:
        resolve_model_path("fake-model", allow_downloads=False, cache_dir=tmp_path, kind="speech model")
    assert "pip install --force-reinstall fake-model-part-1 fake-model-part-2" in error.value.hint
    assert not list((tmp_path / "models").iterdir())  # nothing half-made is left where a loader would look


def test_a_missing_part_package_names_it(fake_parts, tmp_path, monkeypatch):
    spec, _ = fake_parts
    parts = (("fake_model_part_1", "data/model.bin.part1"), ("not_installed_part_9", "data/model.bin.part2"))
    monkeypatch.setitem(models.SPLIT_MODELS, "fake-model", SplitModel(parts, spec.output, spec.files, spec.size, spec.sha256))
    with pytest.raises(ModelUnavailableError, match="not-installed-part-9") as error:
        resolve_model_path("fake-model", allow_downloads=False, cache_dir=tmp_path)
    assert error.value.hint == "pip install not-installed-part-9"


def test_an_unwritable_cache_is_a_clear_error(fake_parts, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # no directory can be made under a file, even as root
    with pytest.raises(ModelUnavailableError, match="cannot assemble") as error:
        resolve_model_path("fake-model", allow_downloads=False, cache_dir=blocker / "cache")
    assert "COACH_CACHE_DIR" in error.value.hint


def test_the_shipped_whisper_base_parts_make_the_recorded_model(tmp_path):
    """The real packages: joined, their SHA-256 is the one recorded, and faster-whisper loads the
    result as a multilingual model (the offline default for Chinese)."""
    from coach.audio.asr import WhisperASR

    path = resolve_model_path("whisper-base", allow_downloads=False, cache_dir=tmp_path, kind="speech model")
    assert os.path.getsize(f"{path}/model.bin") == models.SPLIT_MODELS["whisper-base"].size
    asr = WhisperASR("whisper-base", cache_dir=tmp_path)
    assert asr.multilingual and "zh" in asr._model.supported_languages
