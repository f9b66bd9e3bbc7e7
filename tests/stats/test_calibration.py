"""The bench's calibration properties at smaller, still meaningful, simulation sizes.

Each tolerance is a multiple of the binomial standard error of the simulated
rate, sqrt(p (1 − p) / runs), so the checks fail for a real miscalibration (the
naive impression-level test, for one) and not for simulation noise. Seeds are
fixed, so the tests are deterministic.
"""

import numpy as np

from movierec.stats.calibration import (
    aa_false_positive_rate,
    binomial_se,
    daily_srm_alarm_rates,
    non_inferiority_claim_rate,
    peeking_false_positive_rates,
    power_at_planned_size,
    srm_rates,
)
from movierec.stats.calibration_cuped import cuped_gains


def test_aa_false_positive_rate_is_nominal_and_impression_level_test_is_not():
    result = aa_false_positive_rate(np.random.default_rng(1), n_experiments=1500, users_per_arm=500)
    se = binomial_se(0.05, 1500)  # 0.0056
    assert abs(result.fpr - 0.05) <= 4 * se
    # Treating impressions as independent ignores per-user clustering: far above 5%.
    assert result.fpr_naive_impressions > 0.05 + 6 * se


def test_peeking_inflates_naive_tests_but_not_the_sequential_test():
    result = peeking_false_positive_rates(
        np.random.default_rng(2), n_experiments=400, days=14, users_per_day_per_arm=100
    )
    assert result.fpr_sequential <= 0.05
    # 14 looks at a fixed-horizon test: about 20% false positives; one look would give 5%.
    assert result.fpr_naive > 0.05 + 4 * binomial_se(0.05, 400)


def test_power_at_the_planned_sample_size():
    # +10% lift keeps the sample small (~5.6k users per arm); 600 runs: SE 0.016.
    result = power_at_planned_size(
        np.random.default_rng(3), n_experiments=600, relative_lift=0.10, pilot_users=100_000
    )
    assert abs(result.power - 0.80) <= 3.5 * binomial_se(0.80, 600)


def test_srm_flags_a_mismatch_and_rarely_a_balanced_split():
    result = srm_rates(np.random.default_rng(4), n_seeds=5000, users=20_000)
    assert result.detection_rate >= 0.99
    # Expected false alarm rate is the threshold, 0.001 (5 of 5000); allow 4 SE.
    assert result.false_alarm_rate <= 0.001 + 4 * binomial_se(0.001, 5000)


def test_daily_srm_checks_stay_under_the_threshold_only_when_sequential():
    healthy = daily_srm_alarm_rates(np.random.default_rng(5), 40_000, 14, 2000)
    # Ville's inequality: at most 0.001 over all 14 looks together (SE at 0.001: 0.00016).
    assert healthy.sequential <= 0.001 + 3 * binomial_se(0.001, 40_000)
    # Reading the chi-square every day: several times its nominal 0.001.
    assert healthy.chi_square_daily > 0.003
    broken = daily_srm_alarm_rates(np.random.default_rng(6), 2000, 14, 2000, mismatch=0.10)
    assert broken.sequential >= 0.99


def test_cuped_reduces_variance_keeps_calibration_and_adds_power():
    result = cuped_gains(np.random.default_rng(7), 400, metric="ctr")
    assert 0.08 < result.variance_reduction_model.value < 0.25  # habits predict the CTR
    assert result.theta_mean > 0
    assert abs(result.fpr_cuped - 0.05) <= 4 * binomial_se(0.05, 400)
    assert result.power_cuped > result.power_plain


def test_guardrail_claims_at_the_margin_are_rare():
    # A variant exactly 5% worse, read daily: "non-inferior at −5%" must be rare.
    result = non_inferiority_claim_rate(np.random.default_rng(8), 300, 14, 1000, margin=0.05)
    assert result.claimed <= 0.05
