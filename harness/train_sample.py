"""``train_limit``: train on a sample of the train split, drawn with a seed (not its first rows).

The sample is stratified by label: each label keeps its share of the train split (largest
remainder rounding, at least one row of every label when the limit allows), and the rows of each
label are drawn at random with the run's first seed (the seed that also splits table suites), so
every seed and every intervention of a run trains on the same subset. Kept rows stay in file
order. ``--limit`` (the first N rows of every split) applies first.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from harness.api import Task
from harness.results import TrainSample

METHOD = "stratified by label"


def label_quotas(counts: np.ndarray, limit: int) -> np.ndarray:
    """Rows to keep per label: ``limit`` split in proportion to ``counts`` (largest remainder,
    ties to the earlier label), at least one per label when ``limit`` is at least the number of
    labels, never more than a label has."""
    total = int(counts.sum())
    exact = counts * limit / total
    quotas = np.floor(exact).astype(np.int64)
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - quotas[i]), i))
    for i in order[: limit - int(quotas.sum())]:
        quotas[i] += 1
    if limit >= len(counts):
        for empty in np.flatnonzero(quotas == 0):
            donor = int(np.argmax(quotas))
            quotas[donor] -= 1
            quotas[empty] = 1
    return np.minimum(quotas, counts)


def sample_train(task: Task, limit: int | None, seed: int) -> tuple[Task, TrainSample | None]:
    """``task`` with its train split cut to a stratified sample of ``limit`` rows (see the
    module docstring), and the record of that sample; unchanged (and ``None``) when ``limit`` is
    unset or the split is not larger."""
    train = task.train
    if not limit or len(train) <= limit:
        return task, None
    labels = np.asarray(train.labels)
    classes, counts = np.unique(labels, return_counts=True)
    quotas = label_quotas(counts, limit)
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(labels == label), size=int(quota), replace=False)
        for label, quota in zip(classes, quotas, strict=True)
    ]
    keep = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
    record = TrainSample(
        method=METHOD,
        seed=seed,
        available=len(train),
        kept=int(len(keep)),
        label_counts={
            task.label_names[int(label)]: int(quota)
            for label, quota in zip(classes, quotas, strict=True)
        },
    )
    return dataclasses.replace(task, train=train.subset(keep)), record
