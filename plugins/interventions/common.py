"""Helpers shared by the built-in interventions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo

from harness.api import registries_in
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
