"""Statistics for honest numbers.

- :func:`wilson_interval`: a confidence interval for a failure rate.
- :func:`mcnemar_exact`: the exact McNemar test of two models on the same cases (a two-sided
  binomial test on the discordant pairs).
- :func:`holm`: Holm's step-down adjustment of p-values for multiple comparisons.
- :func:`paired_bootstrap`: a paired cluster bootstrap (clusters = templates) of the difference in
  the mean failure rate over specs.
- :func:`spearman`: rank correlation with its p-value.

scipy is imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def wilson_interval(failures: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``failures / n`` (``(0, 1)`` when ``n == 0``).

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


@dataclass
class SpecPairs:
    """Paired outcomes of two models on one spec's held-out cases, by cluster (template).

    ``diff[t]``: failures of A minus failures of B in cluster ``t`` (summed over seeds);
    ``n[t]``: case predictions in cluster ``t`` (cases x seeds).
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


def paired_bootstrap(
    specs: Sequence[SpecPairs],
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Paired cluster bootstrap of ``mean over specs of (FR_A - FR_B)``.

    Within every spec, clusters (templates) are drawn with replacement, the same draw for both
    models (so the pairing is kept); the statistic is the mean over specs of the FR difference.
    Returns the observed difference, a percentile interval and a two-sided p-value (twice the
    smaller tail share of draws on either side of zero, with the ``+1`` correction).
    """
    usable = [s for s in specs if len(s.n) and float(np.sum(s.n)) > 0]
    if not usable:
        return BootstrapResult(0.0, 0.0, 0.0, 1.0, 0)
    rng = np.random.default_rng(seed)
    observed = float(np.mean([np.sum(s.diff) / np.sum(s.n) for s in usable]))
    total = np.zeros(n_boot)
    by_size: dict[int, list[SpecPairs]] = {}
    for s in usable:
        by_size.setdefault(len(s.n), []).append(s)
    for k in sorted(by_size):  # specs with k clusters are resampled together, in chunks
        group = by_size[k]
        diff = np.stack([s.diff for s in group]).astype(float)
        size = np.stack([s.n for s in group]).astype(float)
        chunk = max(1, 2_000_000 // (n_boot * k))
        for start in range(0, len(group), chunk):
            d, m = diff[start : start + chunk], size[start : start + chunk]
            draw = rng.integers(0, k, size=(n_boot, len(d), k))  # k clusters with replacement
            rows = np.arange(len(d))[None, :, None]
            cases = m[rows, draw].sum(axis=2)
            delta = np.divide(
                d[rows, draw].sum(axis=2), cases, out=np.zeros_like(cases), where=cases > 0
            )
            total += delta.sum(axis=1)
    draws = total / len(usable)
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1.0 - tail])
    if np.all(draws == 0) and observed == 0:
        p = 1.0
    else:
        below = (np.sum(draws <= 0) + 1) / (n_boot + 1)
        above = (np.sum(draws >= 0) + 1) / (n_boot + 1)
        p = float(min(1.0, 2 * min(below, above)))
    return BootstrapResult(observed, float(low), float(high), p, n_boot)


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
