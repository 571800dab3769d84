"""The versioned results schema (``results.json``), and reading and writing it.

Files are written through :mod:`harness.atomic` (``atomic_write_text`` and
``atomic_write_jsonl`` are importable from here too)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from harness.api import StrictModel
from harness.atomic import atomic_write_jsonl as atomic_write_jsonl  # re-exported (stable path)
from harness.atomic import atomic_write_text
from harness.errors import UserError

SCHEMA_VERSION = 1
"""Bumped on every incompatible change of :class:`RunResult`."""


class Metrics(StrictModel):
    """Ordinary test-set metrics."""

    n: int
    """test cases scored."""
    accuracy: float
    """test accuracy (0-1)."""
    macro_f1: float
    """test macro-F1 (0-1)."""
    mcc: float
    """test Matthews correlation (-1 to 1)."""
    predicted: dict[str, int] = Field(
        default_factory=dict, description="test cases predicted as each label"
    )


class Collapse(StrictModel):
    """Why a seed's model is flagged as collapsed (see :mod:`harness.analysis.collapse`)."""

    kind: Literal["single-class", "near-chance"]
    """``single-class`` (one label predicted) or ``near-chance`` (test MCC below 0.1)."""
    detail: str = Field(description="one line for reports")


class SpecScore(StrictModel):
    """Failure rate of one spec on one case set, with a Wilson 95% interval."""

    n: int
    """cases scored."""
    failures: int
    """cases predicted against the spec's label."""
    fr: float
    """failure rate: failures / n."""
    ci_low: float
    """Wilson 95% interval, lower bound."""
    ci_high: float
    """Wilson 95% interval, upper bound."""


class TrainingTexts(StrictModel):
    """Where the runner took a model's training texts from (to find its seen held-out cases):
    ``train`` (M0: the task's train split), ``train_split`` (declared by the intervention),
    ``train_model`` (the split it passed to ``ctx.train_model``) or ``base_model`` (M0's
    training data, for a model fine-tuned from M0), plus ``n_added`` declared added texts."""

    base: Literal["train", "train_split", "train_model", "base_model"]
    """where the model's training texts came from (see the class)."""
    n_base: int
    """texts of that base."""
    n_added: int = 0
    """texts the intervention declared on top."""
    declared: bool = Field(
        default=True, description="false: nothing declared, M0's training data assumed"
    )


class SeedResult(StrictModel):
    """One model (M0 or an intervention) trained with one seed."""

    seed: int
    """the seed."""
    test: Metrics | None = None
    """test-split metrics (``null``: the row was skipped at this seed)."""
    heldout: dict[str, SpecScore] = Field(default_factory=dict)
    """spec id -> FR on its held-out cases (D_i_heldout)."""
    train_cases: dict[str, SpecScore] = Field(default_factory=dict)
    """spec id -> FR on its D_i cases."""
    changes: dict[str, Any] = Field(default_factory=dict)
    """what the intervention changed, as it reports it (e.g. a retrain's ``n_selected``,
    ``source_counts``, ``coverage``)."""
    skipped: str | None = None
    """why the row produced no model at this seed."""
    model_hash: str | None = None
    """the model's cache key (equal hashes: the same model)."""
    collapse: Collapse | None = Field(
        default=None, description="set when the model predicts one class or is near chance"
    )
    heldout_unseen: dict[str, SpecScore] = Field(
        default_factory=dict,
        description="FR per spec on the held-out cases whose (normalised) text this model did "
        "not train on; every spec, when any held-out case was seen, else empty",
    )
    n_seen: dict[str, int] = Field(
        default_factory=dict, description="seen held-out cases per spec (specs with any)"
    )
    training_texts: TrainingTexts | None = None
    """where the model's training texts came from."""


class GroupFR(StrictModel):
    """Held-out FR of a group of specs (a suite, or one label within a suite), mean (and std)
    over seeds. ``case_fr`` is case-weighted: the group's failures over its held-out cases, so a
    spec with more cases weighs more. ``spec_mean_fr`` is the unweighted mean of the specs' FRs,
    so every spec weighs the same (the run's ``mean_fr`` is this over all specs)."""

    n_specs: int = Field(description="specs with held-out cases")
    n_cases: int = Field(description="held-out cases (per seed)")
    case_fr: float | None = None
    """case-weighted FR, mean over seeds."""
    case_fr_std: float | None = None
    """its standard deviation over seeds."""
    spec_mean_fr: float | None = None
    """mean of the specs' FRs, mean over seeds."""
    spec_mean_fr_std: float | None = None
    """its standard deviation over seeds."""


