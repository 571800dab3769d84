"""Spec-guided selection from the pool: round-robin over specs, deduplicated, exact budget.

The algorithm of the ``retrain`` intervention, part of the built-in plugins (``augment`` and
``relabel`` share its :func:`round_robin`, :func:`draw_counts` and :func:`largest_remainder`).

A :class:`~harness.api.Selector` ranks pool examples per spec, using ONLY the spec's D_i
(``train_cases``); D_i_heldout never reaches it. :func:`select` then takes the specs' candidates
in turns (spec 1's best, spec 2's best, ..., spec 1's second best, ...), skipping examples already
taken, until the budget is spent, so every spec gets its share.

Options:

- ``labels="keep"`` (default) keeps the pool's labels and lets a spec draw any pool example;
  ``labels="agree"`` lets a spec draw only pool examples whose label is the spec's label.
- ``stratify="pool"`` splits the budget over labels in the pool's label ratio (largest-remainder
  rounding) and selects within each label stratum; a mapping ``{label: share}`` gives the ratio.
  Guided samples otherwise tend to skew to one label (a shortcut the model then learns).
- ``sources=[...]`` draws only from those named pool sources (e.g. a general pool without the
  policy-annotated set); the summary counts what was drawn per source and per source and label.
- ``rerank=Rerank(...)`` re-orders the head of each spec's candidate list (its best ``depth``
  times its share of the budget) by another score, e.g. a difficulty measure, before the
  round-robin; the rest of the list follows in the selector's order, so no spec runs short.

The result carries the per-spec *coverage*, a signal available before any training: how many
examples each spec drew, their mean selector score, and ``case_coverage``, a selector-independent
measure (mean over the spec's D_i cases of the best TF-IDF cosine to any selected example) that
is comparable between guided and random selections.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.api import Model, Selector, Spec, Split
from harness.errors import UserError
from harness.text_column import as_list, take_texts


@dataclass
class Selection:
    """What :func:`select` chose: pool indices (in selection order) and per-spec coverage."""

    indices: np.ndarray
    drawn_by: list[str]
    scores: np.ndarray
    budget: int
    coverage: dict[str, dict[str, Any]] = field(default_factory=dict)
    strata: dict[str, int] | None = None
    shortfall: int = 0

    def summary(self, pool: Split, label_names: Sequence[str]) -> dict[str, Any]:
        """A JSON-able record of the selection for ``changes`` (``pool`` is the whole pool
        the indices point into)."""
        chosen = pool.subset(self.indices)
        return {
            "budget": self.budget,
            "n_selected": int(len(self.indices)),
            "shortfall": self.shortfall,
            **draw_counts(chosen, label_names, list(pool.source_counts())),
            "strata": self.strata,
            "coverage": self.coverage,
            "added_ids": [pool.ids[int(i)] for i in self.indices],
        }


@dataclass
class Rerank:
    """Re-orders the head of each spec's candidates by ``key`` (lower first; ties keep the
    selector's order): the best ``ceil(depth * quota / specs)`` candidates of every spec, i.e.
    ``depth`` times the share of the budget each spec draws in the round-robin."""

    key: Callable[[np.ndarray], np.ndarray]
    """Pool indices -> one sort key per index (lower first), called once per new index."""
    depth: float = 3.0
    keys: dict[int, float] = field(default_factory=dict)
    """Every key computed so far, by pool index."""

    def reorder(
        self, candidates: Sequence[tuple[np.ndarray, np.ndarray]], quota: int
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``candidates`` with each group's head re-ordered by :attr:`key`."""
        groups = [g for g, (idx, _) in enumerate(candidates) if len(idx)]
        if not groups or quota <= 0:
            return list(candidates)
        keep = max(1, int(np.ceil(self.depth * quota / len(groups))))
        heads = [np.asarray(idx[:keep], dtype=np.int64) for idx, _ in candidates]
        union = np.unique(np.concatenate(heads)) if heads else np.zeros(0, dtype=np.int64)
        new = np.asarray([i for i in union.tolist() if i not in self.keys], dtype=np.int64)
        if len(new):
            values = np.asarray(self.key(new), dtype=np.float64)
            self.keys.update(zip(new.tolist(), values.tolist(), strict=True))
        out: list[tuple[np.ndarray, np.ndarray]] = []
        for (idx, scores), head in zip(candidates, heads, strict=True):
            keys = np.asarray([self.keys[int(i)] for i in head], dtype=np.float64)
            order = np.lexsort((np.arange(len(head)), keys))
            scores = np.asarray(scores)
            out.append(
                (
                    np.concatenate([head[order], np.asarray(idx[keep:], dtype=np.int64)]),
                    np.concatenate([scores[: len(head)][order], scores[keep:]]),
                )
            )
        return out


