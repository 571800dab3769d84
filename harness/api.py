"""The public types plugins implement or receive: tasks, specs, models, selectors, interventions,
reporters. Heavy libraries (torch) are imported lazily so that importing this module stays fast."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, Protocol, TypeVar

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

if TYPE_CHECKING:
    import torch

    from harness.plugins import Registries
    from harness.progress import Progress
    from harness.report_views import ReportOptions
    from harness.results import RunResult


class StrictModel(BaseModel):
    """Base for every pydantic model at a boundary: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


class NoArgs(StrictModel):
    """Argument model for plugins that take no arguments."""


ArgsT = TypeVar("ArgsT", bound=BaseModel)
"""The validated ``Args`` model of a model, selector or intervention: subclass
``Model[MyArgs]`` (likewise ``Selector``, ``Intervention``) and ``self.args`` is typed
``MyArgs``."""

ItemT = TypeVar("ItemT", contravariant=True)


class Register(Protocol[ItemT]):
    """The ``register`` callable a ``register_*`` hook receives: call it once per item.

    Typed by what the hook takes (see :mod:`harness.kinds`): ``Register[TaskDefinition]``,
    ``Register[SpecSource]``, ``Register[type[Model]]``, ``Register[type[Selector]]``,
    ``Register[type[Intervention]]``, ``Register[type[Reporter]]``. ``name`` and
    ``description`` default to the item's own attributes."""

    def __call__(
        self, item: ItemT, /, *, name: str | None = None, description: str | None = None
    ) -> None:
        """Register ``item`` (an item of another kind is a one-line plugin error)."""


PATH_RESOLVER = "harness.path_resolver"
"""Key of the pydantic validation context under which :mod:`harness.local_paths` passes the
function that resolves :class:`PathArg` values (absent: values stay as written)."""


REGISTRIES = "harness.registries"
"""Key of the pydantic validation context under which planning passes the run's registries
(:class:`harness.plugins.Registries`), built once per run; see :func:`registries_in`."""


def registries_in(info: Any) -> Registries:
    """The registries to look other plugins up in from inside an argument validator (``info``:
    pydantic's ``ValidationInfo``), e.g. to check that a ``selection`` names a registered
    selector: the run's, while a run is planned, else freshly built ones."""
    context = getattr(info, "context", None)
    registries = context.get(REGISTRIES) if isinstance(context, dict) else None
    if registries is None:
        from harness.plugins import load_registries

        registries = load_registries()
    return registries  # type: ignore[no-any-return]


class PathArg:
    """Marker for ``Annotated[str, PathArg()]``: the field holds a local file or folder path.

    Plugins declare their path arguments with :data:`LocalPath` (in ``Args`` models, nested models,
    lists, dicts and optional fields alike), or :data:`LocalPathOrName` for a value that may also
    be a name (a Hugging Face hub id). The core resolves a relative value written in a config
    file against that file's folder, and a value given on the command line against the current
    folder, *while the arguments are validated*, so the plugin's own validators already see the
    absolute path; ``config.json`` records it.

    ``or_name=True``: a relative value that does not exist there and is not written as a path
    (``./x``, ``../x``, ``~/x``) is kept as it is, as a name."""

    def __init__(self, *, or_name: bool = False) -> None:
        self.or_name = or_name

    def __repr__(self) -> str:
        return "PathArg(or_name=True)" if self.or_name else "PathArg()"

    def __get_pydantic_core_schema__(self, source_type: Any, handler: Any) -> Any:
        """Validate as ``source_type``, then resolve through the validation context."""
        from pydantic_core import core_schema

        return core_schema.with_info_after_validator_function(self._resolve, handler(source_type))

    def _resolve(self, value: Any, info: Any) -> Any:
        context = info.context
        resolver = context.get(PATH_RESOLVER) if isinstance(context, dict) else None
        if resolver is None or not isinstance(value, str):
            return value
        return resolver(value, self)


