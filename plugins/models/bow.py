"""``bow``: a fast bag-of-n-grams torch classifier (hashed n-grams -> EmbeddingBag -> MLP).

It trains in seconds on two CPU cores, so the demo and the tests use it, and it is a real
``torch.nn.Module``, so patching code is the same as for transformer models.

``class_weight`` (``balanced`` or ``{label: weight}``, see :mod:`harness.class_weights`) weights
each training example's cross-entropy by its label's weight, for imbalanced data where an
unweighted model may collapse to the majority label.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

import harness
from harness.api import ClassWeight, EpochCallback, Model, Register, StrictModel, Texts, TorchModel
from harness.errors import os_error_from

if TYPE_CHECKING:
    import torch

    from harness.progress import Progress

TOKEN = re.compile(r"[a-z0-9']+")


class BowArgs(StrictModel):
    """Arguments of the ``bow`` model (``--model-args``)."""

    ngrams: int = Field(default=2, ge=1, le=4, description="longest word n-gram")
    buckets: int = Field(default=2**15, ge=16, description="hashed n-gram buckets")
    dim: int = Field(default=32, ge=2, description="embedding size")
    hidden: int = Field(default=64, ge=2, description="hidden layer size")
    epochs: int = Field(default=6, ge=1)
    batch_size: int = Field(default=64, ge=1)
    lr: float = Field(default=0.01, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=256, ge=1, description="tokens kept per text")
    class_weight: ClassWeight = Field(
        default=None,
        description="weight the loss per label: balanced (n / (k * count)) or {label: weight}",
    )


def ngram_ids(text: str, ngrams: int, buckets: int, max_tokens: int) -> list[int]:
    """Stable hashed ids of the word 1..n-grams of ``text`` (lower-cased)."""
    words = TOKEN.findall(text.lower())[:max_tokens]
    ids: list[int] = []
    for n in range(1, ngrams + 1):
        for i in range(len(words) - n + 1):
            gram = " ".join(words[i : i + n])
            ids.append(zlib.crc32(f"{n}:{gram}".encode()) % buckets)
    return ids or [0]


class BowModel(TorchModel[BowArgs]):
    """Hashed n-gram EmbeddingBag classifier."""

    name = "bow"
    description = "fast torch bag-of-n-grams classifier (EmbeddingBag + MLP); trains in seconds"
    Args = BowArgs
    default_patch_delta = 0.02
    """Measured on the demo (see :mod:`harness_plugins.interventions.patch`): 5e-4 barely moves
    a model trained with Adam at lr 0.01; 0.02 keeps two thirds of the unconstrained FR drop at
    a third of its accuracy cost."""
    cpu_threads = 1
    supports_epoch_callback = True
    """After every epoch, ``fit`` predicts the whole training set (a forward pass, a few
    percent of an epoch's cost) for ``on_epoch_end``."""

    _module: torch.nn.Module | None = None
    """The network, built on first use (:meth:`_build`)."""

    # -- module -------------------------------------------------------------------------------
    def _build(self) -> torch.nn.Module:
        import torch

        args: BowArgs = self.args

        class BowNet(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.embedding = torch.nn.EmbeddingBag(args.buckets, args.dim, mode="mean")
                self.hidden = torch.nn.Linear(args.dim, args.hidden)
                self.head = torch.nn.Linear(args.hidden, num_labels)

            def features(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
                return torch.relu(self.hidden(self.embedding(ids, offsets)))

            def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
                return self.head(self.features(ids, offsets))

        num_labels = self.num_labels
        return BowNet().to(self.device)

    @property
    def module(self) -> torch.nn.Module:
        """The underlying ``torch.nn.Module`` (built on first use)."""
        if self._module is None:
            self._module = self._build()
        return self._module

    def parameter_names(self, which: str) -> list[str]:
        """``head``: the output layer; ``last``: hidden layer + head; ``all``: everything."""
        names = [name for name, _ in self.module.named_parameters()]
        if which == "head":
            return [n for n in names if n.startswith("head.")]
        if which == "last":
            return [n for n in names if n.startswith(("head.", "hidden."))]
        if which == "all":
            return names
        return self.names_matching(names, which)

    def _batch(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        args: BowArgs = self.args
        lists = [ngram_ids(t, args.ngrams, args.buckets, args.max_tokens) for t in texts]
        offsets = np.cumsum([0] + [len(x) for x in lists[:-1]])
        flat = np.fromiter((i for x in lists for i in x), dtype=np.int64)
        return (
            torch.from_numpy(flat).to(self.device),
            torch.from_numpy(offsets.astype(np.int64)).to(self.device),
        )

    def logits(self, texts: Sequence[str]) -> torch.Tensor:
        """Logits for ``texts`` with gradients enabled."""
        ids, offsets = self._batch(texts)
        return self.module(ids, offsets)

    # -- training and inference ---------------------------------------------------------------
    def fit(
        self,
        texts: Texts,
        labels: np.ndarray,
        seed: int,
        progress: Progress | None = None,
        on_epoch_end: EpochCallback | None = None,
    ) -> None:
        """Train from a fresh initialisation with Adam for ``epochs`` epochs (cross-entropy,
        weighted per label when ``class_weight`` is set); ``on_epoch_end`` receives the class
        probabilities of the training examples after every epoch."""
        import torch

        from harness.class_weights import class_weight_vector, weighted_cross_entropy

        args: BowArgs = self.args
        vector = class_weight_vector(args.class_weight, self.label_names, labels)
        weights = (
            None
            if vector is None
            else torch.tensor(vector, dtype=torch.float32, device=self.device)
        )
        torch.manual_seed(seed)
        self._module = self._build()
        module = self._module
        optimiser = torch.optim.Adam(
            module.parameters(), lr=args.lr, weight_decay=args.weight_decay
        )
        y = torch.as_tensor(np.asarray(labels), dtype=torch.long, device=self.device)
        rng = np.random.default_rng(seed)
        n = len(texts)
        steps = args.epochs * ((n + args.batch_size - 1) // args.batch_size)
        module.train()
        from contextlib import nullcontext

        bar = progress.task(f"training {self.name}", steps) if progress else nullcontext()
        with bar as handle:
            for epoch in range(args.epochs):
                order = rng.permutation(n)
                for start in range(0, n, args.batch_size):
                    idx = order[start : start + args.batch_size]
                    logits = self.logits([texts[i] for i in idx])
                    loss = weighted_cross_entropy(logits, y[idx], weights)
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                    if handle is not None:
                        handle.advance()
                if on_epoch_end is not None:
                    on_epoch_end(epoch, self.predict_proba(texts))
                    module.train()
        module.eval()

    def predict_proba(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Softmax probabilities in input order, in batches of 1024."""
        import torch

        module = self.module
        module.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), 1024):
                logits = self.logits(texts[start : start + 1024])
                out.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
        if not out:
            return np.zeros((0, self.num_labels), dtype=np.float32)
        return np.concatenate(out)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Hidden-layer features, one row per text."""
        import torch

        module: Any = self.module  # the BowNet built by _build (features() is its own)
        module.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), 1024):
                ids, offsets = self._batch(texts[start : start + 1024])
                out.append(module.features(ids, offsets).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.args.hidden), dtype=np.float32)

    # -- persistence --------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write ``config.json`` and ``model.safetensors``."""
        from safetensors import SafetensorError
        from safetensors.torch import save_file

        directory.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.module.state_dict().items()}
        target = directory / "model.safetensors"
        try:
            save_file(state, str(target))
        except SafetensorError as exc:  # disk full, file-size limit: an OSError for the cache
            raise os_error_from(exc) from exc
        self.save_info(directory)

    def load(self, directory: Path) -> None:
        """Read weights written by :meth:`save`."""
        from safetensors.torch import load_file

        state = load_file(str(directory / "model.safetensors"), device=self.device)
        self._module = self._build()
        self._module.load_state_dict(state)
        self._module.eval()


@harness.hookimpl
def register_models(register: Register[type[Model]]) -> None:
    """Register the ``bow`` model."""
    register(BowModel)
