"""Planning a run: a config becomes a validated :class:`Plan` before any work starts.

:func:`plan_run` builds the registries once (or takes the caller's), resolves every local path,
validates every plugin argument once (intervention validators look other plugins up in the same
registries), loads the task and the specs, checks them against each other and runs every
intervention's planning checks; bad input stops here, with nothing written. The plan lists its
:class:`Unit` s of work: M0 for each seed, then each intervention for that seed, which depends
on that seed's M0 (:meth:`Plan.units`). The run id (the run's folder) hashes the config and the
content of every local file it names (:func:`run_id_for`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.api import Executor, Intervention, Model, Spec, Task, TaskDefinition, UnitJob
from harness.config import RunConfig
from harness.errors import UserError
from harness.local_paths import FoundPath
from harness.plugins import Registries, load_registries
from harness.results import LeakageReport, TrainSample

BASE = "M0"
"""The row of the base model, trained first at every seed."""

HASHED_WHEN_SET = ("train_limit",)
"""Config keys added after run ids were first published: hashed only when set, so that the run
id of every config that does not use them stays the same."""


def config_hash(config: RunConfig, local_paths: Sequence[FoundPath] = ()) -> str:
    """A short content hash of everything in the config that determines the numbers.

    Each of ``local_paths`` counts by the content it names (a file's SHA-256, a folder's files'),
    not by where it lies: the same config and data give the same hash from any folder and after
    moving them together, and edited data gives a new hash."""
    from harness.local_paths import content_tokens, replace_at

    unset = {name for name in HASHED_WHEN_SET if getattr(config, name) is None}
    excluded = {"output_dir", "cache", "cache_dir", "executor", *unset}
    data = config.model_dump(mode="json", exclude=excluded)
    for location, token in content_tokens(local_paths).items():
        replace_at(data, location, token)
    blob = json.dumps(data, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


def run_id_prefix(config: RunConfig) -> str:
    """``<task>-<model>-``: the run id before its hash."""
    safe = lambda s: "".join(c if c.isalnum() or c in "-_" else "-" for c in s)  # noqa: E731
    return f"{safe(config.task)}-{safe(config.model)}-"


def run_id_for(config: RunConfig, local_paths: Sequence[FoundPath] = ()) -> str:
    """The run folder name: deterministic, so re-running a config resumes into the same folder."""
    return run_id_prefix(config) + config_hash(config, local_paths)


def resolve_device(device: str) -> str:
    """Turn ``auto`` into ``cuda`` when a GPU is present, else ``cpu``; check ``cuda``."""
    if device == "cpu":
        return "cpu"
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise UserError(
            "CUDA was requested but no GPU is available", field="--device", fix="use --device cpu"
        )
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class Unit:
    """One unit of work: the model of one row (M0 or an intervention) for one seed. A unit is a
    pure function of the plan and the cache: running it again finds its model in the cache."""

    row: str
    """``M0`` or the intervention's row label."""
    seed: int
    index: int
    """Its position in the plan, from 1 (for progress lines)."""
    intervention: Intervention[Any] | None = None
    """The configured intervention (``None`` for M0)."""

    @property
    def depends_on(self) -> tuple[str, int] | None:
        """``(row, seed)`` of the unit this one needs first: an intervention needs its seed's
        M0; M0 needs nothing."""
        return None if self.intervention is None else (BASE, self.seed)

    @property
    def name(self) -> str:
        """``row (seed N)``, as progress lines say it."""
        return f"{self.row} (seed {self.seed})"


@dataclass
class Plan:
    """Everything validated before any work starts (so bad input writes nothing)."""

    config: RunConfig
    registries: Registries
    task: Task
    specs: list[Spec]
    model_class: type[Model[Any]]
    model_args: Any
    interventions: list[tuple[str, Intervention[Any]]]
    device: str
    run_id: str
    """The run's folder name (:func:`run_id_for`), computed once while planning (it hashes the
    content of every local file the config names)."""
    task_args: Any = None
    """The validated task arguments (defaults filled in)."""
    leakage: LeakageReport | None = None
    """Held-out cases found in train, pool, D_i or test (stored in ``results.json``)."""
    train_sample: TrainSample | None = None
    """How ``train_limit`` sampled the train split (``None``: not sampled)."""
    local_paths: list[FoundPath] = field(default_factory=list)
    """Every local path the config names, with its location (hashed by content in the run
    id)."""
    executor: Executor[Any] | None = None
    """The configured executor (``None`` only for plans built by hand: run in this process)."""

    def units(self) -> list[Unit]:
        """Every unit in order: for each seed, M0 and then each intervention (which depends on
        that seed's M0)."""
        units: list[Unit] = []
        for seed in self.config.seeds:
            units.append(Unit(BASE, seed, len(units) + 1))
            for label, intervention in self.interventions:
                units.append(Unit(label, seed, len(units) + 1, intervention))
        return units

    def unit_jobs(self) -> list[UnitJob]:
        """The units as executors see them: keys, dependencies and the resources the model
        declares for one unit on the plan's device."""
        resources = self.model_class.create(
            self.model_args, self.task.label_names, self.device
        ).unit_resources()
        jobs = []
        for unit in self.units():
            depends = () if unit.depends_on is None else (Unit(*unit.depends_on, 0).name,)
            jobs.append(UnitJob(unit.name, unit.index, depends, resources))
        return jobs

    def validated_config(self) -> dict[str, Any]:
        """The config as ``results.json`` records it: the plugin arguments as validated (their
        defaults filled in), without the output and cache folders and the executor (which do
        not change the results)."""
        data = self.config.model_dump(mode="json", exclude={"output_dir", "cache_dir", "executor"})
        data["task_args"] = _dump(self.task_args, data["task_args"])
        data["model_args"] = _dump(self.model_args, data["model_args"])
        for item, (_, intervention) in zip(data["interventions"], self.interventions, strict=True):
            item["params"] = intervention.args.model_dump(mode="json")
        return data


def _dump(validated: Any, raw: Any) -> Any:
    """A validated argument model as JSON (``raw`` when there is none)."""
    return raw if validated is None else validated.model_dump(mode="json")


def _unique_label(label: str, taken: set[str]) -> str:
    candidate, n = label, 2
    while candidate in taken:
        candidate = f"{label}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def plan_run(
    config: RunConfig,
    registries: Registries | None = None,
    *,
    check_output: bool = True,
    device: str | None = None,
) -> Plan:
    """Resolve plugins, load the task and specs, and validate every argument (see the module
    docstring). ``registries``: the caller's, built once per command (else built here).

    A worker that runs units of a run planned elsewhere passes ``check_output=False`` (it
    writes only the cache) and the ``device`` the run's executor chose."""
    from harness.analysis.checks import check_suite_names
    from harness.cache import default_cache_dir
    from harness.config_paths import resolve_config_paths
    from harness.input_checks import check_interventions
    from harness.local_paths import resolve_path
    from harness.paths import check_writable_folder
    from harness.specs.loading import check_specs, flatten_specs, load_suites

    cwd = [Path.cwd()]
    if check_output:
        check_writable_folder(Path(resolve_path(config.output_dir, cwd)), "output_dir")
    if config.cache:
        cache = Path(resolve_path(config.cache_dir, cwd)) if config.cache_dir else None
        check_writable_folder(cache or default_cache_dir(), "cache_dir")
    registries = registries or load_registries()
    # Relative paths left in the config (flags, defaults, configs built in Python) are from the
    # current folder; those of a config file were resolved against its folder when it was read.
    resolved = resolve_config_paths(config, registries)
    config = resolved.config
    run_id = run_id_for(config, resolved.local_paths)
    run_dir = Path(resolve_path(config.output_dir, cwd)) / run_id
    if check_output:  # an existing run folder must be writable too
        check_writable_folder(run_dir, "output_dir")
    executor = make_executor(config, registries)
    task, train_sample = load_task(config, registries, resolved.task_args)
    suites = load_suites(config.specs, registries.spec_sources, seed=config.seeds[0])
    checks = check_specs(suites, task)
    specs = flatten_specs(suites, task.label_names, check=False)
    check_suite_names(config.check, [spec.suite for spec in specs])
    model_class = registries.models.get(config.model, field="model")
    model_args = resolved.model_args
    model_class.check_label_args(model_args, task.label_names)
    interventions: list[tuple[str, Intervention[Any]]] = []
    taken = {BASE}
    for i, item in enumerate(config.interventions):
        cls = registries.interventions.get(item.name, field=f"interventions[{i}].name")
        instance = cls(resolved.intervention_params[i])
        interventions.append((_unique_label(item.label or instance.label(), taken), instance))
    check_interventions(task, specs, config.budget, interventions, model_class)
    return Plan(
        config=config,
        registries=registries,
        task=task,
        specs=specs,
        model_class=model_class,
        model_args=model_args,
        interventions=interventions,
        device=device or executor.plan_device(config.device),
        run_id=run_id,
        task_args=resolved.task_args,
        leakage=checks.leakage,
        local_paths=resolved.local_paths,
        train_sample=train_sample,
        executor=executor,
    )