LocalPath = Annotated[str, PathArg()]
"""A ``str`` argument that names a local file or folder (see :class:`PathArg`)."""

LocalPathOrName = Annotated[str, PathArg(or_name=True)]
"""A ``str`` argument that names a local file or folder, or else something that is not a path
(e.g. a Hugging Face hub id); see :class:`PathArg`."""


class LabelWeightsArg:
    """Marker for :data:`ClassWeight`: the field weights the task's labels by name.

    :meth:`Model.check_label_args` checks every top-level ``Args`` field carrying this marker
    against the task's labels while the run is planned, before any work starts."""

    def __repr__(self) -> str:
        return "LabelWeightsArg()"


def parse_class_weight(value: Any) -> Any:
    """Normalise a ``class_weight`` value: ``None``, ``"balanced"``, a mapping ``{label:
    weight}`` or its command-line form ``label:weight|label:weight``. Weights must be positive,
    finite numbers; label names are checked against the task later (at planning)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "balanced":
            return "balanced"
        if ":" not in text:
            raise ValueError("class_weight must be 'balanced' or label:weight|label:weight")
        pairs = [part.rpartition(":") for part in text.split("|") if part.strip()]
        value = {label.strip(): weight.strip() for label, _, weight in pairs}
    if not isinstance(value, dict) or not value:
        raise ValueError("class_weight must be 'balanced' or a non-empty {label: weight} mapping")
    weights: dict[str, float] = {}
    for label, weight in value.items():
        try:
            number = float(weight)
        except (TypeError, ValueError):
            raise ValueError(f"the weight of label {label!r} is not a number: {weight!r}") from None
        if not (number > 0 and number < float("inf")):
            raise ValueError(f"the weight of label {label!r} must be positive and finite")
        weights[str(label)] = number
    return weights


ClassWeight = Annotated[
    Literal["balanced"] | dict[str, float] | None,
    BeforeValidator(parse_class_weight),
    LabelWeightsArg(),
]
"""A model argument for imbalanced data: ``None`` (every example weighs 1), ``"balanced"``
(label ``c`` weighs ``n_samples / (n_classes * count(c))`` on the data being fitted, as in
scikit-learn) or ``{label name: weight}`` (labels not named weigh 1). On the command line:
``class_weight=balanced`` or ``class_weight=toxic:5|non-toxic:1``. :mod:`harness.class_weights`
turns it into per-label weights and a weighted loss."""


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


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


class SpecCase(StrictModel):
    """One generated (or literal) case of a specification."""

    id: str
    text: str
    spec_id: str
    split: Literal["train", "heldout"]
    template_id: str | None = None
    slots: dict[str, str] = Field(default_factory=dict)


class Spec(StrictModel):
    """A specification s_i: a capability stated in words with one expected label, with D_i
    (``train_cases``, may guide a fix) and D_i_heldout (``heldout_cases``, only measures)."""

    id: str
    description: str
    label: str
    suite: str = ""
    tags: list[str] = Field(default_factory=list)
    group: str | None = None
    train_cases: list[SpecCase] = Field(default_factory=list)
    heldout_cases: list[SpecCase] = Field(default_factory=list)
    source_line: int | None = Field(default=None, exclude=True, description="line in its file")


class SpecSuite(StrictModel):
    """A named list of specs from one source."""

    name: str
    description: str = ""
    labels: list[str] = Field(default_factory=list)
    source: str = ""
    specs: list[Spec] = Field(default_factory=list)


class SpecSource(ABC):
    """A plugin that turns references (paths, names) into spec suites. Register an instance.

    Example::

        from pathlib import Path

        import harness
        from harness.api import Register, Spec, SpecCase, SpecSource, SpecSuite


        class TabbedSource(SpecSource):
            # one case per line: spec id, label, train|heldout, text (tab-separated)

            name = "tabbed"
            description = "tab-separated cases (spec, label, split, text)"
            suffixes = (".cases",)  # --specs my.cases needs no source: name

            def load(self, ref, options, *, seed=0):
                specs = {}
                for n, line in enumerate(Path(ref).read_text().splitlines()):
                    spec_id, label, split, text = line.split("\\t")
                    if spec_id not in specs:
                        specs[spec_id] = Spec(id=spec_id, description=spec_id, label=label)
                    spec = specs[spec_id]
                    case = SpecCase(id=f"{spec_id}-{n}", text=text, spec_id=spec_id, split=split)
                    (spec.train_cases if split == "train" else spec.heldout_cases).append(case)
                return [SpecSuite(name=Path(ref).stem, specs=list(specs.values()), source=ref)]


        @harness.hookimpl
        def register_spec_sources(register: Register[SpecSource]) -> None:
            register(TabbedSource())
    """

    name: ClassVar[str] = ""
    """The name users give (``--model``, ``selection:``, ``--format``...; ``plugin/name`` when
    two plugins share it)."""
    description: ClassVar[str] = ""
    """One line for ``harness list``."""
    Options: ClassVar[type[BaseModel] | None] = None
    """The pydantic model of this source's ``options`` (``None``: not declared). The core walks
    it for :data:`LocalPath` fields and resolves them like every other path of a config (a
    relative value is looked up next to the config file, then next to the spec file ``ref``)."""
    accepts_names: ClassVar[bool] = False
    """Whether ``ref`` may name something that is not a local path (e.g. a dataset on the
    Hugging Face hub): a relative ``ref`` that does not exist next to the config and is not
    written as a path (``./x``) is then passed on as it is. Otherwise a ``ref`` that is not a
    shipped suite name is a path, resolved against the config file's folder."""
    suffixes: tuple[str, ...] = ()
    """The suffixes of the spec files this source reads when a spec entry names a file and no
    ``source`` (lower case, with the dot: ``(".csv", ".tsv")``). Two sources claiming a suffix
    make such a file ambiguous: the run then asks for ``source:``. An instance may set its own
    (the built-in ``yaml`` source claims ``.yaml``/``.yml``; a plugin's suite folder, a
    :class:`harness.spec_sources.YamlSuiteDirectory` too, claims none)."""
    reads_folders: bool = False
    """Whether a folder named by a spec entry without ``source`` is this source's (the built-in
    ``yaml`` source reads every suite file in it); like :attr:`suffixes`, at most one source
    should claim folders."""

    def suites(self) -> dict[str, str]:
        """Return the named suites this source ships: ``{suite name: description}``."""
        return {}

    @abstractmethod
    def load(self, ref: str, options: dict[str, Any], *, seed: int = 0) -> list[SpecSuite]:
        """Load the suites named or located by ``ref`` with source-specific ``options``."""


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


