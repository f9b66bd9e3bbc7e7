"""The Gaussian-mixture confidence sequence against GrowthBook's published values."""

import math

import numpy as np
import pytest

from movierec.errors import ConfigError
from movierec.stats.frequentist import two_sample_test
from movierec.stats.sequential import mixing_rho, sequential_test
from movierec.stats.statistics import ErrorCode, SampleMeanStats

# Inputs and expected values of gbstats' packages/stats/tests/frequentist/test_tests.py
# (growthbook/growthbook), TestSequentialTTest.test_sequential_test_runs and
# test_sequential_test_tuning_as_expected.
GB_A = SampleMeanStats(n=3000, sum=1396.87, sum_squares=52377.9767)
GB_B = SampleMeanStats(n=3461, sum=2422.7, sum_squares=134698.29)


def test_matches_gbstats_sequential_values():
    result = sequential_test(GB_A, GB_B, tuning_parameter=1000)
    assert round(result.lift_rel, 5) == 0.50336
    assert round(result.se_rel, 5) == 0.33341
    assert tuple(round(x, 5) for x in result.ci_rel) == (-0.55844, 1.56516)
    assert result.p_value == 1.0
    assert result.error is None


def test_interval_is_tightest_when_tuned_near_the_sample_size():
    def width(tuning):
        lo, hi = sequential_test(GB_A, GB_B, tuning_parameter=tuning).ci_rel
        return hi - lo

    assert width(6461) < width(10_000) < width(10)


def test_wider_than_the_fixed_horizon_interval():
    seq = sequential_test(GB_A, GB_B, tuning_parameter=6461, difference="absolute")
    fixed = two_sample_test(GB_A, GB_B, difference="absolute", test="z")
    assert seq.ci_abs[0] < fixed.ci_abs[0] and seq.ci_abs[1] > fixed.ci_abs[1]
    assert seq.p_value > fixed.p_value


@pytest.mark.parametrize("shift", [0.0, 0.05, 0.08, 0.1, 0.12, 0.2])
@pytest.mark.parametrize("difference", ["relative", "absolute"])
def test_p_value_below_alpha_exactly_when_the_interval_excludes_zero(shift, difference):
    rng = np.random.default_rng(int(shift * 100))
    a = SampleMeanStats.from_arrays(rng.normal(1.0, 1.0, 2000))
    b = SampleMeanStats.from_arrays(rng.normal(1.0 + shift, 1.0, 2000))
    for alpha in (0.01, 0.05, 0.2):
        result = sequential_test(a, b, alpha=alpha, tuning_parameter=4000, difference=difference)
        lo, hi = result.ci_rel if difference == "relative" else result.ci_abs
        assert (result.p_value < alpha) == (lo > 0 or hi < 0)


def test_rho_formula():
    # ρ² N = −2 ln α + ln(1 − 2 ln α), eq. 161 of Waudby-Smith et al. (arXiv:2103.06476)
    rho = mixing_rho(0.05, 5000)
    assert rho**2 * 5000 == pytest.approx(-2 * math.log(0.05) + math.log(1 - 2 * math.log(0.05)))


def test_degenerate_and_invalid_inputs():
    result = sequential_test(SampleMeanStats.empty(), GB_B)
    assert result.error is ErrorCode.NO_UNITS and result.p_value == 1.0
    with pytest.raises(ConfigError, match="tuning_parameter"):
        sequential_test(GB_A, GB_B, tuning_parameter=0)
    with pytest.raises(ConfigError, match="alpha"):
        sequential_test(GB_A, GB_B, alpha=0)
