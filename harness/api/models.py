"""Trainable text classifiers: :class:`Model` and :class:`TorchModel`. Heavy libraries (torch)
are imported lazily."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel

from harness.api.arguments import ArgsT, LabelWeightsArg
from harness.api.data import Texts
from harness.api.items import ConfiguredItem

if TYPE_CHECKING:
    import torch

    from harness.progress import Progress


@dataclass(frozen=True)
class UnitResources:
    """What one unit of work (one model trained for one seed, see
    :class:`harness.api.UnitJob`) needs while it runs, as its model declares it
    (:meth:`Model.unit_resources`). The ``ray`` executor schedules by it; the ``local``
    executor checks GPUs against the machine's."""

    cpus: float = 1.0
    """CPU cores (fractions allowed)."""
    gpus: float = 0.0
    """GPUs: a fraction (``0.5``: two units share one GPU) or a whole number (a unit that
    trains data-parallel on that many)."""
    memory_mb: int | None = None
    """Memory to reserve in MiB (``None``: no reservation)."""

    def __post_init__(self) -> None:
        if self.cpus < 0 or self.gpus < 0 or (self.memory_mb is not None and self.memory_mb < 0):
            raise ValueError("unit resources must not be negative")
        if self.gpus > 1 and self.gpus != int(self.gpus):
            raise ValueError("more than one GPU must be a whole number")