class Model(ABC, Generic[ArgsT]):
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

    name: ClassVar[str] = ""
    """The name users give (``--model``, ``selection:``, ``--format``...; ``plugin/name`` when
    two plugins share it)."""
    description: ClassVar[str] = ""
    """One line for ``harness list``."""
    Args: ClassVar[type[BaseModel]] = NoArgs
    """The pydantic model (:class:`StrictModel`) that validates its arguments; ``self.args``
    holds the validated instance."""
    supports_patching: ClassVar[bool] = False
    """Whether ``patch`` can fine-tune it (a :class:`TorchModel`); reports say when not."""
    default_patch_delta: ClassVar[float | None] = None
    """The L-infinity radius around M0 that the built-in ``patch`` intervention uses with
    ``delta: auto`` (``None``: its default for transformer models, 5e-4). A fast model trained
    with a large learning rate needs a larger radius to move at all (``bow``: 0.02)."""
    cpu_threads: ClassVar[int | None] = None
    """Torch intra-op threads to use on CPU while this model trains and predicts (``None``:
    torch's default). Tiny models run fastest single-threaded, especially on a busy machine."""

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
        """Train from scratch (from the configured base weights) on ``texts``/``labels``."""

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


# --------------------------------------------------------------------------------------------
# Selectors, interventions, reporters
# --------------------------------------------------------------------------------------------


