"""Class weights for imbalanced training data (``class_weight: balanced | {label: weight}``).

A model argument typed :data:`harness.api.ClassWeight` holds ``None``, ``"balanced"`` or
``{label name: weight}``. This module turns it into one weight per label and into a weighted
cross-entropy, so every model applies it the same way:

- ``balanced``: label ``c`` weighs ``n_samples / (n_classes * count(c))`` over the labels present
  in the data being fitted (scikit-learn's definition, computed with
  :func:`sklearn.utils.class_weight.compute_class_weight`); a label absent from that data gets
  weight 1 (no example carries it, so the value never enters the loss).
- ``{label: weight}``: the named labels get those weights, the others weight 1.
- the loss of a batch is ``mean_i(w[y_i] * CE_i)``: each example's cross-entropy times its
  label's weight, averaged over the batch size. Class weights thus act as per-example weights,
  as in scikit-learn (``class_weight`` multiplies ``sample_weight``), and an example's influence
  does not depend on which other examples share its batch. (PyTorch's
  ``cross_entropy(weight=...)`` divides by the batch's summed weights instead.) Balanced
  weights average to 1 over the fitted data, so the learning rate keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.errors import UserError

if TYPE_CHECKING:
    import torch

FIELD = "model_args.class_weight"


def check_class_weight(value: Any, label_names: Sequence[str], field: str = FIELD) -> None:
    """Raise a one-line :class:`UserError` when ``value`` names a label the task lacks."""
    if not isinstance(value, dict):
        return
    for label in value:
        if label not in label_names:
            raise UserError(
                f"unknown label {label!r}",
                field=field,
                fix=f"the task's labels are: {', '.join(label_names)}",
            )


def class_weight_vector(
    value: Any, label_names: Sequence[str], labels: np.ndarray
) -> np.ndarray | None:
    """One weight per label index for fitting on ``labels`` (``None`` when ``value`` is
    ``None``: unweighted)."""
    if value is None:
        return None
    weights = np.ones(len(label_names), dtype=np.float64)
    if value == "balanced":
        from sklearn.utils.class_weight import compute_class_weight

        y = np.asarray(labels, dtype=np.int64)
        present = np.unique(y)
        if len(present):
            weights[present] = compute_class_weight("balanced", classes=present, y=y)
        return weights
    check_class_weight(value, label_names)
    for label, weight in value.items():
        weights[list(label_names).index(label)] = float(weight)
    return weights


def sklearn_class_weight(
    value: Any, label_names: Sequence[str], labels: np.ndarray
) -> str | dict[int, float] | None:
    """``class_weight`` for a scikit-learn estimator fitted on integer ``labels``:
    ``"balanced"`` as is (scikit-learn computes it on the fitted data, with the same formula),
    a mapping as ``{label index: weight}`` over the labels present (unnamed ones weigh 1)."""
    if value is None or value == "balanced":
        return value  # type: ignore[no-any-return]
    vector = class_weight_vector(value, label_names, labels)
    assert vector is not None
    return {int(c): float(vector[c]) for c in np.unique(np.asarray(labels, dtype=np.int64))}


def weighted_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """Cross-entropy of a batch, ``mean_i(weights[target_i] * CE_i)``; with ``weights=None``
    exactly :func:`torch.nn.functional.cross_entropy` (mean over the batch)."""
    import torch

    if weights is None:
        return torch.nn.functional.cross_entropy(logits, target)
    losses = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    return (losses * weights.to(losses.dtype)[target]).mean()
