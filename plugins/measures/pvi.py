"""``pvi``: pointwise V-usable information (Ethayarajh, Choi and Swayamdipta, "Understanding
Dataset Difficulty with V-Usable Information", ICML 2022).

Two models of the run's own family (the model plugin and arguments of M0) are trained on the same
examples: ``g'`` on ``(x, y)`` and ``g`` on ``(∅, y)``, where ∅ is the model's own empty input
(:attr:`harness.api.Model.empty_text`), so ``g`` can learn only the label distribution. For an
example::

    PVI(x -> y) = -log2 g(y | ∅) + log2 g'(y | x)        (bits)

how much more likely the text makes its label than the label's base rate. The mean over a data set
is its V-usable information (V-information): how much usable information about the labels its
texts hold *for this model family*. Low or negative PVI marks hard examples, and often
mislabelled ones (the text points to another label).

Held-out estimation, as in the paper: ``g`` and ``g'`` are trained on one part of the data and
PVI is measured on another.

- Scoring a data set itself (the train split, for relabelling or its V-information): it is cut
  into ``folds`` label-stratified parts; the models trained on the other parts score each part
  (cross-fitting), so every example is scored by models that never saw it. Cost: two trainings
  per fold, each on ``(folds - 1) / folds`` of the data.
- Scoring other data (spec cases, pool candidates, the test split): ``g'`` and ``g`` are trained
  on the whole ``fit`` split. With the train split and the run's seed, ``g'`` *is* M0 (same
  model, data and seed: loaded from the cache), so the cost is one training, ``g``.

``folds`` defaults to 5, as the out-of-fold probabilities of ``relabel``'s ``cleanlab`` (and
cleanlab's own default), so the two relabelling methods are compared on the same footing, and
each fold's models train on 80% of the data, close to the model being audited. On the demo's
relabelling benchmark (``inject_noise: 0.1``, 3 seeds) 2 folds found nearly as many of the
flipped labels (precision@100 68.3% against 70.0%) with 4 trainings instead of 10: use
``folds: 2`` for large models. ``null_model: prior`` replaces the trained ``g`` by the label
frequencies of the same data (Laplace-smoothed), which is what ``g`` converges to, saving one
training per fold (69.7% on the same benchmark).

Probabilities are floored at ``1e-9`` before the logarithm (a float32 softmax can round to 0),
so a PVI is never below about -30 bits.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

import harness
from harness.api import (
    DifficultyMeasure,
    ExampleScores,
    Model,
    ModelFamily,
    Register,
    Split,
    StrictModel,
)
from harness.errors import UserError

PROBABILITY_FLOOR = 1e-9
"""Probabilities below this count as this before the logarithm."""


class PviArgs(StrictModel):
    """Arguments of the ``pvi`` measure."""

    folds: int = Field(
        default=5,
        ge=2,
        le=50,
        description="cross-fitting folds when scoring the training data itself (2 trainings "
        "per fold)",
    )
    null_model: Literal["trained", "prior"] = Field(
        default="trained",
        description="g: a model trained on the empty input (the paper), or the label "
        "frequencies (one training fewer per fold)",
    )


def empty_split(split: Split, empty_text: str) -> Split:
    """``split`` with every text replaced by ``empty_text`` (ids and labels kept)."""
    return Split(ids=list(split.ids), texts=[empty_text] * len(split), labels=split.labels)


def log2_probabilities(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``log2 p(label)`` per row, probabilities floored at :data:`PROBABILITY_FLOOR`."""
    rows = np.arange(len(labels))
    chosen = np.asarray(probabilities, dtype=np.float64)[rows, np.asarray(labels, dtype=np.int64)]
    return np.log2(np.maximum(chosen, PROBABILITY_FLOOR))