QueryGroups = Sequence[Sequence[str]]
"""What a selector ranks the pool against: one group of query texts per spec, the texts of its
D_i cases (never its held-out cases)."""

Rankings = list[tuple[np.ndarray, np.ndarray]]
"""What :meth:`Selector.top_k` returns: per query group, ``(pool indices, scores)`` of its best
pool examples, best first (int64 indices into ``pool_texts``, float scores)."""


class Selector(ABC, Generic[ArgsT]):
    """Scores ``pool`` examples against the spec cases of D_i. Register the class.

    A ``retrain`` (or ``relabel``) names a selector with ``selection: NAME`` and passes it
    arguments with ``selector_args: {...}``, validated by the selector's ``Args`` while the run
    is planned. The selector sees only D_i cases (the ``queries``), never the held-out ones.

    Example::

        import numpy as np

        import harness
        from harness.api import Register, Selector, StrictModel


        class OverlapArgs(StrictModel):
            lowercase: bool = True


        class OverlapSelector(Selector[OverlapArgs]):
            name = "overlap"
            description = "pool texts sharing the most words with a spec's D_i cases"
            Args = OverlapArgs

            def top_k(self, pool_texts, queries, k, seed, model=None):
                fold = str.lower if self.args.lowercase else str
                words = [set(fold(text).split()) for text in pool_texts]
                ranked = []
                for group in queries:  # one group per spec: its D_i texts
                    wanted = {w for text in group for w in fold(text).split()}
                    scores = np.array([len(w & wanted) for w in words], dtype=float)
                    best = np.argsort(-scores, kind="stable")[:k]
                    ranked.append((best.astype(np.int64), scores[best]))
                return ranked


        @harness.hookimpl
        def register_selectors(register: Register[type[Selector]]) -> None:
            register(OverlapSelector)

    A config then uses it as ``{name: retrain, params: {selection: overlap, selector_args:
    {lowercase: false}}}``."""

    name: ClassVar[str] = ""
    """The name users give (``--model``, ``selection:``, ``--format``...; ``plugin/name`` when
    two plugins share it)."""
    description: ClassVar[str] = ""
    """One line for ``harness list``."""
    Args: ClassVar[type[BaseModel]] = NoArgs
    """The pydantic model (:class:`StrictModel`) that validates its arguments; ``self.args``
    holds the validated instance."""

    def __init__(self, args: ArgsT) -> None:
        """Keep the validated arguments as ``self.args``."""
        self.args: ArgsT = args

    @abstractmethod
    def top_k(
        self, pool_texts: Texts, queries: QueryGroups, k: int, seed: int, model: Model | None = None
    ) -> Rankings:
        """For each query group (one per spec: its D_i texts), return ``(pool indices, scores)``
        of the ``k`` best pool examples, best first."""


