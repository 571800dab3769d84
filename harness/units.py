"""Running one unit of work: the model of one row (M0 or an intervention) for one seed.

:class:`UnitWorker` runs a :class:`~harness.plan.Unit` in whatever process it lives in, reading
and writing only the content-hash cache (:mod:`harness.cache`): M0 is trained (or loaded) and
evaluated; an intervention loads its seed's M0 from the cache (or from memory, when this worker
trained it), applies itself and is evaluated. What comes back is a :class:`UnitOutput`: JSON
only (predictions on every evaluation text, the held-out texts its model trained on, the
intervention's record), so a unit can run in another process or on another machine, and the
run assembles ``results.json`` from the outputs in the plan's order (:mod:`harness.runner`).
A failure comes back as a :class:`UnitFailure` inside a :class:`UnitOutcome`.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from harness.api import (
    DeriveModel,
    DifficultyMeasure,
    InterventionContext,
    Model,
    ModelFamily,
    Selector,
    Split,
    StrictModel,
)
from harness.cache import Cache, model_hash
from harness.display import printable
from harness.errors import UserError
from harness.evaluation import evaluation_texts
from harness.plan import BASE, Plan, Unit
from harness.progress import Progress
from harness.results import TrainingTexts
from harness.specs.leakage import HeldoutIndex
from harness.training_texts import TrainedSplits, training_texts
from harness.validation import validate


class UnitOutput(StrictModel):
    """What a finished unit hands back (JSON): enough to score it and to write its rows of
    ``samples.jsonl``; scoring happens where the run is assembled."""

    row: str
    seed: int
    predictions: list[int] | None = Field(
        default=None, description="predicted label per evaluation text; None: skipped"
    )
    seen: list[str] = Field(
        default_factory=list, description="normalised held-out texts the model trained on"
    )
    model_hash: str | None = None
    changes: dict[str, Any] = Field(default_factory=dict)
    skipped: str | None = None
    training_texts: TrainingTexts | None = None
    warnings: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    trained_seconds: float = 0.0
    trained_unknown: int = 0
    loaded: int = 0
    trained: int = 0
    predicted: int = 0
    predictions_cached: int = 0
    damaged: int = 0
    """Cache entries this unit found damaged (warned about and recomputed)."""


class UnitFailure(StrictModel):
    """Why a unit did not finish: a user error (bad input: the run stops with its one line), an
    exception (retried) or a worker that died (retried)."""

    kind: Literal["user", "exception", "crash"]
    message: str
    traceback: str = ""
    problem: str | None = None
    file: str | None = None
    line: int | None = None
    field: str | None = None
    fix: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> UnitFailure:
        """The failure of a unit that raised ``exc``."""
        if isinstance(exc, UserError):
            return cls(
                kind="user",
                message=exc.one_line(),
                problem=exc.problem,
                file=exc.file,
                line=exc.line,
                field=exc.field,
                fix=exc.fix,
            )
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return cls(
            kind="exception",
            message=printable(f"{type(exc).__name__}: {text}" if text else type(exc).__name__),
            traceback="".join(traceback.format_exception(exc)),
        )

    def user_error(self) -> UserError:
        """The :class:`UserError` a ``user`` failure stands for (the same one line)."""
        return UserError(
            self.problem or self.message,
            file=self.file,
            line=self.line,
            field=self.field,
            fix=self.fix,
        )


class UnitOutcome(StrictModel):
    """A unit's result as it travels between processes: its output or its failure."""

    key: str
    output: UnitOutput | None = None
    failure: UnitFailure | None = None
    where: str = ""