def draw_counts(
    drawn: Split, label_names: Sequence[str], sources: Sequence[str] = ()
) -> dict[str, Any]:
    """What ``drawn`` holds per label, per source and per source and label: the
    ``label_counts``, ``source_counts`` and ``source_label_counts`` of a ``changes`` record.
    Every label appears in each mapping and every name in ``sources`` (e.g. all the pool's
    sources) appears with zeros when nothing was drawn from it; then other sources in
    first-seen order."""
    labels = drawn.labels
    row_sources = drawn.source_names()
    by_source: dict[str, dict[str, int]] = {}
    for name in dict.fromkeys([*sources, *row_sources]):
        mine = labels[np.asarray([s == name for s in row_sources], dtype=bool)]
        by_source[name] = {label: int((mine == i).sum()) for i, label in enumerate(label_names)}
    return {
        "label_counts": {name: int((labels == i).sum()) for i, name in enumerate(label_names)},
        "source_counts": {name: sum(counts.values()) for name, counts in by_source.items()},
        "source_label_counts": by_source,
    }


def round_robin(
    candidates: Sequence[tuple[np.ndarray, np.ndarray]],
    budget: int,
    taken: set[int] | None = None,
) -> list[tuple[int, int, float]]:
    """Take candidates in turns across groups until ``budget`` examples are taken.

    ``candidates[g]`` is group ``g``'s ``(indices, scores)``, best first. At its turn a group
    takes its best candidate not taken yet (by any group, or in ``taken``). Returns
    ``(group, index, score)`` triples in the order taken; fewer than ``budget`` only when every
    group has run out of candidates.
    """
    taken = set() if taken is None else taken
    pointers = [0] * len(candidates)
    out: list[tuple[int, int, float]] = []
    active = [g for g, (idx, _) in enumerate(candidates) if len(idx)]
    while len(out) < budget and active:
        still: list[int] = []
        for g in active:
            if len(out) >= budget:
                still.append(g)
                continue
            idx, scores = candidates[g]
            p = pointers[g]
            while p < len(idx) and int(idx[p]) in taken:
                p += 1
            if p < len(idx):
                choice = int(idx[p])
                taken.add(choice)
                out.append((g, choice, float(scores[p])))
                p += 1
            pointers[g] = p
            if p < len(idx):
                still.append(g)
        active = still
    return out


def largest_remainder(total: int, shares: Mapping[int, float]) -> dict[int, int]:
    """Split ``total`` into integers proportional to ``shares`` (sum exactly ``total``)."""
    weight = sum(shares.values())
    if total <= 0 or weight <= 0:
        return {key: 0 for key in shares}
    exact = {key: total * value / weight for key, value in shares.items()}
    quota = {key: int(np.floor(value)) for key, value in exact.items()}
    rest = total - sum(quota.values())
    order = sorted(shares, key=lambda key: (-(exact[key] - quota[key]), key))
    for key in order[:rest]:
        quota[key] += 1
    return quota


