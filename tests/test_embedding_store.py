"""The on-disk store of embeddings between fits: an optimisation that may never break a fit."""

from __future__ import annotations

import logging
import sqlite3

import numpy as np

from coach.embedding_store import EmbeddingStore, store_for


def _unit(seed: int, dimension: int = 4) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=dimension).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_vectors_come_back_as_they_were_kept(tmp_path):
    store = EmbeddingStore(tmp_path / "embeddings" / "model-v1.sqlite3", 4)
    assert store.get(["nothing kept yet"]) == {}
    kept = {"我没钱": _unit(1), "yeah thats me": _unit(2)}
    store.put(kept)
    store.put({"我没钱": _unit(3)})  # the first vector of a text stays
    found = store.get(["yeah thats me", "我没钱", "never embedded"])
    assert set(found) == {"yeah thats me", "我没钱"}
    assert all(np.array_equal(found[text], kept[text]) for text in found)


def test_a_row_of_the_wrong_size_is_not_trusted(tmp_path):
    store = EmbeddingStore(tmp_path / "model-v1.sqlite3", 4)
    store.put({"fine": _unit(1)})
    with sqlite3.connect(store.path) as connection:
        connection.execute("INSERT INTO vectors VALUES (?, ?)", ("short", np.ones(3, np.float32).tobytes()))
        connection.execute("INSERT INTO vectors VALUES (?, ?)", ("not a number", np.full(4, np.nan, np.float32).tobytes()))
        connection.execute("INSERT INTO vectors VALUES (?, ?)", ("damaged", (2 * _unit(2)).tobytes()))
    assert set(store.get(["fine", "short", "not a number", "damaged"])) == {"fine"}


def test_a_file_another_fit_is_still_creating_is_left_alone(tmp_path):
    """Between connecting and creating its table, another process's file is empty: no vectors, and
    not deleted as if it were broken."""
    path = tmp_path / "model-v1.sqlite3"
    path.write_bytes(b"")
    assert EmbeddingStore(path, 4).get(["anything"]) == {} and path.exists()


def test_a_corrupt_file_is_deleted_and_built_again(tmp_path, caplog):
    path = tmp_path / "model-v1.sqlite3"
    path.write_bytes(b"this is not a database, just bytes where one should be" * 100)
    store = EmbeddingStore(path, 4)
    with caplog.at_level(logging.WARNING):
        assert store.get(["anything"]) == {}
    assert "unusable" in caplog.text and not path.exists()
    store.put({"anything": _unit(1)})
    assert set(store.get(["anything"])) == {"anything"}


def test_an_unwritable_folder_costs_only_the_vectors(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # no folder can be made under a file, even as root
    store = EmbeddingStore(blocker / "embeddings" / "model-v1.sqlite3", 4)
    with caplog.at_level(logging.WARNING):
        store.put({"anything": _unit(1)})
    assert store.get(["anything"]) == {} and "cannot keep embeddings" in caplog.text


def test_no_store_without_a_cache_folder_or_a_model_version(tmp_path):
    assert store_for(None, "model-v1", 4) is None
    assert store_for(tmp_path, None, 4) is None
    assert store_for(tmp_path, "model-v1", 4).path == tmp_path / "embeddings" / "model-v1.sqlite3"


def test_stores_no_fit_has_read_for_longest_go_beyond_the_budget(tmp_path, monkeypatch):
    """Each model version keeps its own file; a new one makes room by deleting those no fit has read
    for longest, never one just read."""
    import os

    from coach import embedding_store

    folder = tmp_path / "embeddings"
    old, read = EmbeddingStore(folder / "old.sqlite3", 4), EmbeddingStore(folder / "read.sqlite3", 4)
    old.put({"x": _unit(1)})
    read.put({"x": _unit(2)})
    for path in (old.path, read.path):
        os.utime(path, (1_000_000, 1_000_000))
    assert "x" in read.get(["x"])  # a fit reads it: it is in use
    monkeypatch.setattr(embedding_store, "STORES_BUDGET", read.path.stat().st_size * 2 + 1)
    EmbeddingStore(folder / "new.sqlite3", 4).put({"y": _unit(3)})
    assert sorted(p.name for p in folder.iterdir()) == ["new.sqlite3", "read.sqlite3"]
