"""Sentence embeddings: one model per name per process, shared by every analyzer and call."""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from coach.errors import ModelUnavailableError
from coach.models import offline_environment, resolve_model_path


class Embedder:
    """A sentence-transformers model with a small cache of recent texts (ASR repeats itself)."""

    def __init__(self, name: str, path: str, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        self.name = name
        try:
            self._model = SentenceTransformer(path, device=device)
        except Exception as exc:  # any loader failure is a configuration problem for the user
            raise ModelUnavailableError(f"cannot load embedding model {name!r} from {path}: {exc}") from None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings, one row per text."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self._model.encode(
                missing, normalize_embeddings=True, batch_size=64, convert_to_numpy=True, show_progress_bar=False
            )
            with self._lock:
                for text, vector in zip(missing, vectors):
                    self._cache[text] = vector.astype(np.float32)
                    if len(self._cache) > 50_000:
                        self._cache.popitem(last=False)
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    @property
    def dimension(self) -> int:
        return int(self._model.get_sentence_embedding_dimension())


@lru_cache(maxsize=8)
def load_embedder(name: str, *, allow_downloads: bool = False, device: str = "cpu") -> Embedder | None:
    """The shared embedder for ``name``; ``""`` or ``none`` means lexical similarity only."""
    if not name or name.lower() == "none":
        return None
    offline_environment(allow_downloads)
    path = resolve_model_path(name, allow_downloads=allow_downloads, kind="embedding model")
    return Embedder(name, path, device=device)