class UnitWorker:
    """Runs units of one plan in this process, through ``cache``."""

    def __init__(self, plan: Plan, cache: Cache, progress: Progress) -> None:
        self.plan = plan
        self.cache = cache
        self.progress = progress
        self.heldout_index = HeldoutIndex(plan.specs)
        self._base: tuple[int, Model[Any]] | None = None
        """The last M0 this worker trained (its seed's interventions need it; with the cache
        off, the only way to hand it on)."""

    def new_model(self) -> Model[Any]:
        """A fresh, untrained model of the configured class and args."""
        plan = self.plan
        return plan.model_class.create(plan.model_args, plan.task.label_names, plan.device)

    def selector(self, name: str, args: dict[str, Any]) -> Selector[Any]:
        """A new instance of the registered selector ``name`` with ``args`` (which planning
        checked through the intervention's arguments)."""
        cls = self.plan.registries.selectors.get(name, field="selection")
        return cls(validate(cls.Args, args, prefix="selector_args."))

    def measure(self, name: str, args: dict[str, Any]) -> DifficultyMeasure[Any]:
        """A new instance of the registered difficulty measure ``name`` with ``args`` (which
        planning checked through the intervention's arguments)."""
        cls = self.plan.registries.difficulty_measures.get(name, field="measure")
        return cls(validate(cls.Args, args, prefix="measure_args."))

    def family(self, seed: int) -> ModelFamily:
        """Models of the run's family for ``seed``, trained through the cache (what difficulty
        measures train; they are not the intervention's own models, so they are neither its
        training data nor counted as its models loaded from the cache)."""
        return self.cache.model_family(self.plan.model_class, self.new_model, seed)

    def outcome(self, unit: Unit, where: str = "") -> UnitOutcome:
        """Run ``unit``; a raised error becomes the outcome's failure (interrupts propagate)."""
        try:
            return UnitOutcome(key=unit.name, output=self.run(unit), where=where)
        except Exception as exc:
            return UnitOutcome(key=unit.name, failure=UnitFailure.from_exception(exc), where=where)

    def run(self, unit: Unit) -> UnitOutput:
        """Run ``unit`` and return its output."""
        base = self._base_model(unit) if unit.intervention is not None else None
        cache = self.cache
        before = (
            cache.build_seconds,
            cache.build_seconds_unknown,
            cache.loaded - cache.helper_loaded,
            cache.trained,
            cache.predicted,
            cache.predictions_cached,
            cache.damaged,
        )
        started = time.perf_counter()
        output = self._run_m0(unit) if base is None else self._run_intervention(unit, base)
        output.seconds = round(time.perf_counter() - started, 3)
        output.trained_seconds = cache.build_seconds - before[0]
        output.trained_unknown = cache.build_seconds_unknown - before[1]
        output.loaded = cache.loaded - cache.helper_loaded - before[2]
        output.trained = cache.trained - before[3]
        output.predicted = cache.predicted - before[4]
        output.predictions_cached = cache.predictions_cached - before[5]
        output.damaged = cache.damaged - before[6]
        return output

    def _base_model(self, unit: Unit) -> Model[Any]:
        """M0 of the unit's seed: the one this worker trained, else from the cache (where the
        M0 unit stored it; trained again, identically, if the entry is gone)."""
        seed = unit.seed
        if self._base is not None and self._base[0] == seed:
            return self._base[1]
        task = self.plan.task
        model = self.cache.train(self.new_model(), task.train, seed, BASE)
        self._base = (seed, model)
        return model

    def _predict(self, model: Model[Any], label: str, seed: int) -> list[int]:
        texts = evaluation_texts(self.plan.task, self.plan.specs)
        predictions = self.cache.predict(model, texts, f"predicting {label} (seed {seed})")
        return [int(p) for p in predictions]

    def _run_m0(self, unit: Unit) -> UnitOutput:
        """M0 for one seed: trained on the train split, evaluated."""
        task, seed = self.plan.task, unit.seed
        model = self.cache.train(self.new_model(), task.train, seed, BASE)
        self._base = (seed, model)
        return UnitOutput(
            row=unit.row,
            seed=seed,
            predictions=self._predict(model, BASE, seed),
            seen=sorted(self.heldout_index.seen(task.train.texts)),
            model_hash=model_hash(model),
            training_texts=TrainingTexts(base="train", n_base=len(task.train)),
        )

    def _trainer_for(
        self, seed: int, trained: TrainedSplits, names: dict[str, str]
    ) -> Callable[[Model[Any], Split, str], Model[Any]]:
        """``ctx.train_model`` for one seed; ``names`` maps an intervention's own label to the
        row's (a config ``label:``), so progress lines name the row."""

        def train_model(model: Model[Any], split: Split, purpose: str) -> Model[Any]:
            result = self.cache.train(model, split, seed, names.get(purpose, purpose))
            trained.record(result, split)
            return result

        return train_model

    def _deriver_for(self, base: Model[Any]) -> DeriveModel:
        def derive_model(
            recipe: dict[str, Any],
            build: Callable[[], tuple[Model[Any], dict[str, Any]]],
            purpose: str,
        ) -> tuple[Model[Any], dict[str, Any]]:
            return self.cache.derive(base, recipe, self.new_model, build, purpose)

        return derive_model

    def _run_intervention(self, unit: Unit, m0: Model[Any]) -> UnitOutput:
        """One intervention for one seed, on that seed's M0 (the unit it depends on)."""
        plan, seed, label, intervention = self.plan, unit.seed, unit.row, unit.intervention
        assert intervention is not None
        trained = TrainedSplits()
        ctx = InterventionContext(
            task=plan.task,
            specs=plan.specs,
            seed=seed,
            base_model=m0,
            new_model=self.new_model,
            train_model=self._trainer_for(seed, trained, {intervention.label(): label}),
            selectors=self.selector,
            budget=plan.config.budget,
            device=plan.device,
            progress=self.progress,
            derive_model=self._deriver_for(m0),
            memo_value=self.cache.memo,
            family=self.family(seed),
            measures=self.measure,
        )
        if not self.progress.lines:  # as lines, the unit's "started" line already says it
            self.progress.log(f"{label} (seed {seed})", style="dim")
        outcome = intervention.apply(ctx)
        if outcome.model is None:
            return UnitOutput(
                row=label,
                seed=seed,
                skipped=outcome.skipped or "skipped",
                changes=outcome.changes,
            )
        texts, info = training_texts(outcome, trained, plan.task.train)
        warnings = []
        if not info.declared:
            warnings.append(
                f"{printable(label)}: intervention {intervention.name!r} returned a "
                "model not trained through ctx.train_model and declared no training texts "
                "(InterventionOutcome.train_split / added_training_texts): seen / unseen "
                "held-out cases assume it trained on M0's data only"
            )
        return UnitOutput(
            row=label,
            seed=seed,
            predictions=self._predict(outcome.model, label, seed),
            seen=sorted(self.heldout_index.seen(texts)),
            model_hash=model_hash(outcome.model),
            changes=outcome.changes,
            training_texts=info,
            warnings=warnings,
        )
