"""Evaluate a model on the test split and on every spec's case sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.analysis.stats import rounded, wilson_interval
from harness.api import Spec, Task
from harness.results import Metrics, SpecScore


@dataclass
class Evaluation:
    """Predictions and scores of one model on the test split and the spec cases."""

    test_predictions: np.ndarray
    heldout_predictions: dict[str, np.ndarray]
    train_case_predictions: dict[str, np.ndarray]
    test: Metrics
    heldout: dict[str, SpecScore]
    train_cases: dict[str, SpecScore]


def test_metrics(
    labels: np.ndarray, predictions: np.ndarray, label_names: Sequence[str] | None = None
) -> Metrics:
    """Accuracy, macro-F1 and Matthews correlation of ``predictions`` against ``labels``, and
    (given ``label_names``) how many cases were predicted as each label."""
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

    predicted: dict[str, int] = {}
    if label_names is not None:
        counts = np.bincount(np.asarray(predictions, dtype=np.int64), minlength=len(label_names))
        predicted = {name: int(counts[i]) for i, name in enumerate(label_names)}
    if len(labels) == 0:
        return Metrics(n=0, accuracy=0.0, macro_f1=0.0, mcc=0.0, predicted=predicted)
    return Metrics(
        n=int(len(labels)),
        accuracy=rounded(accuracy_score(labels, predictions)) or 0.0,
        macro_f1=rounded(f1_score(labels, predictions, average="macro", zero_division=0)) or 0.0,
        mcc=rounded(matthews_corrcoef(labels, predictions)) or 0.0,
        predicted=predicted,
    )


def spec_score(predictions: np.ndarray, expected: int) -> SpecScore:
    """Failure rate: the share of cases whose prediction differs from the spec's label."""
    n = int(len(predictions))
    failures = int((predictions != expected).sum())
    low, high = wilson_interval(failures, n)
    return SpecScore(
        n=n,
        failures=failures,
        fr=rounded(failures / n if n else 0.0) or 0.0,
        ci_low=rounded(low) or 0.0,
        ci_high=rounded(high) or 0.0,
    )


def evaluation_texts(task: Task, specs: list[Spec]) -> list[str]:
    """Every text a model is evaluated on, in a fixed order: test, then per spec held-out and
    train cases."""
    texts: list[str] = list(task.test.texts)
    for spec in specs:
        texts.extend(case.text for case in spec.heldout_cases)
        texts.extend(case.text for case in spec.train_cases)
    return texts


def score(predictions: np.ndarray, task: Task, specs: list[Spec]) -> Evaluation:
    """Split predictions over :func:`evaluation_texts` back into sets and score them."""
    n_test = len(task.test)
    test_predictions = predictions[:n_test]
    heldout_predictions: dict[str, np.ndarray] = {}
    train_predictions: dict[str, np.ndarray] = {}
    start = n_test
    for spec in specs:
        end = start + len(spec.heldout_cases)
        heldout_predictions[spec.id] = predictions[start:end]
        start, end = end, end + len(spec.train_cases)
        train_predictions[spec.id] = predictions[start:end]
        start = end
    labels = {spec.id: task.label_index(spec.label) for spec in specs}
    return Evaluation(
        test_predictions=test_predictions,
        heldout_predictions=heldout_predictions,
        train_case_predictions=train_predictions,
        test=test_metrics(task.test.labels, test_predictions, task.label_names),
        heldout={sid: spec_score(p, labels[sid]) for sid, p in heldout_predictions.items()},
        train_cases={sid: spec_score(p, labels[sid]) for sid, p in train_predictions.items()},
    )


def unseen_scores(
    evaluation: Evaluation,
    task: Task,
    specs: list[Spec],
    seen_masks: dict[str, np.ndarray],
) -> tuple[dict[str, SpecScore], dict[str, int]]:
    """FR per spec on the held-out cases not marked in ``seen_masks`` (one boolean per case,
    ``True``: the model trained on that text), and the number of seen cases per spec (specs
    with any). Both are empty when no case was seen, so that results of clean runs stay as
    they were."""
    if not any(mask.any() for mask in seen_masks.values()):
        return {}, {}
    unseen: dict[str, SpecScore] = {}
    n_seen: dict[str, int] = {}
    for spec in specs:
        mask = seen_masks[spec.id]
        predictions = evaluation.heldout_predictions[spec.id]
        unseen[spec.id] = spec_score(predictions[~mask], task.label_index(spec.label))
        if mask.any():
            n_seen[spec.id] = int(mask.sum())
    return unseen, n_seen
