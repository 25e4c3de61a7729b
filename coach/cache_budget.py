"""The on-disk caches' share of the disk: the least recently used files go beyond a budget.

An ONNX export (~100 MB) or a store of embeddings (~30 MB) is keyed by the model's files and the
libraries that compute it, so every upgrade, and every checkout with its own install, makes new
ones; the old ones were never read again and never deleted. A file in use is touched when it is
read (:func:`touch`), so "least recently used" is what its modification time says.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger(__name__)


def touch(path: Path) -> None:
    """Mark ``path`` as just used; a read-only cache only loses its order."""
    try:
        os.utime(path)
    except OSError:
        pass


def keep_within(files: Iterable[Path], budget: int, *, keep: Path,
                companions: Callable[[Path], list[Path]] = lambda _: []) -> None:
    """Delete the least recently used of ``files`` (with their ``companions``) until the rest take at
    most ``budget`` bytes; ``keep`` (the file just written or read) always stays."""
    sized = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        extra = sum(p.stat().st_size for p in companions(path) if p.is_file())
        sized.append((stat.st_mtime, stat.st_size + extra, path))
    sized.sort(reverse=True)  # newest first
    used = 0
    for _, size, path in sized:
        if used + size <= budget or path == keep:
            used += size
            continue
        for old in (path, *companions(path)):
            try:
                old.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot delete the cache file %s (%s)", old, exc)
        log.info("deleted the cache file %s (least recently used, over the %d MB budget)", path, budget >> 20)