def make_executor(config: RunConfig, registries: Registries) -> Executor[Any]:
    """The configured executor (by ``executor.name``, else the registered default), its
    arguments validated and its libraries checked."""
    from harness.validation import validate

    settings = config.executor
    if settings.name is None:
        defaults = [entry.item for entry in registries.executors if entry.item.default]
        if not defaults:
            raise UserError(
                "no executor given, and no plugin declares a default executor",
                field="executor",
                fix="give --executor NAME (harness list executors)",
            )
        cls = defaults[0]
    else:
        cls = registries.executors.get(settings.name, field="executor.name")
    args = validate(cls.Args, settings.args, prefix="executor.")
    executor = cls(args, settings.jobs)
    executor.check_available()
    return executor


def load_task(
    config: RunConfig, registries: Registries, task_args: Any
) -> tuple[Task, TrainSample | None]:
    """The task as a run uses it: loaded with the validated ``task_args``, cut by ``limit``,
    its train split sampled down to ``train_limit``, and checked."""
    from harness.train_sample import sample_train

    task_def: TaskDefinition = registries.tasks.get(config.task, field="task")
    task = task_def.load(**task_args.model_dump()).limited(config.limit)
    task, train_sample = sample_train(task, config.train_limit, seed=config.seeds[0])
    check_task(task)
    return task, train_sample


def check_task(task: Task) -> None:
    """Reject tasks the harness cannot train or evaluate on."""
    for split_name in ("train", "test"):
        if len(getattr(task, split_name)) == 0:
            raise UserError(
                f"the {split_name} split is empty",
                field=f"task {task.name}",
                fix="give the task data for this split",
            )
    if len(set(task.train.labels.tolist())) < 2:
        raise UserError(
            "the train split holds a single class",
            field=f"task {task.name}",
            fix="training needs at least two labels",
        )
