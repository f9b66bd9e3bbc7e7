"""Fixed-horizon tests agree with statsmodels, scipy and GrowthBook's published values."""

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from movierec.errors import ConfigError, DataError
from movierec.stats.frequentist import two_sample_test
from movierec.stats.statistics import ErrorCode, RatioStats, SampleMeanStats

TOL = {"rel": 1e-8, "abs": 1e-10}


def _samples(seed):
    rng = np.random.default_rng(seed)
    a = rng.gamma(2.0, 1.5, size=int(rng.integers(30, 3000)))
    b = rng.gamma(2.1, 1.6, size=int(rng.integers(30, 3000)))
    return a, b


@pytest.mark.parametrize("seed", range(6))
def test_welch_matches_statsmodels_and_scipy(seed):
    a, b = _samples(seed)
    result = two_sample_test(
        SampleMeanStats.from_arrays(a), SampleMeanStats.from_arrays(b), difference="absolute"
    )
    t, p, df = ttest_ind(b, a, usevar="unequal")
    assert result.p_value == pytest.approx(p, **TOL)
    assert result.df == pytest.approx(df, **TOL)
    assert result.lift_abs / result.se_abs == pytest.approx(t, **TOL)
    assert result.p_value == pytest.approx(sps.ttest_ind(b, a, equal_var=False).pvalue, **TOL)
    compare = CompareMeans(DescrStatsW(b), DescrStatsW(a))
    assert result.ci_abs == pytest.approx(compare.tconfint_diff(usevar="unequal"), **TOL)


@pytest.mark.parametrize("seed", range(6))
def test_z_test_matches_statsmodels(seed):
    a, b = _samples(seed)
    result = two_sample_test(
        SampleMeanStats.from_arrays(a),
        SampleMeanStats.from_arrays(b),
        difference="absolute",
        test="z",
        alpha=0.1,
    )
    compare = CompareMeans(DescrStatsW(b), DescrStatsW(a))
    _, p = compare.ztest_ind(usevar="unequal")
    assert result.p_value == pytest.approx(p, **TOL)
    assert result.ci_abs == pytest.approx(compare.zconfint_diff(alpha=0.1, usevar="unequal"), **TOL)


@pytest.mark.parametrize("seed", range(4))
def test_ratio_metric_is_welch_on_linearised_per_user_values(seed):
    # The delta method says a ratio of sums behaves like the mean of the per-user
    # values R + (m_i − R d_i)/d̄, which have mean R and variance s²_R exactly.
    rng = np.random.default_rng(100 + seed)
    arms = []
    for lift in (0.0, 0.08):
        d = rng.geometric(0.2, size=4000)
        m = rng.binomial(d, np.minimum(1, rng.beta(1, 9, size=4000) * (1 + lift)))
        arms.append((m.astype(float), d.astype(float)))
    (ma, da), (mb, db) = arms
    result = two_sample_test(
        RatioStats.from_arrays(ma, da), RatioStats.from_arrays(mb, db), difference="absolute"
    )

    def linearised(m, d):
        r = m.sum() / d.sum()
        return r + (m - r * d) / d.mean()

    _, p, df = ttest_ind(linearised(mb, db), linearised(ma, da), usevar="unequal")
    assert result.p_value == pytest.approx(p, **TOL)
    assert result.df == pytest.approx(df, **TOL)
    assert result.lift_abs == pytest.approx(mb.sum() / db.sum() - ma.sum() / da.sum(), **TOL)


# Golden values from gbstats' packages/stats/tests/frequentist/test_tests.py
# (growthbook/growthbook, TestTwoSidedTTest.test_two_sided_ttest and _absolute), 5 decimals.
GB_A = SampleMeanStats(n=3407, sum=1396.87, sum_squares=52377.9767)
GB_B = SampleMeanStats(n=3461, sum=2422.7, sum_squares=134698.29)


def test_relative_lift_matches_gbstats():
    result = two_sample_test(GB_A, GB_B, difference="relative")
    assert round(result.lift_rel, 5) == 0.70732
    assert round(result.se_rel, 5) == 0.37879
    assert tuple(round(x, 5) for x in result.ci_rel) == (-0.03526, 1.44989)
    assert round(result.p_value, 5) == 0.06191
    assert not result.significant


def test_absolute_lift_matches_gbstats():
    result = two_sample_test(GB_A, GB_B, difference="absolute")
    assert round(result.lift_abs, 5) == 0.29
    assert round(result.se_abs, 5) == 0.12478
    assert tuple(round(x, 5) for x in result.ci_abs) == (0.04538, 0.53462)
    assert round(result.p_value, 5) == 0.02016
    assert result.significant


def test_relative_ci_covers_the_true_lift_at_the_nominal_rate():
    # 1000 experiments with a true +10% lift in the mean: the 90% relative CI must
    # cover 0.10 about 900 times (binomial SE 9.5; allow 4 SE).
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(1000):
        a = rng.exponential(2.0, size=400)
        b = rng.exponential(2.2, size=400)
        lo, hi = two_sample_test(
            SampleMeanStats.from_arrays(a), SampleMeanStats.from_arrays(b), alpha=0.1
        ).ci_rel
        covered += lo <= 0.1 <= hi
    assert abs(covered - 900) <= 38


def test_tiny_p_values_are_not_rounded_to_zero():
    # z is about 10 here: 1 - cdf(z) is exactly 0.0 in floating point, sf(z) is not.
    a = SampleMeanStats.from_arrays(np.random.default_rng(3).normal(0.0, 1, 5000))
    b = SampleMeanStats.from_arrays(np.random.default_rng(4).normal(0.2, 1, 5000))
    for test in ("z", "welch"):
        assert 0 < two_sample_test(a, b, difference="absolute", test=test).p_value < 1e-15


@pytest.mark.parametrize(
    ("control", "treatment", "code"),
    [
        (SampleMeanStats.empty(), GB_B, ErrorCode.NO_UNITS),
        (SampleMeanStats.from_arrays([1.0]), GB_B, ErrorCode.TOO_FEW_UNITS),
        (GB_A, SampleMeanStats.from_arrays([5.0] * 10), ErrorCode.ZERO_VARIANCE),
        (SampleMeanStats.from_arrays([-1.0, 1.0]), GB_B, ErrorCode.ZERO_BASELINE),
        (
            RatioStats.from_arrays([0, 0], [0, 0]),
            RatioStats.from_arrays([1, 2], [3, 3]),
            ErrorCode.ZERO_DENOMINATOR,
        ),
    ],
)
def test_degenerate_data_gives_a_neutral_result_with_an_error(control, treatment, code):
    result = two_sample_test(control, treatment)
    assert result.error is code
    assert result.p_value == 1.0
    assert result.ci_rel == (0.0, 0.0) and result.ci_abs == (0.0, 0.0)
    assert not result.significant


def test_bad_arguments_raise():
    with pytest.raises(DataError, match="both be SampleMeanStats or both RatioStats"):
        two_sample_test(GB_A, RatioStats.from_arrays([1, 2], [3, 4]))
    with pytest.raises(ConfigError, match="alpha"):
        two_sample_test(GB_A, GB_B, alpha=1.5)
    with pytest.raises(ConfigError, match="difference"):
        two_sample_test(GB_A, GB_B, difference="ratio")
    with pytest.raises(ConfigError, match="test"):
        two_sample_test(GB_A, GB_B, test="mann-whitney")
