"""``cartography``: training dynamics of every training example (Swayamdipta et al., "Dataset
Cartography: Mapping and Diagnosing Datasets with Training Dynamics", EMNLP 2020).

A model of the run's family trains on the data once, reporting after every epoch the probability
it gives each training example's (possibly wrong) label (:attr:`harness.api.Model.
supports_epoch_callback`; ``bow`` and ``hf`` do). Per example, over the ``E`` epochs:

- **confidence**: the mean probability of its label;
- **variability**: the standard deviation of that probability (population, as in the paper);
- **correctness**: the share of epochs in which the model predicted its label.

On the paper's data map, *easy-to-learn* examples have high confidence and low variability,
*ambiguous* ones high variability, and *hard-to-learn* ones low confidence and low variability:
the model never learns their label, and these are where mislabelled examples gather. The flip
order of a relabelling is therefore by ``confidence + variability`` (the L1 distance to the
hard-to-learn corner of the map), lowest first, each flipped to the label with the highest mean
probability across epochs.

The dynamics exist only for examples the model trained on (``scores_heldout`` is false); they are
cached with the training (``predictions/<key>-epochs.npy``). Cost: one training, plus the
model's per-epoch pass over the training set (``bow``: a forward pass per epoch; ``hf``: about a
third of an epoch's compute per epoch). At least 2 epochs are needed for variability to mean
anything.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

import harness
from harness.api import (
    DifficultyMeasure,
    ExampleScores,
    ModelFamily,
    Register,
    Split,
    StrictModel,
)
from harness.errors import UserError
from harness_plugins.measures.pvi import other_label


class CartographyArgs(StrictModel):
    """Arguments of the ``cartography`` measure."""

    order: Literal["hard-to-learn", "confidence"] = Field(
        default="hard-to-learn",
        description="flip order: lowest confidence + variability (hard-to-learn first), or "
        "lowest confidence alone",
    )


def training_dynamics(dynamics: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """``confidence``, ``variability`` and ``correctness`` per example from per-epoch class
    probabilities ``(epochs, n, num_labels)``, and ``mean_probabilities`` ``(n,
    num_labels)``."""
    labels = np.asarray(labels, dtype=np.int64)
    values = np.asarray(dynamics, dtype=np.float64)
    gold = values[:, np.arange(len(labels)), labels]
    return {
        "confidence": gold.mean(axis=0),
        "variability": gold.std(axis=0),
        "correctness": (values.argmax(axis=2) == labels[None, :]).mean(axis=0),
        "mean_probabilities": values.mean(axis=0),
    }


class Cartography(DifficultyMeasure[CartographyArgs]):
    """Confidence, variability and correctness of each training example across epochs."""

    name = "cartography"
    description = (
        "dataset cartography (Swayamdipta et al. 2020): confidence, variability and correctness "
        "of the gold label across training epochs; hard-to-learn = low confidence and variability"
    )
    Args = CartographyArgs
    unit = "probability"
    scores_heldout = False
    needs_probabilities = True
    needs_epoch_callback = True

    def score(self, family: ModelFamily, fit: Split, split: Split | None = None) -> ExampleScores:
        """The training dynamics of every example of ``fit`` (``split`` must be ``None``)."""
        if split is not None:
            raise ValueError("cartography scores only the examples its model trains on")
        dynamics = family.record_epochs(fit, "cartography")
        epochs = int(dynamics.shape[0])
        if epochs < 2:
            raise UserError(
                f"cartography needs the training dynamics of at least 2 epochs; model "
                f"{family.model_class.name!r} reported {epochs}",
                field="model_args",
                fix="train for 2 or more epochs (e.g. model_args epochs: 3)",
            )
        found = training_dynamics(dynamics, fit.labels)
        confidence, variability = found["confidence"], found["variability"]
        key = confidence + variability if self.args.order == "hard-to-learn" else confidence
        n = len(fit)
        order = np.lexsort((np.arange(n), variability, key)).astype(np.int64)
        return ExampleScores(
            values=confidence,
            suggested_labels=other_label(found["mean_probabilities"], fit.labels),
            flip_order=order,
            columns={"variability": variability, "correctness": found["correctness"]},
            summary={
                "epochs": epochs,
                "n": n,
                "order": self.args.order,
                "mean_confidence": round(float(confidence.mean()), 6) if n else None,
                "mean_variability": round(float(variability.mean()), 6) if n else None,
                "mean_correctness": round(float(found["correctness"].mean()), 6) if n else None,
            },
        )


@harness.hookimpl
def register_difficulty_measures(register: Register[type[DifficultyMeasure]]) -> None:
    """Register ``cartography``."""
    register(Cartography)