class SuiteFR(GroupFR):
    """:class:`GroupFR` of one suite, with the same numbers per spec label within it."""

    labels: dict[str, GroupFR] = Field(default_factory=dict)
    """the same per spec label within the suite."""


class Aggregate(StrictModel):
    """Means (and standard deviations) over seeds."""

    accuracy: float | None = None
    """test accuracy, mean over seeds."""
    accuracy_std: float | None = None
    """its standard deviation over seeds."""
    macro_f1: float | None = None
    """test macro-F1, mean over seeds."""
    mcc: float | None = None
    """test MCC, mean over seeds."""
    mean_fr: float | None = None
    """mean held-out FR over specs (every spec weighs the same), mean over seeds."""
    mean_fr_std: float | None = None
    """its standard deviation over seeds."""
    worst_fr: float | None = None
    """the highest held-out FR of a spec (mean over seeds)."""
    mean_train_fr: float | None = None
    """mean FR on the D_i cases."""
    heldout_fr: dict[str, float] = Field(default_factory=dict)
    """spec id -> held-out FR, mean over seeds."""
    case_fr: float | None = Field(
        default=None, description="case-weighted held-out FR over all specs (mean over seeds)"
    )
    case_fr_std: float | None = None
    """its standard deviation over seeds."""
    suites: dict[str, SuiteFR] = Field(
        default_factory=dict, description="held-out FR per suite and per label within it"
    )
    collapsed_seeds: list[int] = Field(
        default_factory=list, description="seeds whose model collapsed (see SeedResult.collapse)"
    )
    collapse: str | None = Field(default=None, description="one line when any seed collapsed")
    n_seen: int = Field(default=0, description="seen held-out cases, summed over seeds")
    seen_fr: float | None = Field(
        default=None, description="failure rate over the seen held-out cases (pooled)"
    )
    unseen_mean_fr: float | None = Field(
        default=None,
        description="mean spec FR on unseen held-out cases (specs with any), mean over seeds; "
        "equals mean_fr when no case was seen",
    )
    unseen_mean_fr_std: float | None = None
    """its standard deviation over seeds."""


class ModelResult(StrictModel):
    """A row of the comparison: M0 or one configured intervention, over every seed."""

    id: str
    """the row: ``M0`` or the intervention's label (e.g. ``retrain-tfidf``)."""
    kind: str = Field(description="'base' for M0, else 'intervention'")
    intervention: str | None = None
    """the intervention's registered name (``null`` for M0)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """the intervention's validated parameters (defaults filled in)."""
    seeds: list[SeedResult] = Field(default_factory=list)
    """one entry per seed."""
    aggregate: Aggregate = Field(default_factory=Aggregate)
    """means (and std) over seeds."""
    skipped: str | None = None
    """why the row produced no model, when it did at no seed."""


class SpecInfo(StrictModel):
    """Description of one spec as used in the run."""

    id: str
    """the spec id."""
    suite: str
    """the suite it came from."""
    description: str
    """the capability, in words."""
    label: str
    """the label every case of the spec should get."""
    tags: list[str] = Field(default_factory=list)
    """free tags (reports can group by them)."""
    group: str | None = None
    """an optional group (reports can group by it)."""
    n_train_cases: int
    """D_i cases."""
    n_heldout_cases: int
    """D_i_heldout cases."""
    train_templates: int = 0
    """templates behind D_i."""
    heldout_templates: int = 0
    """templates behind D_i_heldout."""


class TrainSample(StrictModel):
    """How ``train_limit`` cut the train split (see :mod:`harness.train_sample`)."""

    method: str = Field(description="how rows were drawn, e.g. 'stratified by label'")
    seed: int = Field(description="the seed the rows were drawn with")
    available: int = Field(description="train rows before the cap")
    kept: int = Field(description="train rows kept")
    label_counts: dict[str, int] = Field(default_factory=dict, description="rows kept per label")


