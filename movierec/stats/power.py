"""Sample size and minimum detectable effect for a two-arm, equal-split test.

Planning uses the same estimator the analysis will use (two-sided z test on
the lift, :mod:`movierec.stats.effect`), with ``baseline_variance`` the
*per-user* variance: s² of a mean metric, or the delta-method s²_R of a ratio
metric (``RatioStats.variance`` of historical data). With
z = Φ⁻¹(1 − α/2) + Φ⁻¹(power) and n users per variant:

* absolute lift Δ:  n = z² (σ_a² + σ_b²) / Δ²,  σ_b = σ_a unless given;
* relative lift δ:  Var(δ̂) = (σ_b² + (1 + δ)² σ_a²) / (n μ²), so
  n = z² (σ_b² + (1 + δ)² σ_a²) / (μ² δ²), with σ_b = (1 + δ) σ_a unless given
  (a multiplicative lift keeps the coefficient of variation, as CTR lifts do).

The MDE inverts these: Δ = z sqrt(2σ²/n); for the relative lift, with
k = z sqrt(2σ²/(n μ²)), δ = k (1 + δ) gives δ = k / (1 − k), and no finite lift is
detectable when k ≥ 1 (returned as ``inf``).

The rejections in the wrong tail (probability below Φ(−2 Φ⁻¹(1 − α/2)), about
1e-6 at α = 0.05) are ignored, which is why statsmodels' ``NormalIndPower``,
which counts them, agrees to about 1e-5 at α = 0.05 (a few 1e-4 at α = 0.1)
rather than exactly.

**Non-inferiority** (guardrails, :mod:`movierec.stats.noninferiority`). H0: the lift
is at most −m (worse than the margin m > 0), against a true lift δ > −m (δ = 0 by
default: "no change"), one-sided. The distance to the margin is δ + m (m − δ for
a lower-is-better metric, where H0 is a lift of at least +m); with the same
per-user variances as above at the true lift:

* fixed horizon, one-sided z test at level α:
  n = (Φ⁻¹(1 − α) + Φ⁻¹(power))² V / (δ + m)²,  V = σ_b² + (1 + δ)² σ_a² over μ²
  (relative) or σ_a² + σ_b² (absolute); exact against statsmodels' one-sided power;
* always valid (the two-sided (1 − α) confidence sequence of
  :func:`movierec.stats.sequential.sequential_test`, whose lower bound the
  non-inferiority check reads): the smallest n with
  δ + m − Φ⁻¹(power) se(n) ≥ h(se(n), 2n), h the sequence's half-width -- the
  bound clears −m with probability ``power`` at n users per arm.
"""

from __future__ import annotations

import math

from scipy.optimize import brentq
from scipy.stats import norm

from movierec.errors import ConfigError
from movierec.stats.sequential import halfwidth, mixing_rho


def _z_total(alpha: float, power: float) -> float:
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must be in (0, 1), got {alpha!r}")
    if not 0.0 < power < 1.0:
        raise ConfigError(f"power must be in (0, 1), got {power!r}")
    return float(norm.ppf(1.0 - alpha / 2.0) + norm.ppf(power))


def _check_baseline(mean: float, variance: float, relative: bool) -> None:
    if not (math.isfinite(variance) and variance > 0):
        raise ConfigError(f"baseline_variance must be a positive number, got {variance!r}")
    if relative and not (math.isfinite(mean) and mean != 0):
        raise ConfigError(f"a relative effect needs a non-zero baseline_mean, got {mean!r}")


def required_n(
    baseline_mean: float,
    baseline_variance: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
    treatment_variance: float | None = None,
) -> float:
    """Users per variant as a real number (see :func:`sample_size_per_variant`)."""
    z = _z_total(alpha, power)
    _check_baseline(baseline_mean, baseline_variance, relative)
    if not (math.isfinite(mde) and mde > 0):
        raise ConfigError(f"mde must be a positive effect size, got {mde!r}")
    unit = _unit_variance(baseline_mean, baseline_variance, mde, relative, treatment_variance)
    return z * z * unit / mde**2


def _unit_variance(
    mean: float, variance: float, lift: float, relative: bool, treatment_variance: float | None
) -> float:
    """n · Var(lift estimate) with n users per arm, at a true ``lift`` (module docstring)."""
    if treatment_variance is not None and not treatment_variance > 0:
        raise ConfigError(f"treatment_variance must be positive, got {treatment_variance!r}")
    if relative:
        var_b = treatment_variance if treatment_variance is not None else variance * (1 + lift) ** 2
        return (var_b + (1.0 + lift) ** 2 * variance) / mean**2
    var_b = treatment_variance if treatment_variance is not None else variance
    return variance + var_b


def sample_size_per_variant(
    baseline_mean: float,
    baseline_variance: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
    treatment_variance: float | None = None,
) -> int:
    """Users needed in each of two equal arms to detect a lift of ``mde``.

    ``mde`` is relative (0.05 = +5%) when ``relative`` else in metric units.
    """
    return math.ceil(
        required_n(
            baseline_mean,
            baseline_variance,
            mde,
            alpha=alpha,
            power=power,
            relative=relative,
            treatment_variance=treatment_variance,
        )
    )


