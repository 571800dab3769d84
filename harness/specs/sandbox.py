"""The bounded jinja2 sandbox spec templates render in.

On top of jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment` (no attribute access to
internals, no unsafe calls), every value a template builds is bounded by
:func:`harness.limits.sandbox_value_limit` (100,000 characters by default) at every step, not
only in the output:

- operators: ``*`` (string/list repetition and integer products), ``+`` (concatenation), ``%``
  (``printf``-style formatting, with its widths) and ``~`` are checked *before* they run, from
  the sizes of their operands;
- filters (jinja2's and every plugin's) are wrapped: the ones whose output can be a product of
  their arguments (``replace``, ``center``, ``indent``, ``wordwrap``, ``format``, ``join``,
  ``batch``, ``slice``, ``sum``, ``urlize``) are checked before they run from an upper bound of
  their output; every filter's result is measured after it runs; iterators a filter receives are
  materialised up to the bound first;
- every argument of a filter and every value an expression outputs is measured before it is
  used or turned into text;
- the output is collected piece by piece and stops at the bound.

``**`` is refused outright; loops, calls and attribute access are refused before rendering by the
compiler's static check (:func:`harness.specs.compiler.refused_syntax`). A value over the bound
raises :class:`ValueTooLarge` (a :class:`~jinja2.sandbox.SecurityError`) before it is allocated
(or, for a plugin filter, right after it returns).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.utils import _PassArg

from harness.limits import sandbox_value_limit

MAX_INT_BITS = 128
"""The largest integer a template may build by multiplication (about 10^38)."""


class ValueTooLarge(SecurityError):
    """A template tried to build a value larger than the sandbox's bound."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        self.what = what
        self.size = size
        self.limit = limit
        amount = f"more than {limit:,}" if size == limit + 1 else f"{size:,}"
        super().__init__(
            f"{what} would build a value of {amount} characters, more than the limit of {limit:,}"
        )


