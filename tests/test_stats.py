"""The statistics, pinned against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.stats import (
    SpecPairs,
    holm,
    mcnemar_exact,
    mcnemar_exact_many,
    mean_std,
    paired_bootstrap,
    spearman,
    wilson_interval,
)


def _wilson_by_hand(failures: int, n: int, z: float) -> tuple[float, float]:
    p = failures / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return centre, half


def test_wilson_interval_matches_the_closed_form() -> None:
    # 3 failures in 10, z = 1.959964: centre (0.3 + z^2/20) / (1 + z^2/10) = 0.355507,
    # half-width z * sqrt(0.3 * 0.7 / 10 + z^2 / 400) / (1 + z^2/10) = 0.247715.
    low, high = wilson_interval(3, 10)
    assert low == pytest.approx(0.107791, abs=1e-6)
    assert high == pytest.approx(0.603222, abs=1e-6)
    z = 1.959963984540054
    centre, half = _wilson_by_hand(3, 10, z)
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-12)
    # 0 failures in 10: the lower bound is 0, the upper 2 * (z^2/20) / (1 + z^2/10) = 0.277533.
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12)
    assert high == pytest.approx(0.277533, abs=1e-6)
    # symmetric: 10 of 10 mirrors 0 of 10
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(1 - 0.277533, abs=1e-6)
    assert high == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_exact_mcnemar_is_a_two_sided_binomial_test_on_discordant_pairs() -> None:
    # b=1, c=9: 2 * P(X <= 1 | n=10, 1/2) = 2 * (1 + 10) / 1024
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024, abs=1e-12)
    assert mcnemar_exact(9, 1) == pytest.approx(22 / 1024, abs=1e-12)
    # b=0, c=5: 2 * (1/32)
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32, abs=1e-12)
    # b=2, c=8: 2 * (1 + 10 + 45) / 1024
    assert mcnemar_exact(2, 8) == pytest.approx(112 / 1024, abs=1e-12)
    # balanced discordance and no discordance give 1
    assert mcnemar_exact(3, 3) == pytest.approx(1.0)
    assert mcnemar_exact(0, 0) == 1.0
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def test_holm_step_down_adjustment() -> None:
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> max(0.06, 0.04) = 0.06
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # capped at 1, None skipped and not counted in the family size
    assert holm([0.5, None, 0.4]) == pytest.approx([0.8, None, 0.8])
    assert holm([]) == []
    assert holm([0.2]) == pytest.approx([0.2])


def test_spearman_against_hand_computed_ranks() -> None:
    # ranks of y = [1, 2, 3.5, 5, 3.5]; rho = 8 / sqrt(10 * 9.5)
    rho, p = spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])  # type: ignore[misc]
    assert rho == pytest.approx(8 / math.sqrt(95), abs=1e-9)
    assert 0 < p < 1
    assert spearman([1, 2], [2, 1]) is None
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_paired_bootstrap_distribution_of_two_clusters() -> None:
    # one spec, two templates of one case: A fixes the first, ties the second -> diff [-1, 0].
    # Draws: (2,0) -> -1 (p 1/4), (1,1) -> -1/2 (p 1/2), (0,2) -> 0 (p 1/4).
    pairs = [SpecPairs(diff=np.array([-1.0, 0.0]), n=np.array([1.0, 1.0]))]
    result = paired_bootstrap(pairs, n_boot=20000, seed=1)
    assert result.delta == pytest.approx(-0.5)
    assert result.ci_low == pytest.approx(-1.0)
    assert result.ci_high == pytest.approx(0.0)
    # share of draws >= 0 is about 1/4, so p is about 2 * 1/4
    assert result.p_value == pytest.approx(0.5, abs=0.03)


def test_paired_bootstrap_identical_models_and_clear_improvement() -> None:
    same = [SpecPairs(diff=np.zeros(3), n=np.full(3, 10.0)) for _ in range(4)]
    result = paired_bootstrap(same)
    assert (result.delta, result.ci_low, result.ci_high, result.p_value) == (0.0, 0.0, 0.0, 1.0)
    better = [SpecPairs(diff=np.array([-5.0, -6.0, -4.0]), n=np.full(3, 10.0)) for _ in range(4)]
    result = paired_bootstrap(better, n_boot=999)
    assert result.delta == pytest.approx(-0.5)
    assert result.ci_high < 0
    assert result.p_value == pytest.approx(2 / 1000)  # (0 + 1) / (999 + 1), two-sided
    # deterministic for a given seed
    assert paired_bootstrap(better, n_boot=999) == result


def test_mean_std() -> None:
    assert mean_std([1.0, 3.0]) == (2.0, 1.0)
    assert mean_std([]) == (None, None)


def test_fast_forms_agree_with_scipy_binomtest() -> None:
    from scipy.stats import binomtest

    for n in (1, 2, 7, 30, 101):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            ci = binomtest(k, n).proportion_ci(method="wilson")
            assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-9)
    for broken in range(0, 25, 3):
        for fixed in range(0, 25, 4):
            if broken + fixed == 0:
                continue
            expected = binomtest(min(broken, fixed), broken + fixed, 0.5).pvalue
            assert mcnemar_exact(broken, fixed) == pytest.approx(expected, rel=1e-9)
    many = mcnemar_exact_many(np.array([1, 0, 3, 0]), np.array([9, 5, 3, 0]))
    assert many == pytest.approx([22 / 1024, 2 / 32, 1.0, 1.0])
