"""Executing a :class:`~harness.plan.Plan`: the configured executor runs its units (M0 for a
seed, then each intervention for that seed on the same cases), each a pure function of the
config and the content-hash cache (:mod:`harness.units`); the outputs are scored and assembled
in the plan's order, whatever order the units ran in, into a
:class:`~harness.results.RunResult` written as ``results.json`` and ``samples.jsonl``.

Finished units are kept in ``RUN_DIR/units/`` until the results are written, so ``--resume``
runs only the units that are missing. A unit that fails for good (after its retries) does not
stop the others: the run then ends with :class:`~harness.errors.RunIncomplete` naming it."""

from __future__ import annotations

import contextlib
import importlib
import json
import shutil
import threading
from collections.abc import Iterator
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
from harness.api import ComparisonRole, UnitJob
from harness.atomic import atomic_write_jsonl, atomic_write_text
from harness.cache import Cache
from harness.errors import OutputError, RunIncomplete, UserError
from harness.evaluation import Evaluation, evaluation_texts, score, unseen_scores
from harness.grid import Grid
from harness.plan import BASE, Plan
from harness.plugins import in_process_plugin_modules
from harness.progress import Progress, silent
from harness.results import (
    ModelResult,
    RunResult,
    SeedResult,
    TaskInfo,
    Timing,
    write_result,
)
from harness.samples import sample_rows
from harness.specs.leakage import HeldoutIndex
from harness.unit_call import UnitCall
from harness.unit_store import UnitStore
from harness.units import UnitOutput, UnitWorker
from harness.versions import package_versions

SCRATCH_CACHE = ".scratch-cache"
"""The run folder's temporary cache when the cache is off and units run in other processes
(they hand M0 on through it); removed when the run ends."""


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
    """One model row while the run is assembled: its result, and per seed its evaluation (kept
    for ``samples.jsonl``) and the normalised held-out texts its model trained on."""

    result: ModelResult
    evaluations: dict[int, Evaluation] = field(default_factory=dict)
    seconds: float = 0.0
    trained_seconds: float = 0.0
    trained_unknown: int = 0
    loaded: int = 0
    seen: dict[int, frozenset[str]] = field(default_factory=dict)


ASSEMBLY_IMPORTS = ("sklearn.metrics", "scipy.stats")
"""Libraries that assembling the results imports (test metrics, exact tests, intervals)."""


def warm_assembly_imports() -> threading.Thread:
    """Import :data:`ASSEMBLY_IMPORTS` in a background thread while the units run elsewhere
    (this process only waits for its workers then), so the results are assembled without
    waiting for them afterwards."""

    def load() -> None:
        for name in ASSEMBLY_IMPORTS:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)

    thread = threading.Thread(target=load, name="harness-warm-imports", daemon=True)
    thread.start()
    return thread