def candidate_rows(pool: Split, sources: Sequence[str] | None) -> np.ndarray:
    """Indices of the pool rows from ``sources`` (every row for ``None``); an unknown source
    name is a :class:`UserError`."""
    everything = np.arange(len(pool), dtype=np.int64)
    if sources is None:
        return everything
    known = pool.source_counts() if pool.sources is not None else {}
    unknown = [name for name in sources if name not in known]
    if unknown:
        raise UserError(
            f"unknown pool source(s) {', '.join(map(repr, unknown))}",
            field="sources",
            fix=f"pool sources: {', '.join(known) or '(none named)'}",
        )
    wanted = set(sources)
    return everything[np.asarray([name in wanted for name in pool.source_names()], dtype=bool)]


def _strata(
    pool: Split,
    everything: np.ndarray,
    budget: int,
    stratify: str | Mapping[str, float] | None,
    label_names: Sequence[str],
) -> list[tuple[int | None, np.ndarray, int]]:
    """``(label or None, pool indices, budget)`` per stratum of the candidate rows
    ``everything``."""
    if stratify is None:
        return [(None, everything, budget)]
    labels = pool.labels[everything]
    if stratify == "pool":
        shares = {i: float((labels == i).sum()) for i in range(len(label_names))}
    elif isinstance(stratify, Mapping):
        unknown = sorted(set(stratify) - set(label_names))
        if unknown:
            raise UserError(
                f"unknown label(s) {', '.join(unknown)} in stratify",
                field="stratify",
                fix=f"use labels from {', '.join(label_names)}",
            )
        if any(float(v) < 0 for v in stratify.values()):
            raise UserError("stratify shares must be >= 0", field="stratify")
        shares = {label_names.index(name): float(v) for name, v in stratify.items()}
    else:
        raise UserError(
            f"stratify must be 'pool' or a mapping of label shares, got {stratify!r}",
            field="stratify",
            fix="write stratify: pool, or stratify: {toxic: 0.5, non-toxic: 0.5}",
        )
    quotas = largest_remainder(budget, shares)
    return [(i, everything[labels == i], quotas[i]) for i in sorted(quotas)]


def candidate_texts(pool: Split, rows: np.ndarray) -> Sequence[str]:
    """The texts of pool ``rows`` for a selector: the pool's own texts when ``rows`` is every
    row in order (an Arrow-backed pool is not copied), else the rows taken (an Arrow-backed pool
    stays Arrow-backed)."""
    if len(rows) == len(pool) and np.array_equal(rows, np.arange(len(pool))):
        return pool.texts
    return take_texts(pool.texts, rows)


def spec_queries(specs: Sequence[Spec]) -> list[list[str]]:
    """The query texts per spec: its D_i (``train_cases``) only, never D_i_heldout."""
    return [[case.text for case in spec.train_cases] for spec in specs]


