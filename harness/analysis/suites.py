"""Per-suite headline numbers: held-out FR of each suite and of each label within it.

With several suites (e.g. 29 HateCheck functionalities and 82 HateModerate guideline halves) the
mean FR over all specs mixes them; these numbers keep them apart. Two figures per group, both
computed per seed and then averaged over seeds (with the standard deviation over seeds):

- ``case_fr`` (case-weighted): the group's held-out failures over its held-out cases, so a spec
  with more cases weighs more (the figure suites such as HateCheck report as accuracy);
- ``spec_mean_fr`` (spec-mean): the unweighted mean of the specs' FRs, every spec weighing the
  same (the run's ``mean_fr`` is this over all specs).

Specs without held-out cases have no FR and are left out of both. :func:`suite_aggregates`
fills ``Aggregate.suites`` in the runner; :func:`run_suite_aggregates` recomputes the same from
any :class:`~harness.results.RunResult` (also one written before the field existed), and
:func:`seed_suite_scores` gives the per-seed values behind them, for checks and comparisons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.analysis.stats import rounded
from harness.results import GroupFR, RunResult, SeedResult, SpecInfo, SpecScore, SuiteFR


@dataclass(frozen=True)
class GroupScore:
    """One seed's held-out FR of a group of specs."""

    n_specs: int
    n_cases: int
    failures: int
    case_fr: float | None
    spec_mean_fr: float | None


def specs_by_suite(specs: Sequence[SpecInfo]) -> dict[str, list[SpecInfo]]:
    """The specs of each suite, suites and specs in run order (a spec without a suite name
    goes to ``""``)."""
    groups: dict[str, list[SpecInfo]] = {}
    for spec in specs:
        groups.setdefault(spec.suite, []).append(spec)
    return groups


def group_score(scores: Sequence[SpecScore]) -> GroupScore:
    """Case-weighted and spec-mean FR of ``scores`` (specs without cases left out)."""
    present = [s for s in scores if s.n > 0]
    cases = sum(s.n for s in present)
    failures = sum(s.failures for s in present)
    return GroupScore(
        n_specs=len(present),
        n_cases=cases,
        failures=failures,
        case_fr=failures / cases if cases else None,
        spec_mean_fr=float(np.mean([s.failures / s.n for s in present])) if present else None,
    )


def seed_suite_scores(
    seed: SeedResult, specs: Sequence[SpecInfo]
) -> dict[str, tuple[GroupScore, dict[str, GroupScore]]]:
    """For one seed: ``{suite: (suite score, {label: score within the suite})}``."""
    out: dict[str, tuple[GroupScore, dict[str, GroupScore]]] = {}
    for suite, members in specs_by_suite(specs).items():
        held = [s for s in members if s.id in seed.heldout]
        labels: dict[str, list[SpecScore]] = {}
        for spec in held:
            labels.setdefault(spec.label, []).append(seed.heldout[spec.id])
        out[suite] = (
            group_score([seed.heldout[s.id] for s in held]),
            {label: group_score(scores) for label, scores in labels.items()},
        )
    return out


def _mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    known = [v for v in values if v is not None]
    if not known:
        return None, None
    return rounded(float(np.mean(known))), rounded(float(np.std(known)))


def _over_seeds(scores: Sequence[GroupScore]) -> GroupFR:
    case_fr, case_std = _mean_std([s.case_fr for s in scores])
    spec_fr, spec_std = _mean_std([s.spec_mean_fr for s in scores])
    first = scores[0]
    return GroupFR(
        n_specs=first.n_specs,
        n_cases=first.n_cases,
        case_fr=case_fr,
        case_fr_std=case_std,
        spec_mean_fr=spec_fr,
        spec_mean_fr_std=spec_std,
    )


def suite_aggregates(seeds: Sequence[SeedResult], specs: Sequence[SpecInfo]) -> dict[str, SuiteFR]:
    """Per suite (and per label within it): FR over the seeds that produced a model."""
    done = [s for s in seeds if s.test is not None]
    if not done:
        return {}
    per_seed = [seed_suite_scores(s, specs) for s in done]
    out: dict[str, SuiteFR] = {}
    for suite in per_seed[0]:
        total = _over_seeds([scores[suite][0] for scores in per_seed])
        labels = {
            label: _over_seeds([scores[suite][1][label] for scores in per_seed])
            for label in per_seed[0][suite][1]
        }
        out[suite] = SuiteFR(**total.model_dump(), labels=labels)
    return out


def overall_case_fr(seeds: Sequence[SeedResult]) -> tuple[float | None, float | None]:
    """Case-weighted held-out FR over every spec: mean and std over the trained seeds."""
    done = [s for s in seeds if s.test is not None]
    return _mean_std([group_score(list(s.heldout.values())).case_fr for s in done])


def run_suite_aggregates(result: RunResult) -> dict[str, dict[str, SuiteFR]]:
    """``{model id: {suite: SuiteFR}}`` for every model row of ``result`` that produced a
    model, recomputed from its seeds (the same numbers as ``aggregate.suites``)."""
    out: dict[str, dict[str, SuiteFR]] = {}
    for model in result.models:
        suites = suite_aggregates(model.seeds, result.specs)
        if suites:
            out[model.id] = suites
    return out
