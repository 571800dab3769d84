"""Argument models and their markers: :class:`StrictModel`, :data:`LocalPath`,
:data:`ClassWeight`, the typed ``register`` callable, and the validation context planning
passes to argument validators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

if TYPE_CHECKING:
    from harness.plugins import Registries


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
