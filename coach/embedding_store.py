"""Embeddings of playbook texts kept on disk between fits, one file per model.

Fitting an engine embeds every text of its playbook: for the English playbook about 6,000 texts with
two models, some 60 s of a two-minute fit on two cores. A playbook edited by a line (a mined intent,
new examples, a changed rule) is a new playbook to the engine cache and is fitted again; with this
store only its new texts are embedded.

A file belongs to one model in one version (the ONNX export's, which follows the model's files and
the libraries that compute it): vectors of another model or version are never read. The store is an
optimisation: a file that cannot be opened, read or written only means embedding the texts, and one
that is corrupt is deleted and rebuilt. Only fitting reads it; live calls embed in memory.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from coach.cache_budget import keep_within, touch

log = logging.getLogger(__name__)

#: Texts looked up in one query (SQLite's bound on host parameters is 32,766 since 3.32).
_CHUNK = 500
#: Seconds to wait for another process writing the same file (two fits at once) before giving up.
_BUSY_TIMEOUT = 10.0
#: How far from unit length a stored vector may be (the embedders normalise every vector).
_UNIT = 1e-3
#: Bytes the stores of every model and version may take together (a shipped playbook's texts are
#: ~35 MB with multilingual-e5); beyond it the least recently used go.
STORES_BUDGET = 256 << 20
#: SQLite's errors that mean the file itself is broken.
_BROKEN = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


class EmbeddingStore:
    """Unit vectors of ``dimension`` floats by text, in the SQLite file at ``path``."""

    def __init__(self, path: Path, dimension: int) -> None:
        self.path = Path(path)
        self.dimension = dimension

    def get(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those ``texts`` the store has; a row that is not a unit vector of the
        model's size (a damaged one) is skipped."""
        found: dict[str, np.ndarray] = {}
        try:
            if not texts or not self.path.is_file():
                return {}
            touch(self.path)
            with self._connect() as connection:
                for start in range(0, len(texts), _CHUNK):
                    chunk = texts[start:start + _CHUNK]
                    rows = connection.execute(
                        f"SELECT text, vector FROM vectors WHERE text IN ({','.join('?' * len(chunk))})", chunk)
                    for text, blob in rows:
                        vector = np.frombuffer(blob, dtype=np.float32) if isinstance(blob, bytes) else None
                        if vector is not None and vector.shape == (self.dimension,) and np.isfinite(vector).all() \
                                and abs(float(vector @ vector) - 1.0) < _UNIT:
                            found[text] = vector.copy()
        except sqlite3.DatabaseError as exc:
            self._failed(exc, "reading")
            return {}
        except OSError as exc:
            log.warning("cannot read embeddings from %s (%s): embedding these texts instead", self.path, exc)
            return {}
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        """Keep ``vectors`` (text -> vector); a text already stored keeps its first vector."""
        if not vectors:
            return
        rows = [(text, np.asarray(vector, dtype=np.float32).tobytes()) for text, vector in vectors.items()
                if np.shape(vector) == (self.dimension,)]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            new = not self.path.is_file()
            with self._connect() as connection:
                connection.execute("CREATE TABLE IF NOT EXISTS vectors (text TEXT PRIMARY KEY, vector BLOB NOT NULL)")
                connection.executemany("INSERT OR IGNORE INTO vectors (text, vector) VALUES (?, ?)", rows)
            if new:
                keep_within(self.path.parent.glob("*.sqlite3"), STORES_BUDGET, keep=self.path)
        except sqlite3.DatabaseError as exc:
            self._failed(exc, "keeping")
        except OSError as exc:
            log.warning("cannot keep embeddings in %s (%s): the next fit embeds these texts again", self.path, exc)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (committed, or rolled back on an error), then closed."""
        connection = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT)
        try:
            with connection:
                yield connection
        finally:
            connection.close()

    def _failed(self, exc: sqlite3.DatabaseError, doing: str) -> None:
        """Only a file SQLite finds corrupt, or no database at all, is deleted (to be built again); a
        busy file, a full disk or a table another process is still creating are passing troubles."""
        if getattr(exc, "sqlite_errorname", "") not in _BROKEN:
            if "no such table" not in str(exc):
                log.warning("embedding store %s failed %s embeddings (%s): embedding these texts instead",
                            self.path, doing, exc)
            return
        log.warning("embedding store %s is unusable (%s): deleting it, the texts are embedded again", self.path, exc)
        for path in (self.path, self.path.with_name(self.path.name + "-journal")):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass


def store_for(cache_dir: Path | None, identity: str | None, dimension: int) -> EmbeddingStore | None:
    """The store of the model whose version is ``identity`` under ``cache_dir``, or None without either."""
    if cache_dir is None or not identity:
        return None
    return EmbeddingStore(Path(cache_dir) / "embeddings" / f"{identity}.sqlite3", dimension)
