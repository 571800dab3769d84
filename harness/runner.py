"""A Run: train M0 for each seed, evaluate it on the test split and on every spec, then run each
configured intervention on the same cases and collect everything into a :class:`RunResult`."""

from __future__ import annotations

import hashlib
import json
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import click
import numpy as np

from harness import __version__
from harness.api import (
    DeriveModel,
    Intervention,
    InterventionContext,
    InterventionOutcome,
    Model,
    Selector,
    Spec,
    Split,
    Task,
    TaskDefinition,
)
from harness.collapse import collapse_summary, collapsed_seeds, detect_collapse
from harness.config import RunConfig
from harness.display import printable
from harness.errors import OutputError, UserError
from harness.evaluation import Evaluation, evaluation_texts, score, unseen_scores
from harness.leakage import HeldoutIndex
from harness.local_paths import FoundPath
from harness.plugins import Registries, load_registries
from harness.progress import Progress, silent
from harness.results import (
    Aggregate,
    LeakageReport,
    ModelResult,
    RunResult,
    SeedResult,
    SpecInfo,
    TaskInfo,
    Timing,
    TrainingTexts,
    TrainSample,
    atomic_write_jsonl,
    atomic_write_text,
    write_result,
)
from harness.spec_loading import check_specs, flatten_specs, load_suites
from harness.stats import rounded
from harness.training import Trainer
from harness.validation import validate

PACKAGES = ("torch", "transformers", "numpy", "scikit-learn", "scipy", "pydantic", "jinja2")


def package_versions() -> dict[str, str]:
    """Versions of the packages that influence numbers (read from metadata, no imports)."""
    import importlib.metadata

    versions = {"spec-harness": __version__}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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
    data = config.model_dump(mode="json", exclude={"output_dir", "cache", "cache_dir", *unset})
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
class Plan:
    """Everything validated before any work starts (so bad input writes nothing)."""

    config: RunConfig
    registries: Registries
    task: Task
    specs: list[Spec]
    model_class: type[Model]
    model_args: Any
    interventions: list[tuple[str, Intervention]]
    device: str
    leakage: LeakageReport | None = None
    """Held-out cases found in train, pool, D_i or test (stored in ``results.json``)."""
    train_sample: TrainSample | None = None
    """How ``train_limit`` sampled the train split (``None``: not sampled)."""
    local_paths: list[FoundPath] = field(default_factory=list)
    """Every local path the config names, with its location (hashed by content in the run
    id)."""


@dataclass
class ModelRun:
    """Per-seed evaluations of one model row, kept for samples.jsonl."""

    result: ModelResult
    evaluations: dict[int, Evaluation] = field(default_factory=dict)
    seconds: float = 0.0
    trained_seconds: float = 0.0
    trained_unknown: int = 0
    loaded: int = 0
    seen: dict[int, frozenset[str]] = field(default_factory=dict)
    """Per seed: the normalised held-out texts this model trained on."""
    warned_undeclared: bool = False


