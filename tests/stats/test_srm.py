"""Sample ratio mismatch check: Pearson chi-square against the configured weights."""

import pytest
from scipy.stats import chi2

from movierec.errors import ConfigError, DataError
from movierec.stats.srm import srm_check
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
