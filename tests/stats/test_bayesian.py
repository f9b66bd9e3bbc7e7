"""Chance to win and expected loss against gbstats' values, Monte Carlo and the z test."""

import numpy as np
import pytest

from movierec.errors import ConfigError
from movierec.stats.bayesian import GaussianPrior, bayesian_test
from movierec.stats.frequentist import two_sample_test
from movierec.stats.statistics import ErrorCode, SampleMeanStats

# Inputs and expected values of gbstats' packages/stats/tests/bayesian/test_tests.py
# (growthbook/growthbook), TestNorm.test_bayesian_gaussian_ab_test and
# test_bayesian_gaussian_ab_test_informative (EffectBayesianABTest, relative lift).
GB_A = SampleMeanStats(n=10, sum=100, sum_squares=1002.25)
GB_B = SampleMeanStats(n=10, sum=105, sum_squares=1111.5)


def _rounded(result):
    return (
        round(result.expected, 5),
        tuple(round(x, 5) for x in result.ci),
        round(result.uplift_sd, 5),
        round(result.chance_to_win, 5),
        (round(result.risk_control, 5), round(result.risk_treatment, 5)),
    )


def test_flat_prior_matches_gbstats():
    result = bayesian_test(GB_A, GB_B)
    assert _rounded(result) == (0.05, (-0.02, 0.12), 0.03572, 0.91923, (0.05131, 0.00131))
    assert result.error is None


def test_informative_prior_matches_gbstats():
    result = bayesian_test(GB_A, GB_B, prior=GaussianPrior(mean=0.1, variance=0.1, proper=True))
    assert _rounded(result) == (
        0.05063,
        (-0.01893, 0.12019),
        0.03549,
        0.92315,
        (0.05186, 0.00123),
    )


@pytest.mark.parametrize("seed", range(3))
def test_chance_to_win_and_risk_match_monte_carlo(seed):
    rng = np.random.default_rng(seed)
    a = SampleMeanStats.from_arrays(rng.exponential(1.0, 300))
    b = SampleMeanStats.from_arrays(rng.exponential(1.03, 300))
    prior = GaussianPrior(mean=0.0, variance=0.01, proper=True)
    result = bayesian_test(a, b, prior=prior)
    # Posterior by brute force: weight prior draws by the Gaussian likelihood of the estimate.
    data = two_sample_test(a, b, test="z")
    theta = rng.normal(prior.mean, np.sqrt(prior.variance), 2_000_000)
    w = np.exp(-0.5 * ((data.lift_rel - theta) / data.se_rel) ** 2)
    w /= w.sum()
    ess = 1 / np.sum(w**2)  # effective sample size of the weighted draws
    ctw = np.sum(w * (theta > 0))
    assert result.chance_to_win == pytest.approx(ctw, abs=4 * np.sqrt(ctw * (1 - ctw) / ess))
    for risk, loss in (
        (result.risk_control, np.maximum(theta, 0)),
        (result.risk_treatment, np.maximum(-theta, 0)),
    ):
        mc = np.sum(w * loss)
        se = np.sqrt(np.sum(w * (loss - mc) ** 2) / ess)
        assert risk == pytest.approx(mc, abs=4 * se)


def test_flat_prior_chance_to_win_is_one_sided_z_confidence():
    rng = np.random.default_rng(11)
    a = SampleMeanStats.from_arrays(rng.normal(10, 3, 500))
    b = SampleMeanStats.from_arrays(rng.normal(10.3, 3, 500))
    z = two_sample_test(a, b, test="z", difference="absolute")
    result = bayesian_test(a, b, difference="absolute")
    assert result.expected == pytest.approx(z.lift_abs)
    assert result.ci == pytest.approx(z.ci_abs, rel=1e-12)
    one_sided = z.p_value / 2 if z.lift_abs > 0 else 1 - z.p_value / 2
    assert result.chance_to_win == pytest.approx(1 - one_sided, rel=1e-12)


def test_inverse_metric_swaps_win_and_risk():
    normal = bayesian_test(GB_A, GB_B)
    inverse = bayesian_test(GB_A, GB_B, inverse=True)
    assert inverse.chance_to_win == pytest.approx(1 - normal.chance_to_win)
    assert (inverse.risk_control, inverse.risk_treatment) == (
        normal.risk_treatment,
        normal.risk_control,
    )


def test_degenerate_and_invalid_inputs():
    result = bayesian_test(SampleMeanStats.empty(), SampleMeanStats.empty())
    assert result.error is ErrorCode.NO_UNITS
    assert result.chance_to_win == 0.5 and result.expected == 0.0
    with pytest.raises(ConfigError, match="positive variance"):
        GaussianPrior(variance=0.0, proper=True)