class Runner:
    """Executes a :class:`~harness.plan.Plan` and writes ``results.json`` and
    ``samples.jsonl``. ``resume``: reuse the units an interrupted run of ``run_dir``
    finished."""

    def __init__(
        self,
        plan: Plan,
        progress: Progress | None = None,
        run_dir: Path | None = None,
        resume: bool = False,
    ) -> None:
        self.plan = plan
        self.progress = progress or silent()
        config = plan.config
        self.run_id = plan.run_id
        self.run_dir = run_dir or Path(config.output_dir) / self.run_id
        self.resume = resume
        self.cache = Cache(
            root=Path(config.cache_dir) if config.cache_dir else None,
            enabled=config.cache,
            progress=self.progress,
        )
        """The run's cache; its counters add up what every unit built or loaded."""
        self.heldout_index = HeldoutIndex(plan.specs)

    def run(self) -> RunResult:
        """Run every unit of the plan through its executor; write and return the result.

        The executor connects first (an unreachable cluster, a model asking for GPUs that are
        not there: a user error before anything is written). A user error raised midway (e.g.
        an intervention argument that can only be checked against the trained model, in any
        worker) removes the run folder if this run created it, so bad input leaves nothing
        half-written (finished models stay in the cache)."""
        executor = self.plan.executor
        if executor is None:
            raise ValueError("the plan has no executor (build plans with plan_run)")
        created = None  # the top folder this run creates (run folder or a missing parent)
        folder = self.run_dir.absolute()
        while not folder.exists() and folder.parent != folder:
            created, folder = folder, folder.parent
        try:
            self.plan.device = executor.start(self.plan.device)
            jobs = self.plan.unit_jobs()
            executor.check_units(jobs)
            threads = self.plan.model_class.cpu_threads if self.plan.device == "cpu" else None
            with torch_threads(threads if executor.in_process else None):
                return self._run(jobs)
        except UserError:
            if created is not None:
                shutil.rmtree(created, ignore_errors=True)
            raise
        finally:
            executor.stop()

    def _run(self, jobs: list[UnitJob]) -> RunResult:
        plan = self.plan
        executor = plan.executor
        assert executor is not None
        started = datetime.now(timezone.utc)
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(self.run_dir, exc) from None
        atomic_write_text(
            self.run_dir / "config.json",
            json.dumps(plan.config.model_dump(mode="json"), indent=2, sort_keys=True) + "\n",
        )
        store = UnitStore(self.run_dir, self.run_id, self.cache.versions)
        keys = [job.key for job in jobs]
        outputs: dict[str, UnitOutput] = store.load(keys) if self.resume else {}
        reused = set(outputs)
        scratch = None
        if not plan.config.cache and not executor.in_process:
            scratch = self.run_dir / SCRATCH_CACHE
        try:
            grid = self._grid(jobs, outputs, store, scratch)
            if not executor.in_process:
                warm_assembly_imports()
            with self.progress.live(), grid.live():
                executor.execute(grid)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        if grid.user_error is not None:
            raise grid.user_error
        self._count(outputs, reused)
        if grid.failed or len(outputs) < len(jobs):
            raise self._incomplete(grid, store)
        result = self._assemble(outputs, started)
        store.clear()
        return result

    def _grid(
        self,
        jobs: list[UnitJob],
        outputs: dict[str, UnitOutput],
        store: UnitStore,
        scratch: Path | None,
    ) -> Grid:
        """The grid of ``jobs`` (those in ``outputs`` already finished)."""
        plan = self.plan
        assert plan.executor is not None
        units = {unit.name: unit for unit in plan.units()}
        worker = UnitWorker(
            plan,
            Cache(root=self.cache.root, enabled=self.cache.enabled, progress=self.progress),
            self.progress,
        )
        warned: set[str] = set()

        def run_here(job: UnitJob) -> dict[str, Any]:
            return worker.outcome(units[job.key]).model_dump(mode="json")

        def on_output(job: UnitJob, output: UnitOutput) -> None:
            outputs[job.key] = output
            store.save(job.key, output)
            if output.warnings and output.row not in warned:
                warned.add(output.row)
                for warning in output.warnings:
                    click.echo(f"warning: {warning}", err=True)

        call = UnitCall(
            config_json=plan.config.model_dump_json(),
            run_id=self.run_id,
            device=plan.device,
            cache_dir=str(scratch or self.cache.root),
            plugin_modules=tuple(in_process_plugin_modules()),
        )
        return Grid(
            jobs,
            call,
            run_here,
            on_output,
            self.progress,
            max_retries=plan.config.executor.max_retries,
            finished=[key for key in outputs if key in units],
            model_threads=plan.model_class.cpu_threads if plan.device == "cpu" else None,
        )

    def _count(self, outputs: dict[str, UnitOutput], reused: set[str]) -> None:
        """Add what the units of this run built and loaded to the run cache's counters."""
        cache = self.cache
        for key, output in outputs.items():
            if key in reused:
                continue
            cache.trained += output.trained
            cache.loaded += output.loaded
            cache.predicted += output.predicted
            cache.predictions_cached += output.predictions_cached
            cache.damaged += output.damaged

    def _incomplete(self, grid: Grid, store: UnitStore) -> RunIncomplete:
        """The error of a run whose units did not all finish (their errors are kept next to
        the finished units' outputs)."""
        lines = []
        for state in grid.failed:
            if state.blocked_by is not None:
                lines.append(f"{state.job.key}: not run ({state.blocked_by} failed)")
                continue
            failure = state.failures[-1]
            path = store.path(state.job.key).with_suffix(".error.txt")
            text = "\n\n".join(
                f"attempt {i}: {f.message}\n{f.traceback}".rstrip()
                for i, f in enumerate(state.failures, 1)
            )
            atomic_write_text(path, text + "\n")
            tries = f" after {len(state.failures)} attempts" if len(state.failures) > 1 else ""
            lines.append(f"{state.job.key}: {failure.message}{tries} (details: {path})")
        return RunIncomplete(
            f"{len(grid.failed)} of {len(grid.states)} unit(s) did not finish",
            details=lines,
            fix=f"fix the cause, then finish the run with: harness run --resume {self.run_dir}",
        )

    def comparison_roles(self) -> dict[str, ComparisonRole]:
        """How each intervention row pairs, as its configured intervention declares."""
        budget = self.plan.config.budget
        return {
            label: role
            for label, intervention in self.plan.interventions
            if (role := intervention.comparison_role(budget)) is not None
        }

    # -- assembling the result ----------------------------------------------------------------

    def _assemble(self, outputs: dict[str, UnitOutput], started: datetime) -> RunResult:
        """Score the units' outputs in the plan's order and write the run's files."""
        plan = self.plan
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
        for unit in plan.units():
            self._add(rows[unit.row], outputs[unit.name])
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

    def _add(self, row: ModelRun, output: UnitOutput) -> None:
        """Score one unit's output into its row."""
        plan, seed = self.plan, output.seed
        row.seconds += output.seconds
        row.trained_seconds += output.trained_seconds
        row.trained_unknown += output.trained_unknown
        row.loaded += output.loaded
        if output.predictions is None:
            row.result.seeds.append(
                SeedResult(seed=seed, skipped=output.skipped, changes=output.changes)
            )
            return
        predictions = np.asarray(output.predictions, dtype=np.int64)
        if len(predictions) != len(evaluation_texts(plan.task, plan.specs)):
            raise ValueError(f"{output.row} (seed {seed}): wrong number of predictions")
        ev = row.evaluations[seed] = score(predictions, plan.task, plan.specs)
        seen = row.seen[seed] = frozenset(output.seen)
        masks = {
            spec.id: np.array(self.heldout_index.seen_mask(spec.id, seen), dtype=bool)
            for spec in plan.specs
        }
        heldout_unseen, n_seen = unseen_scores(ev, plan.task, plan.specs, masks)
        gold_labels = len(np.unique(plan.task.test.labels))
        row.result.seeds.append(
            SeedResult(
                seed=seed,
                test=ev.test,
                heldout=ev.heldout,
                train_cases=ev.train_cases,
                model_hash=output.model_hash,
                collapse=detect_collapse(ev.test, gold_labels),
                heldout_unseen=heldout_unseen,
                n_seen=n_seen,
                changes=output.changes,
                training_texts=output.training_texts,
            )
        )

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
