"""Executing a :class:`~harness.plan.Plan`: its units in order (M0 for a seed, then each
intervention for that seed on the same cases), every model trained, derived and evaluated
through the content-hash cache (:mod:`harness.cache`), and everything collected into a
:class:`~harness.results.RunResult` written as ``results.json`` and ``samples.jsonl``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
import numpy as np

from harness import __version__
from harness.aggregate import aggregate, spec_info
from harness.analysis.collapse import detect_collapse
from harness.api import (
    ComparisonRole,
    DeriveModel,
    InterventionContext,
    Model,
    Selector,
    Split,
)
from harness.atomic import atomic_write_jsonl, atomic_write_text
from harness.cache import Cache, model_hash
from harness.display import printable
from harness.errors import OutputError, UserError
from harness.evaluation import Evaluation, evaluation_texts, score, unseen_scores
from harness.plan import BASE, Plan, Unit
from harness.progress import Progress, silent
from harness.results import (
    ModelResult,
    RunResult,
    SeedResult,
    TaskInfo,
    Timing,
    TrainingTexts,
    write_result,
)
from harness.samples import sample_rows
from harness.specs.leakage import HeldoutIndex
from harness.training_texts import TrainedSplits, training_texts
from harness.validation import validate
from harness.versions import package_versions


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Use ``threads`` torch intra-op threads inside the block (no change for ``None``)."""
    if threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class ModelRun:
    """One model row while the run goes: its result, and per seed its evaluation (kept for
    ``samples.jsonl``) and the normalised held-out texts its model trained on."""

    result: ModelResult
    evaluations: dict[int, Evaluation] = field(default_factory=dict)
    seconds: float = 0.0
    trained_seconds: float = 0.0
    trained_unknown: int = 0
    loaded: int = 0
    seen: dict[int, frozenset[str]] = field(default_factory=dict)
    warned_undeclared: bool = False


