"""Regression adjustment (CUPED) of the lift, computed as GrowthBook's gbstats does.

The users of both arms were measured before their first exposure too; that
pre-period value cannot depend on the variant, so subtracting θ times it from the
post value removes the part of each user's outcome that the pre-period predicts,
without biasing the lift. Both arms use the same θ.

**Mean metric** (:class:`PrePostMeanStats`). Per user a post value y and a pre value
x; per arm the adjusted mean and per-user variance are::

    ỹ = ȳ − θ x̄,    s̃² = s_y² + θ² s_x² − 2θ s_xy

with θ the least-squares slope of y on x over the pooled users of both arms
(gbstats' ``compute_theta``): θ = s_xy / s_x² of the pooled sums. This θ minimises
s̃², which then equals s_y² (1 − ρ²), ρ the correlation of x and y.

**Ratio metric** (:class:`PrePostRatioStats`). Per user post (m, d) and pre (m', d');
the adjusted value is R̃ = R − θ R', R = m̄/d̄, R' = m̄'/d̄'. With β = (m̄, d̄, m̄', d̄')
and Λ the 4×4 per-user sample covariance matrix of (m, d, m', d') (from the sums
and cross-products), the delta method gives s̃² = ∇ᵀ Λ ∇ with::

    ∇(θ) = ( 1/d̄,  −m̄/d̄²,  −θ/d̄',  θ m̄'/d̄'² )

and θ = Σ_arms cov(R, R') / Σ_arms var(R'), the per-user delta-method (co)variances
of the two ratios summed over the arms (``compute_theta_regression_adjusted_ratio``).

**Lift** (gbstats' ``EffectMoments``). Absolute: Δ = ỹ_b − ỹ_a, Var = s̃_a²/n_a + s̃_b²/n_b.
Relative: the baseline is the *unadjusted* control value, δ = (ỹ_b − ỹ_a)/|ȳ_a|, so
the report's "control value × (1 + δ)" keeps its meaning; its variance, by the
delta method, accounts for ȳ_a appearing in both the numerator and the baseline:

* mean metric (``frequentist_variance_relative_cuped``, which takes ∂δ/∂ȳ_a ≈ −ȳ_b/ȳ_a²,
  i.e. x̄_a ≈ x̄_b, true in expectation under randomisation)::

      Var(δ) = s̃_b²/(n_b ȳ_a²) + (r² s_ya² − 2θ r s_xya + θ² s_xa²)/(n_a ȳ_a²),  r = ȳ_b/ȳ_a

* ratio metric (``frequentist_variance_relative_cuped_ratio``, exact gradient), with
  D = |R_a| and g = (R̃_b − R̃_a) sign(R_a)::

      Var(δ) = ∇_aᵀ Λ_a ∇_a / n_a + ∇_b(θ)ᵀ Λ_b ∇_b(θ) / (n_b D²)
      ∇_a = ( −(D+g)/(d̄_a D²),  m̄_a (D+g)/(d̄_a² D²),  θ/(d̄'_a D),  −θ m̄'_a/(d̄'_a² D) )

The Welch degrees of freedom use the adjusted variances, as gbstats' ``TTest.dof``.

**Fallbacks** never raise. A post-period problem (no users, n < 2, no denominator,
no variance) gives the same error code as the unadjusted test. θ = 0 -- no pooled
variance in the pre (or post) period, |θ| < 1e-8 for a ratio as in gbstats, or an
arm whose pre-period denominator sums to 0 (gbstats would fail that case with a
zero variance; here the comparison falls back) -- runs the unadjusted test on the
post statistics, so the result is exactly that of :func:`effect_moments`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from movierec.errors import DataError
from movierec.stats.adjusted import AnyStats, PrePostMeanStats, PrePostRatioStats, PrePostStats
from movierec.stats.effect import (
    Difference,
    EffectMoments,
    check_difference,
    effect_moments,
    failed_moments,
    welch_df,
)
from movierec.stats.statistics import ErrorCode, sample_covariance

RATIO_THETA_FLOOR = 1e-8  # gbstats reverts a ratio adjustment with |θ| below this


# ----------------------------------------------------------------------------- mean


def mean_theta(control: PrePostMeanStats, treatment: PrePostMeanStats) -> float:
    """Slope of post on pre over the pooled users; 0 when either period has no variance."""
    post, pre = control.post + treatment.post, control.pre + treatment.pre
    if pre.variance <= 0 or post.variance <= 0:
        return 0.0
    products = control.post_pre_sum_of_products + treatment.post_pre_sum_of_products
    return sample_covariance(post.n, post.sum, pre.sum, products) / pre.variance


def _post_pre_covariance(stats: PrePostMeanStats) -> float:
    return sample_covariance(stats.n, stats.post.sum, stats.pre.sum, stats.post_pre_sum_of_products)


def mean_adjusted_variance(stats: PrePostMeanStats, theta: float) -> float:
    """Per-user variance s̃² = s_y² + θ² s_x² − 2θ s_xy of the adjusted values y − θx."""
    return (
        stats.post.variance
        + theta * theta * stats.pre.variance
        - 2.0 * theta * _post_pre_covariance(stats)
    )


def _mean_relative_variance(a: PrePostMeanStats, b: PrePostMeanStats, theta: float) -> float:
    baseline = a.post.mean
    r = b.post.mean / baseline
    v_treatment = mean_adjusted_variance(b, theta) / (b.n * baseline**2)
    v_control = (
        r * r * a.post.variance
        - 2.0 * theta * r * _post_pre_covariance(a)
        + theta * theta * a.pre.variance
    ) / (a.n * baseline**2)
    return v_treatment + v_control


# ---------------------------------------------------------------------------- ratio


def ratio_moments(stats: PrePostRatioStats) -> tuple[np.ndarray, np.ndarray]:
    """β = (m̄, d̄, m̄', d̄') and the per-user covariance matrix Λ of (m, d, m', d')."""
    post, pre, n = stats.post, stats.pre, stats.n
    sums = (post.m_sum, post.d_sum, pre.m_sum, pre.d_sum)
    squares = (post.m_sum_squares, post.d_sum_squares, pre.m_sum_squares, pre.d_sum_squares)
    products = {
        (0, 1): post.m_d_sum_of_products,
        (0, 2): stats.m_post_m_pre_sum_of_products,
        (0, 3): stats.m_post_d_pre_sum_of_products,
        (1, 2): stats.d_post_m_pre_sum_of_products,
        (1, 3): stats.d_post_d_pre_sum_of_products,
        (2, 3): pre.m_d_sum_of_products,
    }
    lam = np.empty((4, 4))
    for i in range(4):
        lam[i, i] = sample_covariance(n, sums[i], sums[i], squares[i])
    for (i, j), total in products.items():
        lam[i, j] = lam[j, i] = sample_covariance(n, sums[i], sums[j], total)
    return np.asarray(sums, dtype=float) / n, lam


def _ratio_gradient(beta: np.ndarray, theta: float) -> np.ndarray:
    """∇ of R − θR' in β; zeros when a denominator mean is 0, as in gbstats."""
    m, d, m_pre, d_pre = beta
    if d == 0 or d_pre == 0:
        return np.zeros(4)
    return np.array([1.0 / d, -m / d**2, -theta / d_pre, theta * m_pre / d_pre**2])


