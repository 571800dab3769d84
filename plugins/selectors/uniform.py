"""``random``: the baseline selector, a seeded uniform sample of the pool.

Each query group receives an independent random permutation; the round-robin of
:func:`harness_plugins.interventions.selection.select` over such permutations (skipping
examples already taken) draws a uniform sample without replacement, with exactly the same budget
and filters as a guided selector.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import harness
from harness.api import Model, QueryGroups, Rankings, Register, Selector, Texts


class RandomSelector(Selector):
    """Uniform random pool examples (scores are all zero: there is no similarity)."""

    name = "random"
    description = "uniform random sample of the pool (the baseline for every guided selector)"
    has_scores: ClassVar[bool] = False

    def top_k(
        self, pool_texts: Texts, queries: QueryGroups, k: int, seed: int, model: Model | None = None
    ) -> Rankings:
        """An independent seeded permutation prefix of length ``k`` per query group."""
        n = len(pool_texts)
        k = max(0, min(int(k), n))
        rng = np.random.default_rng([seed, n, 0x5E1EC7])
        out = []
        for _ in queries:
            idx = rng.permutation(n)[:k].astype(np.int64)
            out.append((idx, np.zeros(k, dtype=np.float64)))
        return out


@harness.hookimpl
def register_selectors(register: Register[type[Selector]]) -> None:
    """Register the ``random`` selector."""
    register(RandomSelector)
