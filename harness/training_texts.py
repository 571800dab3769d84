"""Which texts a model trained on, to tell the held-out spec cases it has seen (``seen_by`` in
``samples.jsonl``, seen / unseen FR in the reports), resolved as
:class:`harness.api.InterventionOutcome` documents."""

from __future__ import annotations

import weakref
from typing import Literal

from harness.api import InterventionOutcome, Model, Split
from harness.results import TrainingTexts


class TrainedSplits:
    """The splits an intervention passed to ``ctx.train_model``, by the model each call
    returned (weak references: fold models may be freed; a freed model's id is never matched)."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[weakref.ref[Model], Split]] = {}

    def record(self, model: Model, split: Split) -> None:
        """Remember that ``model`` was trained on ``split``."""
        self._by_id[id(model)] = (weakref.ref(model), split)

    def split_of(self, model: Model) -> Split | None:
        """The split ``model`` was trained on through ``ctx.train_model``, if it was."""
        entry = self._by_id.get(id(model))
        if entry is None or entry[0]() is not model:
            return None
        return entry[1]


def training_texts(
    outcome: InterventionOutcome, trained: TrainedSplits, m0_train: Split
) -> tuple[list[str], TrainingTexts]:
    """The texts an intervention's model trained on, resolved as
    :class:`harness.api.InterventionOutcome` documents: its ``train_split``, else the split it
    gave ``ctx.train_model`` for that model, else M0's training data; plus
    ``added_training_texts``."""
    assert outcome.model is not None
    added = list(outcome.added_training_texts or ())
    through_train_model = trained.split_of(outcome.model)
    base: Literal["train_split", "train_model", "base_model"]
    if outcome.train_split is not None:
        base, split = "train_split", outcome.train_split
    elif through_train_model is not None:
        base, split = "train_model", through_train_model
    else:
        base, split = "base_model", m0_train
    declared = base != "base_model" or outcome.added_training_texts is not None
    info = TrainingTexts(
        base=base,
        n_base=len(split),
        n_added=len(added),
        declared=declared,
    )
    return [*split.texts, *added], info
