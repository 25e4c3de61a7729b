"""Tiny random models built locally, so every real loading path runs without downloads.

Their outputs are meaningless; tests check that they load through the product's code and produce
well-formed results, never what they predict.
"""

from __future__ import annotations

import itertools
from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CHINESE = list("我你他她是的不了没有钱还款欠银行信用卡逾期打电话律师已经分期利息太高再说吧好谢谢对嗯啊什么时候能可以")
LATIN = list("abcdefghijklmnopqrstuvwxyz0123456789")


def _tokenizer(directory: Path):
    from transformers import BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    vocab = directory / "vocab.txt"
    vocab.write_text("\n".join(SPECIAL + CHINESE + LATIN) + "\n", encoding="utf-8")
    return BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True, tokenize_chinese_chars=True)


def _config(num_labels: int = 2, id2label: dict[int, str] | None = None):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=len(SPECIAL) + len(CHINESE) + len(LATIN), hidden_size=32, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=37, max_position_embeddings=128, num_labels=num_labels,
        id2label=id2label, label2id={v: k for k, v in (id2label or {}).items()} or None,
    )


def build_sentence_transformer(directory: Path) -> Path:
    """A random 32-dimensional sentence-transformers model with a Chinese character vocabulary."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertModel

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer

    torch.manual_seed(0)
    raw = directory / "raw"
    tokenizer = _tokenizer(raw)
    BertModel(_config()).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    word = Transformer(str(raw), max_seq_length=64)
    dimension = word.get_embedding_dimension() if hasattr(word, "get_embedding_dimension") else word.get_word_embedding_dimension()
    pooling = Pooling(dimension, pooling_mode="mean")
    out = directory / "st"
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(out))
    return out


def build_classifier(directory: Path, labels: list[str]) -> Path:
    """A random BERT sequence classifier with the given labels (NLI or sentiment)."""
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    tokenizer = _tokenizer(directory)
    model = BertForSequenceClassification(_config(len(labels), dict(enumerate(labels))))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


# -- a tiny random multilingual Whisper (faster-whisper / CTranslate2 format) ----------------------

WHISPER_TASK_TOKENS = ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
                       "<|notimestamps|>"]


def _byte_symbols() -> tuple[list[str], dict[int, str]]:
    """GPT-2's byte-level symbols in GPT-2's id order (" " is "Ġ", id 220), and the byte -> symbol table."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    order, chars = list(printable), [chr(b) for b in printable]
    for b in range(256):
        if b not in printable:
            order.append(b)
            chars.append(chr(256 + len(chars) - len(printable)))
    table = dict(zip(order, chars))
    return [table[b] for b in order], table


def _whisper_vocabulary() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A small byte-level BPE vocabulary for Whisper's text tokens: the 256 bytes, merges that make each
    character of ``CHINESE`` and a few Latin words one token, every two-character word of ``CHINESE``
    (never produced by encoding, but what the random decoder mostly emits, so its output reads as
    Chinese), and last the empty token of Whisper's multilingual vocabulary: CTranslate2 4.x takes a
    Whisper model for multilingual only when its vocabulary has "" (the English-only one has not)."""
    symbols, table = _byte_symbols()
    vocab: dict[str, int] = {s: i for i, s in enumerate(symbols)}
    merges: list[tuple[str, str]] = []

    def encode(text: str) -> str:
        return "".join(table[b] for b in text.encode("utf-8"))

    def add(token: str) -> None:
        vocab.setdefault(token, len(vocab))

    chinese = list(dict.fromkeys(CHINESE))
    for word in [*chinese, " wo", " ni", " hao", " hello", " bank"]:
        encoded = encode(word)
        for i in range(2, len(encoded) + 1):
            if encoded[:i] not in vocab:
                merges.append((encoded[: i - 1], encoded[i - 1]))
                add(encoded[:i])
    for a, b in itertools.product(chinese, repeat=2):
        add(encode(a + b))
    add("")
    return vocab, merges


def build_multilingual_whisper(directory: Path) -> Path:
    """A random multilingual Whisper (d_model 32, one layer each side) in faster-whisper's format.

    Built with transformers, converted with CTranslate2's converter exactly as real checkpoints are
    (``ct2-transformers-converter --copy_files tokenizer.json preprocessor_config.json``). Returns
    the converted directory, which ``faster_whisper.WhisperModel`` loads as a multilingual model.
    """
    import ctranslate2
    import torch
    from faster_whisper.tokenizer import _LANGUAGE_CODES
    from tokenizers import AddedToken
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizer,
    )

    torch.manual_seed(0)
    raw, out = directory / "transformers", directory / "ct2"
    raw.mkdir(parents=True, exist_ok=True)

    vocab, merges = _whisper_vocabulary()
    tokenizer = WhisperTokenizer(vocab=vocab, merges=merges)  # adds <|endoftext|> (unk, bos, eos) next
    languages = [f"<|{code}|>" for code in _LANGUAGE_CODES]
    tokenizer.add_tokens([AddedToken(t, special=True, normalized=False)
                          for t in ["<|startoftranscript|>", *languages, *WHISPER_TASK_TOKENS]], special_tokens=True)
    tokenizer.add_tokens([AddedToken(f"<|{i * 0.02:.2f}|>", normalized=False) for i in range(1501)])
    ids = {token: tokenizer.convert_tokens_to_ids(token)
           for token in ["<|endoftext|>", "<|startoftranscript|>", *languages, *WHISPER_TASK_TOKENS]}
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    assert (eot, sot) == (len(vocab), len(vocab) + 1), (eot, sot)

    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=80, d_model=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        max_source_positions=1500, max_target_positions=448, pad_token_id=eot, bos_token_id=eot,
        eos_token_id=eot, decoder_start_token_id=sot, suppress_tokens=[],
        begin_suppress_tokens=[tokenizer.convert_tokens_to_ids("Ġ"), eot],
    )
    model = WhisperForConditionalGeneration(config)
    generation = GenerationConfig.from_model_config(config)
    generation.is_multilingual = True
    generation.lang_to_id = {token: ids[token] for token in languages}  # CTranslate2's lang_ids
    generation.task_to_id = {"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]}
    generation.no_timestamps_token_id = ids["<|notimestamps|>"]
    generation.prev_sot_token_id = ids["<|startofprev|>"]
    # Saved as a generation config of its own; else it counts as derived from the model config and
    # the language ids are not written out.
    generation._from_model_config = False
    model.generation_config = generation
    model.save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(raw)

    converter = ctranslate2.converters.TransformersConverter(str(raw), copy_files=["tokenizer.json", "preprocessor_config.json"])
    converter.convert(str(out), quantization="int8", force=True)
    return out
