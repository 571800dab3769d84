"""A leaderboard merged from many runs: one row per (run, model row), i.e. model x intervention.

The leaderboard is a versioned pydantic model (``harness report --format json`` writes it); the
Markdown and HTML reporters render it next to the per-run detail.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from harness.api import StrictModel
from harness.errors import UserError
from harness.report_views import drawn_counts, guard_flags
from harness.results import SCHEMA_VERSION, LeakageTotals, RunResult, SuiteFR

LEADERBOARD_VERSION = 1
"""Bumped on every incompatible change of :class:`Leaderboard`."""


class LeaderboardSpec(StrictModel):
    """One per-spec column: ``key`` is the spec id, or ``suite/id`` when two runs disagree about
    what a spec id means."""

    key: str
    id: str
    suite: str
    label: str
    description: str
    tags: list[str] = Field(default_factory=list)


class LeaderboardRun(StrictModel):
    """One merged run."""

    run_id: str
    task: str
    model: str
    model_args: dict[str, Any] = Field(default_factory=dict)
    harness_version: str
    seeds: list[int]
    check: str | None = Field(default=None, description="PASS, FAIL or SKIP (expected outcome)")
    checks: list[dict[str, Any]] = Field(
        default_factory=list,
        description="every check entry (id, kind, status, detail, ...): guards, expected outcome, "
        "the one-seed warning",
    )
    leakage: LeakageTotals | None = Field(
        default=None, description="held-out cases found in train, pool, D_i or test (totals)"
    )


class LeaderboardRow(StrictModel):
    """One model row of one run: M0 or an intervention, aggregated over seeds."""

    run_id: str
    task: str
    model: str
    row: str = Field(description="M0 or the intervention's label")
    intervention: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    n_seeds: int = 0
    accuracy: float | None = None
    accuracy_std: float | None = None
    macro_f1: float | None = None
    mcc: float | None = None
    mean_fr: float | None = None
    mean_fr_std: float | None = None
    worst_fr: float | None = None
    worst_spec: str | None = None
    mean_train_fr: float | None = None
    generalisation_gap: float | None = Field(
        default=None, description="mean FR on D_i_heldout minus mean FR on D_i"
    )
    seconds: float | None = None
    spec_fr: dict[str, float] = Field(default_factory=dict)
    case_fr: float | None = Field(
        default=None, description="case-weighted held-out FR over all specs (mean over seeds)"
    )
    suites: dict[str, SuiteFR] = Field(
        default_factory=dict,
        description="per suite (and per label within it): case-weighted and spec-mean FR",
    )
    skipped: str | None = None
    collapse: str | None = Field(
        default=None, description="set when the model collapsed on some seed (one line)"
    )
    flags: list[str] = Field(
        default_factory=list, description="failed guards, e.g. 'GUARD FAIL: acc -68.0 pt vs M0'"
    )
    n_seen: int = Field(default=0, description="held-out cases this row trained on (all seeds)")
    seen_fr: float | None = None
    unseen_mean_fr: float | None = Field(
        default=None, description="mean spec FR on the held-out cases this row did not train on"
    )
    added: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="examples added to training per source and label, means over seeds "
        "(pool sources, or D_i for augment)",
    )


class Leaderboard(StrictModel):
    """Rows of many runs, ranked by mean held-out spec FR within each task."""

    kind: Literal["spec-harness-leaderboard"] = "spec-harness-leaderboard"
    schema_version: int = LEADERBOARD_VERSION
    results_schema_version: int = SCHEMA_VERSION
    runs: list[LeaderboardRun] = Field(default_factory=list)
    specs: list[LeaderboardSpec] = Field(default_factory=list)
    rows: list[LeaderboardRow] = Field(default_factory=list)


def check_status(result: RunResult) -> str | None:
    """Overall check status of a run: FAIL if any entry fails (a guard or the expected
    outcome), else SKIP if the expected outcome could not be judged, else PASS if at least one
    entry passed; WARN entries (e.g. one seed) do not change it. ``None`` when never computed."""
    statuses = [c.get("status") for c in result.checks]
    if not statuses:
        return None
    for status in ("FAIL", "SKIP", "PASS"):
        if status in statuses:
            return status
    return "SKIP"


def build_leaderboard(runs: list[RunResult]) -> Leaderboard:
    """Merge ``runs`` into one leaderboard (a run id given twice is refused)."""
    from harness.analysis.suites import suite_aggregates

    board = Leaderboard()
    seen: set[str] = set()
    columns: dict[str, LeaderboardSpec] = {}
    for run in runs:
        if run.run_id in seen:
            raise UserError(
                f"run {run.run_id} is given twice",
                field="RUN_DIR",
                fix="give each run folder once",
            )
        seen.add(run.run_id)
        model_name = str(run.config.get("model", "?"))
        board.runs.append(
            LeaderboardRun(
                run_id=run.run_id,
                task=run.task.name,
                model=model_name,
                model_args=dict(run.config.get("model_args") or {}),
                harness_version=run.harness_version,
                seeds=run.seeds,
                check=check_status(run),
                checks=run.checks,
                leakage=run.leakage.total if run.leakage is not None else None,
            )
        )
        flags = guard_flags(run)
        added: dict[str, dict[str, dict[str, float]]] = {}
        for drawn in drawn_counts(run):
            if drawn.source != "all":
                added.setdefault(drawn.model, {})[drawn.source] = drawn.labels
        keys: dict[str, str] = {}
        for spec in run.specs:
            key = spec.id
            known = columns.get(key)
            if known is not None and (known.suite, known.label) != (spec.suite, spec.label):
                key = f"{spec.suite}/{spec.id}"
            keys[spec.id] = key
            if key not in columns:
                columns[key] = LeaderboardSpec(
                    key=key,
                    id=spec.id,
                    suite=spec.suite,
                    label=spec.label,
                    description=spec.description,
                    tags=spec.tags,
                )
        for model in run.models:
            agg = model.aggregate
            worst = max(agg.heldout_fr.items(), key=lambda kv: kv[1]) if agg.heldout_fr else None
            gap = (
                agg.mean_fr - agg.mean_train_fr
                if agg.mean_fr is not None and agg.mean_train_fr is not None
                else None
            )
            board.rows.append(
                LeaderboardRow(
                    run_id=run.run_id,
                    task=run.task.name,
                    model=model_name,
                    row=model.id,
                    intervention=model.intervention,
                    params=model.params,
                    n_seeds=sum(1 for s in model.seeds if s.test is not None),
                    accuracy=agg.accuracy,
                    accuracy_std=agg.accuracy_std,
                    macro_f1=agg.macro_f1,
                    mcc=agg.mcc,
                    mean_fr=agg.mean_fr,
                    mean_fr_std=agg.mean_fr_std,
                    worst_fr=agg.worst_fr,
                    worst_spec=worst[0] if worst else None,
                    mean_train_fr=agg.mean_train_fr,
                    generalisation_gap=None if gap is None else round(gap, 6),
                    seconds=run.timing.seconds.get(model.id),
                    spec_fr={keys[k]: v for k, v in agg.heldout_fr.items() if k in keys},
                    case_fr=agg.case_fr,
                    suites=agg.suites or suite_aggregates(model.seeds, run.specs),
                    skipped=model.skipped,
                    collapse=model.aggregate.collapse,
                    flags=[flags[model.id]] if model.id in flags else [],
                    n_seen=agg.n_seen,
                    seen_fr=agg.seen_fr,
                    unseen_mean_fr=agg.unseen_mean_fr,
                    added=added.get(model.id, {}),
                )
            )
    board.specs = list(columns.values())
    board.rows.sort(key=lambda r: (r.task, r.mean_fr is None, r.mean_fr or 0.0))
    return board
