"""Every kind of plugin item, declared once.

A *kind* is what a ``register_*`` hook fills: tasks, spec sources, models, selectors,
interventions, difficulty measures, reporters. :data:`KINDS` is the one table of them; everything
that lists kinds is derived from it: the hook names of :mod:`harness.hookspecs` (``HOOK_NAMES``),
the hooks the plugin manager calls to build :class:`harness.plugins.Registries` (whose fields are
checked against it), the kinds of ``harness list`` and the table of ``docs/plugins.md``.
:data:`OTHER_HOOKS` declares the hooks that register no items.

Adding a kind: a row here, its ``register_*`` hookspec in :mod:`harness.hookspecs` (typed
``register: Register[Item]``), a field of :class:`harness.plugins.Registries`, and a test in
``tests/test_plugin_hooks.py``; a check at import time and the tests say what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.api import (
    DifficultyMeasure,
    Executor,
    Intervention,
    Model,
    Reporter,
    Selector,
    SpecSource,
    TaskDefinition,
)


@dataclass(frozen=True)
class Kind:
    """One kind of plugin item."""

    name: str
    """The registry's field of :class:`harness.plugins.Registries`, e.g. ``tasks``; the hook
    that fills it is ``register_<name>``."""
    base: type
    """What ``register`` accepts: an instance of this class (``registers="instance"``) or a
    subclass of it (``registers="class"``)."""
    registers: Literal["instance", "class"]
    purpose: str
    """What a plugin author adds with it (the first column of the docs' table)."""
    listing: str = ""
    """The ``harness list KIND`` name (default: :attr:`name`; spec sources list the suites they
    ship as ``specs``)."""

    def __post_init__(self) -> None:
        if not self.listing:
            object.__setattr__(self, "listing", self.name)

    @property
    def hook(self) -> str:
        """The hook that fills the registry: ``register_<name>``."""
        return f"register_{self.name}"

    @property
    def title(self) -> str:
        """The singular noun of messages: ``unknown task 'x'``, ``unknown spec source 'y'``."""
        return self.name.removesuffix("s").replace("_", " ")

    @property
    def item_text(self) -> str:
        """What ``register`` takes, in words, for the docs: ``a harness.api.Model subclass``."""
        qualified = f"`harness.api.{self.base.__name__}`"
        return f"a {qualified} {'subclass' if self.registers == 'class' else 'instance'}"

    def accepts(self, item: object) -> bool:
        """Whether ``item`` is what ``register`` of this kind takes."""
        if self.registers == "class":
            return isinstance(item, type) and issubclass(item, self.base)
        return isinstance(item, self.base)


KINDS: tuple[Kind, ...] = (
    Kind("tasks", TaskDefinition, "instance", "a task (data)"),
    Kind("spec_sources", SpecSource, "instance", "spec suites / formats", listing="specs"),
    Kind("models", Model, "class", "a model"),
    Kind("selectors", Selector, "class", "a pool selector"),
    Kind("interventions", Intervention, "class", "an intervention"),
    Kind(
        "difficulty_measures",
        DifficultyMeasure,
        "class",
        "a per-example difficulty measure (relabel method, retrain re-ranking, analyse)",
        listing="measures",
    ),
    Kind("reporters", Reporter, "class", "a report format"),
    Kind("executors", Executor, "class", "where units run (processes, a cluster)"),
)
"""Every kind, in documentation and listing order."""


@dataclass(frozen=True)
class OtherHook:
    """A hook that registers no items."""

    hook: str
    purpose: str
    """What a plugin author does with it (the docs' table)."""
    what: str
    """What the hook receives or returns, in words."""


OTHER_HOOKS: tuple[OtherHook, ...] = (
    OtherHook("register_commands", "a sub-command", "add a `click` command to the group"),
    OtherHook(
        "prepare_jinja2_environment", "a template filter", "change the sandboxed jinja2 environment"
    ),
    OtherHook("default_run_config", "the default run", "return a run-config mapping"),
)
"""The hooks besides the ``register_*`` ones, in documentation order."""


def kind_named(name: str) -> Kind:
    """The kind whose registry field is ``name`` (``KeyError`` when there is none)."""
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)