@dataclass
class InterventionContext:
    """What an intervention receives for one seed."""

    task: Task
    """The run's task (after ``limit`` / ``train_limit``)."""
    specs: list[Spec]
    """Every spec of the run; use only ``train_cases`` (D_i) to guide a fix."""
    seed: int
    base_model: Model
    """M0 of this seed (trained on ``task.train``); do not change it in place."""
    new_model: Callable[[], Model]
    """A fresh, untrained model of the run's model class and arguments."""
    train_model: Callable[[Model, Split, str], Model]
    """``train_model(model, split, purpose)``: fit ``model`` on ``split`` with this seed,
    through the content-hash cache (a rerun loads it); the runner records ``split`` as the
    texts the returned model trained on."""
    selectors: Callable[[str, dict[str, Any]], Selector]
    """``selectors(name, args)``: a registered selector with validated ``args``."""
    budget: int
    """The run's ``budget``."""
    device: str
    """``cpu`` or ``cuda``."""
    progress: Progress | None = None
    derive_model: DeriveModel | None = None
    """Cache a model derived from ``base_model``: ``derive_model(recipe, build, purpose)`` returns
    ``build()``'s ``(model, changes)`` or, for the same ``recipe``, the cached pair. ``None``:
    call ``build()`` directly (see :meth:`derive`)."""

    memo_value: Callable[[dict[str, Any], Callable[[], Any]], Any] | None = None
    """Cache a JSON-able value per recipe (see :meth:`memo`)."""

    def memo(self, recipe: dict[str, Any], compute: Callable[[], Any]) -> Any:
        """``compute()``, or its cached value for the same ``recipe`` when the run has a cache.
        The value comes back through a JSON round trip either way."""
        if self.memo_value is None:
            import json

            return json.loads(json.dumps(compute(), sort_keys=True))
        return self.memo_value(recipe, compute)

    def derive(
        self,
        recipe: dict[str, Any],
        build: Callable[[], tuple[Model, dict[str, Any]]],
        purpose: str,
    ) -> tuple[Model, dict[str, Any]]:
        """Build a model derived from ``base_model`` through the cache when the run has one.
        ``recipe`` must hold everything besides M0 that determines the result."""
        if self.derive_model is None:
            return build()
        return self.derive_model(recipe, build, purpose)


DeriveModel = Callable[
    [dict[str, Any], Callable[[], tuple[Model, dict[str, Any]]], str], tuple[Model, dict[str, Any]]
]


@dataclass
class InterventionOutcome:
    """What an intervention returns: the new model and a JSON-able record of what it changed.

    The runner also needs the texts the new model trained on, to tell which held-out spec cases
    it has seen (``seen_by`` in ``samples.jsonl``, seen / unseen FR in the reports). It takes
    them from, in this order:

    1. ``train_split``, when given: the model was trained from scratch on it;
    2. else the split passed to ``ctx.train_model`` for the returned model (so an intervention
       that trains through ``ctx.train_model`` needs to declare nothing);
    3. else M0's training data: the model is M0 fine-tuned (``ctx.derive``) or built some
       other way.

    plus ``added_training_texts``: texts trained on beyond that base, e.g. a patch's D_i cases
    and replayed rows. A model that did not come out of ``ctx.train_model``, with neither field
    set, gets a warning and ``training_texts.declared = false`` in ``results.json``: M0's data
    is then assumed, which undercounts the seen cases of a model fine-tuned on more data.
    Declare ``added_training_texts=[]`` for a model that really trained on nothing new.
    """

    model: Model | None
    changes: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    train_split: Split | None = None
    """The split the new model was trained on from scratch (``None``: see the class doc)."""
    added_training_texts: Sequence[str] | None = None
    """Texts the model trained on beyond its base (``train_split``, the split given to
    ``ctx.train_model``, or M0's data); ``None``: not declared (see the class doc)."""


@dataclass(frozen=True)
class ComparisonRole:
    """How the row of a configured intervention is compared beyond M0 (every row is compared
    with M0 without declaring anything): the core pairs each ``guided`` row with every
    ``baseline`` row of the same :attr:`group` that spends the same :attr:`budget` drawing
    from the same pool :attr:`sources`, compares them case by case, and judges the guided row
    against that baseline and M0 in the expected-outcome check. A guided row without such a
    baseline gets a WARN naming :attr:`baseline_hint`.

    ``retrain`` declares ``group="retrain"``: ``selection: random`` is the baseline, every
    other selector guided, at its budget and from its ``sources``."""

    group: str
    """Rows pair only within a group (e.g. the intervention's name)."""
    role: Literal["guided", "baseline"]
    budget: int | None = None
    """Examples the row adds (``None``: no budget applies); rows pair at equal budgets."""
    sources: tuple[str, ...] | None = None
    """The named pool sources it draws from (``None``: every source); rows pair on equal
    sources."""
    comparison_kind: str = "guided-vs-baseline"
    """The ``kind`` of the guided-vs-baseline entries in ``results.json`` ``comparisons``."""
    baseline_name: str = "baseline"
    """How a check names the baseline a guided row needs (e.g. ``random retrain``)."""
    baseline_hint: str = "a baseline"
    """What to add to the config for that baseline (e.g. ``a retrain with {selection:
    random}``), for a guided row that has none."""

    def pairs_with(self, baseline: ComparisonRole) -> bool:
        """Whether this guided row is compared with ``baseline``'s row."""
        return (
            self.role == "guided"
            and baseline.role == "baseline"
            and self.group == baseline.group
            and self.budget == baseline.budget
            and self.sources == baseline.sources
        )


