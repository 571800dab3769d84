"""Analysis of finished runs: comparisons, checks and pre-training signals.

The package holds the statistics (:mod:`~harness.analysis.stats`), per-case tables read from
``samples.jsonl`` (:mod:`~harness.analysis.case_table`), comparisons of two rows
(:mod:`~harness.analysis.comparisons`), the checks a run is judged by
(:mod:`~harness.analysis.checks`), per-suite aggregates (:mod:`~harness.analysis.suites`),
collapse flags (:mod:`~harness.analysis.collapse`) and the pairing of runs that share M0
(:mod:`~harness.analysis.pairing`).

The runner calls :func:`analyse` on every finished result with the per-case rows it writes to
``samples.jsonl``; ``harness report`` calls it on runs written without analysis and on runs it
pairs. Reports read what it adds:

- ``comparisons`` (:mod:`harness.analysis.comparisons`): for each pair (default: each guided row
  against its baseline, as the interventions declare (:class:`harness.api.ComparisonRole`:
  a guided retrain against the random retrain at the same budget), then each intervention
  against M0) per-spec exact McNemar tests per seed, combined across seeds by an
  intersection-union test, Holm across specs; a two-stage paired bootstrap over seeds and
  templates for the mean failure rate; means (with std) over seeds; only cases unseen by both
  models when a model trained on held-out cases.
- ``checks`` (:mod:`harness.analysis.checks`): a one-seed warning, guards on every
  intervention's test accuracy and macro-F1, and the expected-outcome check of DESIGN.md
  section 1.
- ``signals``: Spearman correlation between a selection's per-spec coverage (a signal available
  before training) and the per-spec failure-rate drop against M0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from harness.analysis.case_table import CaseTable, case_table
from harness.analysis.checks import check_settings, expected_outcome, run_checks
from harness.analysis.comparisons import (
    BASE,
    RowRoles,
    compare,
    declared_roles,
    default_pairs,
    guided_pairs,
)
from harness.analysis.stats import rounded, significant, spearman
from harness.results import RunResult

__all__ = [
    "BASE",
    "CaseTable",
    "analyse",
    "case_table",
    "compare",
    "coverage_signals",
    "declared_roles",
    "default_pairs",
    "expected_outcome",
    "guided_pairs",
]


def coverage_signals(result: RunResult) -> list[dict[str, Any]]:
    """Spearman between each intervention's per-spec coverage (``changes["coverage"]``) and the
    per-spec FR drop against M0 (``FR(M0) - FR(model)``), over the seeds both trained."""
    if BASE not in {m.id for m in result.models}:
        return []
    base = {s.seed: s for s in result.model(BASE).seeds if s.test is not None}
    signals: list[dict[str, Any]] = []
    for model in result.models:
        if model.id == BASE:
            continue
        seeds = [
            s
            for s in model.seeds
            if s.test is not None and s.seed in base and isinstance(s.changes.get("coverage"), dict)
        ]
        if not seeds:
            continue
        for signal in ("mean_similarity", "n"):
            xs: list[float] = []
            ys: list[float] = []
            points: dict[str, list[float | None]] = {}
            for spec in result.specs:
                values = [s.changes["coverage"].get(spec.id, {}).get(signal) for s in seeds]
                drops = [
                    base[s.seed].heldout[spec.id].fr - s.heldout[spec.id].fr
                    for s in seeds
                    if spec.id in s.heldout and spec.id in base[s.seed].heldout
                ]
                if any(v is None for v in values) or len(drops) != len(seeds):
                    continue
                x, y = float(np.mean(values)), float(np.mean(drops))
                xs.append(x)
                ys.append(y)
                points[spec.id] = [rounded(x), rounded(y)]
            if not xs:
                continue
            rho = spearman(xs, ys)
            signals.append(
                {
                    "model": model.id,
                    "signal": f"coverage.{signal}",
                    "target": "fr_drop_vs_M0",
                    "n_specs": len(xs),
                    "rho": rounded(rho[0]) if rho else None,
                    "p": significant(rho[1]) if rho else None,
                    "points": points,
                }
            )
    return signals


def analyse(
    result: RunResult,
    samples: Iterable[dict[str, Any]] | None = None,
    pairs: list[tuple[str, str, str]] | None = None,
    roles: RowRoles | None = None,
) -> RunResult:
    """Return ``result`` with ``comparisons``, ``checks`` and ``signals`` filled in.

    ``samples``: the rows of ``samples.jsonl`` (needed for the paired tests; without them only
    the differences of means are reported). ``pairs``: ``(a, b, kind)`` to compare instead of
    :func:`default_pairs`. ``roles``: how each row pairs, as its intervention declares
    (:func:`harness.analysis.comparisons.declared_roles` of the result when not given).
    """
    alpha = check_settings(result).alpha
    table = case_table(samples) if samples is not None else None
    ids = {m.id for m in result.models}
    roles = declared_roles(result) if roles is None else roles
    comparisons = [
        compare(result, table, a, b, kind, alpha)
        for a, b, kind in (pairs if pairs is not None else default_pairs(result, roles))
        if a in ids and b in ids
    ]
    return result.model_copy(
        update={
            "comparisons": comparisons,
            "checks": run_checks(result, comparisons, roles),
            "signals": coverage_signals(result),
        }
    )
