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
"""

from __future__ import annotations

import math

from scipy.stats import norm

from movierec.errors import ConfigError


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
    if treatment_variance is not None and not treatment_variance > 0:
        raise ConfigError(f"treatment_variance must be positive, got {treatment_variance!r}")
    if relative:
        var_b = (
            treatment_variance
            if treatment_variance is not None
            else baseline_variance * (1.0 + mde) ** 2
        )
        unit_variance = (var_b + (1.0 + mde) ** 2 * baseline_variance) / baseline_mean**2
    else:
        var_b = treatment_variance if treatment_variance is not None else baseline_variance
        unit_variance = baseline_variance + var_b
    return z * z * unit_variance / mde**2


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
