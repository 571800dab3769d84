"""Paired comparisons of two model rows of a run, and which rows are compared by default.

:func:`compare` tests model A against model B on the seeds both trained:

- per spec, the exact McNemar test at each seed on the same held-out cases, combined across
  seeds by an intersection-union test, with Holm's correction across specs
  (:func:`harness.analysis.stats.mcnemar_across_seeds`);
- for the mean failure rate over specs, a two-stage paired bootstrap over seeds and templates
  (:func:`harness.analysis.stats.hierarchical_bootstrap`; with one seed, over templates only);
- differences of test accuracy and macro-F1, means (and std) over seeds.

When a model trained on some held-out cases (``seen_by`` in ``samples.jsonl``), the comparison
uses only the cases that neither model trained on, at every seed, and says so (``cases``,
``n_seen_excluded``). Without ``samples.jsonl`` nothing can be paired: only differences of means
are reported (on each model's own unseen cases when the results record seen cases).
The ``method`` text of every entry states all of this for the reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.analysis.case_table import CaseTable
from harness.analysis.stats import (
    SpecPairs,
    hierarchical_bootstrap,
    holm,
    mcnemar_across_seeds,
    mean_std,
    rounded,
    significant,
)
from harness.api import ComparisonRole
from harness.results import ModelResult, RunResult, SeedResult

if TYPE_CHECKING:
    from harness.plugins import Registries

BASE = "M0"
N_BOOT = 2000
ALL_CASES = "all held-out cases"
UNSEEN_BY_BOTH = "held-out cases unseen by both models"
UNSEEN_EACH = "each model's own unseen held-out cases (not paired)"


RowRoles = dict[str, ComparisonRole]
"""Row id -> the :class:`~harness.api.ComparisonRole` its intervention declares (rows that
declare none are absent)."""


def trained(model: ModelResult) -> bool:
    """Whether the row produced a model at some seed."""
    return any(s.test is not None for s in model.seeds)


def declared_roles(result: RunResult, registries: Registries | None = None) -> RowRoles:
    """The :class:`~harness.api.ComparisonRole` each intervention row of a finished run
    declares: its intervention class (from ``registries``, built when not given) built with the
    row's recorded ``params`` and asked with the run's ``budget``. A row whose intervention is
    not installed here, or whose params no longer validate, declares none (it is compared with
    M0 only)."""
    from harness.errors import UserError
    from harness.validation import validate

    rows = [m for m in result.models if m.kind != "base" and m.intervention]
    if not rows:
        return {}
    if registries is None:
        from harness.plugins import load_registries

        registries = load_registries()
    budget = result.config.get("budget")
    roles: RowRoles = {}
    for model in rows:
        entry = registries.interventions.find(str(model.intervention))
        if entry is None:
            continue
        try:
            instance = entry.item(validate(entry.item.Args, model.params))
        except UserError:
            continue
        role = instance.comparison_role(budget if isinstance(budget, int) else None)
        if role is not None:
            roles[model.id] = role
    return roles


def guided_pairs(result: RunResult, roles: RowRoles) -> list[tuple[str, str, ComparisonRole]]:
    """``(guided, baseline, guided's role)`` row ids that the roles pair (same group, budget
    and pool sources), in row order, over rows that trained."""
    rows = [m.id for m in result.models if m.id in roles and trained(m)]
    return [
        (guided, baseline, roles[guided])
        for guided in rows
        for baseline in rows
        if roles[guided].pairs_with(roles[baseline])
    ]


def unpaired_guided(result: RunResult, roles: RowRoles) -> list[tuple[str, ComparisonRole]]:
    """Guided rows (that trained) which :func:`guided_pairs` pairs with no baseline."""
    paired = {guided for guided, _, _ in guided_pairs(result, roles)}
    return [
        (m.id, roles[m.id])
        for m in result.models
        if m.id in roles and roles[m.id].role == "guided" and trained(m) and m.id not in paired
    ]


def default_pairs(result: RunResult, roles: RowRoles | None = None) -> list[tuple[str, str, str]]:
    """``(a, b, kind)``: guided rows vs their baselines (``roles``: declared by the rows'
    interventions, :func:`declared_roles` when not given), then every intervention vs M0."""
    roles = declared_roles(result) if roles is None else roles
    pairs = [(g, b, role.comparison_kind) for g, b, role in guided_pairs(result, roles)]
    ids = {m.id for m in result.models}
    if BASE in ids:
        pairs += [(m.id, BASE, "vs-M0") for m in result.models if m.id != BASE and trained(m)]
    return pairs


def mcnemar_method(n_seeds: int) -> str:
    """How the per-spec tests are made, in words."""
    if n_seeds == 1:
        return "exact McNemar per spec on the same held-out cases, Holm across specs"
    return (
        "exact McNemar per spec at each seed on the same held-out cases, combined across seeds "
        "by an intersection-union test (twice the largest per-seed one-sided p: fixed or broken "
        "only if every seed moves the same way), Holm across specs"
    )


def bootstrap_method(n_seeds: int) -> str:
    """How the mean-FR interval and p-value are made, in words."""
    if n_seeds == 1:
        return (
            f"paired bootstrap of the mean FR difference over templates within each spec, "
            f"{N_BOOT} replicates (one seed: seed-to-seed variance not measured)"
        )
    return (
        f"two-stage paired bootstrap of the mean FR difference: the {n_seeds} seeds drawn with "
        "replacement, then each spec's templates with replacement (one draw shared by the drawn "
        f"seeds, which score the same cases), {N_BOOT} replicates"
    )


def resamples(n_seeds: int) -> str:
    """What the bootstrap p-value resamples, in a few words."""
    return "templates only (one seed)" if n_seeds == 1 else f"seeds and templates ({n_seeds} seeds)"


@dataclass
class _Paired:
    """Per-seed outcomes of one spec on the cases both models are compared on."""

    broken: np.ndarray  # (seeds,) cases A fails and B passes
    fixed: np.ndarray  # (seeds,) cases B fails and A passes
    n: np.ndarray  # (seeds,) cases compared
    fr_a: np.ndarray  # (seeds,) NaN where no case is left
    fr_b: np.ndarray
    clusters: SpecPairs


def _clusters(templates: list[str]) -> tuple[np.ndarray, int]:
    names = sorted(set(templates))
    if len(names) < 2:  # a single template gives no variance: fall back to cases
        return np.arange(len(templates)), len(templates)
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[t] for t in templates], dtype=np.int64), len(names)


def _paired(table: CaseTable, a: str, b: str, seeds: list[int], spec: str) -> _Paired:
    units, n_units = _clusters(table.templates[spec])
    fa = np.array([table.get(a, x, spec) for x in seeds])
    fb = np.array([table.get(b, x, spec) for x in seeds])
    masks = [table.unseen((a, b), x, spec) for x in seeds]
    mask = np.array([np.ones(fa.shape[1], bool) if m is None else m for m in masks])
    n = mask.sum(axis=1)
    diff = (fa.astype(float) - fb.astype(float)) * mask
    with np.errstate(invalid="ignore", divide="ignore"):
        fr_a = np.where(n > 0, (fa & mask).sum(axis=1) / n, np.nan)
        fr_b = np.where(n > 0, (fb & mask).sum(axis=1) / n, np.nan)
    clusters = SpecPairs(
        diff=np.array([np.bincount(units, weights=d, minlength=n_units) for d in diff]),
        n=np.array([np.bincount(units, weights=m.astype(float), minlength=n_units) for m in mask]),
    )
    return _Paired(
        broken=(fa & ~fb & mask).sum(axis=1),
        fixed=(~fa & fb & mask).sum(axis=1),
        n=n,
        fr_a=fr_a,
        fr_b=fr_b,
        clusters=clusters,
    )


def _unseen_scores(seed: SeedResult) -> dict[str, Any] | None:
    """The seed's FR on the held-out cases the model did not train on, when it trained on some
    (``heldout_unseen``, filled by the leakage check); ``None`` otherwise."""
    if not seed.n_seen:
        return None
    return dict(seed.heldout_unseen) or None


def _summary(
    columns: list[int],
    fr_a: np.ndarray,
    fr_b: np.ndarray,
    clusters: list[SpecPairs] | None,
    n_seeds: int,
) -> dict[str, Any]:
    """Mean FR of A and B over the specs ``columns``, their difference (std over seeds) and,
    when paired, the bootstrap."""
    out: dict[str, Any] = {"n_specs": len(columns)}
    a, b = fr_a[:, columns], fr_b[:, columns]
    spec_a, spec_b = _nanmean(a, axis=0), _nanmean(b, axis=0)
    keep = ~np.isnan(spec_a) & ~np.isnan(spec_b)
    if not keep.any():
        out.update(mean_fr_a=None, mean_fr_b=None, mean_fr_delta=None, mean_fr_delta_std=None)
        return out
    per_seed = _nanmean((a - b)[:, keep], axis=1)
    _, delta_std = mean_std([float(v) for v in per_seed if not np.isnan(v)])
    out.update(
        mean_fr_a=rounded(float(np.mean(spec_a[keep]))),
        mean_fr_b=rounded(float(np.mean(spec_b[keep]))),
        mean_fr_delta=rounded(float(np.mean(spec_a[keep] - spec_b[keep]))),
        mean_fr_delta_std=rounded(delta_std),
    )
    if clusters is not None:
        boot = hierarchical_bootstrap([clusters[i] for i in columns], n_boot=N_BOOT, seed=0)
        out["bootstrap"] = {
            "delta": rounded(boot.delta),
            "ci_low": rounded(boot.ci_low),
            "ci_high": rounded(boot.ci_high),
            "p": significant(boot.p_value),
            "n_boot": boot.n_boot,
            "unit": "template",
            "resamples": resamples(n_seeds),
            "n_seeds": n_seeds,
            "method": bootstrap_method(n_seeds),
        }
    return out


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean along ``axis`` ignoring NaN (NaN where nothing is left), without warnings."""
    known = ~np.isnan(values)
    count = known.sum(axis=axis)
    total = np.where(known, values, 0.0).sum(axis=axis)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def _metric_deltas(
    seeds_a: dict[int, SeedResult], seeds_b: dict[int, SeedResult], seeds: list[int], name: str
) -> tuple[float | None, float | None]:
    values = [
        float(getattr(seeds_a[x].test, name)) - float(getattr(seeds_b[x].test, name)) for x in seeds
    ]
    return mean_std(values)


