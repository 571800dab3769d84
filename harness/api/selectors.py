"""Pool selectors: :class:`Selector` and the types of its ``top_k``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from harness.api.arguments import ArgsT
from harness.api.data import Texts
from harness.api.items import ConfiguredItem
from harness.api.models import Model

QueryGroups = Sequence[Sequence[str]]
"""What a selector ranks the pool against: one group of query texts per spec, the texts of its
D_i cases (never its held-out cases)."""

Rankings = list[tuple[np.ndarray, np.ndarray]]
"""What :meth:`Selector.top_k` returns: per query group, ``(pool indices, scores)`` of its best
pool examples, best first (int64 indices into ``pool_texts``, float scores)."""


class Selector(ConfiguredItem[ArgsT], ABC):
    """Scores ``pool`` examples against the spec cases of D_i. Register the class.

    A ``retrain`` (or ``relabel``) names a selector with ``selection: NAME`` and passes it
    arguments with ``selector_args: {...}``, validated by the selector's ``Args`` while the run
    is planned. The selector sees only D_i cases (the ``queries``), never the held-out ones.

    Example::

        import numpy as np

        import harness
        from harness.api import Register, Selector, StrictModel


        class OverlapArgs(StrictModel):
            lowercase: bool = True


        class OverlapSelector(Selector[OverlapArgs]):
            name = "overlap"
            description = "pool texts sharing the most words with a spec's D_i cases"
            Args = OverlapArgs

            def top_k(self, pool_texts, queries, k, seed, model=None):
                fold = str.lower if self.args.lowercase else str
                words = [set(fold(text).split()) for text in pool_texts]
                ranked = []
                for group in queries:  # one group per spec: its D_i texts
                    wanted = {w for text in group for w in fold(text).split()}
                    scores = np.array([len(w & wanted) for w in words], dtype=float)
                    best = np.argsort(-scores, kind="stable")[:k]
                    ranked.append((best.astype(np.int64), scores[best]))
                return ranked


        @harness.hookimpl
        def register_selectors(register: Register[type[Selector]]) -> None:
            register(OverlapSelector)

    A config then uses it as ``{name: retrain, params: {selection: overlap, selector_args:
    {lowercase: false}}}``."""

    has_scores: ClassVar[bool] = True
    """Whether its scores measure similarity to the specs (``False`` for ``random``): a
    selection then reports each spec's mean score as a pre-training signal."""

    @abstractmethod
    def top_k(
        self, pool_texts: Texts, queries: QueryGroups, k: int, seed: int, model: Model | None = None
    ) -> Rankings:
        """For each query group (one per spec: its D_i texts), return ``(pool indices, scores)``
        of the ``k`` best pool examples, best first."""
