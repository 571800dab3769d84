"""Helpers shared by the built-in interventions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo

from harness.api import DifficultyMeasure, InterventionContext, Model, registries_in
from harness.errors import UserError


def check_selector(name: str, info: ValidationInfo, args: dict[str, Any] | None = None) -> None:
    """Raise ``ValueError`` (turned into a one-line config error) if ``name`` is not a
    registered selector or ``args`` (when given) do not validate, so mistakes surface before any
    training. ``info``: the calling validator's, whose context holds the run's registries."""
    from harness.validation import validate

    try:
        cls = registries_in(info).selectors.get(name, field="selection")
        if args is not None:
            validate(cls.Args, args)
    except UserError as err:
        where = f"{err.field}: " if args is not None and err.field else ""
        raise ValueError(where + err.problem + (f"; {err.fix}" if err.fix else "")) from None


def measure_class(name: str, info: ValidationInfo | None = None) -> type[DifficultyMeasure]:
    """The registered difficulty measure ``name`` (the run's registries when ``info``, a
    validator's, carries them); a miss is a :class:`UserError` with close names."""
    return registries_in(info).difficulty_measures.get(name, field="measure")


def is_measure(name: str, info: ValidationInfo | None = None) -> bool:
    """Whether ``name`` is a registered difficulty measure."""
    return name in registries_in(info).difficulty_measures


def check_measure_args(
    name: str, info: ValidationInfo, args: dict[str, Any], heldout: bool = False
) -> None:
    """Raise ``ValueError`` (a one-line config error) if ``args`` do not validate for the
    measure ``name``, or, with ``heldout``, if the measure cannot score examples its models did
    not train on."""
    from harness.validation import validate

    try:
        cls = measure_class(name, info)
        if heldout and not cls.scores_heldout:
            raise UserError(
                f"measure {name!r} scores only the examples its model trains on, not pool "
                "candidates",
                fix="use a measure that scores held-out examples: "
                + ", ".join(
                    entry.name
                    for entry in registries_in(info).difficulty_measures
                    if entry.item.scores_heldout
                ),
            )
        validate(cls.Args, args)
    except UserError as err:
        where = f"{err.field}: " if err.field and err.field != "measure" else ""
        raise ValueError(where + err.problem + (f"; {err.fix}" if err.fix else "")) from None


def check_measure_model(name: str, model_class: type[Model], field: str, use: str) -> None:
    """Refuse, in one line naming the model and what it lacks, a run whose model cannot give
    the difficulty measure ``name`` what it reads (``use``: how the config uses it)."""
    problem = measure_class(name).model_problem(model_class)
    if problem:
        raise UserError(
            f"{use} {name!r} cannot work with model {model_class.name!r}, which {problem}",
            field=field,
            fix="use a model that has it (harness list models; bow and hf report their "
            "epochs and probabilities), or another method",
        )


def measure_for(ctx: InterventionContext, name: str, args: dict[str, Any]) -> DifficultyMeasure:
    """The configured difficulty measure for an intervention (the run's ``ctx.measures``, or
    one built from the registries outside a run)."""
    if ctx.measures is not None:
        return ctx.measures(name, args)
    from harness.validation import validate

    cls = measure_class(name)
    return cls(validate(cls.Args, args, prefix="measure_args."))


def counts_by_label(labels: Any, label_names: list[str]) -> dict[str, int]:
    """``{label name: count}`` of an integer label array."""
    return {name: int((labels == i).sum()) for i, name in enumerate(label_names)}


def bar_separated(value: Any) -> Any:
    """``a|b`` (a list given in ``--interventions`` params) -> ``["a", "b"]``."""
    if isinstance(value, str):
        return [part.strip() for part in value.split("|") if part.strip()]
    return value


def each_once(what: str) -> Callable[[list[str]], list[str]]:
    """A validator refusing a list that names a ``what`` twice."""

    def check(value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"{what}s lists a {what} twice")
        return value

    return check


SourceNames = Annotated[
    list[str], BeforeValidator(bar_separated), AfterValidator(each_once("source"))
]
"""Named pool sources: a list, or ``general|policy`` on the command line; each once."""

SpecIds = Annotated[list[str], BeforeValidator(bar_separated), AfterValidator(each_once("spec"))]
"""Spec ids: a list, or ``a|b`` on the command line; each once."""
