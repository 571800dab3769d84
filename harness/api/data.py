"""Tasks and their splits: :class:`Split`, :class:`Task`, :class:`TaskDefinition`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel

from harness.api.arguments import NoArgs

Texts = Sequence[str]
"""Texts a plugin receives: a list, or an Arrow-backed
:class:`~harness.text_column.TextColumn` (read-only: index, slice, iterate; see :class:`Split`)."""

UNNAMED_SOURCE = "pool"
"""The source name reports use for the rows of a pool that has no named sources."""

DI_SOURCE = "D_i"
"""The source name of training rows taken from the specs' own D_i cases (``augment``)."""


@dataclass
class Split:
    """One labelled split: parallel sequences of ids, texts and integer labels (indices into the
    task's ``label_names``), and optionally the pool source each row came from.

    ``ids`` and ``texts`` are ``Sequence[str]``: plain lists, or, for splits read through
    :mod:`harness.tabular` (the ``files`` and ``hf`` tasks' pools), a
    :class:`harness.text_column.TextColumn` over an Arrow column, so that a pool of millions of
    rows is never a million Python strings. Treat them as read-only sequences: ``len``,
    indexing, slicing, iteration (a column decodes a chunk at a time; use
    :func:`harness.text_column.iter_chunks` to work in blocks), never ``+`` or in-place
    changes. Train and test splits of the built-in tasks are lists.

    ``sources`` names each row's pool source (e.g. ``general``, ``policy``); ``None`` means one
    unnamed source. :meth:`subset`, :meth:`concat` and :meth:`with_labels` keep it; rows of a
    split without sources that are concatenated with one that has them get the empty name.
    :meth:`subset` and :meth:`concat` keep column-backed ids and texts as columns (no copy of
    the rows not taken); mixing a column with a list gives a list."""

    ids: Sequence[str]
    """A unique id per row (reports and ``samples.jsonl`` name rows by it)."""
    texts: Sequence[str]
    """The texts (see above: a list or an Arrow-backed column)."""
    labels: np.ndarray
    """Integer labels, indices into the task's ``label_names`` (converted to int64)."""
    sources: list[str] | None = None
    """The pool source of each row (``None``: one unnamed source)."""

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if not (len(self.ids) == len(self.texts) == len(self.labels)):
            raise ValueError("ids, texts and labels must have the same length")
        if self.sources is not None and len(self.sources) != len(self.ids):
            raise ValueError("sources must have one entry per row")

    def __len__(self) -> int:
        return len(self.ids)

    def source_names(self) -> list[str]:
        """The source of every row (:data:`UNNAMED_SOURCE` when the split has no sources)."""
        return list(self.sources) if self.sources is not None else [UNNAMED_SOURCE] * len(self)

    def source_counts(self) -> dict[str, int]:
        """``{source: rows}`` in first-seen order."""
        if self.sources is None:
            return {UNNAMED_SOURCE: len(self)} if len(self) else {}
        counts: dict[str, int] = {}
        for name in self.sources:
            counts[name] = counts.get(name, 0) + 1
        return counts

    def subset(self, indices: Sequence[int] | np.ndarray) -> Split:
        """Return the examples at ``indices`` (in that order)."""
        from harness.text_column import take_texts

        if isinstance(indices, range):
            idx = np.arange(indices.start, indices.stop, indices.step, dtype=np.int64)
        else:
            idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        return Split(
            ids=take_texts(self.ids, idx),
            texts=take_texts(self.texts, idx),
            labels=self.labels[idx] if len(idx) else np.zeros(0, dtype=np.int64),
            sources=None if self.sources is None else [self.sources[i] for i in idx.tolist()],
        )

    def concat(self, other: Split) -> Split:
        """Return this split followed by ``other``."""
        from harness.text_column import concat_texts

        sources = None
        if self.sources is not None or other.sources is not None:
            sources = (self.sources or [""] * len(self)) + (other.sources or [""] * len(other))
        return Split(
            ids=concat_texts(self.ids, other.ids),
            texts=concat_texts(self.texts, other.texts),
            labels=np.concatenate([self.labels, other.labels]),
            sources=sources,
        )

    def with_labels(self, labels: np.ndarray) -> Split:
        """Return a copy with new labels (same ids, texts and sources)."""
        from harness.text_column import same_texts

        return Split(
            ids=same_texts(self.ids),
            texts=same_texts(self.texts),
            labels=np.asarray(labels),
            sources=None if self.sources is None else list(self.sources),
        )


@dataclass
class Task:
    """A labelled text-classification problem: ``train`` (D_train), ``test`` (D_train_heldout)
    and ``pool`` (D_unused, labelled but not used for training M0)."""

    name: str
    label_names: list[str]
    """The labels, in index order: label ``i`` of every split is ``label_names[i]``."""
    train: Split
    """D_train: M0 trains on it."""
    test: Split
    """D_train_heldout: the ordinary test set (test accuracy, macro-F1, MCC)."""
    pool: Split
    """D_unused: labelled examples interventions may draw from (may be empty)."""
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Anything else the task knows (e.g. the demo's planted noisy ids, which ``relabel``
    scores itself against); JSON-able values."""

    def label_index(self, name: str) -> int:
        """Return the integer label of ``name`` (raises ``KeyError`` if unknown)."""
        return self.label_names.index(name)

    def limited(self, limit: int | None) -> Task:
        """Return the task with every split cut to its first ``limit`` examples."""
        if not limit:
            return self
        return Task(
            name=self.name,
            label_names=self.label_names,
            train=self.train.subset(range(min(limit, len(self.train)))),
            test=self.test.subset(range(min(limit, len(self.test)))),
            pool=self.pool.subset(range(min(limit, len(self.pool)))),
            description=self.description,
            metadata=self.metadata,
        )


@dataclass(frozen=True)
class TaskDefinition:
    """A registered task: ``load(**args)`` returns the :class:`Task`, called with the fields of
    the validated ``args`` model (``--task-args`` / ``task_args``).

    Example::

        import numpy as np

        import harness
        from harness.api import LocalPath, Register, Split, StrictModel, Task, TaskDefinition


        class ReviewsArgs(StrictModel):
            train: LocalPath  # a path: resolved next to the config file
            n_test: int = 200


        def load_reviews(train: str, n_test: int = 200) -> Task:
            texts, labels = read_my_file(train)  # labels: indices into label_names
            ids = [f"r{i}" for i in range(len(texts))]
            rows = Split(ids=ids, texts=texts, labels=np.array(labels))
            return Task(
                name="reviews",
                label_names=["negative", "positive"],
                train=rows.subset(range(n_test, len(rows))),
                test=rows.subset(range(n_test)),
                pool=Split(ids=[], texts=[], labels=np.zeros(0, dtype=np.int64)),
            )


        @harness.hookimpl
        def register_tasks(register: Register[TaskDefinition]) -> None:
            register(TaskDefinition(name="reviews", load=load_reviews, args=ReviewsArgs))
    """

    name: str
    """The name users give with ``--task`` (``plugin/name`` when two plugins share it)."""
    load: Callable[..., Task]
    """Builds the task from the validated arguments (keyword arguments)."""
    description: str = ""
    """One line for ``harness list``."""
    args: type[BaseModel] = NoArgs
    """The pydantic model of its arguments (:class:`StrictModel`; :data:`LocalPath` fields are
    resolved like every path of a config)."""
