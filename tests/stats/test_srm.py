"""Sample ratio mismatch check: Pearson chi-square against the configured weights."""

import numpy as np
import pytest
from scipy.stats import chi2

from movierec.errors import ConfigError, DataError
from movierec.stats.srm import (
    sequential_srm_check,
    srm_check,
    srm_concentration,
    srm_log_bayes_factor,
)
from movierec.stats.statistics import ErrorCode


def test_balanced_split_does_not_alarm():
    result = srm_check([5000, 5000], [0.5, 0.5])
    assert result.p_value == pytest.approx(1.0)
    assert result.chi2 == 0.0
    assert not result.alarm


def test_chi_square_by_hand_with_unequal_weights():
    observed, weights = [1030, 980, 1990], [1, 1, 2]
    expected = [1000, 1000, 2000]
    x2 = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    result = srm_check(observed, weights)
    assert result.expected == pytest.approx(tuple(expected))
    assert result.chi2 == pytest.approx(x2)
    assert result.p_value == pytest.approx(chi2.sf(x2, df=2))
    assert not result.alarm


def test_lost_treatment_users_alarm_and_threshold_is_a_parameter():
    # 10% of the treatment's users lost: 5263 vs 4737 out of 10000.
    result = srm_check([5263, 4737], [1, 1])
    assert result.p_value < 1e-6 and result.alarm
    mild = srm_check([5150, 4850], [1, 1])  # p ~ 0.0027
    assert not mild.alarm
    assert srm_check([5150, 4850], [1, 1], threshold=0.01).alarm


def test_no_users_is_an_error_code_not_an_alarm():
    result = srm_check([0, 0], [1, 1])
    assert result.error is ErrorCode.NO_UNITS and not result.alarm and result.p_value == 1.0


@pytest.mark.parametrize(
    ("observed", "weights", "error", "match"),
    [
        ([10, 10], [1, 1, 1], ConfigError, "3 variant weights"),
        ([10], [1], ConfigError, "two variants"),
        ([10, 10], [1, 0], ConfigError, "positive"),
        ([10, -1], [1, 1], DataError, "non-negative integers"),
        ([10, 2.5], [1, 1], DataError, "non-negative integers"),
    ],
)
def test_invalid_inputs(observed, weights, error, match):
    with pytest.raises(error, match=match):
        srm_check(observed, weights)


# ------------------------------------------------------------------ sequential SRM

# Optimizely's ssrm-test 0.1.5 (ssrm_test.sequential_bayes_factors / sequential_p_values,
# the reference implementation of Lindon & Malek), run on these daily increments:
# [[1020, 980], [1100, 900], [1060, 940], [1000, 1000]], null [0.5, 0.5], concentration 1000.
SSRM_DAILY = [[1020, 980], [1100, 900], [1060, 940], [1000, 1000]]
SSRM_BAYES_FACTORS = [0.7537388483475158, 142.37272003930246, 3981.3763186701603, 447.59437935621315]
SSRM_P_VALUES = [1.0, 0.007023817482197057, 0.00025116942483196744, 0.00025116942483196744]
# ... and on its docstring example, three variants, null [0.4, 0.4, 0.2], default concentration.
SSRM_3_DAILY = [[20, 17, 9], [18, 21, 8], [4, 6, 4], [18, 19, 11]]
SSRM_3_BAYES_FACTORS = [0.9960154781883941, 0.9917675059539222, 0.9897552174789809, 0.9854631524428887]


def test_sequential_srm_matches_optimizely_ssrm():
    cumulative = np.cumsum(SSRM_DAILY, axis=0).tolist()
    result = sequential_srm_check(cumulative, [1, 1], concentration=1000)
    assert result.p_values == pytest.approx(SSRM_P_VALUES, rel=1e-9)
    assert result.bayes_factor == pytest.approx(SSRM_BAYES_FACTORS[-1], rel=1e-9)
    assert np.exp(srm_log_bayes_factor(cumulative, [1, 1], 1000)) == pytest.approx(
        SSRM_BAYES_FACTORS, rel=1e-9
    )
    assert result.alarm and result.first_alarm_look == 2  # p = 0.00025 on the third day
    three = np.cumsum(SSRM_3_DAILY, axis=0)
    assert np.exp(srm_log_bayes_factor(three, [2, 2, 1])) == pytest.approx(
        SSRM_3_BAYES_FACTORS, rel=1e-9
    )


def test_bayes_factor_is_the_same_user_by_user_or_by_day():
    # Exchangeability: the product of one-user posterior-predictive ratios equals the
    # closed form on the cumulative counts, so daily aggregates lose nothing.
    rng = np.random.default_rng(0)
    users = rng.choice(3, size=400, p=[0.3, 0.3, 0.4])
    weights, c = np.array([0.25, 0.25, 0.5]), 50.0
    alpha, log_bf = c * weights, 0.0
    for i in users:
        log_bf += np.log(alpha[i] / alpha.sum()) - np.log(weights[i])
        alpha[i] += 1
    counts = np.bincount(users, minlength=3)
    assert srm_log_bayes_factor(counts, [1, 1, 2], c) == pytest.approx(log_bf, rel=1e-10)


def test_sequential_p_values_never_increase_and_a_balanced_split_does_not_alarm():
    looks = [[1000 * t + 7 * (-1) ** t, 1000 * t] for t in range(1, 15)]
    result = sequential_srm_check(looks, [1, 1])
    assert all(a >= b for a, b in zip(result.p_values, result.p_values[1:]))
    assert result.p_value == 1.0 and not result.alarm and result.first_alarm_look is None
    lost = [[1000 * t, 900 * t] for t in range(1, 15)]  # 10% of the treatment lost
    flagged = sequential_srm_check(lost, [1, 1])
    assert flagged.alarm and flagged.first_alarm_look is not None
    assert flagged.p_value < 1e-6 and flagged.bayes_factor > 1e6


def test_the_sequential_test_asks_for_more_evidence_than_one_chi_square_look():
    # p ~ 1e-4 for one look at the chi-square, not enough to alarm at every look.
    counts = [[10_280, 9_720]]
    assert srm_check(counts[0], [1, 1]).p_value < 0.001
    assert sequential_srm_check(counts, [1, 1]).p_value > 0.001


def test_concentration_tuned_to_the_expected_users():
    # c + 1 = N / (−2 ln α + ln(1 − 2 ln α)); at α = 0.001 the divisor is 16.511.
    assert srm_concentration(165_000) == pytest.approx(165_000 / 16.51122 - 1, rel=1e-5)
    assert srm_concentration(10) == 1.0
    with pytest.raises(ConfigError, match="expected_users"):
        srm_concentration(0)


def test_sequential_srm_inputs():
    empty = sequential_srm_check([[0, 0], [0, 0]], [1, 1])
    assert empty.error is ErrorCode.NO_UNITS and not empty.alarm and empty.p_value == 1.0
    with pytest.raises(DataError, match="may not decrease"):
        sequential_srm_check([[10, 10], [9, 12]], [1, 1])
    with pytest.raises(DataError, match="non-empty"):
        sequential_srm_check([], [1, 1])
    with pytest.raises(ConfigError, match="3 variant weights"):
        sequential_srm_check([[1, 2]], [1, 1, 1])
    with pytest.raises(ConfigError, match="concentration"):
        sequential_srm_check([[1, 2]], [1, 1], concentration=0)
    with pytest.raises(DataError, match="non-negative integers"):
        sequential_srm_check([[1, 2.5]], [1, 1])