class Model(ConfiguredItem[ArgsT], ABC):
    """A trainable text classifier.

    Subclasses set ``name``, ``description`` and an ``Args`` pydantic model (``extra="forbid"``)
    that validates ``--model-args``. The constructor receives the validated args, the number of
    labels, the device and the task's label names (``label_names``, index ``i`` names label
    ``i``). The core builds models with :meth:`create`, which also serves subclasses whose
    constructor predates ``label_names`` (it sets the attribute after construction), so
    ``self.label_names`` is always available from :meth:`fit` on. Register the class.

    Example::

        import numpy as np

        import harness
        from harness.api import Model, Register, StrictModel


        class PriorArgs(StrictModel):
            smoothing: float = 1.0


        class PriorModel(Model[PriorArgs]):
            # predicts the (smoothed) training label frequencies for every text

            name = "prior"
            description = "the training label frequencies, whatever the text"
            Args = PriorArgs

            def fit(self, texts, labels, seed, progress=None):
                counts = np.bincount(labels, minlength=self.num_labels) + self.args.smoothing
                self.prior = counts / counts.sum()

            def predict_proba(self, texts, progress=None):
                return np.tile(self.prior, (len(texts), 1))

            def save(self, directory):
                directory.mkdir(parents=True, exist_ok=True)
                np.save(directory / "prior.npy", self.prior, allow_pickle=False)
                self.save_info(directory)

            def load(self, directory):
                self.prior = np.load(directory / "prior.npy", allow_pickle=False)


        @harness.hookimpl
        def register_models(register: Register[type[Model]]) -> None:
            register(PriorModel)
    """

    supports_patching: ClassVar[bool] = False
    """Whether ``patch`` can fine-tune it (a :class:`TorchModel`); reports say when not."""
    default_patch_delta: ClassVar[float | None] = None
    """The L-infinity radius around M0 that the built-in ``patch`` intervention uses with
    ``delta: auto`` (``None``: its default for transformer models, 5e-4). A fast model trained
    with a large learning rate needs a larger radius to move at all (``bow``: 0.02)."""
    cpu_threads: ClassVar[int | None] = None
    """Torch intra-op threads to use on CPU while this model trains and predicts (``None``:
    torch's default). Tiny models run fastest single-threaded, especially on a busy machine."""
    empty_text: ClassVar[str] = ""
    """The model's own empty input: the text a *null* model sees for every example (PVI's
    ``g``, fitted on ``(empty input, y)``, which can learn only the label distribution). The
    default ``""`` suits models that turn it into a valid input (special tokens, a padding
    bucket); a model that cannot fit on ``""`` declares another text here."""
    provides_probabilities: ClassVar[bool] = True
    """Whether :meth:`predict_proba` gives graded class probabilities. ``False`` for a model
    that only knows its predicted label (one-hot rows, e.g. a rule or a labels-only API):
    difficulty measures that read probabilities (:class:`DifficultyMeasure`) refuse it while
    the run is planned."""
    supports_epoch_callback: ClassVar[bool] = False
    """Whether :meth:`fit` accepts ``on_epoch_end=`` (an :data:`EpochCallback`) and calls it
    after every epoch with the class probabilities of every training example: the training
    dynamics that dataset cartography reads. The core passes ``on_epoch_end`` only to a model
    that declares this, so other models keep the plain ``fit`` signature."""

    def __init__(
        self,
        args: ArgsT,
        num_labels: int,
        device: str = "cpu",
        label_names: Sequence[str] | None = None,
    ) -> None:
        """Keep the validated arguments, the number of labels, the device and the task's label
        names; a subclass that overrides it calls ``super().__init__(...)``."""
        self.args: ArgsT = args
        self.num_labels = num_labels
        self.device = device
        names = [str(i) for i in range(num_labels)] if label_names is None else list(label_names)
        if len(names) != num_labels:
            raise ValueError(f"{len(names)} label names for {num_labels} labels")
        self.label_names: list[str] = names
        """The task's label names (``"0"``, ``"1"``, ... when the caller gave none)."""

    @classmethod
    def create(cls, args: Any, label_names: Sequence[str], device: str = "cpu") -> Model[Any]:
        """Build a model for a task with ``label_names`` (the route the core uses).

        Passes ``label_names`` to the constructor when it accepts it; a subclass written
        before the keyword existed (``__init__(self, args, num_labels, device)``) is built the
        old way and gets ``label_names`` set as an attribute."""
        import inspect

        names = [str(name) for name in label_names]
        parameters = inspect.signature(cls).parameters.values()
        if any(p.name == "label_names" or p.kind is p.VAR_KEYWORD for p in parameters):
            return cls(args, len(names), device, label_names=names)  # type: ignore[call-arg]
        model = cls(args, len(names), device)  # type: ignore[call-arg]
        model.label_names = names
        return model

    @classmethod
    def label_weight_fields(cls) -> list[str]:
        """Names of the top-level ``Args`` fields typed :data:`ClassWeight`."""
        fields = getattr(cls.Args, "model_fields", {})
        return [
            name
            for name, info in fields.items()
            if any(isinstance(item, LabelWeightsArg) for item in info.metadata)
        ]

    @classmethod
    def check_label_args(cls, args: BaseModel, label_names: Sequence[str]) -> None:
        """Check arguments that name labels against the task's ``label_names``; called while a
        run is planned, so a mistake stops the run before anything is written.

        The default checks every :data:`ClassWeight` field (a one-line
        :class:`~harness.errors.UserError` naming the unknown label and the valid ones).
        Override it (calling ``super()``) to check other label-naming arguments."""
        from harness.class_weights import check_class_weight

        for name in cls.label_weight_fields():
            check_class_weight(getattr(args, name), label_names, field=f"model_args.{name}")

    @abstractmethod
    def fit(
        self, texts: Texts, labels: np.ndarray, seed: int, progress: Progress | None = None
    ) -> None:
        """Train from scratch (from the configured base weights) on ``texts``/``labels``.

        A model that declares :attr:`supports_epoch_callback` also accepts
        ``on_epoch_end: EpochCallback | None = None`` (see :class:`EpochTrainable`)."""

    @abstractmethod
    def predict_proba(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Return class probabilities, shape ``(len(texts), num_labels)``, in input order."""

    def predict(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Return the predicted label index of each text."""
        if len(texts) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.predict_proba(texts, progress).argmax(axis=1), dtype=np.int64)

    def save_info(self, directory: Path, filename: str = "config.json") -> None:
        """Write what a saved model is (``model``, ``num_labels``, validated ``args``) as JSON
        next to its weights: call it from :meth:`save` (``filename`` when the library's own
        files use ``config.json``)."""
        import json

        info = {
            "model": self.name,
            "num_labels": self.num_labels,
            "args": self.args.model_dump(mode="json"),
        }
        (directory / filename).write_text(json.dumps(info, indent=2, sort_keys=True))

    def embed(self, texts: Sequence[str]) -> np.ndarray | None:
        """Return one embedding row per text, or ``None`` if the model cannot embed."""
        return None

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write the trained model to ``directory`` (JSON/safetensors/numpy, never pickle).

        A failure to write (disk full, file-size limit) must raise ``OSError`` (convert a
        library's own error, e.g. safetensors' ``SafetensorError``): the cache then reports
        ``cannot write ...`` in one line and removes the partial entry."""

    @abstractmethod
    def load(self, directory: Path) -> None:
        """Read a model written by :meth:`save` into this (already configured) instance."""

    def fingerprint(self) -> dict[str, Any]:
        """Return everything that determines training, for the content-hash cache key: the
        model name and args, plus the label names when a :data:`ClassWeight` argument is set
        (a weight given by label name depends on which index that name has)."""
        data: dict[str, Any] = {"model": self.name, "args": self.args.model_dump(mode="json")}
        if any(getattr(self.args, name, None) is not None for name in self.label_weight_fields()):
            data["label_names"] = list(self.label_names)
        return data

    def unit_resources(self) -> UnitResources:
        """What one unit training and evaluating this model needs (see :class:`UnitResources`).
        The default: :attr:`cpu_threads` CPU cores (one when unset) and, on a CUDA device, one
        GPU. Override it to declare fractional GPUs for a small model, several GPUs for
        data-parallel training, or memory."""
        gpus = 1.0 if str(self.device).startswith("cuda") else 0.0
        return UnitResources(cpus=float(self.cpu_threads or 1), gpus=gpus)


EpochCallback = Callable[[int, np.ndarray], None]
"""What :meth:`Model.fit` calls after every epoch when given ``on_epoch_end`` (models that
declare :attr:`Model.supports_epoch_callback`): ``(epoch, probabilities)``, the epoch counted
from 0 and the class probabilities ``(n, num_labels)`` of every training example, in the order
``fit`` received them, from the model as it stands at the end of that epoch (in evaluation
mode, as the dataset-cartography paper defines them). A last, partial epoch (``epochs: 1.5``)
counts as one."""


class EpochTrainable(Protocol):
    """The ``fit`` of a model that declares :attr:`Model.supports_epoch_callback`."""

    def fit(
        self,
        texts: Texts,
        labels: np.ndarray,
        seed: int,
        progress: Progress | None = None,
        on_epoch_end: EpochCallback | None = None,
    ) -> None:
        """Train as :meth:`Model.fit` does, calling ``on_epoch_end`` after every epoch."""


class TorchModel(Model[ArgsT]):
    """A model backed by a ``torch.nn.Module``: interventions can fine-tune and patch it."""

    supports_patching: ClassVar[bool] = True

    @property
    @abstractmethod
    def module(self) -> torch.nn.Module:
        """The underlying torch module."""

    @abstractmethod
    def logits(self, texts: Sequence[str]) -> torch.Tensor:
        """Forward ``texts`` with gradients enabled and return logits ``(n, num_labels)``."""

    @staticmethod
    def names_matching(names: Sequence[str], pattern: str) -> list[str]:
        """The ``names`` a regular expression matches (``re.search``); an invalid pattern is a
        one-line user error. Models use it for ``parameter_names`` beyond head/last/all."""
        import re

        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            from harness.errors import UserError

            raise UserError(
                f"invalid parameter pattern {pattern!r}: {exc}",
                field="params",
                fix="use head, last, all or a valid regular expression",
            ) from None
        return [name for name in names if compiled.search(name)]

    @abstractmethod
    def parameter_names(self, which: str) -> list[str]:
        """Names of the parameters to tune for ``which`` in ``head``, ``last``, ``all``."""
