"""Turn pydantic validation errors into one-line user errors naming the key and the fix."""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import UserError
from harness.yamlio import line_of

M = TypeVar("M", bound=BaseModel)


def _model_at(model_cls: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Follow ``loc`` through nested model fields; return the model that owns the last key."""
    current: Any = model_cls
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return current
        current = _first_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _first_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _dotted(loc: tuple[Any, ...], prefix: str = "") -> str:
    """``prefix`` followed by ``loc`` written as a path (``interventions[0].params.selection``);
    an empty ``loc`` (an error about the whole mapping) is ``prefix`` without its trailing dot."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("" if not out or out.endswith(".") else ".") + str(part)
    return out.rstrip(".")


PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
"""What pydantic puts before the message of a ``ValueError`` / ``AssertionError`` raised in a
validator; the harness's own messages read better without it."""


def error_message(error: Any) -> str:
    """The message of one pydantic error (an item of ``ValidationError.errors()``) as users
    should read it: without pydantic's ``Value error, `` prefix."""
    message = str(error.get("msg", ""))
    for prefix in PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def user_error_from_validation(
    exc: ValidationError,
    model_cls: type[BaseModel],
    *,
    file: str | Path | None = None,
    node: yaml.Node | None = None,
    prefix: str = "",
    loc_prefix: tuple[Any, ...] = (),
) -> UserError:
    """Build the one-line :class:`UserError` for the first error in ``exc``."""
    error = exc.errors()[0]
    loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
    field = _dotted(loc, prefix)
    line = line_of(node, loc_prefix + loc) if node is not None else None
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model_cls, loc[:-1])
        valid = sorted(owner.model_fields) if owner is not None else []
        key = str(loc[-1]) if loc else "?"
        close = difflib.get_close_matches(key, valid, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        return UserError(
            f"unknown key {key!r}",
            file=file,
            line=line,
            field=field,
            fix=f"{hint}valid keys: {', '.join(valid) if valid else '(none)'}",
        )
    if kind == "missing":
        return UserError("required key is missing", file=file, line=line, field=field, fix="add it")
    given = error.get("input")
    shown = repr(given)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    # an error about a whole mapping (a model validator) names no key: its input is the mapping
    message = error_message(error)
    whole = not loc and isinstance(given, dict)
    got = "" if whole or f"got {shown}" in message else f" (got {shown})"
    return UserError(
        f"{message}{got}",
        file=file,
        line=line,
        field=field,
        fix="correct the value",
    )


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "list"})


def validate(
    model_cls: type[M],
    data: Any,
    *,
    file: str | Path | None = None,
    node: yaml.Node | None = None,
    prefix: str = "",
    loc_prefix: tuple[Any, ...] = (),
    context: dict[str, Any] | None = None,
) -> M:
    """Validate ``data`` into ``model_cls`` or raise a one-line :class:`UserError`.
    ``context``: pydantic's validation context (e.g. the run's registries under
    :data:`harness.api.REGISTRIES`)."""
    try:
        return model_cls.model_validate(data, context=context)
    except ValidationError as exc:
        raise user_error_from_validation(
            exc, model_cls, file=file, node=node, prefix=prefix, loc_prefix=loc_prefix
        ) from None