def other_label(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per row, the most probable label other than ``labels[row]``."""
    values = np.array(probabilities, dtype=np.float64, copy=True)
    values[np.arange(len(labels)), np.asarray(labels, dtype=np.int64)] = -np.inf
    return np.asarray(values.argmax(axis=1), dtype=np.int64)


def prior_probabilities(labels: np.ndarray, num_labels: int) -> np.ndarray:
    """Laplace-smoothed label frequencies: what a model of the empty input converges to."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_labels)
    return (counts + 1.0) / (counts.sum() + num_labels)


def fold_assignment(labels: np.ndarray, folds: int, seed: int) -> tuple[np.ndarray, bool]:
    """The fold of every example: label-stratified when every label has at least ``folds``
    examples, else a plain shuffled split. Returns the folds and whether they are stratified."""
    from sklearn.model_selection import KFold, StratifiedKFold

    n = len(labels)
    if n < 2 * folds:
        raise UserError(
            f"{n} examples are too few for {folds} cross-fitting folds (each fold trains on the "
            "others and needs examples of its own)",
            field="folds",
            fix=f"use fewer folds (at most {max(2, n // 2)}) or more data",
        )
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    stratified = bool(counts[counts > 0].min() >= folds)
    splitter: Any = (
        StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        if stratified
        else KFold(n_splits=folds, shuffle=True, random_state=seed)
    )
    assignment = np.zeros(n, dtype=np.int64)
    for fold, (_, held) in enumerate(splitter.split(np.zeros(n), labels)):
        assignment[held] = fold
    return assignment, stratified


class Pvi(DifficultyMeasure[PviArgs]):
    """Pointwise V-usable information of each example (bits), with the run's model family."""

    name = "pvi"
    description = (
        "pointwise V-usable information (Ethayarajh et al. 2022): log2 g'(y|x) - log2 g(y|empty "
        "input), cross-fitted over folds; low = hard or mislabelled"
    )
    Args = PviArgs
    unit = "bits"
    scores_heldout = True
    needs_probabilities = True

    def _null_log2(self, family: ModelFamily, fit: Split, labels: np.ndarray, what: str) -> Any:
        """``log2 g(y | ∅)`` for ``labels``, with ``g`` fitted on ``fit``'s labels."""
        num_labels = len(family.label_names)
        if self.args.null_model == "prior":
            probabilities = prior_probabilities(fit.labels, num_labels)
        else:
            g = family.train(empty_split(fit, family.empty_text), f"pvi g (empty input){what}")
            probabilities = g.predict_proba([family.empty_text])[0]
        rows = np.tile(np.asarray(probabilities, dtype=np.float64), (len(labels), 1))
        return log2_probabilities(rows, labels)

    def _scored(
        self, family: ModelFamily, g_prime: Model, fit: Split, split: Split, what: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(pvi, log2 g'(y|x), log2 g(y|∅), suggested label)`` of ``split``."""
        probabilities = g_prime.predict_proba(split.texts)
        with_text = log2_probabilities(probabilities, split.labels)
        without = self._null_log2(family, fit, split.labels, what)
        return with_text - without, with_text, without, other_label(probabilities, split.labels)

    def score(self, family: ModelFamily, fit: Split, split: Split | None = None) -> ExampleScores:
        """PVI of every example of ``split`` (models trained on ``fit``), or of ``fit`` itself
        by cross-fitting over ``folds`` (see the module docstring)."""
        args: PviArgs = self.args
        if split is not None:
            g_prime = family.train(fit, "pvi g' (text)")
            pvi, with_text, without, suggested = self._scored(family, g_prime, fit, split, "")
            columns = {"log2_p_text": with_text, "log2_p_empty": without}
            return self._scores(pvi, suggested, columns, {"folds": None, "n_fit": len(fit)})
        assignment, stratified = fold_assignment(fit.labels, args.folds, family.seed)
        n = len(fit)
        pvi, with_text, without = np.zeros(n), np.zeros(n), np.zeros(n)
        suggested = np.zeros(n, dtype=np.int64)
        for fold in range(args.folds):
            held = np.flatnonzero(assignment == fold)
            rest = fit.subset(np.flatnonzero(assignment != fold))
            what = f", fold {fold + 1}/{args.folds}"
            g_prime = family.train(rest, f"pvi g' (text){what}")
            part = self._scored(family, g_prime, rest, fit.subset(held), what)
            pvi[held], with_text[held], without[held], suggested[held] = part
        columns = {"log2_p_text": with_text, "log2_p_empty": without, "fold": assignment}
        summary = {"folds": args.folds, "stratified": stratified}
        return self._scores(pvi, suggested, columns, summary)

    def _scores(
        self,
        pvi: np.ndarray,
        suggested: np.ndarray,
        columns: dict[str, np.ndarray],
        summary: dict[str, Any],
    ) -> ExampleScores:
        return ExampleScores(
            values=pvi,
            suggested_labels=suggested,
            columns=columns,
            summary={
                "v_information": round(float(pvi.mean()), 6) if len(pvi) else None,
                "share_negative": round(float((pvi < 0).mean()), 6) if len(pvi) else None,
                "n": int(len(pvi)),
                "null_model": self.args.null_model,
                **summary,
            },
        )


@harness.hookimpl
def register_difficulty_measures(register: Register[type[DifficultyMeasure]]) -> None:
    """Register ``pvi``."""
    register(Pvi)
