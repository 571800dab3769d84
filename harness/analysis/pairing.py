"""Pairing model rows across runs that share M0, for ``harness report RUN_A RUN_B``.

A guided retrain in one run and a random retrain in another (e.g. one added later, with a new
candidate source) can be compared case by case when both runs trained the *same* M0 on the same
cases: the same task, specs, model and seeds, and, per seed, the same M0 content hash
(``model_hash``). :func:`pairing_mismatch` says why two runs cannot be paired (the first field
that differs); :func:`pair_runs` merges paired runs into one :class:`RunResult` (M0 once, then
every other row of every run; a row id that two runs use gets ``@run-id``) with the merged
per-case rows, which :func:`harness.analysis.analyse` then compares and checks like one run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.analysis.comparisons import RowRoles, declared_roles
from harness.results import LeakageReport, ModelResult, RunResult, Timing

if TYPE_CHECKING:
    from harness.plugins import Registries

BASE = "M0"


@dataclass
class RunFiles:
    """A run's results and the path of its ``samples.jsonl`` (``None`` when missing)."""

    result: RunResult
    samples: Path | None


@dataclass
class PairedRuns:
    """Runs merged into one result, their per-case rows, and notes for the reader."""

    result: RunResult
    sources: list[tuple[Path, dict[str, str], bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    roles: RowRoles = field(default_factory=dict)
    """How each merged row pairs, as its intervention declares with its own run's budget."""

    def samples(self) -> Iterator[dict[str, Any]] | None:
        """The held-out rows of every run's ``samples.jsonl``, model ids renamed as in
        :attr:`result` (a fresh iterator each call; ``None`` when no run has its file)."""
        if not self.sources:
            return None
        return itertools.chain.from_iterable(
            _rows(path, mapping, keep_base) for path, mapping, keep_base in self.sources
        )


def _m0_hashes(run: RunResult) -> dict[int, str | None]:
    for model in run.models:
        if model.id == BASE:
            return {s.seed: s.model_hash for s in model.seeds if s.test is not None}
    return {}


def _spec_key(run: RunResult) -> list[tuple[str, str, str, int]]:
    return [(s.suite, s.id, s.label, s.n_heldout_cases) for s in run.specs]


def _first_spec_difference(
    a: list[tuple[str, str, str, int]], b: list[tuple[str, str, str, int]]
) -> str:
    names = ("suite", "id", "label", "held-out cases")
    for x, y in zip(a, b, strict=False):
        for name, u, v in zip(names, x, y, strict=True):
            if u != v:
                return f"spec {x[1]!r}: {name} {u!r} vs {v!r}"
    return f"{len(a)} vs {len(b)} specs"


def test_fingerprint(samples: Path) -> str:
    """A content hash of the test split as ``samples.jsonl`` records it (id, text and label of
    the ``set == "test"`` rows of the first seed)."""
    import hashlib
    import json

    from harness.report_views import iter_samples

    digest = hashlib.sha256()
    first_seed = None
    for row in iter_samples(samples):
        if row.get("set") != "test":
            continue
        first_seed = row.get("seed") if first_seed is None else first_seed
        if row.get("seed") == first_seed:
            key = [row.get("id"), row.get("text"), row.get("label")]
            digest.update(json.dumps(key, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()


def pairing_mismatch(
    a: RunResult, b: RunResult, test_splits: Callable[[], tuple[str, str] | None] | None = None
) -> str | None:
    """Why ``b`` cannot be paired with ``a`` (naming the field that differs), or ``None``.

    The runs must have the same task (name, labels, split sizes), specs (suite, id, label and
    held-out cases of each), model, seeds and M0 (``model_hash`` at every seed, which covers the
    training data), and the same test split: ``test_splits`` returns the runs'
    :func:`test_fingerprint` (called last, only when everything else matches; ``None`` when a
    ``samples.jsonl`` is missing); without fingerprints the task arguments and ``limit`` must be
    equal. The pool may differ (a second run may add a candidate source)."""
    if a.task.name != b.task.name:
        return f"task differs ({a.task.name} vs {b.task.name})"
    if a.task.label_names != b.task.label_names:
        return f"task labels differ ({a.task.label_names} vs {b.task.label_names})"
    for size in ("n_train", "n_test"):
        x, y = getattr(a.task, size), getattr(b.task, size)
        if x != y:
            return f"task {size} differs ({x} vs {y})"
    specs_a, specs_b = _spec_key(a), _spec_key(b)
    if specs_a != specs_b:
        return f"specs differ ({_first_spec_difference(specs_a, specs_b)})"
    if a.config.get("model") != b.config.get("model"):
        return f"config model differs ({a.config.get('model')!r} vs {b.config.get('model')!r})"
    args_a, args_b = a.config.get("model_args"), b.config.get("model_args")
    if args_a != args_b and _filled(a, args_a) != _filled(b, args_b):
        return f"config model_args differs ({args_a!r} vs {args_b!r})"
    if a.seeds != b.seeds:
        return f"seeds differ ({a.seeds} vs {b.seeds})"
    hashes_a, hashes_b = _m0_hashes(a), _m0_hashes(b)
    if not hashes_a or not hashes_b:
        return "M0 is missing or was never trained in one of them"
    for seed in a.seeds:
        ha, hb = hashes_a.get(seed), hashes_b.get(seed)
        if ha is None or hb is None:
            return f"M0 model_hash missing at seed {seed} (results of an older version)"
        if ha != hb:
            return f"M0 model_hash differs at seed {seed} ({ha[:12]} vs {hb[:12]})"
    fingerprints = test_splits() if test_splits is not None else None
    if fingerprints is not None:
        if fingerprints[0] != fingerprints[1]:
            return "test split differs (the test rows of their samples.jsonl)"
        return None
    for key in ("task_args", "limit"):
        if a.config.get(key) != b.config.get(key):
            return (
                f"config {key} differs ({a.config.get(key)!r} vs {b.config.get(key)!r}) and "
                "without both samples.jsonl the test splits cannot be compared"
            )
    return None


def _filled(run: RunResult, args: Any) -> Any:
    """``args`` with the model's defaults filled in, as runs record them since they record
    validated arguments (an older run's raw arguments then compare equal to a newer run's);
    ``args`` as they are when the model is not installed here or they do not validate."""
    from harness.errors import UserError
    from harness.plugins import load_registries
    from harness.validation import validate

    entry = load_registries().models.find(str(run.config.get("model")))
    if entry is None or not isinstance(args, dict):
        return args
    try:
        return validate(entry.item.Args, args).model_dump(mode="json")
    except UserError:
        return args


def _renamed(model: ModelResult, new_id: str, budget: Any) -> ModelResult:
    params = dict(model.params)
    if "budget" in params and params["budget"] is None and budget is not None:
        params["budget"] = budget  # the run's budget, so rows of runs with other budgets stay apart
    return model.model_copy(update={"id": new_id, "params": params})


def _rows(path: Path, mapping: dict[str, str], keep_base: bool) -> Iterator[dict[str, Any]]:
    from harness.report_views import iter_samples

    for row in iter_samples(path):
        if row.get("set") != "heldout":
            continue
        predictions = {
            mapping[m]: p
            for m, p in (row.get("predictions") or {}).items()
            if m in mapping and (keep_base or m != BASE)
        }
        seen = [mapping.get(m, m) for m in row.get("seen_by") or []]
        yield {**row, "predictions": predictions, "seen_by": seen}


def _pool_notes(
    first: RunResult,
    other: RunResult,
    pool_sources: dict[str, int],
    leakage: LeakageReport | None,
) -> list[str]:
    """Add ``other``'s pool sources to ``pool_sources`` (the merged task's) and return notes
    for the reader: a source both runs name with other sizes, and leakage findings that differ
    (a run with another pool may find held-out cases in it; the report shows the first run's).
    When ``other`` found the same as the first run, its corpora are added to ``leakage``'s
    (it found nothing in its own sources)."""
    from harness.specs.leakage import summary_line

    notes = []
    for name, n in other.task.pool_sources.items():
        if name not in pool_sources:
            pool_sources[name] = n
        elif pool_sources[name] != n:
            notes.append(
                f"pool source {name!r} has {pool_sources[name]} rows in run {first.run_id} and "
                f"{n} in run {other.run_id}"
            )
    theirs = other.leakage
    if theirs is None:
        return notes
    findings = {"specs", "suites", "total"}
    if leakage is not None and leakage.model_dump(include=findings) == theirs.model_dump(
        include=findings
    ):
        for corpus, n in theirs.corpora.items():
            leakage.corpora.setdefault(corpus, n)
        return notes
    notes.append(
        f"the leakage checks of run {other.run_id} found other counts (its pool differs); "
        f"the leakage section shows run {first.run_id}'s; run {other.run_id}: "
        + summary_line("all suites", theirs.total, list(theirs.corpora))
    )
    return notes


def pair_runs(runs: list[RunFiles], registries: Registries | None = None) -> PairedRuns:
    """Merge runs that share M0 (check with :func:`pairing_mismatch` first) into one result.

    The first run gives M0, the config (check settings included), the leakage findings (with
    notes when another run's differ) and the package versions; the task lists every run's pool
    sources; every other row keeps its numbers, its id unless another run already uses it (then
    ``id@run-id``), and the run it came from (``config.paired_runs``).
    """
    from harness.plugins import load_registries

    first = runs[0].result
    registries = registries or load_registries()
    roles: RowRoles = {}
    pool_sources = dict(first.task.pool_sources)
    leakage = first.leakage.model_copy(deep=True) if first.leakage is not None else None
    models: list[ModelResult] = []
    taken: set[str] = set()
    origin: dict[str, str] = {}
    seconds: dict[str, float] = {}
    mappings: list[dict[str, str]] = []
    notes: list[str] = []
    for index, run in enumerate(runs):
        result = run.result
        mapping: dict[str, str] = {}
        run_roles = declared_roles(result, registries)
        for model in result.models:
            if model.id == BASE and index > 0:
                mapping[BASE] = BASE
                continue
            new_id = model.id if model.id not in taken else f"{model.id}@{result.run_id}"
            taken.add(new_id)
            mapping[model.id] = new_id
            origin[new_id] = result.run_id
            if model.id in run_roles:
                roles[new_id] = run_roles[model.id]
            models.append(_renamed(model, new_id, result.config.get("budget")))
            if model.id in result.timing.seconds:
                seconds[new_id] = result.timing.seconds[model.id]
        mappings.append(mapping)
        if run.samples is None:
            notes.append(
                f"samples.jsonl of run {result.run_id} is missing: its rows are compared by "
                "differences of means only (no paired test); keep samples.jsonl next to "
                "results.json to pair them"
            )
        if index and result.config.get("check") != first.config.get("check"):
            notes.append(f"check settings differ between runs; those of {first.run_id} are used")
        if index:
            notes += _pool_notes(first, result, pool_sources, leakage)
    ids = [r.result.run_id for r in runs]
    config = {**first.config, "paired_runs": ids, "row_runs": origin}
    merged = first.model_copy(
        update={
            "run_id": "+".join(ids),
            "models": models,
            "comparisons": [],
            "checks": [],
            "signals": [],
            "timing": Timing(
                started=min(r.result.timing.started for r in runs),
                finished=max(r.result.timing.finished for r in runs),
                seconds=seconds,
            ),
            "config": config,
            "task": first.task.model_copy(update={"pool_sources": pool_sources}),
            "leakage": leakage,
        }
    )
    sources = [
        (run.samples, mapping, index == 0)
        for index, (run, mapping) in enumerate(zip(runs, mappings, strict=True))
        if run.samples is not None
    ]
    return PairedRuns(result=merged, sources=sources, notes=notes, roles=roles)


def analyse_paired(
    runs: list[RunFiles], registries: Registries | None = None
) -> tuple[RunResult, PairedRuns]:
    """Pair ``runs`` (they must share M0) and analyse the merged result: comparisons and checks
    across the runs, preceded by an INFO entry naming the paired runs and a WARN entry per
    note (e.g. a missing ``samples.jsonl``)."""
    from harness.analysis import analyse

    paired = pair_runs(runs, registries)
    result = analyse(paired.result, paired.samples(), roles=paired.roles)
    ids = ", ".join(r.result.run_id for r in runs)
    info = {
        "id": "paired-runs",
        "kind": "pairing",
        "status": "INFO",
        "detail": f"rows of runs {ids} compared case by case: they share task, specs, model, "
        "seeds and M0 (the same model_hash at every seed)",
    }
    warnings = [
        {"id": f"pairing-note-{i}", "kind": "pairing", "status": "WARN", "detail": note}
        for i, note in enumerate(paired.notes)
    ]
    return result.model_copy(update={"checks": [info, *warnings, *result.checks]}), paired
