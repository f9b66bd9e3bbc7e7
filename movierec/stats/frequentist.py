"""Fixed-horizon two-sample tests of treatment against control.

Welch's t test (unequal variances, Welch–Satterthwaite degrees of freedom) or
the large-sample z test, on the absolute lift Δ = μ_b − μ_a or the relative lift
δ = μ_b/μ_a − 1 (moments in :mod:`movierec.stats.effect`)::

    t = estimate / se,   p = 2 (1 − F_ν(|t|)),   CI = estimate ± F_ν⁻¹(1 − α/2) · se

with F_ν the Student t CDF (ν = ∞ for the z test, i.e. the normal CDF). Both
confidence intervals are always reported; ``p_value`` tests the scale chosen
with ``difference`` (relative by default, as in GrowthBook).

Valid for a single look at the data at a horizon fixed in advance. For
dashboards that are checked daily use :mod:`movierec.stats.sequential`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy import stats as sps

from movierec.errors import ConfigError
from movierec.stats.adjusted import AnyStats
from movierec.stats.cuped import lift_moments
from movierec.stats.effect import (
    Difference,
    EffectMoments,
    check_alpha,
    check_difference,
)
from movierec.stats.statistics import ErrorCode

TestKind = Literal["welch", "z"]


@dataclass(frozen=True)
class FrequentistResult:
    """Lift of treatment over control, with confidence intervals and a p-value.

    ``error`` is None for an informative result. Otherwise it names why the data
    could not be analysed, and the numbers are neutral (lifts 0, CIs (0, 0),
    p-value 1) so that a report can still render the row.
    """

    lift_abs: float
    lift_rel: float
    ci_abs: tuple[float, float]
    ci_rel: tuple[float, float]
    p_value: float
    error: ErrorCode | None = None
    se_abs: float = 0.0
    se_rel: float = 0.0
    df: float = math.inf
    difference: Difference = "relative"  # the scale p_value refers to

    @property
    def significant(self) -> bool:
        """Whether the CI on the tested scale excludes zero (no error)."""
        lo, hi = self.ci_rel if self.difference == "relative" else self.ci_abs
        return self.error is None and (lo > 0 or hi < 0)


def neutral_result(error: ErrorCode, difference: Difference) -> FrequentistResult:
    return FrequentistResult(
        lift_abs=0.0,
        lift_rel=0.0,
        ci_abs=(0.0, 0.0),
        ci_rel=(0.0, 0.0),
        p_value=1.0,
        error=error,
        df=0.0,
        difference=difference,
    )


def _interval(estimate: float, halfwidth: float) -> tuple[float, float]:
    return (estimate - halfwidth, estimate + halfwidth)


def two_sample_test(
    control: AnyStats,
    treatment: AnyStats,
    *,
    alpha: float = 0.05,
    difference: Difference = "relative",
    test: TestKind = "welch",
) -> FrequentistResult:
    """Two-sided test of H0: no lift, for mean or ratio metrics.

    ``control`` and ``treatment`` are both :class:`SampleMeanStats` or both
    :class:`RatioStats` -- or both the pre/post pairs of either
    (:mod:`movierec.stats.adjusted`), for a CUPED-adjusted lift
    (:mod:`movierec.stats.cuped`). ``alpha`` sets the CI level (1 − alpha).
    """
    check_alpha(alpha)
    check_difference(difference)
    if test not in ("welch", "z"):
        raise ConfigError(f"test must be 'welch' or 'z', got {test!r}")
    moments = lift_moments(control, treatment)
    if moments.error is not None:
        return neutral_result(moments.error, difference)
    return _fixed_horizon(moments, alpha, difference, test)


def _fixed_horizon(
    moments: EffectMoments, alpha: float, difference: Difference, test: TestKind
) -> FrequentistResult:
    df = moments.df if test == "welch" else math.inf
    dist = sps.t(df) if test == "welch" else sps.norm()
    quantile = float(dist.ppf(1.0 - alpha / 2.0))
    se_abs, se_rel = math.sqrt(moments.var_abs), math.sqrt(moments.var_rel)
    estimate, se = moments.estimate(difference)
    # sf(|t|) rather than 1 − cdf(|t|): keeps tiny p-values instead of rounding to 0.
    p_value = float(2.0 * dist.sf(abs(estimate / se)))
    return FrequentistResult(
        lift_abs=moments.lift_abs,
        lift_rel=moments.lift_rel,
        ci_abs=_interval(moments.lift_abs, quantile * se_abs),
        ci_rel=_interval(moments.lift_rel, quantile * se_rel),
        p_value=min(p_value, 1.0),
        se_abs=se_abs,
        se_rel=se_rel,
        df=df,
        difference=difference,
    )
