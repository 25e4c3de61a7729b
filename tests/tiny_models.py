"""Tiny random models built locally, so every real loading path runs without downloads.

Their outputs are meaningless; tests check that they load through the product's code and produce
well-formed results, never what they predict.
"""

from __future__ import annotations

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
