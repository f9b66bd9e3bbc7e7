"""The treatment effect and the variance of its estimator, shared by every test.

For control A and treatment B with per-user means μ̂_a, μ̂_b, per-user
variances s_a², s_b² and user counts n_a, n_b (for a ratio metric: the ratio
and its delta-method variance, see :mod:`movierec.stats.statistics`):

* absolute lift  Δ = μ̂_b − μ̂_a,   Var(Δ) = s_b²/n_b + s_a²/n_a
* relative lift  δ = μ̂_b/μ̂_a − 1, by the delta method on the ratio of two
  independent means (gbstats' ``frequentist_variance``)::

      Var(δ) ≈ s_b²/(n_b μ̂_a²) + μ̂_b² s_a²/(n_a μ̂_a⁴)

* Welch–Satterthwaite degrees of freedom::

      ν = (s_a²/n_a + s_b²/n_b)² / (s_a⁴/(n_a²(n_a−1)) + s_b⁴/(n_b²(n_b−1)))

The CUPED-adjusted moments of pre/post statistics are in :mod:`movierec.stats.cuped`,
which also holds :func:`~movierec.stats.cuped.lift_moments`, the entry point of the
tests for either kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from movierec.errors import ConfigError
from movierec.stats.adjusted import AnyStats
from movierec.stats.statistics import ErrorCode, Stats, check_same_kind, ratio_variance

Difference = Literal["relative", "absolute"]


def check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must be in (0, 1), got {alpha!r}")


def check_difference(difference: str) -> None:
    if difference not in ("relative", "absolute"):
        raise ConfigError(f"difference must be 'relative' or 'absolute', got {difference!r}")


@dataclass(frozen=True)
class EffectMoments:
    """Point estimates and estimator variances of the lift of B over A.

    ``control_mean`` and ``treatment_mean`` are the arm values whose difference is
    ``lift_abs``: CUPED-adjusted when ``theta`` is not 0.
    """

    control_mean: float
    treatment_mean: float
    n: int  # users in both arms
    lift_abs: float
    var_abs: float
    lift_rel: float
    var_rel: float
    df: float  # Welch–Satterthwaite
    error: ErrorCode | None = None
    theta: float = 0.0  # CUPED coefficient; 0 = unadjusted

    def estimate(self, difference: Difference) -> tuple[float, float]:
        """(point estimate, standard error) on the requested scale."""
        if difference == "relative":
            return self.lift_rel, math.sqrt(self.var_rel)
        return self.lift_abs, math.sqrt(self.var_abs)


def failed_moments(control: AnyStats, treatment: AnyStats, error: ErrorCode) -> EffectMoments:
    """The neutral moments (zeros) of a comparison that cannot be analysed, and why."""
    return EffectMoments(
        control_mean=control.mean,
        treatment_mean=treatment.mean,
        n=control.n + treatment.n,
        lift_abs=0.0,
        var_abs=0.0,
        lift_rel=0.0,
        var_rel=0.0,
        df=0.0,
        error=error,
    )


def effect_moments(control: Stats, treatment: Stats) -> EffectMoments:
    """Lift of ``treatment`` over ``control`` with its variance (see module docstring).

    Degenerate inputs give ``error`` set and zeros elsewhere; mixing a mean
    statistic with a ratio statistic raises DataError.
    """
    check_same_kind(control, treatment)
    error = control.error or treatment.error
    if error is not None:
        return failed_moments(control, treatment, error)
    mean_a, mean_b = control.mean, treatment.mean
    if mean_a == 0:
        return failed_moments(control, treatment, ErrorCode.ZERO_BASELINE)
    se2_a = control.variance / control.n
    se2_b = treatment.variance / treatment.n
    return EffectMoments(
        control_mean=mean_a,
        treatment_mean=mean_b,
        n=control.n + treatment.n,
        lift_abs=mean_b - mean_a,
        var_abs=se2_a + se2_b,
        lift_rel=mean_b / mean_a - 1.0,
        var_rel=ratio_variance(mean_b, se2_b, mean_a, se2_a, 0.0),
        df=welch_df(se2_a, se2_b, control.n, treatment.n),
    )


def welch_df(se2_a: float, se2_b: float, n_a: int, n_b: int) -> float:
    """Welch–Satterthwaite degrees of freedom from the squared standard errors s²/n."""
    return (se2_a + se2_b) ** 2 / (se2_a**2 / (n_a - 1) + se2_b**2 / (n_b - 1))
