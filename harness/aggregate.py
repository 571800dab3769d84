"""The per-row summary of a run: means (and std) over seeds of every number a row reports, and
the spec summaries ``results.json`` lists."""

from __future__ import annotations

import numpy as np

from harness.analysis.collapse import collapse_summary, collapsed_seeds
from harness.analysis.stats import rounded
from harness.api import Spec
from harness.results import Aggregate, SeedResult, SpecInfo


def aggregate(seeds: list[SeedResult], specs: list[SpecInfo] | None = None) -> Aggregate:
    """Mean (and std) over the seeds that produced a model; with ``specs`` also the FR per
    suite and per label within each suite (:mod:`harness.analysis.suites`)."""
    from harness.analysis.suites import overall_case_fr, suite_aggregates

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
