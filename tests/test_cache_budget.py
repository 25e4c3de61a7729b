"""Cache files beyond a budget: the unused go, oldest first; one in use never does."""

from __future__ import annotations

import os
import time

from coach.cache_budget import IN_USE, keep_within


def _file(folder, name, size, used):
    path = folder / name
    path.write_bytes(b"x" * size)
    os.utime(path, (used, used))
    return path


def test_unused_files_beyond_the_budget_go_oldest_first_with_their_companions(tmp_path):
    long_ago = time.time() - 10 * IN_USE
    newest = _file(tmp_path, "newest.onnx", 300, long_ago + 3)
    middle = _file(tmp_path, "middle.onnx", 300, long_ago + 2)
    oldest = _file(tmp_path, "oldest.onnx", 300, long_ago + 1)
    spec = _file(tmp_path, "oldest.json", 10, long_ago)
    keep_within(tmp_path.glob("*.onnx"), 650, keep=newest, companions=lambda p: [p.with_suffix(".json")])
    assert newest.exists() and middle.exists() and not oldest.exists() and not spec.exists()


def test_files_in_use_stay_whatever_the_budget(tmp_path):
    """Two installs each using a large export: neither evicts the other at every start."""
    mine = _file(tmp_path, "mine.onnx", 500, time.time())
    theirs = _file(tmp_path, "theirs.onnx", 500, time.time() - IN_USE / 2)
    stale = _file(tmp_path, "stale.onnx", 10, time.time() - 2 * IN_USE)
    keep_within(tmp_path.glob("*.onnx"), 100, keep=mine)
    assert mine.exists() and theirs.exists() and not stale.exists()


def test_a_file_gone_meanwhile_is_no_error(tmp_path):
    present = _file(tmp_path, "present.onnx", 10, time.time())
    keep_within([tmp_path / "gone.onnx", present], 1, keep=present,
                companions=lambda p: [p.with_suffix(".json")])
    assert present.exists()
