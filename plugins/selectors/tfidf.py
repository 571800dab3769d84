"""``tfidf``: word 1-2-gram TF-IDF; a pool example's score for a spec is its maximum cosine
similarity to any of the spec's D_i cases. Scored in chunks of pool rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from harness_plugins.selectors.common import (
    chunk_rows,
    cosine_chunks,
    flatten_queries,
    top_k_by_group,
)
from pydantic import Field

import harness
from harness.api import Model, Selector, StrictModel


class TfidfArgs(StrictModel):
    """Arguments of the ``tfidf`` selector."""

    ngram_max: int = Field(default=2, ge=1, le=4, description="longest word n-gram")
    sublinear_tf: bool = Field(default=True, description="use 1 + log(tf)")
    min_df: int = Field(default=1, ge=1, description="ignore n-grams in fewer documents")


def tfidf_matrices(
    pool_texts: Sequence[str], case_texts: Sequence[str], args: TfidfArgs
) -> tuple[Any, Any]:
    """L2-normalised TF-IDF rows of the pool and of the cases (vocabulary and IDF fitted on
    both, so every case n-gram counts in its norm)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        ngram_range=(1, args.ngram_max),
        sublinear_tf=args.sublinear_tf,
        min_df=args.min_df,
        token_pattern=r"(?u)\b\w+\b",
        dtype=np.float32,
    )
    matrix = vectorizer.fit_transform(list(pool_texts) + list(case_texts)).tocsr()
    n = len(pool_texts)
    return matrix[:n], matrix[n:]


class TfidfSelector(Selector):
    """Max cosine similarity of word n-gram TF-IDF vectors."""

    name = "tfidf"
    description = "word 1-2-gram TF-IDF, score = max cosine to the spec's D_i cases"
    Args = TfidfArgs

    def top_k(
        self,
        pool_texts: Sequence[str],
        queries: Sequence[Sequence[str]],
        k: int,
        seed: int,
        model: Model | None = None,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The ``k`` most similar pool examples per query group, best first."""
        cases, starts = flatten_queries(queries)
        sizes = np.asarray([len(q) for q in queries], dtype=np.int64)
        if not len(pool_texts) or not cases:
            return top_k_by_group(0, len(queries), 0, lambda s, e: np.zeros((0, 0)), 1)
        pool_m, case_m = tfidf_matrices(pool_texts, cases, self.args)
        score = cosine_chunks(pool_m, case_m, starts, sizes)
        return top_k_by_group(len(pool_texts), len(queries), k, score, chunk_rows(len(cases)))


@harness.hookimpl
def register_selectors(register: Any) -> None:
    """Register the ``tfidf`` selector."""
    register(TfidfSelector)
