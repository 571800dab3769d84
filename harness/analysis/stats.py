"""Statistics for honest numbers.

- :func:`wilson_interval`: a confidence interval for a failure rate.
- :func:`mcnemar_exact`: the exact McNemar test of two models on the same cases (a two-sided
  binomial test on the discordant pairs).
- :func:`mcnemar_across_seeds`: per-spec exact McNemar tests made at every seed, combined across
  seeds by an intersection-union test (see below).
- :func:`holm`: Holm's step-down adjustment of p-values for multiple comparisons.
- :func:`hierarchical_bootstrap`: a two-stage paired bootstrap (seeds, then templates within
  each spec) of the difference in the mean failure rate over specs; :func:`paired_bootstrap` is
  its one-seed case (templates only).
- :func:`spearman`: rank correlation with its p-value.

Why these two methods across seeds
----------------------------------
Every seed trains a new pair of models and scores them on the *same* held-out cases, so the
rows of ``samples.jsonl`` for one case at seeds 0, 1, 2 are not independent cases.

*Mean-FR difference.* Its uncertainty has two sources: which models the seeds happened to give
(seed-to-seed variance) and which templates the spec author happened to write (template
variance). :func:`hierarchical_bootstrap` resamples both, paired between the two models: in every
replicate it draws ``k`` seeds with replacement out of the ``k`` run seeds, and for every spec
it draws that spec's templates with replacement; the statistic is the mean over drawn seeds and
specs of the per-seed FR difference on the drawn templates. The template draw of a spec is
shared by the drawn seeds, because seeds and templates are *crossed* here (each seed scores the
same templates), not nested: drawing templates afresh for every drawn seed would divide the
template variance by the number of seeds, so the same seed run three times would look three
times as certain (``test_stats`` pins that duplicating a seed leaves the interval unchanged).
With one seed no seed is drawn and the bootstrap is exactly the template bootstrap of a single
run. With very few seeds (2-4) the seed variance is itself estimated from few values (the
bootstrap variance of a mean of ``k`` values is ``(k-1)/k`` of the usual estimate), so read such
intervals as approximate.

*Per-spec McNemar.* Pooling the discordant pairs of all seeds into one McNemar test would count
the same case once per seed as if it were a new case. Instead the exact McNemar test is made
per seed, and the seeds are combined by an *intersection-union* test (Berger 1982): a spec is
fixed (or broken) only when it is fixed (broken) at every seed; its p-value is twice the largest
of the per-seed one-sided p-values in the more favourable direction. This is a valid p-value
whatever the dependence between seeds (the same cases appear at every seed), needs no
independence assumption, and with one seed equals the two-sided exact McNemar p-value. Holm's
adjustment is then made across specs, as with one seed. The price is power: a spec must move
in the same direction at every seed to count, which is also what a reader of "fixed" expects.

scipy is imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def wilson_interval(failures: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``failures / n`` (``(0, 1)`` when ``n == 0``;
    counts may be means over seeds, hence floats).

    Closed form: ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` with ``z`` the normal
    quantile for ``confidence``; the same numbers as
    ``scipy.stats.binomtest(...).proportion_ci(method="wilson")``, without its per-call cost.
    """
    if n <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = failures / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if failures == 0 else max(0.0, centre - half)
    high = 1.0 if failures == n else min(1.0, centre + half)
    return low, high


