"""Interventions: :class:`Intervention`, what it receives (:class:`InterventionContext`),
returns (:class:`InterventionOutcome`) and declares about its comparisons
(:class:`ComparisonRole`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from harness.api.arguments import ArgsT
from harness.api.data import Split, Task
from harness.api.items import ConfiguredItem
from harness.api.measures import DifficultyMeasure, ModelFamily, fit_recording_epochs
from harness.api.models import Model
from harness.api.selectors import Selector
from harness.api.specifications import Spec

if TYPE_CHECKING:
    import numpy as np

    from harness.progress import Progress


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
    family: ModelFamily | None = None
    """Models of the run's family for this seed, trained through the cache, for difficulty
    measures (``None``: built from :attr:`new_model` and :attr:`train_model`; see
    :meth:`model_family`)."""
    measures: Callable[[str, dict[str, Any]], DifficultyMeasure] | None = None
    """``measures(name, args)``: the registered difficulty measure ``name`` with ``args``
    validated (``None`` outside a run)."""

    def model_family(self) -> ModelFamily:
        """The run's :class:`ModelFamily` for this seed (:attr:`family`, or one built from
        :attr:`new_model` and :attr:`train_model`, whose epoch recordings are not cached)."""
        if self.family is not None:
            return self.family
        base = self.base_model

        def record(split: Split, purpose: str) -> np.ndarray:
            return fit_recording_epochs(self.new_model(), split, self.seed, self.progress)

        return ModelFamily(
            model_class=type(base),
            label_names=list(self.task.label_names),
            seed=self.seed,
            new_model=self.new_model,
            train_model=self.train_model,
            record_epochs=record,
            progress=self.progress,
        )

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


class Intervention(ConfiguredItem[ArgsT], ABC):
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

    uses_pool: ClassVar[bool] = False
    """Whether it adds examples drawn from the task's pool: planning then refuses an empty pool
    (or empty named sources) and warns when the candidates are fewer than :meth:`budget_spent`."""

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

    def check_model(self, model_class: type[Model], field: str) -> None:
        """Check the configured arguments against the run's model class while planning (e.g. a
        method that needs a model reporting its training epochs); raise
        :class:`harness.errors.UserError` naming ``field`` and what the model lacks. The
        default accepts every model."""
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
