"""``tfidf``: word 1-2-gram TF-IDF; a pool example's score for a spec is its maximum cosine
similarity to any of the spec's D_i cases. Scored in chunks of pool rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

import harness
from harness.api import Model, Register, Selector, StrictModel
from harness_plugins.selectors.common import MaxCosineSelector


class TfidfArgs(StrictModel):
    """Arguments of the ``tfidf`` selector."""

    ngram_max: int = Field(default=2, ge=1, le=4, description="longest word n-gram")
    sublinear_tf: bool = Field(default=True, description="use 1 + log(tf)")
    min_df: int = Field(default=1, ge=1, description="ignore n-grams in fewer documents")


def tfidf_matrices(
    pool_texts: Sequence[str], case_texts: Sequence[str], args: TfidfArgs
) -> tuple[Any, Any]:
    """L2-normalised TF-IDF rows of the pool and of the cases (vocabulary and IDF fitted on
    both, so every case n-gram counts in its norm). The texts are streamed into the vectoriser:
    an Arrow-backed pool is decoded a chunk at a time, never held as one list."""
    import itertools

    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        ngram_range=(1, args.ngram_max),
        sublinear_tf=args.sublinear_tf,
        min_df=args.min_df,
        token_pattern=r"(?u)\b\w+\b",
        dtype=np.float32,
    )
    matrix = vectorizer.fit_transform(itertools.chain(pool_texts, case_texts)).tocsr()
    n = len(pool_texts)
    return matrix[:n], matrix[n:]


class TfidfSelector(MaxCosineSelector[TfidfArgs]):
    """Max cosine similarity of word n-gram TF-IDF vectors."""

    name = "tfidf"
    description = "word 1-2-gram TF-IDF, score = max cosine to the spec's D_i cases"
    Args = TfidfArgs

    def vectors(
        self, pool_texts: Sequence[str], cases: list[str], model: Model | None
    ) -> tuple[object, object]:
        """TF-IDF rows (fit on pool and cases together), L2-normalised."""
        return tfidf_matrices(pool_texts, cases, self.args)


@harness.hookimpl
def register_selectors(register: Register[type[Selector]]) -> None:
    """Register the ``tfidf`` selector."""
    register(TfidfSelector)