def select(
    selector: Selector,
    pool: Split,
    specs: Sequence[Spec],
    budget: int,
    seed: int,
    label_names: Sequence[str],
    model: Model | None = None,
    labels: str = "keep",
    stratify: str | Mapping[str, float] | None = None,
    sources: Sequence[str] | None = None,
    rerank: Rerank | None = None,
) -> Selection:
    """Select up to ``budget`` pool examples for ``specs`` with ``selector`` (see module doc);
    ``sources`` restricts the candidates to those named pool sources, ``rerank`` re-orders the
    head of each spec's candidates. The indices point into the whole ``pool``."""
    if labels not in ("keep", "agree"):
        raise UserError(f"labels must be 'keep' or 'agree', got {labels!r}", field="labels")
    guided = [spec for spec in specs if spec.train_cases]
    rows = candidate_rows(pool, sources)
    budget = max(0, min(int(budget), len(rows)))
    queries = spec_queries(guided)
    spec_label = np.asarray([label_names.index(spec.label) for spec in guided], dtype=np.int64)
    chosen: list[tuple[int, int, float]] = []
    strata_counts: dict[str, int] | None = {} if stratify is not None else None
    wanted = 0
    taken: set[int] = set()
    for label, members, quota in _strata(pool, rows, budget, stratify, label_names):
        wanted += quota
        candidates: list[tuple[np.ndarray, np.ndarray]] = [
            (np.zeros(0, dtype=np.int64), np.zeros(0)) for _ in guided
        ]
        if labels == "keep":
            groups = [(members, list(range(len(guided))))]
        else:
            groups = [
                (
                    members[pool.labels[members] == lab],
                    [g for g in range(len(guided)) if spec_label[g] == lab],
                )
                for lab in sorted(set(spec_label.tolist()))
            ]
        for subset, group_ids in groups:
            if not group_ids or not len(subset) or quota == 0:
                continue
            k = min(len(subset), quota)
            ranked = selector.top_k(
                candidate_texts(pool, subset),
                [queries[g] for g in group_ids],
                k,
                seed,
                model,
            )
            for g, (idx, scores) in zip(group_ids, ranked, strict=True):
                candidates[g] = (subset[np.asarray(idx, dtype=np.int64)], np.asarray(scores))
        if rerank is not None:
            candidates = rerank.reorder(candidates, quota)
        picked = round_robin(candidates, quota, taken)
        chosen.extend(picked)
        if strata_counts is not None and label is not None:
            strata_counts[label_names[label]] = len(picked)
    indices = np.asarray([i for _, i, _ in chosen], dtype=np.int64)
    selection = Selection(
        indices=indices,
        drawn_by=[guided[g].id for g, _, _ in chosen],
        scores=np.asarray([s for _, _, s in chosen], dtype=np.float64),
        budget=budget,
        strata=strata_counts,
        shortfall=int(wanted - len(indices)),
    )
    selection.coverage = coverage(
        selection,
        specs,
        as_list(take_texts(pool.texts, indices)),
        selector.has_scores,
    )
    return selection


def coverage(
    selection: Selection,
    specs: Sequence[Spec],
    selected_texts: Sequence[str],
    has_scores: bool = True,
) -> dict[str, dict[str, Any]]:
    """Per spec: ``n`` drawn, ``mean_similarity`` (mean selector score of those drawn; ``None``
    for selectors without a similarity, such as ``random``) and ``case_coverage``."""
    cases = case_coverage(selected_texts, specs)
    out: dict[str, dict[str, Any]] = {}
    drawn = np.asarray(selection.drawn_by, dtype=object)
    for spec in specs:
        mine = drawn == spec.id if len(drawn) else np.zeros(0, dtype=bool)
        n = int(mine.sum())
        mean = float(selection.scores[mine].mean()) if (n and has_scores) else None
        out[spec.id] = {
            "n": n,
            "mean_similarity": None if mean is None else round(mean, 6),
            "case_coverage": cases.get(spec.id),
        }
    return out


def case_coverage(selected_texts: Sequence[str], specs: Sequence[Spec]) -> dict[str, float | None]:
    """Mean over each spec's D_i cases of the best TF-IDF (word 1-2-gram) cosine similarity to
    any selected text: the same measure whichever selector chose the texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    cases = [case.text for spec in specs for case in spec.train_cases]
    if not selected_texts or not cases:
        return {spec.id: (0.0 if spec.train_cases else None) for spec in specs}
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b", dtype=np.float32
    )
    matrix = vectorizer.fit_transform(list(selected_texts) + cases).tocsr()
    sel, case_m = matrix[: len(selected_texts)], matrix[len(selected_texts) :]
    best = np.zeros(len(cases), dtype=np.float64)
    rows = max(1, (1 << 22) // max(1, len(selected_texts)))
    for start in range(0, len(cases), rows):
        block = (case_m[start : start + rows] @ sel.T).toarray()
        best[start : start + rows] = block.max(axis=1)
    out: dict[str, float | None] = {}
    start = 0
    for spec in specs:
        n = len(spec.train_cases)
        out[spec.id] = round(float(best[start : start + n].mean()), 6) if n else None
        start += n
    return out