class Intervention(ABC, Generic[ArgsT]):
    """Turns (task, specs, M0) into a new model for one seed.

    What the core needs to know is declared here: whether it draws from the task's pool
    (:attr:`uses_pool`, with :meth:`pool_sources` naming the sources it may draw from), how
    many examples it adds when a budget sets that number (:meth:`budget_spent`), any check of
    its arguments against the loaded task and specs (:meth:`check_plan`; these run while
    planning, before anything is trained or written), and how its row is compared with others
    (:meth:`comparison_role`). Register the class.

    Example::

        import harness
        from harness.api import (
            ComparisonRole,
            Intervention,
            InterventionOutcome,
            Register,
            StrictModel,
        )


        class LongestArgs(StrictModel):
            size: int = 300


        class AddLongest(Intervention[LongestArgs]):
            # retrain on the train split plus the `size` longest pool texts

            name = "add-longest"
            description = "retrain on train plus the longest pool texts"
            Args = LongestArgs
            uses_pool = True  # planning checks the pool has rows

            def budget_spent(self, run_budget):
                return self.args.size  # its own size, not the run's budget

            def comparison_role(self, run_budget):
                # judged like a guided retrain: against a random retrain of the same size
                return ComparisonRole(
                    group="retrain",
                    role="guided",
                    budget=self.args.size,
                    baseline_name="random retrain",
                    baseline_hint=f"a retrain with {{selection: random, budget: {self.args.size}}}",
                )

            def apply(self, ctx):
                pool = ctx.task.pool
                longest = sorted(range(len(pool)), key=lambda i: -len(pool.texts[i]))
                split = ctx.task.train.concat(pool.subset(longest[: self.args.size]))
                model = ctx.train_model(ctx.new_model(), split, self.label())
                return InterventionOutcome(model=model, changes={"n_added": self.args.size})


        @harness.hookimpl
        def register_interventions(register: Register[type[Intervention]]) -> None:
            register(AddLongest)
    """

    name: ClassVar[str] = ""
    """The name users give (``--model``, ``selection:``, ``--format``...; ``plugin/name`` when
    two plugins share it)."""
    description: ClassVar[str] = ""
    """One line for ``harness list``."""
    Args: ClassVar[type[BaseModel]] = NoArgs
    """The pydantic model (:class:`StrictModel`) that validates its arguments; ``self.args``
    holds the validated instance."""
    uses_pool: ClassVar[bool] = False
    """Whether it adds examples drawn from the task's pool: planning then refuses an empty pool
    (or empty named sources) and warns when the candidates are fewer than :meth:`budget_spent`."""

    def __init__(self, args: ArgsT) -> None:
        """Keep the validated arguments as ``self.args``."""
        self.args: ArgsT = args

    def label(self) -> str:
        """A short display name for this configured instance (e.g. ``retrain-tfidf``)."""
        return self.name

    def budget_spent(self, run_budget: int) -> int | None:
        """How many examples this configured instance adds when a budget sets that number (its
        own budget argument, or ``run_budget``); ``None`` when no budget applies."""
        return None

    def pool_sources(self) -> list[str] | None:
        """The named pool sources it may draw candidates from; ``None``: every source. Planning
        refuses names the task's pool does not have."""
        return None

    def comparison_role(self, run_budget: int | None) -> ComparisonRole | None:
        """How this configured instance's row pairs in comparisons and checks beyond M0
        (``None``, the default: compared with M0 only). ``run_budget`` is the run's
        ``budget``. Reports call it again on a finished run's recorded (validated) ``params``,
        so it must depend only on the arguments and ``run_budget``."""
        return None

    def check_plan(self, task: Task, specs: Sequence[Spec], field: str, run_budget: int) -> None:
        """Check the configured arguments against the loaded ``task`` and ``specs`` (and the
        run's budget) while planning; raise :class:`harness.errors.UserError` naming ``field``
        (the intervention's place in the config, e.g. ``interventions (augment).params``) for
        bad input, or print a one-line ``warning:``. The default accepts everything."""
        return None

    @abstractmethod
    def apply(self, ctx: InterventionContext) -> InterventionOutcome:
        """Run the intervention for ``ctx.seed`` and return the new model."""


