"""Difficulty measures: :class:`DifficultyMeasure` (what ``register_difficulty_measures``
registers), the models it trains with (:class:`ModelFamily`) and what it returns
(:class:`ExampleScores`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from harness.api.arguments import ArgsT
from harness.api.data import Split
from harness.api.items import ConfiguredItem
from harness.api.models import EpochTrainable, Model

if TYPE_CHECKING:
    from harness.progress import Progress


def fit_recording_epochs(
    model: Model, split: Split, seed: int, progress: Progress | None = None
) -> np.ndarray:
    """Train ``model`` on ``split`` (it must declare :attr:`Model.supports_epoch_callback`)
    and return what it reported after every epoch: ``(epochs, len(split), num_labels)``
    float32 class probabilities of the training examples."""
    from typing import cast

    if not model.supports_epoch_callback:
        raise TypeError(f"model {model.name!r} does not declare supports_epoch_callback")
    epochs: list[np.ndarray] = []
    shape = (len(split), model.num_labels)

    def on_epoch_end(epoch: int, probabilities: np.ndarray) -> None:
        values = np.asarray(probabilities, dtype=np.float32)
        if values.shape != shape:
            raise ValueError(
                f"model {model.name!r} reported probabilities of shape {values.shape} after "
                f"epoch {epoch}, expected {shape}"
            )
        epochs.append(values.copy())

    trainable = cast(EpochTrainable, model)
    trainable.fit(split.texts, split.labels, seed, progress, on_epoch_end=on_epoch_end)
    if not epochs:
        return np.zeros((0, *shape), dtype=np.float32)
    return np.stack(epochs)


@dataclass
class ModelFamily:
    """Models of the run's model plugin (its class and validated arguments) for one seed,
    trained through the run's content-hash cache: what a :class:`DifficultyMeasure` trains.

    Every model it trains is keyed by content (the model's fingerprint, the split's ids, texts
    and labels, the seed), so a measure that fits on the train split with the run's seed gets
    M0 itself from the cache, and a second run trains nothing."""

    model_class: type[Model]
    label_names: list[str]
    seed: int
    new_model: Callable[[], Model]
    """A fresh, untrained model of the run's class and arguments."""
    train_model: Callable[[Model, Split, str], Model]
    """``train_model(model, split, purpose)``: ``model`` fitted on ``split`` with :attr:`seed`
    (or loaded from the cache)."""
    record_epochs: Callable[[Split, str], np.ndarray]
    """``record_epochs(split, purpose)``: a fresh model trained on ``split`` with :attr:`seed`,
    returning the class probabilities of every training example after every epoch,
    ``(epochs, len(split), num_labels)`` (cached; see :func:`fit_recording_epochs`). Only for
    a model class that declares :attr:`Model.supports_epoch_callback`."""
    progress: Progress | None = None

    @property
    def empty_text(self) -> str:
        """The model's own empty input (:attr:`Model.empty_text`)."""
        return self.model_class.empty_text

    def train(self, split: Split, purpose: str) -> Model:
        """A fresh model trained on ``split`` (through the cache)."""
        return self.train_model(self.new_model(), split, purpose)


@dataclass
class ExampleScores:
    """What a :class:`DifficultyMeasure` gives for a split: one score per example (in the
    split's order), with what a relabelling needs and a summary of the whole split."""

    values: np.ndarray
    """The measure's number per example, higher = easier: the label is more usable from the
    text (PVI in bits; cartography's confidence)."""
    suggested_labels: np.ndarray
    """Per example, the most likely label other than its own, by the measure's models: what a
    relabelling flips it to."""
    flip_order: np.ndarray | None = None
    """Example indices, the most likely mislabelled first (``None``: lowest :attr:`values`
    first, ties by position)."""
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    """Further numbers per example (e.g. cartography's ``variability`` and ``correctness``)."""
    summary: dict[str, Any] = field(default_factory=dict)
    """JSON-able numbers about the whole split (e.g. ``v_information``, ``folds``)."""

    def order(self) -> np.ndarray:
        """Example indices, the most likely mislabelled first."""
        if self.flip_order is not None:
            return np.asarray(self.flip_order, dtype=np.int64)
        values = np.asarray(self.values, dtype=np.float64)
        return np.lexsort((np.arange(len(values)), values)).astype(np.int64)