def _unique_label(label: str, taken: set[str]) -> str:
    candidate, n = label, 2
    while candidate in taken:
        candidate = f"{label}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def plan_run(config: RunConfig, registries: Registries | None = None) -> Plan:
    """Resolve plugins, load the task and specs, and validate every argument."""
    from harness.config_paths import resolve_config_paths
    from harness.local_paths import resolve_path
    from harness.paths import check_writable_folder
    from harness.training import default_cache_dir

    cwd = [Path.cwd()]
    check_writable_folder(Path(resolve_path(config.output_dir, cwd)), "output_dir")
    if config.cache:
        cache = Path(resolve_path(config.cache_dir, cwd)) if config.cache_dir else None
        check_writable_folder(cache or default_cache_dir(), "cache_dir")
    registries = registries or load_registries()
    # Relative paths left in the config (flags, defaults, configs built in Python) are from the
    # current folder; those of a config file were resolved against its folder when it was read.
    resolved = resolve_config_paths(config, registries)
    config = resolved.config
    run_dir = Path(resolve_path(config.output_dir, cwd)) / run_id_for(config, resolved.local_paths)
    check_writable_folder(run_dir, "output_dir")  # an existing run folder must be writable too
    task, train_sample = load_task(config, registries, resolved.task_args)
    suites = load_suites(config.specs, registries.spec_sources, seed=config.seeds[0])
    checks = check_specs(suites, task)
    specs = flatten_specs(suites, task.label_names, check=False)
    from harness.checks import check_suite_names

    check_suite_names(config.check, [spec.suite for spec in specs])
    model_class: type[Model] = registries.models.get(config.model, field="model")
    model_args = resolved.model_args
    model_class.check_label_args(model_args, task.label_names)
    interventions: list[tuple[str, Intervention]] = []
    taken = {"M0"}
    for i, item in enumerate(config.interventions):
        cls = registries.interventions.get(item.name, field=f"interventions[{i}].name")
        instance = cls(resolved.intervention_params[i])
        interventions.append((_unique_label(item.label or instance.label(), taken), instance))
    from harness.input_checks import check_interventions

    check_interventions(task, specs, config.budget, interventions)
    return Plan(
        config=config,
        registries=registries,
        task=task,
        specs=specs,
        model_class=model_class,
        model_args=model_args,
        interventions=interventions,
        device=resolve_device(config.device),
        leakage=checks.leakage,
        local_paths=resolved.local_paths,
        train_sample=train_sample,
    )


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


def aggregate(seeds: list[SeedResult], specs: list[SpecInfo] | None = None) -> Aggregate:
    """Mean (and std) over the seeds that produced a model; with ``specs`` also the FR per
    suite and per label within each suite (:mod:`harness.suites`)."""
    from harness.suites import overall_case_fr, suite_aggregates

    done = [s for s in seeds if s.test is not None]
    if not done:
        return Aggregate()
    acc = np.array([s.test.accuracy for s in done if s.test])
    spec_ids = sorted(done[0].heldout)
    per_seed_mean = (
        np.array([np.mean([s.heldout[i].fr for i in spec_ids]) for s in done])
        if spec_ids
        else np.zeros(len(done))
    )
    heldout = {i: float(np.mean([s.heldout[i].fr for s in done])) for i in spec_ids}
    train_ids = sorted(done[0].train_cases)
    train_mean = (
        float(np.mean([np.mean([s.train_cases[i].fr for i in train_ids]) for s in done]))
        if train_ids
        else None
    )
    case_fr, case_fr_std = overall_case_fr(done)
    unseen_means = [_unseen_mean(s) for s in done]
    unseen_values = np.array([v for v in unseen_means if v is not None])
    n_seen = sum(sum(s.n_seen.values()) for s in done)
    seen_failures = sum(
        s.heldout[i].failures - s.heldout_unseen[i].failures for s in done for i in s.n_seen
    )
    return Aggregate(
        case_fr=case_fr,
        case_fr_std=case_fr_std,
        suites=suite_aggregates(done, specs) if specs is not None else {},
        collapsed_seeds=collapsed_seeds(done),
        collapse=collapse_summary(done),
        accuracy=rounded(float(acc.mean())),
        accuracy_std=rounded(float(acc.std())),
        macro_f1=rounded(float(np.mean([s.test.macro_f1 for s in done if s.test]))),
        mcc=rounded(float(np.mean([s.test.mcc for s in done if s.test]))),
        mean_fr=rounded(float(per_seed_mean.mean())),
        mean_fr_std=rounded(float(per_seed_mean.std())),
        worst_fr=rounded(max(heldout.values())) if heldout else None,
        mean_train_fr=rounded(train_mean),
        heldout_fr={i: rounded(v) or 0.0 for i, v in heldout.items()},
        n_seen=n_seen,
        seen_fr=rounded(seen_failures / n_seen) if n_seen else None,
        unseen_mean_fr=rounded(float(unseen_values.mean())) if len(unseen_values) else None,
        unseen_mean_fr_std=rounded(float(unseen_values.std())) if len(unseen_values) else None,
    )