class Reporter(ABC):
    """Renders one or more run results (``harness report --format NAME``).

    ``harness report`` finds a reporter by ``--format`` (its :attr:`name` or one of its
    :attr:`aliases`), or else by the suffix of ``-o FILE`` (:attr:`suffix` or one of
    :attr:`suffixes`). It receives :class:`harness.results.RunResult` objects (the schema is
    below). Register the class.

    Example::

        import csv
        import io

        import harness
        from harness.api import Register, Reporter


        class FailureCsv(Reporter):
            name = "failure-csv"
            description = "held-out failures per run, model and spec as CSV"
            suffix = ".csv"  # harness report RUN -o fr.csv picks it

            def render(self, runs):
                out = io.StringIO()
                writer = csv.writer(out, lineterminator="\\n")
                writer.writerow(["run_id", "model", "spec", "failure_rate"])
                for run in runs:
                    for model in run.models:
                        for spec_id, fr in model.aggregate.heldout_fr.items():
                            writer.writerow([run.run_id, model.id, spec_id, f"{fr:.4f}"])
                return out.getvalue()


        @harness.hookimpl
        def register_reporters(register: Register[type[Reporter]]) -> None:
            register(FailureCsv)
    """

    name: ClassVar[str] = ""
    """The name users give (``--model``, ``selection:``, ``--format``...; ``plugin/name`` when
    two plugins share it)."""
    description: ClassVar[str] = ""
    """One line for ``harness list``."""
    suffix: ClassVar[str] = ".txt"
    """The suffix of the files it writes: ``-o FILE`` with this suffix picks it."""
    suffixes: ClassVar[tuple[str, ...]] = ()
    """Further suffixes ``-o FILE`` picks it for (e.g. ``.htm`` beside ``.html``). A suffix two
    reporters claim is refused in one line naming both (use ``--format``)."""
    aliases: ClassVar[tuple[str, ...]] = ()
    """Other names ``--format`` accepts for it (e.g. ``md`` for ``markdown``)."""
    takes_options: ClassVar[bool] = False
    """Whether it renders :attr:`options`: ``harness report`` then sets them before
    :meth:`render` (``--ci``, ``--group-by``, and ``--examples`` failing held-out cases read
    from each run's ``samples.jsonl``)."""
    options: ReportOptions
    """The ``harness report`` options (set only when :attr:`takes_options`; a reporter that
    renders them sets defaults in its ``__init__`` for use outside the command)."""

    @classmethod
    def claimed_suffixes(cls) -> tuple[str, ...]:
        """Every suffix ``-o FILE`` picks this reporter for, lower case."""
        return tuple(dict.fromkeys(s.lower() for s in (cls.suffix, *cls.suffixes) if s))

    @abstractmethod
    def render(self, runs: list[RunResult]) -> str:
        """Return the report text for ``runs``: every run's :class:`harness.results.RunResult`
        (analysed: ``comparisons`` and ``checks`` filled; runs that share M0 arrive merged
        into one)."""
