"""The guardrail check reads the right confidence bound against the margin."""

import math

import numpy as np
import pytest

from movierec.errors import ConfigError
from movierec.stats.frequentist import FrequentistResult, neutral_result
from movierec.stats.noninferiority import non_inferiority
from movierec.stats.sequential import sequential_test
from movierec.stats.statistics import ErrorCode, SampleMeanStats


def _result(ci_rel, ci_abs=(-1.0, 1.0)):
    return FrequentistResult(
        lift_abs=0.0, lift_rel=sum(ci_rel) / 2, ci_abs=ci_abs, ci_rel=ci_rel, p_value=0.5
    )


def test_higher_is_better_reads_the_lower_bound():
    verdict = non_inferiority(_result((-0.015, 0.04)), 0.02)
    assert verdict.non_inferior and verdict.bound == -0.015
    assert not non_inferiority(_result((-0.015, 0.04)), 0.01).non_inferior
    assert not non_inferiority(_result((-0.02, 0.04)), 0.02).non_inferior  # strictly above −m


def test_lower_is_better_reads_the_upper_bound():
    verdict = non_inferiority(_result((-0.05, 0.015)), 0.02, higher_is_better=False)
    assert verdict.non_inferior and verdict.bound == 0.015
    assert not non_inferiority(_result((-0.05, 0.025)), 0.02, higher_is_better=False).non_inferior


def test_absolute_scale_reads_the_absolute_interval():
    result = _result((-0.5, 0.5), ci_abs=(-0.003, 0.01))
    assert non_inferiority(result, 0.005, difference="absolute").non_inferior
    assert not non_inferiority(result, 0.002, difference="absolute").non_inferior


def test_an_unanalysable_comparison_is_not_shown_non_inferior():
    verdict = non_inferiority(neutral_result(ErrorCode.ZERO_VARIANCE, "relative"), 0.02)
    assert not verdict.non_inferior and verdict.error is ErrorCode.ZERO_VARIANCE
    assert math.isnan(verdict.bound)


@pytest.mark.parametrize("margin", [0.0, -0.02, math.nan, math.inf])
def test_margin_must_be_positive(margin):
    with pytest.raises(ConfigError, match="margin"):
        non_inferiority(_result((-0.01, 0.01)), margin)


def test_on_a_sequential_result():
    rng = np.random.default_rng(5)
    control = SampleMeanStats.from_arrays(rng.normal(10.0, 3.0, size=50_000))
    same = SampleMeanStats.from_arrays(rng.normal(10.0, 3.0, size=50_000))
    worse = SampleMeanStats.from_arrays(rng.normal(9.5, 3.0, size=50_000))  # −5%
    assert non_inferiority(sequential_test(control, same, tuning_parameter=1e5), 0.02).non_inferior
    verdict = non_inferiority(sequential_test(control, worse, tuning_parameter=1e5), 0.02)
    assert not verdict.non_inferior and verdict.bound < -0.02