class Runner:
    """Executes a :class:`~harness.plan.Plan` and writes ``results.json`` and
    ``samples.jsonl``."""

    def __init__(
        self, plan: Plan, progress: Progress | None = None, run_dir: Path | None = None
    ) -> None:
        self.plan = plan
        self.progress = progress or silent()
        config = plan.config
        self.run_id = plan.run_id
        self.run_dir = run_dir or Path(config.output_dir) / self.run_id
        self.cache = Cache(
            root=Path(config.cache_dir) if config.cache_dir else None,
            enabled=config.cache,
            progress=self.progress,
        )
        self.heldout_index = HeldoutIndex(plan.specs)
        self._m0: dict[int, Model[Any]] = {}
        """M0 of every seed run so far (the units of that seed's interventions need it)."""

    def new_model(self) -> Model[Any]:
        """A fresh, untrained model of the configured class and args."""
        plan = self.plan
        return plan.model_class.create(plan.model_args, plan.task.label_names, plan.device)

    def selector(self, name: str, args: dict[str, Any]) -> Selector[Any]:
        """A new instance of the registered selector ``name`` with ``args`` (which planning
        checked through the intervention's arguments)."""
        cls = self.plan.registries.selectors.get(name, field="selection")
        return cls(validate(cls.Args, args, prefix="selector_args."))

    def run(self) -> RunResult:
        """Run every unit of the plan; write and return the result.

        A user error raised midway (e.g. an intervention argument that can only be checked
        against the trained model) removes the run folder if this run created it, so bad input
        leaves nothing half-written (finished models stay in the cache)."""
        created = None  # the top folder this run creates (run folder or a missing parent)
        folder = self.run_dir.absolute()
        while not folder.exists() and folder.parent != folder:
            created, folder = folder, folder.parent
        try:
            with torch_threads(
                self.plan.model_class.cpu_threads if self.plan.device == "cpu" else None
            ):
                return self._run()
        except UserError:
            if created is not None:
                import shutil

                shutil.rmtree(created, ignore_errors=True)
            raise

    def _run(self) -> RunResult:
        plan = self.plan
        started = datetime.now(timezone.utc)
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(self.run_dir, exc) from None
        atomic_write_text(
            self.run_dir / "config.json",
            json.dumps(plan.config.model_dump(mode="json"), indent=2, sort_keys=True) + "\n",
        )
        rows: dict[str, ModelRun] = {BASE: ModelRun(ModelResult(id=BASE, kind="base"))}
        for label, intervention in plan.interventions:
            rows[label] = ModelRun(
                ModelResult(
                    id=label,
                    kind="intervention",
                    intervention=intervention.name,
                    params=intervention.args.model_dump(mode="json"),
                )
            )
        units = plan.units()
        with self.progress.live():
            for unit in units:
                with self._unit(rows[unit.row], unit, len(units)):
                    if unit.intervention is None:
                        self._run_m0(unit, rows[unit.row])
                    else:
                        self._run_intervention(unit, rows[unit.row])
        result = self._result(rows, started)
        from harness.analysis import analyse

        samples = sample_rows(
            plan.task,
            plan.specs,
            list(plan.config.seeds),
            {label: row.evaluations for label, row in rows.items()},
            {label: row.seen for label, row in rows.items()},
            self.heldout_index,
        )
        result = analyse(result, samples, roles=self.comparison_roles())
        atomic_write_jsonl(self.run_dir / "samples.jsonl", samples)
        write_result(self.run_dir, result)
        return result

    def comparison_roles(self) -> dict[str, ComparisonRole]:
        """How each intervention row pairs, as its configured intervention declares."""
        budget = self.plan.config.budget
        return {
            label: role
            for label, intervention in self.plan.interventions
            if (role := intervention.comparison_role(budget)) is not None
        }

    def _result(self, rows: dict[str, ModelRun], started: datetime) -> RunResult:
        """The run's result (before analysis): every row aggregated over seeds."""
        plan = self.plan
        infos = [spec_info(spec) for spec in plan.specs]
        for row in rows.values():
            row.result.aggregate = aggregate(row.result.seeds, infos)
            skipped = {s.skipped for s in row.result.seeds if s.skipped}
            row.result.skipped = "; ".join(sorted(skipped)) if skipped else None
        finished = datetime.now(timezone.utc)
        pool = plan.task.pool
        return RunResult(
            run_id=self.run_id,
            harness_version=__version__,
            config=plan.validated_config(),
            packages=package_versions(),
            seeds=list(plan.config.seeds),
            task=TaskInfo(
                name=plan.task.name,
                label_names=plan.task.label_names,
                n_train=len(plan.task.train),
                n_test=len(plan.task.test),
                n_pool=len(pool),
                pool_sources=pool.source_counts() if pool.sources is not None else {},
                train_sample=plan.train_sample,
            ),
            specs=infos,
            models=[row.result for row in rows.values()],
            leakage=plan.leakage,
            timing=Timing(
                started=started.isoformat(timespec="seconds"),
                finished=finished.isoformat(timespec="seconds"),
                seconds={label: round(row.seconds, 3) for label, row in rows.items()},
                trained_seconds={
                    label: None if row.trained_unknown else round(row.trained_seconds, 3)
                    for label, row in rows.items()
                },
                loaded_models={label: row.loaded for label, row in rows.items()},
            ),
        )

    @contextmanager
    def _unit(self, row: ModelRun, unit: Unit, total: int) -> Iterator[None]:
        """One unit: progress lines, and its wall time, training time and cache loads added
        to ``row``."""
        cache = self.cache
        before = (cache.build_seconds, cache.build_seconds_unknown, cache.loaded)
        t0 = time.perf_counter()
        with self.progress.unit(unit.name, unit.index, total):
            yield
        row.seconds += time.perf_counter() - t0
        row.trained_seconds += cache.build_seconds - before[0]
        row.trained_unknown += cache.build_seconds_unknown - before[1]
        row.loaded += cache.loaded - before[2]

    def _evaluate(self, model: Model[Any], label: str, seed: int) -> Evaluation:
        plan = self.plan
        texts = evaluation_texts(plan.task, plan.specs)
        predictions = self.cache.predict(model, texts, f"predicting {label} (seed {seed})")
        return score(predictions, plan.task, plan.specs)

    def _seed_result(
        self, seed: int, ev: Evaluation, model: Model[Any], seen: frozenset[str], **extra: Any
    ) -> SeedResult:
        plan = self.plan
        gold_labels = len(np.unique(plan.task.test.labels))
        masks = {
            spec.id: np.array(self.heldout_index.seen_mask(spec.id, seen), dtype=bool)
            for spec in plan.specs
        }
        heldout_unseen, n_seen = unseen_scores(ev, plan.task, plan.specs, masks)
        return SeedResult(
            seed=seed,
            test=ev.test,
            heldout=ev.heldout,
            train_cases=ev.train_cases,
            model_hash=model_hash(model),
            collapse=detect_collapse(ev.test, gold_labels),
            heldout_unseen=heldout_unseen,
            n_seen=n_seen,
            **extra,
        )

    def _run_m0(self, unit: Unit, row: ModelRun) -> None:
        """M0 for one seed: trained on the train split, evaluated."""
        task, seed = self.plan.task, unit.seed
        m0 = self._m0[seed] = self.cache.train(self.new_model(), task.train, seed, BASE)
        ev = row.evaluations[seed] = self._evaluate(m0, BASE, seed)
        seen = row.seen[seed] = self.heldout_index.seen(task.train.texts)
        texts = TrainingTexts(base="train", n_base=len(task.train))
        row.result.seeds.append(self._seed_result(seed, ev, m0, seen, training_texts=texts))

    def _trainer_for(
        self, seed: int, trained: TrainedSplits | None = None, names: dict[str, str] | None = None
    ) -> Callable[[Model[Any], Split, str], Model[Any]]:
        """``ctx.train_model`` for one seed; ``names`` maps an intervention's own label to the
        row's (a config ``label:``), so progress lines name the row."""

        def train_model(model: Model[Any], split: Split, purpose: str) -> Model[Any]:
            purpose = (names or {}).get(purpose, purpose)
            result = self.cache.train(model, split, seed, purpose)
            if trained is not None:
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

    def _run_intervention(self, unit: Unit, row: ModelRun) -> None:
        """One intervention for one seed, on that seed's M0 (the unit it depends on)."""
        plan, seed, label, intervention = self.plan, unit.seed, unit.row, unit.intervention
        assert intervention is not None and unit.depends_on is not None
        m0 = self._m0[unit.depends_on[1]]
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
        )
        if not self.progress.lines:  # as lines, the unit's "started" line already says it
            self.progress.log(f"{label} (seed {seed})", style="dim")
        outcome = intervention.apply(ctx)
        if outcome.model is None:
            row.result.seeds.append(
                SeedResult(seed=seed, skipped=outcome.skipped or "skipped", changes=outcome.changes)
            )
            return
        ev = row.evaluations[seed] = self._evaluate(outcome.model, label, seed)
        texts, info = training_texts(outcome, trained, plan.task.train)
        if not info.declared and not row.warned_undeclared:
            row.warned_undeclared = True
            click.echo(
                f"warning: {printable(label)}: intervention {intervention.name!r} returned a "
                "model not trained through ctx.train_model and declared no training texts "
                "(InterventionOutcome.train_split / added_training_texts): seen / unseen "
                "held-out cases assume it trained on M0's data only",
                err=True,
            )
        seen = row.seen[seed] = self.heldout_index.seen(texts)
        row.result.seeds.append(
            self._seed_result(
                seed, ev, outcome.model, seen, changes=outcome.changes, training_texts=info
            )
        )
