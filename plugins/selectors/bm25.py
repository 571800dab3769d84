"""``bm25``: Okapi BM25 with the pool as the document collection and each D_i case as a query;
a pool example's score for a spec is its maximum BM25 score over the spec's cases."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

import harness
from harness.api import Model, QueryGroups, Rankings, Register, Selector, StrictModel, Texts
from harness_plugins.selectors.common import (
    chunk_rows,
    empty_top_k,
    flatten_queries,
    group_max,
    top_k_by_group,
)


class Bm25Args(StrictModel):
    """Arguments of the ``bm25`` selector."""

    k1: float = Field(default=1.5, ge=0, description="term-frequency saturation")
    b: float = Field(default=0.75, ge=0, le=1, description="length normalisation")
    ngram_max: int = Field(default=1, ge=1, le=4, description="longest word n-gram")


def bm25_weights(counts: Any, k1: float, b: float) -> tuple[Any, np.ndarray]:
    """BM25 document term weights (sparse, rows = documents) and the IDF of every term."""
    import scipy.sparse as sp

    counts = sp.csr_matrix(counts, dtype=np.float64)
    n_docs = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    avg = lengths.mean() if n_docs and lengths.mean() > 0 else 1.0
    norm = k1 * (1.0 - b + b * lengths / avg)
    weighted = counts.copy()
    row_of = np.repeat(np.arange(n_docs), np.diff(counts.indptr))
    tf = weighted.data
    weighted.data = idf[weighted.indices] * tf * (k1 + 1.0) / (tf + norm[row_of])
    return weighted, idf


class Bm25Selector(Selector[Bm25Args]):
    """Okapi BM25 (k1, b) over word n-grams."""

    name = "bm25"
    description = "Okapi BM25 of pool examples against each D_i case, score = max over cases"
    Args = Bm25Args

    def top_k(
        self, pool_texts: Texts, queries: QueryGroups, k: int, seed: int, model: Model | None = None
    ) -> Rankings:
        """The ``k`` best BM25 matches per query group, best first."""
        from sklearn.feature_extraction.text import CountVectorizer

        args: Bm25Args = self.args
        cases, starts = flatten_queries(queries)
        sizes = np.asarray([len(q) for q in queries], dtype=np.int64)
        if not len(pool_texts) or not cases:
            return empty_top_k(len(queries))
        vectorizer = CountVectorizer(
            ngram_range=(1, args.ngram_max), token_pattern=r"(?u)\b\w+\b", dtype=np.float64
        )
        pool_counts = vectorizer.fit_transform(pool_texts)
        weights, _ = bm25_weights(pool_counts, args.k1, args.b)
        query = vectorizer.transform(cases)
        query.data[:] = 1.0  # a query term counts once
        query_t = query.T.tocsr()

        def score(start: int, end: int) -> np.ndarray:
            block = (weights[start:end] @ query_t).toarray()
            return group_max(block, starts, sizes)

        return top_k_by_group(len(pool_texts), len(queries), k, score, chunk_rows(len(cases)))


@harness.hookimpl
def register_selectors(register: Register[type[Selector]]) -> None:
    """Register the ``bm25`` selector."""
    register(Bm25Selector)
