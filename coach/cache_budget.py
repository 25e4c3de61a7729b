"""The on-disk caches' share of the disk: files unused for a day go, oldest first, beyond a budget.

An ONNX export (~100-500 MB) or a store of embeddings (~30 MB) is keyed by the model's files and
the libraries that compute it, so every upgrade, and every checkout with its own install, makes new
ones; the old ones were never read again and never deleted. A file in use is touched when it is
read (:func:`touch`), so its modification time says when it was last used, and a file used within
:data:`IN_USE` is never deleted, whatever the budget: two installs in use at once must not evict
each other's exports at every start.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger(__name__)

#: Seconds since its last use within which a cache file counts as in use.
IN_USE = 24 * 3600


def touch(path: Path) -> None:
    """Mark ``path`` as just used; a read-only cache only loses its order."""
    try:
        os.utime(path)
    except OSError:
        pass


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def keep_within(files: Iterable[Path], budget: int, *, keep: Path,
                companions: Callable[[Path], list[Path]] = lambda _: []) -> None:
    """Going from the most recently used of ``files`` to the least, keep each while the kept ones
    (with their ``companions``) take at most ``budget`` bytes, and delete the rest, except ``keep``
    (the file just written) and any file used within :data:`IN_USE`."""
    sized = []
    for path in files:
        try:
            used = path.stat().st_mtime
        except OSError:
            continue  # gone meanwhile (another process pruning)
        sized.append((used, _size(path) + sum(_size(p) for p in companions(path)), path))
    sized.sort(reverse=True)  # most recently used first
    recent = time.time() - IN_USE
    total = 0
    for used, size, path in sized:
        if total + size <= budget or path == keep or used >= recent:
            total += size
            continue
        try:
            for old in (path, *companions(path)):
                old.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot delete the cache file %s (%s)", path, exc)
            continue
        log.info("deleted the cache file %s (unused, beyond the %d MB budget)", path, budget >> 20)