def ratio_theta(control: PrePostRatioStats, treatment: PrePostRatioStats) -> float:
    """Σ cov(R, R') / Σ var(R') over the arms; 0 when the pre-period ratio has no variance."""
    covariance = pre_variance = 0.0
    for arm in (control, treatment):
        beta, lam = ratio_moments(arm)
        grad = _ratio_gradient(beta, 1.0)  # θ = 1: the pre-period part is −∇R'
        pre_variance += float(grad[2:] @ lam[2:, 2:] @ grad[2:])
        covariance -= float(grad[2:] @ lam[2:, :2] @ grad[:2])
    return covariance / pre_variance if pre_variance > 0 else 0.0


def ratio_adjusted_variance(stats: PrePostRatioStats, theta: float) -> float:
    """Per-user delta-method variance s̃² = ∇ᵀΛ∇ of R − θR'."""
    beta, lam = ratio_moments(stats)
    grad = _ratio_gradient(beta, theta)
    return float(grad @ lam @ grad)


def _ratio_adjusted_mean(stats: PrePostRatioStats, theta: float) -> float:
    return stats.post.mean - theta * stats.pre.mean


def _ratio_relative_variance(a: PrePostRatioStats, b: PrePostRatioStats, theta: float) -> float:
    beta_a, lam_a = ratio_moments(a)
    beta_b, lam_b = ratio_moments(b)
    m, d, m_pre, d_pre = beta_a
    baseline = abs(a.post.mean)
    gap = (_ratio_adjusted_mean(b, theta) - _ratio_adjusted_mean(a, theta)) * math.copysign(
        1.0, a.post.mean
    )
    grad_a = np.array(
        [
            -(baseline + gap) / (d * baseline**2),
            m * (baseline + gap) / (d**2 * baseline**2),
            theta / (d_pre * baseline),
            -theta * m_pre / (d_pre**2 * baseline),
        ]
    )
    grad_b = _ratio_gradient(beta_b, theta) / baseline
    return float(grad_a @ lam_a @ grad_a) / a.n + float(grad_b @ lam_b @ grad_b) / b.n


# ----------------------------------------------------------------------------- lift

# Both arms carry the same kind; mypy checks each function below once per kind.
_PrePost = TypeVar("_PrePost", PrePostMeanStats, PrePostRatioStats)


def _check_pair(control: PrePostStats, treatment: PrePostStats) -> None:
    if type(control) is not type(treatment):
        raise DataError(
            "control and treatment must both be PrePostMeanStats or both PrePostRatioStats, "
            f"got {type(control).__name__} and {type(treatment).__name__}"
        )


def _no_pre_denominator(control: PrePostStats, treatment: PrePostStats) -> bool:
    """An arm of a ratio metric without pre-period activity has no R' to adjust by."""
    return isinstance(control, PrePostRatioStats) and isinstance(treatment, PrePostRatioStats) and (
        control.pre.d_sum == 0 or treatment.pre.d_sum == 0
    )