def compare(
    result: RunResult,
    table: CaseTable | None,
    a_id: str,
    b_id: str,
    kind: str = "custom",
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Compare model ``a_id`` against ``b_id`` on the seeds both trained (negative deltas mean
    that ``a`` fails less). See the module docstring for the methods."""
    a, b = result.model(a_id), result.model(b_id)
    seeds_a = {s.seed: s for s in a.seeds if s.test is not None}
    seeds_b = {s.seed: s for s in b.seeds if s.test is not None}
    seeds = sorted(set(seeds_a) & set(seeds_b))
    entry: dict[str, Any] = {"a": a_id, "b": b_id, "kind": kind, "seeds": seeds}
    if not seeds:
        entry["skipped"] = "no seed where both models were trained"
        return entry
    spec_ids = [s.id for s in result.specs if all(s.id in seeds_a[x].heldout for x in seeds)]
    spec_ids = [i for i in spec_ids if all(i in seeds_b[x].heldout for x in seeds)]
    acc_mean, acc_std = _metric_deltas(seeds_a, seeds_b, seeds, "accuracy")
    f1_mean, f1_std = _metric_deltas(seeds_a, seeds_b, seeds, "macro_f1")
    k = len(seeds)
    paired = table is not None and all(
        table.get(m, x, i) is not None for m in (a_id, b_id) for x in seeds for i in spec_ids
    )
    fr_a = np.array([[seeds_a[x].heldout[i].fr for i in spec_ids] for x in seeds], dtype=float)
    fr_b = np.array([[seeds_b[x].heldout[i].fr for i in spec_ids] for x in seeds], dtype=float)
    fr_a, fr_b = fr_a.reshape(k, len(spec_ids)), fr_b.reshape(k, len(spec_ids))
    cases, n_excluded = ALL_CASES, 0
    per_spec: dict[str, dict[str, Any]] = {}
    clusters: list[SpecPairs] | None = None
    if paired and table is not None:
        found = [_paired(table, a_id, b_id, seeds, i) for i in spec_ids]
        clusters = [f.clusters for f in found]
        n_used = np.array([f.n for f in found]).T.reshape(k, len(spec_ids))
        n_excluded = k * sum(len(table.templates[i]) for i in spec_ids) - int(n_used.sum())
        if n_excluded:
            cases = UNSEEN_BY_BOTH
            fr_a = np.array([f.fr_a for f in found]).T.reshape(k, len(spec_ids))
            fr_b = np.array([f.fr_b for f in found]).T.reshape(k, len(spec_ids))
        broken = np.array([f.broken for f in found]).T.reshape(k, len(spec_ids))
        fixed = np.array([f.fixed for f in found]).T.reshape(k, len(spec_ids))
        tests = mcnemar_across_seeds(broken, fixed, present=n_used > 0)
        p_values: list[float | None] = [float(p) for p in tests.p]
    else:
        p_values = [None] * len(spec_ids)
        unseen = [
            [_unseen_scores(seeds_a[x]) for x in seeds],
            [_unseen_scores(seeds_b[x]) for x in seeds],
        ]
        if any(u is not None for side in unseen for u in side):
            cases = UNSEEN_EACH
            for arr, side, rows in ((fr_a, unseen[0], seeds_a), (fr_b, unseen[1], seeds_b)):
                for r, (x, scores) in enumerate(zip(seeds, side, strict=True)):
                    for c, spec in enumerate(spec_ids):
                        score = (scores or rows[x].heldout).get(spec)
                        arr[r, c] = np.nan if score is None or not score.n else score.fr
    adjusted = holm(p_values)
    spec_a, spec_b = _nanmean(fr_a, axis=0), _nanmean(fr_b, axis=0)
    for c, spec in enumerate(spec_ids):
        known = not (np.isnan(spec_a[c]) or np.isnan(spec_b[c]))
        item: dict[str, Any] = {
            "fr_a": rounded(float(spec_a[c])) if known else None,
            "fr_b": rounded(float(spec_b[c])) if known else None,
            "delta": rounded(float(spec_a[c] - spec_b[c])) if known else None,
        }
        if paired:
            item.update(broken=int(broken[:, c].sum()), fixed=int(fixed[:, c].sum()))
            if k > 1 or n_excluded:
                item["per_seed"] = [
                    {
                        "seed": x,
                        "broken": int(broken[r, c]),
                        "fixed": int(fixed[r, c]),
                        "n": int(n_used[r, c]),
                    }
                    for r, x in enumerate(seeds)
                ]
            item["p"] = significant(p_values[c])
        p_adj = adjusted[c]
        item["p_holm"] = significant(p_adj)
        direction = tests.direction[c] if paired else None
        item["status"] = (
            None
            if p_adj is None
            else (direction if p_adj < alpha and direction is not None else "unchanged")
        )
        per_spec[spec] = item
    overall = _summary(list(range(len(spec_ids))), fr_a, fr_b, clusters, k)
    entry.update(
        test_accuracy_delta=rounded(acc_mean),
        test_accuracy_delta_std=rounded(acc_std),
        macro_f1_delta=rounded(f1_mean),
        macro_f1_delta_std=rounded(f1_std),
        mean_fr_a=overall["mean_fr_a"],
        mean_fr_b=overall["mean_fr_b"],
        mean_fr_delta=overall["mean_fr_delta"],
        mean_fr_delta_std=overall["mean_fr_delta_std"],
        paired=paired,
        alpha=alpha,
        cases=cases,
        n_seen_excluded=n_excluded,
        method=(
            f"{mcnemar_method(k)}; {bootstrap_method(k)}"
            if paired
            else "not paired (no per-case predictions): differences of mean FR only, no test"
        ),
        n_fixed=sum(1 for i in spec_ids if per_spec[i]["status"] == "fixed"),
        n_broken=sum(1 for i in spec_ids if per_spec[i]["status"] == "broken"),
        specs=per_spec,
    )
    if "bootstrap" in overall:
        entry["bootstrap"] = overall["bootstrap"]
    suites = _suite_columns(result, spec_ids)
    if len(suites) > 1:
        entry["by_suite"] = {}
        for suite, columns in suites.items():
            summary = _summary(columns, fr_a, fr_b, clusters, k)
            summary["n_fixed"] = sum(
                1 for c in columns if per_spec[spec_ids[c]]["status"] == "fixed"
            )
            summary["n_broken"] = sum(
                1 for c in columns if per_spec[spec_ids[c]]["status"] == "broken"
            )
            entry["by_suite"][suite] = summary
    return entry


def _suite_columns(result: RunResult, spec_ids: list[str]) -> dict[str, list[int]]:
    suite_of = {s.id: s.suite for s in result.specs}
    out: dict[str, list[int]] = {}
    for c, spec in enumerate(spec_ids):
        out.setdefault(suite_of[spec], []).append(c)
    return out