def size_of(value: Any, limit: int) -> int:
    """The size of ``value`` in characters (strings), items plus their sizes (lists, tuples,
    dicts, sets) or digits (numbers); counting stops a little above ``limit``."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if isinstance(value, float):
        return 24
    if isinstance(value, Mapping):
        total = len(value)
        for key, item in value.items():
            total += size_of(key, limit) + size_of(item, limit)
            if total > limit:
                return limit + 1
        return total
    if isinstance(value, list | tuple | set | frozenset):
        total = len(value)
        for item in value:
            total += size_of(item, limit)
            if total > limit:
                return limit + 1
        return total
    return 1


def _check(what: str, size: int, limit: int) -> None:
    if size > limit:
        raise ValueTooLarge(what, size, limit)


# ------------------------------------------------------------------------------------------
# Upper bounds of filter outputs, computed before the filter runs
# ------------------------------------------------------------------------------------------

PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([a-zA-Z%])")
"""One ``%`` conversion: optional mapping key, flags, width, precision and type."""


def percent_bound(fmt: str, args: Any, limit: int) -> int:
    """An upper bound of the length of ``fmt % args``: the format, every width and precision,
    and the operands (six times over for ``%r``/``%a``, which escape)."""
    values = list(args.values()) if isinstance(args, Mapping) else args
    values = list(values) if isinstance(values, tuple) else [values]
    total = len(fmt)
    escapes = False
    stars = False
    for match in PERCENT_SPEC.finditer(fmt):
        for group in (match.group(1), match.group(2)):
            if group == "*":
                stars = True
            elif group:
                total += int(group) if len(group) < 12 else limit + 1
        escapes = escapes or match.group(3) in "ra"
        if total > limit:
            return limit + 1
    for value in values:
        if stars and isinstance(value, int):
            total += abs(value)
        size = size_of(value, limit)
        total += size * 6 if escapes else size
        if total > limit:
            return limit + 1
    return total


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _replace_bound(limit: int, s: Any, old: Any, new: Any, count: Any = None) -> int:
    text, old_text, new_text = _text(s), _text(old), _text(new)
    hits = text.count(old_text) if old_text else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(0, len(new_text) - len(old_text))


def _center_bound(limit: int, value: Any, width: Any = 80) -> int:
    return max(len(_text(value)), int(width) if isinstance(width, int) else 0)


def _indent_bound(limit: int, s: Any, width: Any = 4, *_: Any, **__: Any) -> int:
    text = _text(s)
    step = len(width) if isinstance(width, str) else int(width) if isinstance(width, int) else 0
    return len(text) + (text.count("\n") + 1) * max(0, step)


def _wordwrap_bound(
    limit: int,
    s: Any,
    width: Any = 79,
    break_long_words: Any = True,
    wrapstring: Any = None,
    *_: Any,
    **__: Any,
) -> int:
    text = _text(s)
    step = len(_text(wrapstring)) if wrapstring is not None else 1
    return len(text) * (1 + step)


def _format_bound(limit: int, value: Any, *args: Any, **kwargs: Any) -> int:
    return percent_bound(_text(value), kwargs or args, limit)


def _join_bound(limit: int, value: Any, d: Any = "", attribute: Any = None) -> int:
    items = list(value)
    total = max(0, len(items) - 1) * len(_text(d))
    for item in items:
        total += size_of(item, limit) * (1 if isinstance(item, str) else 2)
        if total > limit:
            return limit + 1
    return total


def _batch_bound(limit: int, value: Any, linecount: Any = 1, fill_with: Any = None) -> int:
    count = int(linecount) if isinstance(linecount, int) else 0
    return size_of(value, limit) + max(0, count) * (1 + size_of(fill_with, limit))


def _slice_bound(limit: int, value: Any, slices: Any = 1, fill_with: Any = None) -> int:
    count = int(slices) if isinstance(slices, int) else 0
    return size_of(value, limit) + max(0, count) * (1 + size_of(fill_with, limit))


def _sum_bound(limit: int, iterable: Any, attribute: Any = None, start: Any = 0) -> int:
    return size_of(list(iterable), limit) + size_of(start, limit)


def _urlize_bound(limit: int, value: Any, *args: Any, **kwargs: Any) -> int:
    text = _text(value)
    extra = sum(size_of(v, limit) for v in (*args, *kwargs.values()))
    return 3 * len(text) + (len(text.split()) + 1) * (extra + 64)


BOUNDS: dict[str, Callable[..., int]] = {
    "replace": _replace_bound,
    "center": _center_bound,
    "indent": _indent_bound,
    "wordwrap": _wordwrap_bound,
    "format": _format_bound,
    "join": _join_bound,
    "batch": _batch_bound,
    "slice": _slice_bound,
    "sum": _sum_bound,
    "urlize": _urlize_bound,
}
"""Filters whose output may be a product of their arguments: an upper bound of the output size,
``bound(limit, value, *args, **kwargs)``, checked before the filter runs."""


def bounded_filter(name: str, func: Callable[..., Any], limit: int) -> Callable[..., Any]:
    """``func`` wrapped so that its input iterators are materialised within ``limit``, its
    output is bounded beforehand when :data:`BOUNDS` knows how, and its result is measured."""
    skip = 1 if _PassArg.from_obj(func) is not None else 0
    bound = BOUNDS.get(name)

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        args_list = list(args)
        if len(args_list) > skip and isinstance(args_list[skip], Iterator):
            items = list(itertools.islice(args_list[skip], limit + 1))
            _check(f"the input of filter {name!r}", len(items), limit)
            args_list[skip] = items
        for value in (*args_list[skip:], *kwargs.values()):
            _check(f"an argument of filter {name!r}", size_of(value, limit), limit)
        if bound is not None:
            try:
                estimate = bound(limit, *args_list[skip:], **kwargs)
            except (TypeError, ValueError, OverflowError):
                estimate = 0  # bad arguments: the filter itself reports them
            _check(f"filter {name!r}", estimate, limit)
        result = func(*args_list, **kwargs)
        if isinstance(result, Iterator):
            return result  # measured when something consumes it
        _check(f"filter {name!r}", size_of(result, limit), limit)
        return result

    return run


# ------------------------------------------------------------------------------------------
# The environment
# ------------------------------------------------------------------------------------------


class BoundedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b ~ c`` into a call of :meth:`SpecSandbox.bounded_concat`."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        """Concatenate through the environment, which checks the total size first."""
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class SpecSandbox(SandboxedEnvironment):
    """The sandbox templates render in: no globals, ``**`` refused, every operator, filter and
    concatenation bounded (see the module docstring)."""

    code_generator_class = BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%", "-", "/", "//"})

    def __init__(self, value_limit: int | None = None, **options: Any) -> None:
        """``value_limit``: the bound (default :func:`~harness.limits.sandbox_value_limit`, read
        once); other options as for :class:`jinja2.Environment` (``finalize`` is taken)."""
        self.value_limit = value_limit or sandbox_value_limit()
        super().__init__(finalize=self.bounded_output, **options)

    def bounded_output(self, value: Any) -> Any:
        """The ``finalize`` hook: an expression's value is measured before it is turned into
        text (a list literal repeating a large string would otherwise be converted whole)."""
        _check("an output expression", size_of(value, self.value_limit), self.value_limit)
        return value

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        """Refuse ``**`` and any operation whose result would exceed the bound."""
        if operator_name == "**":
            raise SecurityError("the ** operator is not allowed in templates")
        limit = self.value_limit
        if operator_name == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    _check("the repetition ('*')", size_of(seq, limit) * max(0, times), limit)
            both_int = isinstance(left, int) and isinstance(right, int)
            if both_int and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise SecurityError(f"'*' would build a number above 2**{MAX_INT_BITS}")
        elif operator_name == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                _check(
                    "the concatenation ('+')", size_of(left, limit) + size_of(right, limit), limit
                )
        elif operator_name == "%" and isinstance(left, str):
            _check("the formatting ('%')", percent_bound(left, right, limit), limit)
        result = super().call_binop(context, operator_name, left, right)
        _check(f"the operator {operator_name!r}", size_of(result, limit), limit)
        return result

    def bounded_concat(self, parts: tuple[Any, ...]) -> str:
        """``~``: the parts as text, joined, if their total size is within the bound."""
        limit = self.value_limit
        total = 0
        for part in parts:
            total += size_of(part, limit) * (1 if isinstance(part, str) else 2)
            _check("the concatenation ('~')", total, limit)
        return "".join(part if isinstance(part, str) else str(part) for part in parts)


def bound_filters(env: SpecSandbox) -> None:
    """Wrap every filter of ``env`` (built-in and plugin ones) with :func:`bounded_filter`."""
    for name, func in list(env.filters.items()):
        env.filters[name] = bounded_filter(name, func, env.value_limit)


def render_bounded(template: jinja2.Template, values: dict[str, Any]) -> str:
    """Render ``template`` with ``values``, collecting the output piece by piece and stopping
    with :class:`ValueTooLarge` as soon as it exceeds the environment's bound."""
    limit = getattr(template.environment, "value_limit", None) or sandbox_value_limit()
    context = template.new_context(values)
    pieces: list[str] = []
    total = 0
    for piece in template.root_render_func(context):
        total += len(piece)
        _check("the template's output", total, limit)
        pieces.append(piece)
    return "".join(pieces)
