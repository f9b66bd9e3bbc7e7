"""The interleaving read-out against a hand computation, and its degenerate cases."""

from __future__ import annotations

import math

import pytest

from movierec.errors import DataError
from movierec.stats.interleaving import PreferenceStats, interleaving_test
from movierec.stats.sequential import halfwidth, mixing_rho
from movierec.stats.statistics import ErrorCode

# Six users: clicks credited to B minus clicks credited to A. The fourth clicked once on
# each side (preference 0: counted, not decided).
PREFERENCES = [2, 1, 1, 0, -1, 1]


def test_sufficient_statistics_by_hand() -> None:
    stats = PreferenceStats.of(PREFERENCES)
    assert (stats.n, stats.sum, stats.sum_squares, stats.prefer_b, stats.prefer_a) == (6, 4.0, 8.0, 4, 1)
    assert stats.mean == pytest.approx(2 / 3)
    assert stats.variance == pytest.approx((8 - 16 / 6) / 5)  # 16/15
    halves = PreferenceStats.of(PREFERENCES[:3]) + PreferenceStats.of(PREFERENCES[3:])
    assert halves == stats


def test_one_sample_t_test_and_sign_test_by_hand() -> None:
    result = interleaving_test(PreferenceStats.of(PREFERENCES), tuning_parameter=100)
    se = math.sqrt((16 / 15) / 6)  # 0.421637
    assert result.error is None
    assert result.mean == pytest.approx(2 / 3)
    # t = 0.6667 / 0.4216 = 1.5811 on 5 df; t_{0.975, 5} = 2.570582 (tables)
    assert result.p_value == pytest.approx(0.17470, abs=1e-4)
    assert result.ci == pytest.approx((2 / 3 - 2.570582 * se, 2 / 3 + 2.570582 * se), abs=1e-5)
    # sign test: 4 of 5 decided prefer B; P(X >= 4) + P(X <= 1) = (1 + 5 + 5 + 1) / 32
    assert (result.decided, result.share_b) == (5, 0.8)
    assert result.sign_test_p_value == pytest.approx(12 / 32)
    hw = halfwidth(se, 6, 0.05, mixing_rho(0.05, 100))
    assert result.always_valid_ci == pytest.approx((2 / 3 - hw, 2 / 3 + hw))
    assert hw > 2.570582 * se  # always-valid is wider
    assert result.always_valid_p_value > result.p_value
    assert result.winner is None


def test_a_clear_preference_names_the_winner() -> None:
    result = interleaving_test(PreferenceStats.of([-1, -2, -1, 0, -1] * 40), tuning_parameter=200)
    assert result.winner == "A"
    assert result.always_valid_ci[1] < 0 and result.sign_test_p_value < 1e-9


@pytest.mark.parametrize(("preferences", "code"), [
    ([], ErrorCode.NO_UNITS),
    ([3], ErrorCode.TOO_FEW_UNITS),
    ([1, 1, 1], ErrorCode.ZERO_VARIANCE),
])
def test_degenerate_data_is_a_result_with_an_error_code(preferences: list[int], code: ErrorCode) -> None:
    result = interleaving_test(PreferenceStats.of(preferences))
    assert result.error == code
    assert (result.mean, result.ci, result.p_value, result.always_valid_p_value) == (0.0, (0.0, 0.0), 1.0, 1.0)
    assert result.winner is None


def test_bad_sums_are_data_errors() -> None:
    with pytest.raises(DataError, match="decided users"):
        PreferenceStats(2, 1.0, 1.0, 2, 1)
    with pytest.raises(DataError, match="finite"):
        PreferenceStats(2, math.nan, 1.0, 1, 0)
    with pytest.raises(DataError, match="non-negative"):
        PreferenceStats(-1, 0.0, 0.0, 0, 0)