def _unseen_mean(seed: SeedResult) -> float | None:
    """Mean FR over the specs with unseen held-out cases (all of them when none was seen)."""
    scores = seed.heldout_unseen or seed.heldout
    values = [scores[i].fr for i in sorted(scores) if scores[i].n]  # mean_fr's order
    return float(np.mean(values)) if values else None


class Runner:
    """Executes a :class:`Plan` and writes ``results.json`` and ``samples.jsonl``."""

    def __init__(
        self, plan: Plan, progress: Progress | None = None, run_dir: Path | None = None
    ) -> None:
        self.plan = plan
        self.progress = progress or silent()
        config = plan.config
        self.run_id = run_id_for(config, plan.local_paths)
        self.run_dir = run_dir or Path(config.output_dir) / self.run_id
        self.trainer = Trainer(
            cache_dir=Path(config.cache_dir) if config.cache_dir else None,
            enabled=config.cache,
            progress=self.progress,
        )
        self.heldout_index = HeldoutIndex(plan.specs)

    def new_model(self) -> Model:
        """A fresh, untrained model of the configured class and args."""
        plan = self.plan
        return plan.model_class.create(plan.model_args, plan.task.label_names, plan.device)

    def selector(self, name: str, args: dict[str, Any]) -> Selector:
        """Instantiate a registered selector with validated ``args``."""
        cls = self.plan.registries.selectors.get(name, field="selection")
        return cls(validate(cls.Args, args, prefix="selector_args."))

    def _evaluate(self, model: Model, label: str, seed: int) -> Evaluation:
        plan = self.plan
        texts = evaluation_texts(plan.task, plan.specs)
        predictions = self.trainer.predict(model, texts, f"predicting {label} (seed {seed})")
        return score(predictions, plan.task, plan.specs)

    def _seed_result(
        self, seed: int, ev: Evaluation, model: Model, seen: frozenset[str], **extra: Any
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
            model_hash=self.trainer.model_hash(model),
            collapse=detect_collapse(ev.test, gold_labels),
            heldout_unseen=heldout_unseen,
            n_seen=n_seen,
            **extra,
        )

    def run(self) -> RunResult:
        """Run M0 and every intervention for every seed; write and return the result.

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
        rows: dict[str, ModelRun] = {"M0": ModelRun(ModelResult(id="M0", kind="base"))}
        for label, intervention in plan.interventions:
            rows[label] = ModelRun(
                ModelResult(
                    id=label,
                    kind="intervention",
                    intervention=intervention.name,
                    params=intervention.args.model_dump(mode="json"),
                )
            )
        with self.progress.live():
            for seed_index, seed in enumerate(plan.config.seeds):
                self._run_seed(seed_index, seed, rows)
        infos = [spec_info(spec) for spec in plan.specs]
        for row in rows.values():
            row.result.aggregate = aggregate(row.result.seeds, infos)
            skipped = {s.skipped for s in row.result.seeds if s.skipped}
            row.result.skipped = "; ".join(sorted(skipped)) if skipped else None
        finished = datetime.now(timezone.utc)
        result = RunResult(
            run_id=self.run_id,
            harness_version=__version__,
            config=plan.config.model_dump(mode="json", exclude={"output_dir", "cache_dir"}),
            packages=package_versions(),
            seeds=list(plan.config.seeds),
            task=TaskInfo(
                name=plan.task.name,
                label_names=plan.task.label_names,
                n_train=len(plan.task.train),
                n_test=len(plan.task.test),
                n_pool=len(plan.task.pool),
                pool_sources=(
                    plan.task.pool.source_counts() if plan.task.pool.sources is not None else {}
                ),
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
        from harness.analysis import analyse

        samples = self._samples(rows)
        roles = {
            label: role
            for label, intervention in plan.interventions
            if (role := intervention.comparison_role(plan.config.budget)) is not None
        }
        result = analyse(result, samples, roles=roles)
        atomic_write_jsonl(self.run_dir / "samples.jsonl", samples)
        write_result(self.run_dir, result)
        return result

    def _trainer_for(
        self, seed: int, trained: TrainedSplits | None = None, names: dict[str, str] | None = None
    ) -> Callable[[Model, Split, str], Model]:
        """``ctx.train_model`` for one seed; ``names`` maps an intervention's own label to the
        row's (a config ``label:``), so progress lines name the row."""

        def train_model(model: Model, split: Split, purpose: str) -> Model:
            purpose = (names or {}).get(purpose, purpose)
            result = self.trainer.train(model, split, seed, purpose)
            if trained is not None:
                trained.record(result, split)
            return result

        return train_model

    def _deriver_for(self, base: Model) -> DeriveModel:
        def derive_model(
            recipe: dict[str, Any],
            build: Callable[[], tuple[Model, dict[str, Any]]],
            purpose: str,
        ) -> tuple[Model, dict[str, Any]]:
            return self.trainer.derive(base, recipe, self.new_model, build, purpose)

        return derive_model

    @contextmanager
    def _unit(self, row: ModelRun, name: str, index: int) -> Iterator[None]:
        """One unit (a row's model for one seed): progress lines, and its wall time, training
        time and cache loads added to ``row``."""
        total = (1 + len(self.plan.interventions)) * len(self.plan.config.seeds)
        trainer = self.trainer
        before = (trainer.build_seconds, trainer.build_seconds_unknown, trainer.loaded)
        t0 = time.perf_counter()
        with self.progress.unit(name, index, total):
            yield
        row.seconds += time.perf_counter() - t0
        row.trained_seconds += trainer.build_seconds - before[0]
        row.trained_unknown += trainer.build_seconds_unknown - before[1]
        row.loaded += trainer.loaded - before[2]

    def _run_seed(self, seed_index: int, seed: int, rows: dict[str, ModelRun]) -> None:
        plan = self.plan
        first = seed_index * (1 + len(plan.interventions)) + 1
        with self._unit(rows["M0"], f"M0 (seed {seed})", first):
            m0 = self.trainer.train(self.new_model(), plan.task.train, seed, "M0")
            ev0 = self._evaluate(m0, "M0", seed)
            rows["M0"].evaluations[seed] = ev0
            seen0 = rows["M0"].seen[seed] = self.heldout_index.seen(plan.task.train.texts)
            m0_texts = TrainingTexts(base="train", n_base=len(plan.task.train))
            rows["M0"].result.seeds.append(
                self._seed_result(seed, ev0, m0, seen0, training_texts=m0_texts)
            )
        for offset, (label, intervention) in enumerate(plan.interventions, start=1):
            with self._unit(rows[label], f"{label} (seed {seed})", first + offset):
                self._run_intervention(seed, label, intervention, m0, rows[label])

    def _run_intervention(
        self, seed: int, label: str, intervention: Intervention, m0: Model, row: ModelRun
    ) -> None:
        plan = self.plan
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
            memo_value=self.trainer.memo,
        )
        if not self.progress.lines:  # as lines, the unit's "started" line already says it
            self.progress.log(f"{label} (seed {seed})", style="dim")
        outcome = intervention.apply(ctx)
        if outcome.model is None:
            row.result.seeds.append(
                SeedResult(seed=seed, skipped=outcome.skipped or "skipped", changes=outcome.changes)
            )
        else:
            ev = self._evaluate(outcome.model, label, seed)
            row.evaluations[seed] = ev
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

    def _samples(self, rows: dict[str, ModelRun]) -> list[dict[str, Any]]:
        plan = self.plan
        names = plan.task.label_names
        out: list[dict[str, Any]] = []
        for seed in plan.config.seeds:
            evs = {
                label: row.evaluations[seed]
                for label, row in rows.items()
                if seed in row.evaluations
            }

            def preds(getter: Any, index: int, _evs: dict[str, Evaluation] = evs) -> dict[str, str]:
                return {label: names[int(getter(ev)[index])] for label, ev in _evs.items()}

            for i, (case_id, text, gold) in enumerate(
                zip(plan.task.test.ids, plan.task.test.texts, plan.task.test.labels, strict=True)
            ):
                out.append(
                    {
                        "seed": seed,
                        "set": "test",
                        "id": case_id,
                        "text": text,
                        "label": names[int(gold)],
                        "predictions": preds(lambda ev: ev.test_predictions, i),
                    }
                )
            seen = {label: row.seen[seed] for label, row in rows.items() if seed in row.seen}
            for spec in plan.specs:
                keys = self.heldout_index.keys[spec.id]
                for set_name, cases, attr in (
                    ("heldout", spec.heldout_cases, "heldout_predictions"),
                    ("train_case", spec.train_cases, "train_case_predictions"),
                ):
                    for i, case in enumerate(cases):
                        row_out = {
                            "seed": seed,
                            "set": set_name,
                            "id": case.id,
                            "spec_id": spec.id,
                            "template_id": case.template_id,
                            "text": case.text,
                            "label": spec.label,
                            "predictions": preds(
                                lambda ev, _a=attr, _s=spec.id: getattr(ev, _a)[_s], i
                            ),
                        }
                        if set_name == "heldout":
                            key = keys[i]
                            row_out["seen_by"] = [
                                label for label, texts in seen.items() if key and key in texts
                            ]
                        out.append(row_out)
        return out


