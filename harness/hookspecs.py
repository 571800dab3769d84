"""Hook specifications of spec-harness.

Every plugin (the built-ins in ``harness_plugins`` as well as third-party packages found through the
``harness`` entry-point group) implements some of these hooks with ``@harness.hookimpl``. The hook
names and argument names are a public contract: third-party packages code against them.

``register_*`` hooks receive a ``register`` callable (:class:`harness.api.Register`, typed by
what the hook takes); call it once per item the plugin provides. The kinds of items, their hooks
and base classes are declared once, in :data:`harness.kinds.KINDS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from harness import PROJECT_NAME
from harness.api import Register
from harness.kinds import KINDS
from harness.kinds import OTHER_HOOKS as OTHER_ITEMLESS_HOOKS

if TYPE_CHECKING:
    import click
    import jinja2

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

hookspec = pluggy.HookspecMarker(PROJECT_NAME)

__all__ = ["HOOK_NAMES", "Register", "hookspec"]


@hookspec
def register_tasks(register: Register[TaskDefinition]) -> None:
    """Register classification tasks.

    Call ``register(task_definition)`` with a :class:`harness.api.TaskDefinition`: a name, a
    description and a ``load(**args) -> Task`` callable returning the ``train``, ``test`` and
    ``pool`` splits.

    Example::

        @harness.hookimpl
        def register_tasks(register):
            register(TaskDefinition(name="my-task", description="...", load=load_my_task))
    """


@hookspec
def register_spec_sources(register: Register[SpecSource]) -> None:
    """Register specification sources.

    Call ``register(source)`` with a :class:`harness.api.SpecSource` instance. A source turns a
    reference (a path, a dataset name, or the name of a suite it ships) into spec suites, and lists
    the named suites it ships through ``suites()``.

    Example::

        @harness.hookimpl
        def register_spec_sources(register):
            register(YamlSuiteDirectory(name="my-suites", root=files("my_pkg") / "specs"))
    """


@hookspec
def register_models(register: Register[type[Model]]) -> None:
    """Register model classes.

    Call ``register(model_class)`` with a subclass of :class:`harness.api.Model` (or
    :class:`harness.api.TorchModel` for models that can be patched). The class's ``name`` is the
    name users give with ``--model``; its ``Args`` pydantic model validates ``--model-args``.
    The core builds instances with ``Model.create(args, label_names, device)``: a constructor
    that accepts ``label_names=`` receives the task's label names, an older one gets them as
    the ``label_names`` attribute. An ``Args`` field typed :data:`harness.api.ClassWeight`
    (``class_weight: balanced | {label: weight}``) is checked against the task's labels before
    the run starts; :mod:`harness.class_weights` turns it into per-label weights and a weighted
    loss.

    Example::

        @harness.hookimpl
        def register_models(register):
            register(MyModel)
    """


@hookspec
def register_selectors(register: Register[type[Selector]]) -> None:
    """Register pool selectors used by guided retraining.

    Call ``register(selector_class)`` with a subclass of :class:`harness.api.Selector`: it scores
    ``pool`` examples against the spec cases of D_i (never the held-out cases).

    Example::

        @harness.hookimpl
        def register_selectors(register):
            register(MySelector)
    """


@hookspec
def register_interventions(register: Register[type[Intervention]]) -> None:
    """Register interventions: methods that turn (task, specs, M0) into a new model.

    Call ``register(intervention_class)`` with a subclass of :class:`harness.api.Intervention`.
    What planning needs from it is declared on that class: ``uses_pool`` (it adds pool
    examples), ``budget_spent(run_budget)`` (how many it adds when a budget sets that),
    ``pool_sources()`` (the named pool sources it may draw from) and
    ``check_plan(task, specs, field, run_budget)`` (its own checks, before any training).

    The :class:`harness.api.InterventionOutcome` it returns also tells the runner which texts
    the new model trained on, to mark the held-out cases it has seen: a model trained through
    ``ctx.train_model`` needs nothing more; one fine-tuned from M0 lists its extra data in
    ``added_training_texts`` (``patch``: its D_i cases and replayed rows). An undeclared model
    gets a warning and M0's training data is assumed.

    Example::

        @harness.hookimpl
        def register_interventions(register):
            register(MyIntervention)
    """


@hookspec
def register_difficulty_measures(register: Register[type[DifficultyMeasure]]) -> None:
    """Register per-example difficulty measures (``harness list measures``).

    Call ``register(measure_class)`` with a subclass of :class:`harness.api.DifficultyMeasure`:
    given a :class:`harness.api.ModelFamily` (models of the run's model plugin, trained through
    the cache), it scores labelled examples by how hard their label is to tell from their text
    (:class:`harness.api.ExampleScores`: a value per example, higher = easier, the label a
    relabelling would flip each to, and a summary). A registered measure is at once a
    ``relabel`` method (``method: NAME`` flips the ``k`` examples it finds most likely
    mislabelled), a ``retrain`` re-ranking (``rerank: NAME``, when it declares
    ``scores_heldout``) and a ``harness analyse RUN_DIR --measure NAME`` report. Declare what
    it needs of the model (``needs_probabilities``, ``needs_epoch_callback``): a run whose
    model lacks it stops while planning, in one line.

    Example::

        @harness.hookimpl
        def register_difficulty_measures(register):
            register(MyMeasure)
    """


@hookspec
def register_reporters(register: Register[type[Reporter]]) -> None:
    """Register reporters: renderers of run results (``harness report --format NAME``).

    Call ``register(reporter_class)`` with a subclass of :class:`harness.api.Reporter`.

    Example::

        @harness.hookimpl
        def register_reporters(register):
            register(CsvReporter)
    """


@hookspec
def register_executors(register: Register[type[Executor]]) -> None:
    """Register executors: where the units of a run (one model for one seed each) run, e.g.
    worker processes or a cluster (``executor:`` in the run config, ``--executor NAME``).

    Call ``register(executor_class)`` with a subclass of :class:`harness.api.Executor`.

    Example::

        @harness.hookimpl
        def register_executors(register):
            register(DaskExecutor)
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``harness`` command line.

    Example::

        @harness.hookimpl
        def register_commands(cli):
            @cli.command()
            def hello():
                click.echo("hello")
    """


@hookspec
def prepare_jinja2_environment(env: jinja2.Environment) -> None:
    """Adjust the sandboxed jinja2 environment that renders spec templates (e.g. add filters).

    Every filter, yours included, is wrapped after this hook: its arguments and its result are
    measured, and a value above the sandbox bound (100,000 characters by default) is refused
    with a one-line error naming the filter. Keep filters pure and roughly linear in their input
    (the bound is checked when the filter returns, so it cannot stop a filter that allocates far
    more internally).

    Example::

        @harness.hookimpl
        def prepare_jinja2_environment(env):
            env.filters["shout"] = lambda s: s.upper() + "!"
    """


@hookspec
def default_run_config() -> dict[str, Any] | None:
    """Declare the run ``harness run`` makes with no arguments.

    Return a mapping of run-config keys (``task``, ``task_args``, ``specs``, ``model``,
    ``model_args``, ``interventions``, written as in a config file), or ``None``. The same
    values fill those keys wherever a config or the flags leave them out (``task_args`` only
    with the declared ``task``, ``model_args`` only with the declared ``model``). The built-in
    demo plugin declares the embedded demo, which ``examples/demo.yaml`` spells out. When
    several plugins declare one, the plugin registered last wins (pluggy's call order).

    Example::

        @harness.hookimpl
        def default_run_config():
            return {
                "task": "reviews",
                "specs": ["reviews"],
                "model": "bow",
                "interventions": [{"name": "retrain", "params": {"selection": "tfidf"}}],
            }
    """


OTHER_HOOKS: tuple[str, ...] = tuple(other.hook for other in OTHER_ITEMLESS_HOOKS)
"""The hooks that register no items, in documentation order (:data:`harness.kinds.OTHER_HOOKS`)."""

HOOK_NAMES: tuple[str, ...] = (*(kind.hook for kind in KINDS), *OTHER_HOOKS)
"""Every hook name, in documentation order: the ``register_*`` hook of every kind
(:data:`harness.kinds.KINDS`), then :data:`OTHER_HOOKS`."""

_missing = [name for name in HOOK_NAMES if not callable(globals().get(name))]
if _missing:  # a kind without its hookspec: fail at import, not when a plugin calls it
    raise ImportError(f"harness.hookspecs declares no hook {', '.join(_missing)}")
