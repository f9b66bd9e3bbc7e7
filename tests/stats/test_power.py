"""Sample size and MDE cross-checked against statsmodels' power solvers."""

import math

import pytest
from statsmodels.stats.power import NormalIndPower, tt_ind_solve_power

from movierec.errors import ConfigError
from movierec.stats.power import (
    minimum_detectable_effect,
    required_n,
    sample_size_per_variant,
)

CASES = [(0.1, 0.031, 0.05, 0.05, 0.8), (3.5, 1.2, 0.02, 0.01, 0.9), (10.0, 25.0, 0.1, 0.1, 0.7)]


@pytest.mark.parametrize(("mean", "var", "mde", "alpha", "power"), CASES)
def test_absolute_sample_size_matches_normal_ind_power(mean, var, mde, alpha, power):
    delta = mde * mean
    ours = required_n(mean, var, delta, alpha=alpha, power=power, relative=False)
    theirs = NormalIndPower().solve_power(
        effect_size=delta / math.sqrt(var), alpha=alpha, power=power, ratio=1.0
    )
    # statsmodels also counts rejections in the wrong tail: Φ(−3.8) ≈ 7e-5 of power
    # in the loosest case here (α = 0.1, power 0.7), a few 1e-4 of n.
    assert ours == pytest.approx(theirs, rel=1e-3)
    assert sample_size_per_variant(mean, var, delta, alpha=alpha, power=power, relative=False) == (
        math.ceil(ours)
    )
    t_n = tt_ind_solve_power(effect_size=delta / math.sqrt(var), alpha=alpha, power=power)
    assert ours == pytest.approx(t_n, rel=0.01)


@pytest.mark.parametrize(("mean", "var", "mde", "alpha", "power"), CASES)
def test_relative_sample_size_matches_normal_ind_power(mean, var, mde, alpha, power):
    # Var(δ̂) = 2 (1 + δ)² σ² / (n μ²) under a multiplicative lift, i.e. a z test with
    # standardised effect δ / sqrt((1 + δ)² σ² / μ²) per arm.
    effect = mde / math.sqrt((1 + mde) ** 2 * var / mean**2)
    theirs = NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0)
    assert required_n(mean, var, mde, alpha=alpha, power=power) == pytest.approx(theirs, rel=1e-3)
    # Achieved power at our (rounded up) size reaches the target.
    n = sample_size_per_variant(mean, var, mde, alpha=alpha, power=power)
    assert NormalIndPower().power(effect_size=effect, nobs1=n, alpha=alpha) >= power


@pytest.mark.parametrize(("mean", "var", "mde", "alpha", "power"), CASES)
def test_mde_inverts_the_sample_size(mean, var, mde, alpha, power):
    n = required_n(mean, var, mde, alpha=alpha, power=power)
    assert minimum_detectable_effect(mean, var, n, alpha=alpha, power=power) == pytest.approx(mde)
    abs_mde = minimum_detectable_effect(mean, var, 5000, alpha=alpha, power=power, relative=False)
    theirs = NormalIndPower().solve_power(nobs1=5000, alpha=alpha, power=power, ratio=1.0)
    assert abs_mde / math.sqrt(var) == pytest.approx(theirs, rel=1e-4)


def test_treatment_variance_overrides_the_default():
    same = required_n(0.1, 0.03, 0.05, treatment_variance=0.03 * 1.05**2)
    assert same == pytest.approx(required_n(0.1, 0.03, 0.05))
    assert required_n(0.1, 0.03, 0.05, treatment_variance=0.06) > same


def test_too_small_a_sample_detects_no_relative_lift():
    assert minimum_detectable_effect(0.1, 0.5, 10) == math.inf


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"baseline_mean": 0.0}, "non-zero baseline_mean"),
        ({"baseline_variance": 0.0}, "baseline_variance"),
        ({"mde": -0.1}, "mde"),
        ({"alpha": 0.0}, "alpha"),
        ({"power": 1.0}, "power"),
    ],
)
def test_invalid_inputs(kwargs, match):
    args = {"baseline_mean": 0.1, "baseline_variance": 0.03, "mde": 0.05} | kwargs
    with pytest.raises(ConfigError, match=match):
        sample_size_per_variant(
            args.pop("baseline_mean"), args.pop("baseline_variance"), args.pop("mde"), **args
        )
