"""``dsir``: data selection with importance resampling (Xie et al. 2023, "Data Selection for
Language Models via Importance Resampling").

Texts become hashed unigram+bigram count vectors (``buckets`` features). A bag-of-n-grams
distribution is fitted to the pool (raw) and, per spec, to its D_i cases (target), with additive
smoothing. A pool example's log importance weight is ``sum_j count_j * (log p_target_j -
log p_raw_j)``. With ``sample: true`` (the paper's method) examples are drawn without replacement
with probability proportional to the weight, via the Gumbel top-k trick (seeded); with
``sample: false`` the highest weights are taken deterministically. Scores returned are the log
weights (without the Gumbel noise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

import harness
from harness.api import Model, QueryGroups, Rankings, Register, Selector, StrictModel, Texts
from harness_plugins.selectors.common import chunk_rows, empty_top_k, top_k_by_group


class DsirArgs(StrictModel):
    """Arguments of the ``dsir`` selector."""

    buckets: int = Field(default=10000, ge=16, description="hashed n-gram features")
    ngram_max: int = Field(default=2, ge=1, le=4)
    smoothing: float = Field(default=1.0, gt=0, description="additive pseudo-count per feature")
    sample: bool = Field(default=True, description="importance resampling (Gumbel top-k)")


def hashed_counts(texts: Sequence[str], args: DsirArgs) -> Any:
    """Sparse hashed n-gram counts, one row per text (streamed: an Arrow-backed pool is decoded
    a chunk at a time)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(
        n_features=args.buckets,
        ngram_range=(1, args.ngram_max),
        alternate_sign=False,
        norm=None,
        token_pattern=r"(?u)\b\w+\b",
        dtype=np.float64,
    )
    return vectorizer.transform(iter(texts)).tocsr()


def log_distribution(counts: Any, smoothing: float) -> np.ndarray:
    """Log of the smoothed feature distribution of the rows of ``counts``."""
    totals = np.asarray(counts.sum(axis=0)).ravel() + smoothing
    return np.log(totals) - np.log(totals.sum())


class DsirSelector(Selector[DsirArgs]):
    """Hashed n-gram importance weights (target = a spec's D_i, raw = the pool)."""

    name = "dsir"
    description = "importance resampling with hashed n-gram weights (Xie et al. 2023)"
    Args = DsirArgs

    def top_k(
        self, pool_texts: Texts, queries: QueryGroups, k: int, seed: int, model: Model | None = None
    ) -> Rankings:
        """Per query group, ``k`` pool examples by importance (resampled or top), best first."""
        args: DsirArgs = self.args
        n = len(pool_texts)
        if not n or not any(len(q) for q in queries):
            return empty_top_k(len(queries))
        pool = hashed_counts(pool_texts, args)
        log_raw = log_distribution(pool, args.smoothing)
        ratios = np.zeros((args.buckets, len(queries)), dtype=np.float64)
        for g, group in enumerate(queries):
            if len(group):
                ratios[:, g] = (
                    log_distribution(hashed_counts(group, args), args.smoothing) - log_raw
                )
        empty = np.asarray([len(q) == 0 for q in queries])
        rng = np.random.default_rng([seed, n, 0xD51])

        def weights(start: int, end: int) -> np.ndarray:
            out = np.asarray(pool[start:end] @ ratios)
            out[:, empty] = -np.inf
            return out

        def keys(start: int, end: int) -> np.ndarray:
            block = weights(start, end)
            if args.sample:
                block = block + rng.gumbel(size=block.shape)
            return block

        chunk = chunk_rows(len(queries))
        ranked = top_k_by_group(n, len(queries), k, keys, chunk)
        out = []
        for g, (idx, _) in enumerate(ranked):
            scores = np.asarray(pool[idx] @ ratios[:, g]).ravel() if len(idx) else np.zeros(0)
            out.append((idx, scores.astype(np.float64)))
        return out


@harness.hookimpl
def register_selectors(register: Register[type[Selector]]) -> None:
    """Register the ``dsir`` selector."""
    register(DsirSelector)
