"""Bayesian read-out of a lift: chance to beat control and expected loss.

As in GrowthBook's effect-size Bayesian test, the lift estimate θ̂ (relative or
absolute, see :mod:`movierec.stats.effect`) is treated as a Gaussian
measurement of the true lift θ, θ̂ | θ ~ N(θ, se²), with a Gaussian prior
θ ~ N(μ₀, σ₀²) (or a flat, improper prior). The posterior is Gaussian::

    precision  τ = 1/se² + 1/σ₀²          (1/se² for the flat prior)
    mean       m = (θ̂/se² + μ₀/σ₀²) / τ    (θ̂ for the flat prior)
    sd         s = 1/sqrt(τ)

from which, with Φ and φ the standard normal CDF and density:

* chance to beat control  P(θ > 0) = Φ(m/s)   (P(θ < 0) for ``inverse`` metrics,
  where lower is better);
* expected loss (risk) of each decision -- how much lift is given up, on average,
  if the decision turns out wrong::

      risk of shipping treatment  E[max(−θ, 0)] = s φ(m/s) − m Φ(−m/s)
      risk of keeping control     E[max(θ, 0)]  = s φ(m/s) + m Φ(m/s)

  (swapped for ``inverse`` metrics);
* the (1 − α) equal-tailed credible interval m ± Φ⁻¹(1 − α/2) s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from movierec.errors import ConfigError
from movierec.stats.adjusted import AnyStats
from movierec.stats.cuped import lift_moments
from movierec.stats.effect import (
    Difference,
    check_alpha,
    check_difference,
)
from movierec.stats.statistics import ErrorCode


@dataclass(frozen=True)
class GaussianPrior:
    """Prior on the lift, on the same scale as the test's ``difference``.

    ``proper=False`` (the default) is the flat prior: the posterior is centred on
    the data and the result matches the frequentist z test.
    """

    mean: float = 0.0
    variance: float = 1.0
    proper: bool = False

    def __post_init__(self) -> None:
        if self.proper and not self.variance > 0:
            raise ConfigError(f"a proper prior needs a positive variance, got {self.variance!r}")


FLAT_PRIOR = GaussianPrior()


@dataclass(frozen=True)
class BayesianResult:
    chance_to_win: float
    expected: float  # posterior mean of the lift
    ci: tuple[float, float]  # credible interval
    uplift_sd: float  # posterior standard deviation
    risk_control: float  # expected loss of keeping control
    risk_treatment: float  # expected loss of shipping treatment
    difference: Difference = "relative"
    error: ErrorCode | None = None


def expected_losses(mean: float, sd: float) -> tuple[float, float]:
    """(E[max(θ, 0)], E[max(−θ, 0)]) for θ ~ N(mean, sd²)."""
    z = mean / sd
    density = sd * float(norm.pdf(z))
    return density + mean * float(norm.cdf(z)), density - mean * float(norm.cdf(-z))


def bayesian_test(
    control: AnyStats,
    treatment: AnyStats,
    *,
    difference: Difference = "relative",
    prior: GaussianPrior = FLAT_PRIOR,
    alpha: float = 0.05,
    inverse: bool = False,
) -> BayesianResult:
    """Posterior of the lift of ``treatment`` over ``control`` (see module docstring).

    The arms may be pre/post pairs: the measurement is then the CUPED-adjusted lift.
    """
    check_alpha(alpha)
    check_difference(difference)
    moments = lift_moments(control, treatment)
    if moments.error is not None:
        return BayesianResult(0.5, 0.0, (0.0, 0.0), 0.0, 0.0, 0.0, difference, moments.error)
    estimate, se = moments.estimate(difference)
    precision = 1.0 / se**2
    weighted = estimate * precision
    if prior.proper:
        precision += 1.0 / prior.variance
        weighted += prior.mean / prior.variance
    mean, sd = weighted / precision, 1.0 / math.sqrt(precision)

    chance_to_win = float(norm.sf(0.0, loc=mean, scale=sd))
    risk_control, risk_treatment = expected_losses(mean, sd)
    if inverse:
        chance_to_win = 1.0 - chance_to_win
        risk_control, risk_treatment = risk_treatment, risk_control
    half = float(norm.ppf(1.0 - alpha / 2.0)) * sd
    return BayesianResult(
        chance_to_win=chance_to_win,
        expected=mean,
        ci=(mean - half, mean + half),
        uplift_sd=sd,
        risk_control=risk_control,
        risk_treatment=risk_treatment,
        difference=difference,
    )
