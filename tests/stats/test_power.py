"""Sample size and MDE cross-checked against statsmodels' power solvers."""

import math

import pytest
from statsmodels.stats.power import NormalIndPower, tt_ind_solve_power

from movierec.errors import ConfigError
from movierec.stats.power import (
    minimum_detectable_effect,
    non_inferiority_power,
    non_inferiority_required_n,
    required_n,
    sample_size_per_variant,
    sequential_non_inferiority_sample_size,
)
from movierec.stats.sequential import halfwidth, mixing_rho

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


# ------------------------------------------------------------------ non-inferiority

NI_CASES = [(0.1, 0.031, 0.02, 0.0, 0.05, 0.8), (3.5, 1.2, 0.05, 0.01, 0.025, 0.9),
            (10.0, 25.0, 0.1, -0.03, 0.1, 0.7)]  # fmt: skip


def test_non_inferiority_textbook_value():
    # Chow, Shao & Wang, "Sample Size Calculations in Clinical Research", two-sample
    # non-inferiority of means: n = 2 (z_α + z_β)² σ² / (δ + m)²; σ = 1, m = 0.5, δ = 0,
    # one-sided α = 0.025, power 0.9: 2 · (1.95996 + 1.28155)² / 0.25 = 84.06 -> 85.
    n = non_inferiority_required_n(0.0, 1.0, 0.5, alpha=0.025, power=0.9, relative=False)
    assert n == pytest.approx(84.0592, rel=1e-5)


@pytest.mark.parametrize(("mean", "var", "margin", "lift", "alpha", "power"), NI_CASES)
def test_non_inferiority_matches_statsmodels_one_sided(mean, var, margin, lift, alpha, power):
    distance = (lift + margin) * mean
    theirs = NormalIndPower().solve_power(
        effect_size=distance / math.sqrt(var), alpha=alpha, power=power, alternative="larger"
    )
    ours = non_inferiority_required_n(
        mean, var, margin * mean, true_lift=lift * mean, alpha=alpha, power=power, relative=False
    )
    assert ours == pytest.approx(theirs, rel=1e-6)  # one-sided: no wrong tail to differ on
    # Relative scale, multiplicative lift: per-arm sd (1 + δ) σ / μ for both arms' share.
    unit = 2 * (1 + lift) ** 2 * var / mean**2
    theirs_rel = NormalIndPower().solve_power(
        effect_size=(lift + margin) / math.sqrt(unit / 2), alpha=alpha, power=power,
        alternative="larger",
    )  # fmt: skip
    ours_rel = non_inferiority_required_n(mean, var, margin, true_lift=lift, alpha=alpha, power=power)
    assert ours_rel == pytest.approx(theirs_rel, rel=1e-6)
    achieved = non_inferiority_power(mean, var, margin, ours_rel, true_lift=lift, alpha=alpha)
    assert achieved == pytest.approx(power, rel=1e-9)
    assert achieved == pytest.approx(
        NormalIndPower().power(
            (lift + margin) / math.sqrt(unit / 2), nobs1=ours_rel, alpha=alpha, alternative="larger"
        ),
        rel=1e-9,
    )


def test_lower_is_better_mirrors_the_margin():
    up = non_inferiority_required_n(2.0, 1.0, 0.05, true_lift=0.01, higher_is_better=False)
    down = non_inferiority_required_n(2.0, 1.0, 0.05, true_lift=-0.01, higher_is_better=True)
    # Same distance to the margin (0.04); the variances at lifts ±1% differ slightly.
    assert up == pytest.approx(down * (1.01**2) / (0.99**2), rel=1e-12)


def test_sequential_non_inferiority_needs_more_users_and_clears_the_margin():
    mean, var, margin = 0.1, 0.031, 0.02
    fixed = non_inferiority_required_n(mean, var, margin)
    n = sequential_non_inferiority_sample_size(mean, var, margin, tuning_parameter=4 * fixed)
    assert n is not None and n > fixed
    # At n, the expected bound minus z_power standard errors sits on the margin.
    se = math.sqrt(2 * var / mean**2 / n)
    bound = -halfwidth(se, 2 * n, 0.05, mixing_rho(0.05, 4 * fixed)) - 0.8416212 * se
    assert bound == pytest.approx(-margin, abs=1e-5)
    assert sequential_non_inferiority_sample_size(mean, var, 2 * margin, tuning_parameter=4 * fixed) < n


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"margin": 0.0}, "margin"),
        ({"margin": 0.02, "true_lift": -0.03}, "not inside the margin"),
        ({"margin": 0.02, "alpha": 0.5}, "one-sided alpha"),
        ({"margin": 0.02, "power": 1.0}, "power"),
    ],
)
def test_non_inferiority_inputs(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        non_inferiority_required_n(0.1, 0.03, **kwargs)