def minimum_detectable_effect(
    baseline_mean: float,
    baseline_variance: float,
    n_per_variant: int,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
) -> float:
    """Smallest lift detected with probability ``power`` at ``n_per_variant`` users per arm."""
    z = _z_total(alpha, power)
    _check_baseline(baseline_mean, baseline_variance, relative)
    if not n_per_variant >= 1:
        raise ConfigError(f"n_per_variant must be at least 1, got {n_per_variant!r}")
    absolute = z * math.sqrt(2.0 * baseline_variance / n_per_variant)
    if not relative:
        return absolute
    k = absolute / abs(baseline_mean)
    return k / (1.0 - k) if k < 1.0 else math.inf


# ------------------------------------------------------------------ non-inferiority


def _z_one_sided(alpha: float, power: float) -> float:
    if not 0.0 < alpha < 0.5:
        raise ConfigError(f"a one-sided alpha must be in (0, 0.5), got {alpha!r}")
    if not 0.0 < power < 1.0:
        raise ConfigError(f"power must be in (0, 1), got {power!r}")
    return float(norm.ppf(1.0 - alpha) + norm.ppf(power))


def _margin_distance(margin: float, true_lift: float, higher_is_better: bool, relative: bool) -> float:
    if not (math.isfinite(margin) and margin > 0):
        raise ConfigError(f"margin must be a positive number, got {margin!r}")
    if not math.isfinite(true_lift) or (relative and true_lift <= -1):
        raise ConfigError(f"true_lift must be a finite lift (> -1 if relative), got {true_lift!r}")
    distance = true_lift + margin if higher_is_better else margin - true_lift
    if distance <= 0:
        raise ConfigError(
            f"a true lift of {true_lift!r} is not inside the margin {margin!r}: "
            "non-inferiority cannot be shown"
        )
    return distance


def non_inferiority_required_n(
    baseline_mean: float,
    baseline_variance: float,
    margin: float,
    *,
    true_lift: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
    higher_is_better: bool = True,
    treatment_variance: float | None = None,
) -> float:
    """Users per variant for a fixed-horizon, one-sided level-``alpha`` non-inferiority test.

    ``margin`` (and ``true_lift``) are relative when ``relative`` (0.02 = 2%), else in
    metric units. See the module docstring.
    """
    z = _z_one_sided(alpha, power)
    _check_baseline(baseline_mean, baseline_variance, relative)
    distance = _margin_distance(margin, true_lift, higher_is_better, relative)
    unit = _unit_variance(baseline_mean, baseline_variance, true_lift, relative, treatment_variance)
    return z * z * unit / distance**2


def non_inferiority_power(
    baseline_mean: float,
    baseline_variance: float,
    margin: float,
    n_per_variant: float,
    *,
    true_lift: float = 0.0,
    alpha: float = 0.05,
    relative: bool = True,
    higher_is_better: bool = True,
    treatment_variance: float | None = None,
) -> float:
    """Power of the fixed-horizon one-sided test at ``n_per_variant`` users per arm."""
    _z_one_sided(alpha, 0.5)
    if not n_per_variant > 0:
        raise ConfigError(f"n_per_variant must be positive, got {n_per_variant!r}")
    _check_baseline(baseline_mean, baseline_variance, relative)
    distance = _margin_distance(margin, true_lift, higher_is_better, relative)
    unit = _unit_variance(baseline_mean, baseline_variance, true_lift, relative, treatment_variance)
    return float(norm.cdf(distance / math.sqrt(unit / n_per_variant) - norm.ppf(1.0 - alpha)))


def sequential_non_inferiority_sample_size(
    baseline_mean: float,
    baseline_variance: float,
    margin: float,
    *,
    tuning_parameter: float,
    true_lift: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
    higher_is_better: bool = True,
    treatment_variance: float | None = None,
) -> int | None:
    """Users per variant at which the confidence sequence shows non-inferiority.

    The bound read is that of ``sequential_test(..., alpha=alpha,
    tuning_parameter=tuning_parameter)``; None when no sample size up to 1e13 does.
    """
    _z_total(alpha, power)
    _check_baseline(baseline_mean, baseline_variance, relative)
    distance = _margin_distance(margin, true_lift, higher_is_better, relative)
    unit = _unit_variance(baseline_mean, baseline_variance, true_lift, relative, treatment_variance)
    return sequential_users_to_clear(unit, distance, alpha=alpha, power=power, tuning_parameter=tuning_parameter)


def sequential_users_to_clear(
    unit_variance: float, distance: float, *, alpha: float, power: float, tuning_parameter: float
) -> int | None:
    """The smallest n per arm at which the confidence sequence's bound clears ``distance``
    with probability ``power``: δ − z_power se(n) ≥ h(se(n), 2n), se(n) = sqrt(V / n).

    The left side grows and h shrinks with n, so the root is found by bisection; None when
    no n up to 1e13 suffices. Shared by the primary's plan (distance = the MDE) and the
    guardrails' (distance = lift + margin).
    """
    rho = mixing_rho(alpha, tuning_parameter)
    z_power = float(norm.ppf(power))

    def shortfall(n: float) -> float:
        se = math.sqrt(unit_variance / n)
        return halfwidth(se, round(2 * n), alpha, rho) + z_power * se - distance

    lo, hi = 2.0, 1e13
    if shortfall(lo) <= 0:
        return 2
    if shortfall(hi) > 0:
        return None
    return math.ceil(brentq(shortfall, lo, hi, xtol=0.5))
