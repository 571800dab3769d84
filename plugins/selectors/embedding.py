"""``embedding``: cosine similarity of dense embeddings, score = max over the spec's D_i cases.

The embeddings come from the model being fixed (``Model.embed``, e.g. M0's hidden features) or,
with ``encoder: PATH``, from a local Hugging Face encoder with attention-masked mean pooling
(plain ``transformers``, no sentence-transformers needed).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import Field

import harness
from harness.api import Model, Register, Selector, StrictModel
from harness.errors import UserError
from harness_plugins.selectors.common import MaxCosineSelector


class EmbeddingArgs(StrictModel):
    """Arguments of the ``embedding`` selector."""

    encoder: str | None = Field(
        default=None, description="local Hugging Face encoder path; default: the model's embed()"
    )
    batch_size: int = Field(default=64, ge=1)
    max_length: int = Field(default=128, ge=8)
    device: str = Field(default="cpu", description="device of the encoder")


def mean_pool_encode(
    texts: Sequence[str], encoder: str, batch_size: int, max_length: int, device: str
) -> np.ndarray:
    """Attention-masked mean of the last hidden states of a Hugging Face encoder."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(encoder)
        net = AutoModel.from_pretrained(encoder).to(device).eval()
    except (OSError, ValueError) as exc:
        raise UserError(
            f"cannot load encoder {encoder!r}: {exc}".splitlines()[0],
            field="selector_args.encoder",
            fix="give a local folder holding a Hugging Face model and tokenizer",
        ) from exc
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(device)
            hidden = net(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out.append(pooled.float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 1), dtype=np.float32)


EMBED_CHUNK = 65_536
"""Texts handed to ``Model.embed`` at once (a pool of millions is embedded in pieces)."""


def embed_in_chunks(model: Model, texts: Sequence[str]) -> np.ndarray | None:
    """``model.embed`` over ``texts`` in pieces of :data:`EMBED_CHUNK` (one call, with the
    whole list, when the texts fit in one piece); ``None`` when the model cannot embed."""
    from harness.text_column import iter_chunks

    if len(texts) <= EMBED_CHUNK:
        return model.embed(list(texts))
    parts = []
    for chunk in iter_chunks(texts, EMBED_CHUNK):
        part = model.embed(chunk)
        if part is None:
            return None
        parts.append(np.asarray(part, dtype=np.float32))
    return np.concatenate(parts)


def normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


class EmbeddingSelector(MaxCosineSelector[EmbeddingArgs]):
    """Max cosine similarity in an embedding space."""

    name = "embedding"
    description = "max cosine of the model's (or a given encoder's) embeddings to D_i cases"
    Args = EmbeddingArgs

    def embed(self, texts: Sequence[str], model: Model | None) -> np.ndarray:
        """Embeddings of ``texts`` from the configured encoder or from ``model``."""
        args: EmbeddingArgs = self.args
        if args.encoder:
            return mean_pool_encode(
                texts, args.encoder, args.batch_size, args.max_length, args.device
            )
        vectors = embed_in_chunks(model, texts) if model is not None else None
        if vectors is None:
            raise UserError(
                "the embedding selector needs a model that can embed texts, or an encoder",
                field="selector_args.encoder",
                fix="set selector_args: {encoder: PATH} or use selection: tfidf",
            )
        return np.asarray(vectors, dtype=np.float32)

    def vectors(
        self, pool_texts: Sequence[str], cases: list[str], model: Model | None
    ) -> tuple[object, object]:
        """Embeddings of pool texts and cases, L2-normalised."""
        return normalise(self.embed(pool_texts, model)), normalise(self.embed(cases, model))


@harness.hookimpl
def register_selectors(register: Register[type[Selector]]) -> None:
    """Register the ``embedding`` selector."""
    register(EmbeddingSelector)