class TaskInfo(StrictModel):
    """Description of the task as used in the run."""

    name: str
    """the task."""
    label_names: list[str]
    """its labels, in index order."""
    n_train: int
    """train rows (after ``limit`` / ``train_limit``)."""
    n_test: int
    """test rows."""
    n_pool: int
    """pool rows."""
    pool_sources: dict[str, int] = Field(
        default_factory=dict, description="rows per named pool source (empty: one unnamed pool)"
    )
    train_sample: TrainSample | None = Field(
        default=None, description="set when train_limit sampled the train split"
    )


class Timing(StrictModel):
    """Wall-clock facts, kept apart so that the rest of the file is deterministic."""

    started: str
    """when the run started (ISO 8601, UTC)."""
    finished: str
    """when it finished."""
    seconds: dict[str, float] = Field(
        default_factory=dict, description="wall seconds each model row took in this run"
    )
    trained_seconds: dict[str, float | None] = Field(
        default_factory=dict,
        description="seconds each row's models took to train when they were trained (in this "
        "run, or as stored with the cached models); null when a cached model predates that record",
    )
    loaded_models: dict[str, int] = Field(
        default_factory=dict,
        description="models of each row loaded from the cache in this run (after a resume or a "
        "rerun); 0 when every model was trained in this run",
    )


class LeakageCounts(StrictModel):
    """Held-out spec cases found where they should not be (see :mod:`harness.specs.leakage`).

    ``in_*`` count held-out cases whose text occurs in that data verbatim or after
    normalisation (:func:`harness.specs.normalise.normalise_text`); a case can count in several."""

    n_heldout: int = 0
    """held-out cases checked."""
    leaked: int = Field(default=0, description="cases in train, pool, some D_i or test")
    in_training_data: int = Field(default=0, description="cases in train, pool or some D_i")
    exact: int = Field(default=0, description="leaked cases with a verbatim copy")
    normalised: int = Field(default=0, description="leaked cases equal only after normalisation")
    near: int = Field(default=0, description="near-duplicates of a D_i case (not verbatim)")
    in_train: int = 0
    """cases in the train split."""
    in_pool: int = Field(default=0, description="cases in some pool source")
    in_pool_sources: dict[str, int] = Field(default_factory=dict, description="per pool source")
    in_test: int = 0
    """cases in the test split."""
    in_d_i: int = Field(default=0, description="cases in the D_i of any spec, own included")
    in_other_d_i: int = Field(default=0, description="cases in the D_i of another spec")


class SpecLeakage(LeakageCounts):
    """Leakage counts of one spec's held-out cases."""

    spec_id: str
    """the spec."""
    suite: str
    """its suite."""
    example: str | None = Field(default=None, description="one leaked held-out text")


class LeakageTotals(LeakageCounts):
    """Leakage counts summed over the specs of a suite (or of the run)."""

    n_specs: int = 0
    n_specs_leaking: int = Field(default=0, description="specs with a leaked or near case")


class LeakageReport(StrictModel):
    """Every leakage finding of a run: per spec, per suite and in total."""

    normaliser: str
    """how texts were normalised before comparing them."""
    near_ngram: int
    """word n-gram size of the near-duplicate test."""
    near_threshold: float
    """Jaccard similarity from which a case is a near-duplicate."""
    corpora: dict[str, int] = Field(
        default_factory=dict, description="texts checked against: train, pool[/source], test, D_i"
    )
    specs: list[SpecLeakage] = Field(default_factory=list)
    """per spec (specs with findings)."""
    suites: dict[str, LeakageTotals] = Field(default_factory=dict)
    """per suite."""
    total: LeakageTotals = Field(default_factory=LeakageTotals)
    """over the run."""


