"""Sufficient statistics agree with numpy on raw per-user data and merge by addition."""

import math

import numpy as np
import pytest

from movierec.errors import DataError
from movierec.stats.statistics import ErrorCode, RatioStats, SampleMeanStats

# The arrays of gbstats' tests/test_shared_models.py (growthbook/growthbook, packages/stats).
METRIC_1 = np.array([0.3, 0.5, 0.9, 22])
METRIC_3 = np.array([2, 1, 5, 3])


def test_sample_mean_matches_numpy():
    x = np.random.default_rng(0).lognormal(size=1001)
    stats = SampleMeanStats.from_arrays(x)
    assert stats.n == 1001
    assert stats.mean == pytest.approx(np.mean(x), rel=1e-12)
    assert stats.variance == pytest.approx(np.var(x, ddof=1), rel=1e-10)
    assert stats.error is None


def test_ratio_covariance_matches_gbstats_example():
    stats = RatioStats.from_arrays(METRIC_1, METRIC_3)
    assert stats.covariance == pytest.approx(np.cov(METRIC_1, METRIC_3)[0, 1], rel=1e-12)


def test_ratio_variance_is_variance_of_linearised_values():
    rng = np.random.default_rng(1)
    d = rng.geometric(0.2, size=5000).astype(float)
    m = rng.binomial(d.astype(int), rng.beta(1, 9, size=5000)).astype(float)
    stats = RatioStats.from_arrays(m, d)
    ratio = m.sum() / d.sum()
    assert stats.mean == pytest.approx(ratio, rel=1e-12)
    linearised = (m - ratio * d) / d.mean()
    assert stats.variance == pytest.approx(np.var(linearised, ddof=1), rel=1e-9)


@pytest.mark.parametrize("cut", [1, 17, 500])
def test_daily_aggregates_merge_by_addition(cut):
    rng = np.random.default_rng(cut)
    x, d = rng.normal(size=800), rng.poisson(3, size=800) + 1.0
    merged = SampleMeanStats.from_arrays(x[:cut]) + SampleMeanStats.from_arrays(x[cut:])
    whole = SampleMeanStats.from_arrays(x)
    assert merged.n == whole.n
    assert merged.mean == pytest.approx(whole.mean, rel=1e-12)
    assert merged.variance == pytest.approx(whole.variance, rel=1e-10)
    rmerged = RatioStats.from_arrays(x[:cut], d[:cut]) + RatioStats.from_arrays(x[cut:], d[cut:])
    rwhole = RatioStats.from_arrays(x, d)
    assert rmerged.mean == pytest.approx(rwhole.mean, rel=1e-12)
    assert rmerged.variance == pytest.approx(rwhole.variance, rel=1e-10)


def test_empty_is_the_identity_of_addition():
    stats = SampleMeanStats.from_arrays([1.0, 2.0, 4.0])
    assert stats + SampleMeanStats.empty() == stats
    ratio = RatioStats.from_arrays([1, 0, 2], [3, 1, 4])
    assert RatioStats.empty() + ratio == ratio


@pytest.mark.parametrize(
    ("stats", "code"),
    [
        (SampleMeanStats.empty(), ErrorCode.NO_UNITS),
        (SampleMeanStats.from_arrays([3.0]), ErrorCode.TOO_FEW_UNITS),
        (SampleMeanStats.from_arrays([2.0, 2.0, 2.0]), ErrorCode.ZERO_VARIANCE),
        (RatioStats.empty(), ErrorCode.NO_UNITS),
        (RatioStats.from_arrays([1.0], [2.0]), ErrorCode.TOO_FEW_UNITS),
        (RatioStats.from_arrays([0.0, 0.0], [0.0, 0.0]), ErrorCode.ZERO_DENOMINATOR),
        (RatioStats.from_arrays([1.0, 2.0], [2.0, 4.0]), ErrorCode.ZERO_VARIANCE),
    ],
)
def test_degenerate_inputs_carry_an_error_code_instead_of_raising(stats, code):
    assert stats.error is code
    assert math.isfinite(stats.mean) and math.isfinite(stats.variance)


def test_invalid_inputs_raise_data_error():
    with pytest.raises(DataError, match="non-negative integer"):
        SampleMeanStats(n=-1, sum=0.0, sum_squares=0.0)
    with pytest.raises(DataError, match="finite"):
        SampleMeanStats(n=3, sum=float("nan"), sum_squares=1.0)
    with pytest.raises(DataError, match="one value per user"):
        RatioStats.from_arrays([1, 2, 3], [1, 2])
    with pytest.raises(TypeError):
        SampleMeanStats.from_arrays([1.0, 2.0]) + RatioStats.from_arrays([1, 2], [1, 2])
