"""The statistics, pinned against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.analysis.stats import (
    SpecPairs,
    hierarchical_bootstrap,
    holm,
    mcnemar_across_seeds,
    mcnemar_exact,
    mcnemar_exact_many,
    mcnemar_one_sided_many,
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


def test_hierarchical_bootstrap_by_hand_on_two_seeds_and_two_templates() -> None:
    # One spec, two templates of one case, two seeds. Failures of A minus B:
    #   seed 0: template 0 -> -1, template 1 -> 0;   seed 1: both 0.
    # A replicate draws two seeds ({0,0} 1/4, {0,1} 1/2, {1,1} 1/4) and, shared by them, two
    # templates ({0,0} 1/4, {0,1} 1/2, {1,1} 1/4); its value is the mean over the drawn seeds
    # of the FR difference on the drawn templates:
    #   seeds {0,0}: -1 (1/4), -1/2 (1/2), 0 (1/4)
    #   seeds {0,1}: (seed 0's value + 0) / 2 -> -1/2 (1/4), -1/4 (1/2), 0 (1/4)
    #   seeds {1,1}: 0
    # so P(-1) = 1/16, P(-1/2) = 1/8 + 1/8 = 1/4, P(-1/4) = 1/4, P(0) = 1/16 + 1/8 + 1/4 = 7/16.
    pairs = [SpecPairs(diff=np.array([[-1.0, 0.0], [0.0, 0.0]]), n=np.ones((2, 2)))]
    result = hierarchical_bootstrap(pairs, n_boot=40000, seed=3)
    assert result.delta == pytest.approx(-0.25)  # mean over seeds of (-1/2, 0)
    assert (result.ci_low, result.ci_high) == (-1.0, 0.0)  # 1/16 > 2.5% sits on -1
    # two-sided p: 2 * P(draw >= 0) = 2 * 7/16
    assert result.p_value == pytest.approx(0.875, abs=0.01)
    # an 50% interval: the 25% quantile is -1/2 (cumulative 1/16 + 1/4), the 75% one is 0
    half = hierarchical_bootstrap(pairs, n_boot=40000, seed=3, confidence=0.5)
    assert (half.ci_low, half.ci_high) == (-0.5, 0.0)
    # Pooling the seeds and resampling templates only (the old method) ignores that the two
    # seeds disagree: template sums -1 and 0 over 2 cases -> -1/2, -1/4, 0 with 1/4, 1/2, 1/4.
    pooled = paired_bootstrap(
        [SpecPairs(diff=np.array([-1.0, 0.0]), n=np.array([2.0, 2.0]))], n_boot=40000, seed=3
    )
    assert (pooled.ci_low, pooled.ci_high) == (-0.5, 0.0)
    assert pooled.p_value == pytest.approx(0.5, abs=0.01)


def _seeded_specs(spread: float, n_seeds: int = 4) -> list[SpecPairs]:
    """Three specs of four templates of ten cases; seed s shifts every template of every spec
    by ``offset[s] * spread`` failures (a seed is one trained model, shared by all specs); the
    offsets sum to zero, so the observed difference does not depend on ``spread``."""
    base = np.array([[-3.0, -2.0, -4.0, -1.0], [-1.0, 0.0, -2.0, -1.0], [-5.0, -3.0, -4.0, -2.0]])
    offsets = np.array([-1.0, 1.0, -1.0, 1.0])[:n_seeds]
    return [
        SpecPairs(diff=row[None, :] + spread * offsets[:, None], n=np.full((n_seeds, 4), 10.0))
        for row in base
    ]


def test_hierarchical_interval_widens_with_seed_variance() -> None:
    results = [hierarchical_bootstrap(_seeded_specs(v), n_boot=4000) for v in (0, 1, 2, 3)]
    widths = [r.ci_high - r.ci_low for r in results]
    # observed: mean over specs of -10/40, -4/40, -14/40 = -7/30, whatever the spread
    assert all(r.delta == pytest.approx(-7 / 30) for r in results)
    assert widths[0] < widths[1] < widths[2] < widths[3]
    p_values = [r.p_value for r in results]
    assert p_values[0] < 0.01 < p_values[3]
    # pooling the seeds hides the spread: the template-only bootstrap of the pooled counts is
    # the same for every spread (the offsets cancel in the sums) and as narrow as spread 0
    pooled = [
        paired_bootstrap([SpecPairs(diff=s.diff.sum(axis=0), n=s.n.sum(axis=0)) for s in specs])
        for specs in (_seeded_specs(0), _seeded_specs(3))
    ]
    assert pooled[0] == pooled[1]
    assert pooled[1].ci_high - pooled[1].ci_low < widths[3] / 2


def test_hierarchical_bootstrap_reduces_to_the_template_bootstrap() -> None:
    one = [SpecPairs(diff=s.diff[0], n=s.n[0]) for s in _seeded_specs(0, n_seeds=1)]
    single = paired_bootstrap(one, n_boot=999, seed=7)
    # the same seed four times is as certain as one seed, not twice as certain: the template
    # draw is shared by the drawn seeds (seeds and templates are crossed, not nested)
    repeated = [SpecPairs(diff=np.tile(s.diff, (4, 1)), n=np.tile(s.n, (4, 1))) for s in one]
    assert hierarchical_bootstrap(repeated, n_boot=999, seed=7) == single
    # one seed as a 1 x templates array is the same as the one-dimensional form
    as_rows = [SpecPairs(diff=s.diff[None, :], n=s.n[None, :]) for s in one]
    assert hierarchical_bootstrap(as_rows, n_boot=999, seed=7) == single
    with pytest.raises(ValueError):
        paired_bootstrap(repeated)


def test_hierarchical_bootstrap_leaves_out_seeds_without_cases() -> None:
    # seed 1 has no case of this spec left (e.g. every case was seen in training): the spec's
    # value is seed 0's alone, in the observed value and in every replicate
    pairs = [SpecPairs(diff=np.array([[-2.0, -1.0], [0.0, 0.0]]), n=np.array([[2.0, 2.0], [0, 0]]))]
    result = hierarchical_bootstrap(pairs, n_boot=2000)
    assert result.delta == pytest.approx(-0.75)
    assert (result.ci_low, result.ci_high) == (-1.0, -0.5)
    # replicates that draw seed 1 twice (1/4 of them) have no value and are not counted
    assert 1300 < result.n_boot < 1700


def test_mcnemar_across_seeds_is_an_intersection_union_test() -> None:
    # one-sided: P(X >= 5 | 5) = 1/32, P(X >= 6 | 7) = 8/128, P(X >= 0 | n) = 1
    assert mcnemar_one_sided_many(np.array([5, 6, 0, 0]), np.array([0, 1, 5, 0])) == (
        pytest.approx([1 / 32, 8 / 128, 1.0, 1.0])
    )
    # two seeds (rows) and three specs (columns); (broken, fixed) per seed:
    #   spec 0: (0, 5) and (1, 6) -> fixed at both seeds: p = 2 * max(1/32, 1/16) = 1/8
    #   spec 1: (0, 5) and (5, 0) -> fixed at one seed, broken at the other: p = 1, no direction
    #   spec 2: (4, 0) and (6, 1) -> broken at both seeds: p = 2 * max(1/16, 8/128) = 1/8
    broken = np.array([[0, 0, 4], [1, 5, 6]])
    fixed = np.array([[5, 5, 0], [6, 0, 1]])
    tests = mcnemar_across_seeds(broken, fixed)
    assert tests.p == pytest.approx([1 / 8, 1.0, 1 / 8])
    assert tests.direction == ["fixed", None, "broken"]
    # pooling the seeds as if they were new cases would claim far more: (1, 11) and (5, 5)
    assert mcnemar_exact(1, 11) == pytest.approx(2 * 13 / 4096)
    # one seed: the exact two-sided McNemar test
    for b, c in ((1, 9), (0, 5), (2, 8), (3, 3), (0, 0), (7, 2)):
        assert mcnemar_across_seeds(np.array([[b]]), np.array([[c]])).p[0] == pytest.approx(
            mcnemar_exact(b, c)
        )
    # a seed where the spec has no case left takes no part; none at all gives p = 1
    present = np.array([[True, True, False], [False, True, False]])
    tests = mcnemar_across_seeds(broken, fixed, present)
    assert tests.p == pytest.approx([2 / 32, 1.0, 1.0])
    assert tests.direction == ["fixed", None, None]
