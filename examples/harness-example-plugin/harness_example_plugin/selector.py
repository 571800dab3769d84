"""The ``keyword-overlap`` selector: rank pool texts by the words they share with a spec's cases."""

from __future__ import annotations

import re

import numpy as np
from pydantic import Field

from harness.api import Model, QueryGroups, Rankings, Selector, StrictModel, Texts

WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> set[str]:
    """The lower-cased words of ``text``."""
    return set(WORD.findall(text.lower()))


class KeywordOverlapArgs(StrictModel):
    """Arguments of ``keyword-overlap``."""

    min_length: int = Field(default=2, ge=1, description="ignore words shorter than this")


class KeywordOverlapSelector(Selector[KeywordOverlapArgs]):
    """Scores each pool text by the share of its words that occur in the spec's D_i cases."""

    name = "keyword-overlap"
    description = "pool texts sharing the most words with a spec's D_i cases (example plugin)"
    Args = KeywordOverlapArgs

    def top_k(
        self, pool_texts: Texts, queries: QueryGroups, k: int, seed: int, model: Model | None = None
    ) -> Rankings:
        """For each query group, the ``k`` pool texts with the highest overlap, best first; ties
        are broken by a seeded random order."""
        min_length = self.args.min_length  # type: ignore[attr-defined]
        pool_words = [{w for w in words(t) if len(w) >= min_length} for t in pool_texts]
        tiebreak = np.random.default_rng(seed).random(len(pool_texts))
        out: list[tuple[np.ndarray, np.ndarray]] = []
        for group in queries:
            vocabulary = {w for text in group for w in words(text) if len(w) >= min_length}
            scores = np.array(
                [len(ws & vocabulary) / len(ws) if ws else 0.0 for ws in pool_words],
                dtype=np.float64,
            )
            order = np.lexsort((tiebreak, -scores))[: max(0, k)]
            out.append((order.astype(np.int64), scores[order]))
        return out