def spec_info(spec: Spec) -> SpecInfo:
    """Summarise a spec for ``results.json``."""
    return SpecInfo(
        id=spec.id,
        suite=spec.suite,
        description=spec.description,
        label=spec.label,
        tags=spec.tags,
        group=spec.group,
        n_train_cases=len(spec.train_cases),
        n_heldout_cases=len(spec.heldout_cases),
        train_templates=len({c.template_id for c in spec.train_cases if c.template_id}),
        heldout_templates=len({c.template_id for c in spec.heldout_cases if c.template_id}),
    )


class TrainedSplits:
    """The splits an intervention passed to ``ctx.train_model``, by the model each call
    returned (weak references: fold models may be freed; a freed model's id is never matched)."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[weakref.ref[Model], Split]] = {}

    def record(self, model: Model, split: Split) -> None:
        """Remember that ``model`` was trained on ``split``."""
        self._by_id[id(model)] = (weakref.ref(model), split)

    def split_of(self, model: Model) -> Split | None:
        """The split ``model`` was trained on through ``ctx.train_model``, if it was."""
        entry = self._by_id.get(id(model))
        if entry is None or entry[0]() is not model:
            return None
        return entry[1]


def training_texts(
    outcome: InterventionOutcome, trained: TrainedSplits, m0_train: Split
) -> tuple[list[str], TrainingTexts]:
    """The texts an intervention's model trained on, resolved as
    :class:`harness.api.InterventionOutcome` documents: its ``train_split``, else the split it
    gave ``ctx.train_model`` for that model, else M0's training data; plus
    ``added_training_texts``."""
    assert outcome.model is not None
    added = list(outcome.added_training_texts or ())
    through_train_model = trained.split_of(outcome.model)
    base: Literal["train_split", "train_model", "base_model"]
    if outcome.train_split is not None:
        base, split = "train_split", outcome.train_split
    elif through_train_model is not None:
        base, split = "train_model", through_train_model
    else:
        base, split = "base_model", m0_train
    declared = base != "base_model" or outcome.added_training_texts is not None
    info = TrainingTexts(
        base=base,
        n_base=len(split),
        n_added=len(added),
        declared=declared,
    )
    return [*split.texts, *added], info