class RunResult(StrictModel):
    """Everything a run produced, except per-case predictions (``samples.jsonl``)."""

    schema_version: int = SCHEMA_VERSION
    """bumped on every incompatible change of this schema."""
    run_id: str
    """the run's folder name: ``<task>-<model>-<hash of the config and its data>``."""
    harness_version: str
    """the spec-harness version that wrote it."""
    config: dict[str, Any]
    """the run config, with every plugin argument as validated (defaults filled in)."""
    packages: dict[str, str] = Field(default_factory=dict)
    """versions of the packages that influence the numbers."""
    seeds: list[int]
    """the seeds, in run order."""
    task: TaskInfo
    """the task as used."""
    specs: list[SpecInfo]
    """every spec, in run order."""
    models: list[ModelResult]
    """M0, then every intervention row."""
    comparisons: list[dict[str, Any]] = Field(default_factory=list)
    """paired comparisons of rows (see above)."""
    checks: list[dict[str, Any]] = Field(default_factory=list)
    """the checks the run is judged by (see above)."""
    signals: list[dict[str, Any]] = Field(default_factory=list)
    """pre-training signals: Spearman correlations of selection coverage with the FR drop."""
    leakage: LeakageReport | None = Field(
        default=None, description="held-out cases found in training data or the test split"
    )
    timing: Timing
    """wall-clock facts (the only part that differs between identical runs)."""

    def model(self, model_id: str) -> ModelResult:
        """Return the model row with ``model_id``."""
        for model in self.models:
            if model.id == model_id:
                return model
        raise KeyError(model_id)


def dump_result(result: RunResult) -> str:
    """Serialise a result deterministically (sorted keys, fixed indentation)."""
    return json.dumps(result.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def write_result(run_dir: Path, result: RunResult) -> Path:
    """Write ``results.json`` atomically; return its path."""
    path = run_dir / "results.json"
    atomic_write_text(path, dump_result(result))
    return path


def _non_finite(data: Any, where: str = "") -> tuple[str, str] | None:
    """The first non-finite number (NaN, Infinity, or a literal too large for a float) in a
    parsed JSON document: ``(dotted path, value)``, or ``None``."""
    stack: list[tuple[str, Any]] = [(where, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return path or "(top level)", str(value)
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(
                (f"{path}.{i}" if path else str(i), v) for i, v in reversed(list(enumerate(value)))
            )
    return None


def load_json_document(path: Path) -> Any:
    """Read a JSON run artefact (``results.json``): bounded (``HARNESS_MAX_FILE_MB``), valid
    JSON, and no non-finite number anywhere (``NaN``/``Infinity`` are not JSON, and the harness
    never writes them: missing values are ``null``), each problem one line naming the file (and
    the field)."""
    from harness.input_files import read_bytes

    try:
        raw = read_bytes(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"cannot read: not valid UTF-8 (byte {exc.start})",
            file=path,
            fix="re-run to regenerate it",
        ) from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"not valid JSON (line {exc.lineno})", file=path, fix="re-run to regenerate it"
        ) from None
    except RecursionError:
        raise UserError("nested too deeply", file=path, fix="re-run to regenerate it") from None
    found = _non_finite(data)
    if found is not None:
        raise UserError(
            f"not a finite number ({found[1]}): NaN and Infinity are not valid in a results file "
            "(the harness writes a missing value as null)",
            file=path,
            field=found[0],
            fix="the file was edited or damaged: re-run to regenerate it",
        )
    return data


def read_result(path: Path) -> RunResult:
    """Read a ``results.json`` (or a run folder holding one), refusing other schema versions."""
    if path.is_dir():
        path = path / "results.json"
    if not path.exists() and not path.is_symlink():
        raise UserError("no results.json here", file=path, fix="give a run folder")
    data = load_json_document(path)
    if not isinstance(data, dict) or "schema_version" not in data:
        raise UserError(
            "not a spec-harness results file",
            file=path,
            field="schema_version",
            fix="give a folder written by `harness run`",
        )
    version = data["schema_version"]
    if version != SCHEMA_VERSION:
        raise UserError(
            f"results schema version {version} is not supported (this harness reads version "
            f"{SCHEMA_VERSION})",
            file=path,
            field="schema_version",
            fix="re-run with this version of spec-harness or use the version that wrote it",
        )
    try:
        return RunResult.model_validate(data)
    except ValidationError as exc:
        from harness.validation import error_message

        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise UserError(
            f"does not match the results schema: {error_message(err)}",
            file=path,
            field=loc,
            fix="re-run to regenerate it",
        ) from None