class DifficultyMeasure(ConfiguredItem[ArgsT], ABC):
    """Scores labelled examples by how hard their label is to tell from their text, with models
    of the run's own family (:class:`ModelFamily`): pointwise V-usable information, training
    dynamics. Interventions use a measure by name (``ctx.measures(name, args)``): ``relabel``
    flips the examples it finds most likely mislabelled, ``retrain`` re-ranks a selector's pool
    candidates by it; ``harness analyse RUN_DIR`` reports it per spec.

    What planning needs is declared here: which models the measure can work with
    (:attr:`needs_probabilities`, :attr:`needs_epoch_callback`, checked by
    :meth:`model_problem` before anything is trained) and whether it can score examples its
    models did not train on (:attr:`scores_heldout`). Register the class.

    Example::

        import numpy as np

        import harness
        from harness.api import DifficultyMeasure, ExampleScores, Register, StrictModel


        class HeldOutProbabilityArgs(StrictModel):
            folds: int = 2


        class HeldOutProbability(DifficultyMeasure[HeldOutProbabilityArgs]):
            # the probability a model that did not train on an example gives its label

            name = "heldout-probability"
            description = "p(label | text) from models trained without the example"
            Args = HeldOutProbabilityArgs
            unit = "probability"

            def score(self, family, fit, split=None):
                target = fit if split is None else split
                probs = np.zeros((len(target), len(family.label_names)))
                if split is not None:  # models trained on fit score split
                    probs[:] = family.train(fit, self.name).predict_proba(split.texts)
                else:  # cross-fitting: each fold is scored by a model trained on the others
                    fold = np.arange(len(fit)) % self.args.folds
                    for f in range(self.args.folds):
                        model = family.train(fit.subset(np.flatnonzero(fold != f)), self.name)
                        held = np.flatnonzero(fold == f)
                        probs[held] = model.predict_proba(fit.subset(held).texts)
                rows = np.arange(len(target))
                values = probs[rows, target.labels]
                others = probs.copy()
                others[rows, target.labels] = -1.0
                return ExampleScores(
                    values=values,
                    suggested_labels=others.argmax(axis=1),
                    summary={"mean": float(values.mean())},
                )


        @harness.hookimpl
        def register_difficulty_measures(register: Register[type[DifficultyMeasure]]) -> None:
            register(HeldOutProbability)
    """

    unit: ClassVar[str] = ""
    """The unit of :attr:`ExampleScores.values` for reports (e.g. ``bits``)."""
    scores_heldout: ClassVar[bool] = True
    """Whether :meth:`score` can score a ``split`` its models did not train on (PVI can:
    models fitted on ``fit`` score ``split``). ``False`` for training dynamics, which exist
    only for the examples a model trained on."""
    needs_probabilities: ClassVar[bool] = True
    """It reads class probabilities (refuses a model without
    :attr:`Model.provides_probabilities`)."""
    needs_epoch_callback: ClassVar[bool] = False
    """It reads per-epoch training dynamics (refuses a model without
    :attr:`Model.supports_epoch_callback`)."""

    @classmethod
    def model_problem(cls, model_class: type[Model]) -> str | None:
        """What ``model_class`` lacks for this measure, in words (``None``: nothing)."""
        if cls.needs_probabilities and not model_class.provides_probabilities:
            return "gives no class probabilities (Model.provides_probabilities is false)"
        if cls.needs_epoch_callback and not model_class.supports_epoch_callback:
            return (
                "does not report its training epochs (Model.supports_epoch_callback is false: "
                "it trains in one shot, or its fit takes no on_epoch_end callback)"
            )
        return None

    @abstractmethod
    def score(self, family: ModelFamily, fit: Split, split: Split | None = None) -> ExampleScores:
        """Score examples with models of ``family`` trained on ``fit``.

        ``split=None``: score every example of ``fit`` itself (held-out by cross-fitting, or,
        for training dynamics, as they were learnt). Otherwise models trained on ``fit`` score
        ``split`` (only when :attr:`scores_heldout`). A user mistake (e.g. too few examples
        per fold) raises :class:`harness.errors.UserError`."""
