"""Shared mechanics of the built-in selectors: grouping spec cases, chunked scoring and a running
per-group top-k, so that no selector ever holds a dense ``|pool| x |cases|`` matrix.

A selector describes how to score a chunk of pool rows against every case (``rows x cases``);
:func:`top_k_by_group` reduces each chunk to one score per query group (the maximum over that
group's cases) and keeps only the ``k`` best rows per group.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from harness.api import ArgsT, Model, QueryGroups, Rankings, Selector, Texts

MAX_CHUNK_CELLS = 1 << 22
"""Largest dense ``rows x cases`` block scored at once (4M float32 cells = 16 MiB)."""


def flatten_queries(queries: Sequence[Sequence[str]]) -> tuple[list[str], np.ndarray]:
    """Concatenate the query groups; return the texts and the start offset of each group."""
    texts: list[str] = []
    starts: list[int] = []
    for group in queries:
        starts.append(len(texts))
        texts.extend(group)
    return texts, np.asarray(starts, dtype=np.int64)


def group_max(scores: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Reduce ``rows x cases`` scores to ``rows x groups`` by the maximum over each group's
    (contiguous) cases; an empty group scores ``-inf``."""
    rows = scores.shape[0]
    out = np.full((rows, len(starts)), -np.inf, dtype=np.float64)
    nonempty = sizes > 0
    if rows and nonempty.any() and scores.shape[1]:
        reduced = np.maximum.reduceat(scores, starts[nonempty], axis=1)
        out[:, nonempty] = reduced
    return out


def chunk_rows(n_cases: int, max_cells: int = MAX_CHUNK_CELLS) -> int:
    """How many pool rows to score at once so a chunk holds at most ``max_cells`` cells."""
    return max(1, max_cells // max(1, n_cases))


def _best_first(scores: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Order of ``indices`` by descending score, ties by ascending index."""
    return np.lexsort((indices, -scores))


def top_k_by_group(
    n_pool: int,
    n_groups: int,
    k: int,
    score_chunk: Callable[[int, int], np.ndarray],
    chunk: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``k`` best pool rows per group, best first, from ``score_chunk(start, end)`` which
    returns ``(end - start) x n_groups`` scores; ties go to the lower pool index. Memory stays
    ``O((k + chunk) x n_groups)``: the full score matrix is never built."""
    k = max(0, min(int(k), n_pool))
    empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    if k == 0 or n_groups == 0:
        return [empty for _ in range(n_groups)]
    best_idx = [np.zeros(0, dtype=np.int64) for _ in range(n_groups)]
    best_score = [np.zeros(0, dtype=np.float64) for _ in range(n_groups)]
    for start in range(0, n_pool, chunk):
        end = min(n_pool, start + chunk)
        block = np.asarray(score_chunk(start, end), dtype=np.float64)
        rows = np.arange(start, end, dtype=np.int64)
        for g in range(n_groups):
            idx = np.concatenate([best_idx[g], rows])
            sc = np.concatenate([best_score[g], block[:, g]])
            if len(idx) > k:
                # keep a superset of the k best (all ties at the cut), then order exactly
                cut = np.partition(sc, len(sc) - k)[len(sc) - k]
                keep = sc >= cut
                idx, sc = idx[keep], sc[keep]
            order = _best_first(sc, idx)[:k]
            best_idx[g], best_score[g] = idx[order], sc[order]
    return [(best_idx[g], best_score[g]) for g in range(n_groups)]


def empty_top_k(n_queries: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The result for an empty pool or no cases: an empty ranking per query group."""
    return top_k_by_group(0, n_queries, 0, lambda start, end: np.zeros((0, 0)), 1)


def cosine_chunks(
    pool_matrix: object, case_matrix: object, starts: np.ndarray, sizes: np.ndarray
) -> Callable[[int, int], np.ndarray]:
    """A ``score_chunk`` function: max over each group's cases of the dot product of
    (L2-normalised) pool rows and case rows. Works for scipy sparse and numpy matrices."""
    import scipy.sparse as sp

    case_t = case_matrix.T  # type: ignore[attr-defined]

    def score(start: int, end: int) -> np.ndarray:
        block = pool_matrix[start:end] @ case_t  # type: ignore[index]
        dense = block.toarray() if sp.issparse(block) else np.asarray(block)
        return group_max(dense.astype(np.float64, copy=False), starts, sizes)

    return score


class MaxCosineSelector(Selector[ArgsT]):
    """A selector whose score is the max cosine between vector rows of pool texts and of a spec's
    D_i cases; subclasses say how texts become (L2-normalised) vectors."""

    @abstractmethod
    def vectors(
        self, pool_texts: Sequence[str], cases: list[str], model: Model | None
    ) -> tuple[object, object]:
        """L2-normalised row vectors of the pool texts and of the cases (numpy or scipy sparse)."""

    def top_k(
        self, pool_texts: Texts, queries: QueryGroups, k: int, seed: int, model: Model | None = None
    ) -> Rankings:
        """The ``k`` most similar pool examples per query group, best first."""
        cases, starts = flatten_queries(queries)
        sizes = np.asarray([len(q) for q in queries], dtype=np.int64)
        if not len(pool_texts) or not cases:
            return empty_top_k(len(queries))
        pool_m, case_m = self.vectors(pool_texts, cases, model)
        score = cosine_chunks(pool_m, case_m, starts, sizes)
        return top_k_by_group(len(pool_texts), len(queries), k, score, chunk_rows(len(cases)))