def paired_difference_interval(
    both: float, a_only: float, b_only: float, n: float, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's score interval for the difference ``p_a - p_b`` of two proportions measured
    on the same ``n`` cases (Newcombe 1998, Stat Med 17:2635, method 10): ``both`` cases count
    for both, ``a_only`` for A alone, ``b_only`` for B alone. It combines the Wilson intervals
    of ``p_a`` and ``p_b`` with the correlation of the paired outcomes, stays within [-1, 1]
    and behaves at 0 and n, unlike the Wald interval. ``(-1, 1)`` when ``n == 0``."""
    if n <= 0:
        return -1.0, 1.0
    neither = max(0.0, n - both - a_only - b_only)
    pa, pb = (both + a_only) / n, (both + b_only) / n
    la, ua = wilson_interval(both + a_only, n, confidence)
    lb, ub = wilson_interval(both + b_only, n, confidence)
    margins = (both + a_only) * (b_only + neither) * (both + b_only) * (a_only + neither)
    cross = both * neither - a_only * b_only
    cross = cross - n / 2 if cross > n / 2 else min(cross, 0.0)  # Newcombe's correction
    phi = cross / math.sqrt(margins) if margins > 0 else 0.0
    delta = pa - pb
    low = delta - math.sqrt(
        max(0.0, (pa - la) ** 2 - 2 * phi * (pa - la) * (ub - pb) + (ub - pb) ** 2)
    )
    high = delta + math.sqrt(
        max(0.0, (ua - pa) ** 2 - 2 * phi * (ua - pa) * (pb - lb) + (pb - lb) ** 2)
    )
    return max(-1.0, low), min(1.0, high)


def rounded(value: float | None, digits: int = 6) -> float | None:
    """Round for stable JSON output (``None`` and NaN pass through as ``None``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def significant(value: float | None, digits: int = 4) -> float | None:
    """Round to ``digits`` significant digits (for p-values: tiny ones must not become 0)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(f"{float(value):.{digits}g}")


def format_p(value: float | None) -> str:
    """A p-value for display: three significant digits, scientific below 0.001."""
    if value is None:
        return "n/a"
    if value <= 0:
        return "<1e-06"  # stored rounded to zero
    return f"{value:.1e}" if value < 1e-3 else f"{value:.3g}"


def mcnemar_exact(broken: int, fixed: int) -> float:
    """Two-sided exact McNemar p-value from the two discordant counts.

    ``broken``: cases that model A fails and model B passes; ``fixed``: the reverse. Under the null
    hypothesis (both models fail equally often) each discordant case goes either way with
    probability 1/2, so the p-value is that of a two-sided binomial test of ``min(broken, fixed)``
    successes in ``broken + fixed`` trials: ``min(1, 2 * P(X <= min))`` (the binomial with
    p = 1/2 is symmetric). No discordant case gives ``1.0``.
    """
    if broken < 0 or fixed < 0:
        raise ValueError("discordant counts must be >= 0")
    return float(mcnemar_exact_many(np.array([broken]), np.array([fixed]))[0])


def mcnemar_exact_many(broken: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """:func:`mcnemar_exact` for arrays of discordant counts (one scipy call for all specs)."""
    from scipy.stats import binom

    broken = np.asarray(broken, dtype=np.int64)
    fixed = np.asarray(fixed, dtype=np.int64)
    n = broken + fixed
    p = np.minimum(1.0, 2.0 * binom.cdf(np.minimum(broken, fixed), np.maximum(n, 1), 0.5))
    return np.where(n == 0, 1.0, p)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values, in the input order (``None`` entries are skipped and
    stay ``None``; they do not count in the family size).

    With the ``m`` p-values sorted ascending, ``p_adj(i) = max_{j <= i} min(1, (m - j + 1) p(j))``.
    """
    present = [(p, i) for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    m = len(present)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(present, key=lambda item: (item[0], item[1]))):
        running = max(running, min(1.0, (m - rank) * float(p)))
        adjusted[i] = running
    return adjusted


def mcnemar_one_sided_many(wins: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """One-sided exact McNemar p-values that the first model is the better one: the chance of
    at least ``wins`` successes in ``wins + losses`` fair coin flips (``1.0`` with no discordant
    case). ``wins``: cases the first model passes and the second fails; ``losses``: the reverse.
    """
    from scipy.stats import binom

    wins = np.asarray(wins, dtype=np.int64)
    losses = np.asarray(losses, dtype=np.int64)
    n = wins + losses
    p = binom.sf(wins - 1, np.maximum(n, 1), 0.5)
    return np.where(n == 0, 1.0, np.minimum(1.0, p))


@dataclass
class SeedsMcNemar:
    """Per-spec McNemar tests combined across seeds (:func:`mcnemar_across_seeds`).

    ``p``: two-sided p-value per spec; ``direction``: ``"fixed"`` (A fails less), ``"broken"``
    (A fails more) or ``None`` (no evidence either way) per spec.
    """

    p: np.ndarray
    direction: list[str | None]


def mcnemar_across_seeds(
    broken: np.ndarray, fixed: np.ndarray, present: np.ndarray | None = None
) -> SeedsMcNemar:
    """Exact McNemar per spec and seed, combined across seeds by an intersection-union test.

    ``broken`` and ``fixed`` have shape ``(seeds, specs)``: at each seed, the cases model A fails
    and B passes, and the reverse. ``present`` (same shape, default all true) marks the seeds
    where a spec has cases at all; seeds without cases do not take part for that spec. For each
    spec and direction the per-seed one-sided p-values are combined by their maximum (the
    intersection-union test: significant only if significant at every seed); the two-sided
    p-value is twice the smaller of the two maxima (capped at 1). With one seed this is exactly
    :func:`mcnemar_exact`. See the module docstring for why the seeds are not pooled.
    """
    broken = np.atleast_2d(np.asarray(broken, dtype=np.int64))
    fixed = np.atleast_2d(np.asarray(fixed, dtype=np.int64))
    if broken.shape != fixed.shape:
        raise ValueError("broken and fixed must have the same shape")
    mask = np.ones(broken.shape, dtype=bool) if present is None else np.asarray(present, bool)
    p_fixed = np.where(mask, mcnemar_one_sided_many(fixed, broken), 0.0).max(axis=0)
    p_broken = np.where(mask, mcnemar_one_sided_many(broken, fixed), 0.0).max(axis=0)
    none = np.asarray(~mask.any(axis=0), dtype=bool)
    p = np.where(none, 1.0, np.minimum(1.0, 2.0 * np.minimum(p_fixed, p_broken)))
    direction: list[str | None] = []
    for f, b, missing in zip(p_fixed, p_broken, none, strict=True):
        direction.append(None if missing or f == b else ("fixed" if f < b else "broken"))
    return SeedsMcNemar(p=p, direction=direction)


@dataclass
class SpecPairs:
    """Paired outcomes of two models on one spec's held-out cases, by seed and cluster
    (template).

    ``diff[s, t]``: failures of A minus failures of B at seed ``s`` in cluster ``t``; ``n[s, t]``:
    the paired cases counted there. One-dimensional arrays mean one seed. A seed whose row of
    ``n`` is all zero has no cases for this spec (e.g. all were seen in training) and is left
    out of that spec's mean.
    """

    diff: np.ndarray
    n: np.ndarray


@dataclass
class BootstrapResult:
    """Bootstrap estimate of the difference of mean failure rates (A - B)."""

    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    n_boot: int


def _seed_rows(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr[None, :] if arr.ndim == 1 else arr


def hierarchical_bootstrap(
    specs: Sequence[SpecPairs],
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Two-stage paired bootstrap of ``mean over specs of (FR_A - FR_B)`` over seeds and
    templates.

    Every replicate draws ``k`` seeds with replacement (all specs share the draw: a seed is one
    trained pair of models) and, per spec, that spec's clusters (templates) with replacement
    (the drawn seeds share this draw: they score the same cases). A spec's value in a replicate
    is the mean over the drawn seeds of ``sum diff / sum n`` over its drawn clusters; the
    statistic is the mean over specs. Both models always get the same draw, so the pairing is
    kept. Returns the observed difference (mean over specs of the mean over seeds of the
    per-seed FR difference), a percentile interval and a two-sided p-value (twice the smaller
    tail share of draws on either side of zero, with the ``+1`` correction).

    With one seed no seed is drawn and the result is the template bootstrap of one run, number
    for number; ``k`` identical seeds give the one-seed result too (the template draws come
    from their own random stream). See the module docstring for the reasons.
    """
    diffs = [_seed_rows(s.diff) for s in specs]
    sizes = [_seed_rows(s.n) for s in specs]
    k = max((d.shape[0] for d in diffs), default=0)
    usable = [
        i
        for i, (d, m) in enumerate(zip(diffs, sizes, strict=True))
        if d.shape[1] and d.shape[0] == k and float(m.sum()) > 0
    ]
    if not usable:
        return BootstrapResult(0.0, 0.0, 0.0, 1.0, 0)
    observed_per_spec = []
    for i in usable:
        cases = sizes[i].sum(axis=1)
        rates = diffs[i].sum(axis=1)[cases > 0] / cases[cases > 0]
        observed_per_spec.append(float(np.mean(rates)))
    observed = float(np.mean(observed_per_spec))
    template_rng = np.random.default_rng(seed)
    if k > 1:  # seed weights: how often each seed is drawn in each replicate
        weights = np.random.default_rng([seed, 1]).multinomial(k, np.full(k, 1.0 / k), n_boot)
    else:
        weights = np.ones((n_boot, 1), dtype=np.int64)
    weights = weights.astype(float)
    total = np.zeros(n_boot)
    count = np.zeros(n_boot)
    by_size: dict[int, list[int]] = {}
    for i in usable:
        by_size.setdefault(diffs[i].shape[1], []).append(i)
    for t in sorted(by_size):  # specs with t clusters are resampled together, in chunks
        group = by_size[t]
        diff = np.stack([diffs[i].T for i in group])  # (specs, clusters, seeds)
        size = np.stack([sizes[i].T for i in group])
        chunk = max(1, 2_000_000 // (n_boot * t * k))
        for start in range(0, len(group), chunk):
            d, m = diff[start : start + chunk], size[start : start + chunk]
            draw = template_rng.integers(0, t, size=(n_boot, len(d), t))  # with replacement
            rows = np.arange(len(d))[None, :, None]
            cases = m[rows, draw].sum(axis=2)  # (n_boot, specs, seeds)
            present = cases > 0
            rate = np.divide(
                d[rows, draw].sum(axis=2), cases, out=np.zeros_like(cases), where=present
            )
            w = weights[:, None, :] * present
            seen = w.sum(axis=2)
            value = np.divide(
                (weights[:, None, :] * rate).sum(axis=2),
                seen,
                out=np.zeros_like(seen),
                where=seen > 0,
            )
            total += value.sum(axis=1)
            count += (seen > 0).sum(axis=1)
    valid = count > 0
    draws = total[valid] / count[valid]
    if not len(draws):
        return BootstrapResult(observed, observed, observed, 1.0, 0)
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1.0 - tail])
    n_valid = len(draws)
    if np.all(draws == 0) and observed == 0:
        p = 1.0
    else:
        below = (np.sum(draws <= 0) + 1) / (n_valid + 1)
        above = (np.sum(draws >= 0) + 1) / (n_valid + 1)
        p = float(min(1.0, 2 * min(below, above)))
    return BootstrapResult(observed, float(low), float(high), p, n_valid)


def paired_bootstrap(
    specs: Sequence[SpecPairs],
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Paired cluster bootstrap over templates of one seed: :func:`hierarchical_bootstrap` with
    one-dimensional :class:`SpecPairs` (clusters drawn with replacement within every spec, the
    same draw for both models)."""
    for s in specs:
        if np.asarray(s.diff).ndim != 1:
            raise ValueError("paired_bootstrap takes one seed; use hierarchical_bootstrap")
    return hierarchical_bootstrap(specs, n_boot=n_boot, seed=seed, confidence=confidence)


def spearman(x: Sequence[float], y: Sequence[float]) -> tuple[float, float] | None:
    """Spearman's rank correlation and its two-sided p-value; ``None`` when undefined (fewer than
    three points or a constant variable)."""
    if len(x) != len(y):
        raise ValueError("x and y must have the same length")
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    from scipy.stats import spearmanr

    res = spearmanr(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    rho, p = float(res.statistic), float(res.pvalue)
    if math.isnan(rho):
        return None
    return rho, p


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and (population) standard deviation, ``(None, None)`` for no values."""
    if not values:
        return None, None
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std())
