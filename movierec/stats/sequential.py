"""Always-valid inference: a Gaussian-mixture confidence sequence.

Looking at a fixed-horizon p-value every day and stopping at the first p < α
inflates the false positive rate well above α. A confidence *sequence* holds
simultaneously at every sample size, so the experiment may be monitored
continuously and stopped at any time (Howard, Ramdas, McAuliffe & Sekhon 2021,
"Time-uniform, nonparametric, nonasymptotic confidence sequences";
Waudby-Smith et al. 2023, "Anytime-valid off-policy inference for contextual
bandits", arXiv:2103.06476, eqs. 9, 155 and 161 -- the asymptotic CS GrowthBook
uses).

With n = n_a + n_b users so far, an estimate θ̂ with standard error se, and the
per-user variance s² = se² · n, the two-sided (1 − α) confidence sequence is::

    θ̂ ± sqrt( s² · 2 (n ρ² + 1) / (n² ρ²) · ln( sqrt(n ρ² + 1) / α ) )

The mixing parameter ρ is chosen so that the sequence is tightest near a sample
size N, the *tuning parameter* (the expected total number of users)::

    ρ² = ( −2 ln α + ln(1 − 2 ln α) ) / N

The always-valid p-value is 1 / E, capped at 1, where E is the Gaussian-mixture
e-value (the mixture likelihood ratio of the mSPRT, Johari et al. 2017)::

    E = exp( ρ² z² n / (2 (n ρ² + 1)) ) / sqrt(n ρ² + 1),   z = θ̂ / se

p < α exactly when the confidence sequence excludes 0, so the two agree.
"""

from __future__ import annotations

import math

from movierec.errors import ConfigError
from movierec.stats.adjusted import AnyStats
from movierec.stats.cuped import lift_moments
from movierec.stats.effect import (
    Difference,
    check_alpha,
    check_difference,
)
from movierec.stats.frequentist import FrequentistResult, neutral_result

DEFAULT_TUNING_PARAMETER = 5000.0


def mixing_rho(alpha: float, tuning_parameter: float) -> float:
    """ρ that makes the two-sided CS tightest at ``tuning_parameter`` users."""
    check_alpha(alpha)
    if not tuning_parameter > 0:
        raise ConfigError(f"tuning_parameter must be positive, got {tuning_parameter!r}")
    log_alpha = math.log(alpha)
    return math.sqrt((-2.0 * log_alpha + math.log(1.0 - 2.0 * log_alpha)) / tuning_parameter)


def halfwidth(se: float, n: int, alpha: float, rho: float) -> float:
    """Half-width of the (1 − α) confidence sequence for an estimate with std error ``se``."""
    s2 = se * se * n
    nr2 = n * rho * rho
    return math.sqrt(s2 * 2.0 * (nr2 + 1.0) / (nr2 * n) * math.log(math.sqrt(nr2 + 1.0) / alpha))


def always_valid_p_value(z: float, n: int, rho: float) -> float:
    """1 / E for the Gaussian-mixture e-value E of a z statistic after n users."""
    nr2p1 = n * rho * rho + 1.0
    log_e = rho * rho * z * z * n / (2.0 * nr2p1) - 0.5 * math.log(nr2p1)
    return min(1.0, math.exp(-log_e))


def sequential_test(
    control: AnyStats,
    treatment: AnyStats,
    *,
    tuning_parameter: float = DEFAULT_TUNING_PARAMETER,
    alpha: float = 0.05,
    difference: Difference = "relative",
) -> FrequentistResult:
    """Always-valid CIs (both scales) and p-value (on ``difference``) of the lift.

    The arms may be pre/post pairs, for a CUPED-adjusted lift (as in
    :func:`~movierec.stats.frequentist.two_sample_test`).
    ``tuning_parameter`` is the total number of users (both arms) at which the
    interval should be tightest; a rough guess of the final sample size works --
    validity holds for any value, only the width depends on it.
    """
    check_difference(difference)
    rho = mixing_rho(alpha, tuning_parameter)
    moments = lift_moments(control, treatment)
    if moments.error is not None:
        return neutral_result(moments.error, difference)
    n = moments.n
    se_abs, se_rel = math.sqrt(moments.var_abs), math.sqrt(moments.var_rel)
    hw_abs, hw_rel = halfwidth(se_abs, n, alpha, rho), halfwidth(se_rel, n, alpha, rho)
    estimate, se = moments.estimate(difference)
    return FrequentistResult(
        lift_abs=moments.lift_abs,
        lift_rel=moments.lift_rel,
        ci_abs=(moments.lift_abs - hw_abs, moments.lift_abs + hw_abs),
        ci_rel=(moments.lift_rel - hw_rel, moments.lift_rel + hw_rel),
        p_value=always_valid_p_value(estimate / se, n, rho),
        se_abs=se_abs,
        se_rel=se_rel,
        difference=difference,
    )
