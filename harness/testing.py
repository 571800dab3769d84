"""Helpers for testing models offline: a tiny randomly initialised BERT with its own tokenizer.

Plugin authors and the harness's own tests and benchmarks use it to exercise the ``hf`` model
code path without the Hugging Face Hub.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

WORDPIECE_CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'-#@:;/()")
"""Characters (and their ``##`` continuations) every tiny vocabulary holds, so that any
lower-cased ASCII text tokenizes without ``[UNK]`` floods."""


def make_tiny_bert(
    folder: Path,
    words: Iterable[str] = (),
    *,
    layers: int = 2,
    hidden: int = 64,
    intermediate: int | None = None,
    max_length: int = 128,
    seed: int = 0,
    dropout: float = 0.1,
) -> Path:
    """Write a randomly initialised ``BertModel`` (no head) and a WordPiece tokenizer whose
    vocabulary is the special tokens, :data:`WORDPIECE_CHARS` and ``words`` to ``folder``.

    ``dropout``: BERT's dropout rates (0: training is deterministic given the batches, e.g. to
    compare data-parallel with single-process training).

    The folder loads with ``AutoTokenizer`` / ``AutoModelForSequenceClassification`` (e.g. as
    ``--model hf --model-args pretrained=FOLDER``). Returns ``folder``.
    """
    import torch
    from transformers import (  # type: ignore[attr-defined]
        BertConfig,
        BertModel,
        BertTokenizerFast,
    )

    folder.mkdir(parents=True, exist_ok=True)
    chars = WORDPIECE_CHARS
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    known = set(vocab)
    vocab += [w for w in dict.fromkeys(words) if w not in known]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(str(folder / "vocab.txt"), do_lower_case=True)
    tokenizer.model_max_length = max_length
    tokenizer.save_pretrained(str(folder))
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=intermediate or hidden * 2,
        max_position_embeddings=max(max_length, 16),
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(str(folder))
    return folder