def fitted_theta(control: _PrePost, treatment: _PrePost) -> float:
    """The θ the adjustment uses for this pair; 0 means the lift is left unadjusted."""
    _check_pair(control, treatment)
    if isinstance(control, PrePostMeanStats):
        return mean_theta(control, treatment)
    if _no_pre_denominator(control, treatment):
        return 0.0
    theta = ratio_theta(control, treatment)
    return 0.0 if abs(theta) < RATIO_THETA_FLOOR else theta


def _adjusted_arm(stats: PrePostStats, theta: float) -> tuple[float, float]:
    """(adjusted value, its per-user variance) of one arm."""
    if isinstance(stats, PrePostMeanStats):
        return stats.post.mean - theta * stats.pre.mean, mean_adjusted_variance(stats, theta)
    return _ratio_adjusted_mean(stats, theta), ratio_adjusted_variance(stats, theta)


def _relative_variance(control: _PrePost, treatment: _PrePost, theta: float) -> float:
    if isinstance(control, PrePostMeanStats):
        return _mean_relative_variance(control, treatment, theta)
    return _ratio_relative_variance(control, treatment, theta)


def cuped_effect_moments(
    control: _PrePost, treatment: _PrePost, *, theta: float | None = None
) -> EffectMoments:
    """CUPED-adjusted lift of ``treatment`` over ``control`` (see the module docstring).

    ``theta`` overrides the fitted coefficient (e.g. one estimated on an earlier
    period); 0 gives exactly the unadjusted moments of the post statistics.
    """
    _check_pair(control, treatment)
    if control.error is not None or treatment.error is not None:
        return effect_moments(control.post, treatment.post)
    if theta is None:
        theta = fitted_theta(control, treatment)
    elif _no_pre_denominator(control, treatment):
        theta = 0.0
    if theta == 0:
        return effect_moments(control.post, treatment.post)
    mean_a, var_a = _adjusted_arm(control, theta)
    mean_b, var_b = _adjusted_arm(treatment, theta)
    if var_a <= 0 or var_b <= 0:
        return failed_moments(control, treatment, ErrorCode.ZERO_VARIANCE)
    if control.post.mean == 0:
        return failed_moments(control, treatment, ErrorCode.ZERO_BASELINE)
    var_rel = _relative_variance(control, treatment, theta)
    if not var_rel > 0:
        return failed_moments(control, treatment, ErrorCode.ZERO_VARIANCE)
    se2_a, se2_b = var_a / control.n, var_b / treatment.n
    return EffectMoments(
        control_mean=mean_a,
        treatment_mean=mean_b,
        n=control.n + treatment.n,
        lift_abs=mean_b - mean_a,
        var_abs=se2_a + se2_b,
        lift_rel=(mean_b - mean_a) / abs(control.post.mean),
        var_rel=var_rel,
        df=welch_df(se2_a, se2_b, control.n, treatment.n),
        theta=theta,
    )


def lift_moments(control: AnyStats, treatment: AnyStats) -> EffectMoments:
    """Moments of the lift for the tests: CUPED-adjusted when both arms carry pre/post pairs.

    Mixing kinds of statistic (pre/post with plain, mean with ratio) raises DataError.
    """
    if isinstance(control, PrePostMeanStats) and isinstance(treatment, PrePostMeanStats):
        return cuped_effect_moments(control, treatment)
    if isinstance(control, PrePostRatioStats) and isinstance(treatment, PrePostRatioStats):
        return cuped_effect_moments(control, treatment)
    if isinstance(control, (PrePostMeanStats, PrePostRatioStats)) or isinstance(
        treatment, (PrePostMeanStats, PrePostRatioStats)
    ):
        raise DataError(
            "control and treatment must carry the same kind of statistic, "
            f"got {type(control).__name__} and {type(treatment).__name__}"
        )
    return effect_moments(control, treatment)


@dataclass(frozen=True)
class CupedFit:
    """How much the adjustment helped, for a report line such as "CUPED: variance −35%"."""

    theta: float  # 0: not adjusted, the tests ran on the post statistics
    variance_ratio: float  # Var(adjusted lift) / Var(unadjusted lift); 1 when θ = 0
    error: ErrorCode | None = None  # the comparison cannot be analysed at all


def cuped_fit(
    control: _PrePost, treatment: _PrePost, *, difference: Difference = "relative"
) -> CupedFit:
    """θ and the variance ratio of the lift estimator on the ``difference`` scale."""
    check_difference(difference)
    adjusted = cuped_effect_moments(control, treatment)
    plain = effect_moments(control.post, treatment.post)
    error = adjusted.error or plain.error
    if error is not None:
        return CupedFit(theta=0.0, variance_ratio=math.nan, error=error)
    if difference == "relative":
        return CupedFit(adjusted.theta, adjusted.var_rel / plain.var_rel)
    return CupedFit(adjusted.theta, adjusted.var_abs / plain.var_abs)
