"""The verdict of an experiment, and the two checks it rests on: the split and the power.

The verdict, in order of precedence:

1. ``no_data`` -- no user has an impression yet;
2. ``srm`` -- the user split departs from the weights (chi-square p < 0.001): the
   comparison is biased by whatever broke the split, so no metric is trusted;
3. ``wins`` / ``loses`` -- a significant positive / negative lift on the primary
   metric (adjusted sequential p < α, :mod:`movierec.analysis.comparison`);
4. ``keep_running`` -- not significant yet (or not analysable yet: a variant without
   impressions or without variance), with the users per variant still needed for
   the sequential test to detect the configured relative MDE with the configured
   power (:func:`sequential_sample_size`);
5. ``no_difference`` -- not significant although the sample already reached that
   size: the lift, if any, is smaller than the MDE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from scipy.optimize import brentq
from scipy.stats import norm

from movierec.analysis.comparison import Comparison
from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import VariantData
from movierec.analysis.metrics import METRIC_LABELS, explain, metric_stats
from movierec.events import Experiment
from movierec.stats.power import minimum_detectable_effect, sample_size_per_variant
from movierec.stats.sequential import halfwidth, mixing_rho
from movierec.stats.srm import srm_check
from movierec.stats.statistics import ErrorCode

Verdict = Literal["no_data", "srm", "wins", "loses", "keep_running", "no_difference"]


@dataclass(frozen=True)
class SrmSummary:
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    p_value: float | None
    alarm: bool
    message: str


@dataclass(frozen=True)
class PowerSummary:
    """Planning numbers for the primary metric at the current control mean and variance."""

    metric: str
    mde: float
    users_per_variant: int  # the smallest arm so far
    mde_now: float | None  # relative lift detectable now (fixed horizon)
    required_fixed: int | None  # users per variant, fixed-horizon z test
    required_sequential: int | None  # users per variant, the confidence sequence
    more_users_per_variant: int | None  # to reach required_sequential
    message: str | None = None


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    text: str


# --------------------------------------------------------------------------- SRM


def srm_summary(experiment: Experiment, variants: list[VariantData], threshold: float) -> SrmSummary:
    observed = tuple(v.users for v in variants)
    weights = [v.weight for v in experiment.variants]
    if len(weights) < 2:
        return SrmSummary(observed, (), None, False, "not checked: the experiment has one variant")
    result = srm_check(observed, weights, threshold=threshold)
    if result.error is not None:
        return SrmSummary(observed, result.expected, None, False, "not checked: no users yet")
    if result.alarm:
        message = (
            f"sample ratio mismatch: users split {_split(observed)} but the weights expect "
            f"{_split(result.expected)} (chi-square p = {result.p_value:.2g} < {threshold:g}); "
            "assignment or logging is broken"
        )
    else:
        message = f"ok (chi-square p = {result.p_value:.3g})"
    return SrmSummary(observed, result.expected, result.p_value, result.alarm, message)


def _split(counts: tuple[float, ...] | tuple[int, ...]) -> str:
    return " / ".join(f"{c:,.0f}" for c in counts)


# --------------------------------------------------------------------------- power


def sequential_sample_size(
    baseline_mean: float,
    baseline_variance: float,
    mde: float,
    *,
    alpha: float,
    power: float,
    tuning_parameter: float,
    treatment_variance: float | None = None,
) -> int | None:
    """Users per variant at which the confidence sequence detects a relative lift ``mde``.

    With two equal arms of n users, a true relative lift δ, and per-user variances
    σ_a² = ``baseline_variance`` and σ_b² = ``treatment_variance``, by default
    (1 + δ)² σ_a² (as in :mod:`movierec.stats.power`), the estimate has
    standard error::

        se(n) = sqrt( (σ_b² + (1 + δ)² σ_a²) / (n μ_a²) )

    The lower bound of the sequence at 2n users exceeds 0 with probability
    ``power`` when δ − z_power · se(n) ≥ h(se(n), 2n), h the half-width of
    :func:`movierec.stats.sequential.halfwidth`. The left side grows and h
    shrinks with n, so the smallest such n is a root found by bisection. None when
    the inputs are degenerate (zero mean or variance).
    """
    if baseline_mean == 0 or not baseline_variance > 0:
        return None
    rho = mixing_rho(alpha, tuning_parameter)
    z_power = float(norm.ppf(power))
    var_b = baseline_variance * (1.0 + mde) ** 2 if treatment_variance is None else treatment_variance
    unit = (var_b + (1.0 + mde) ** 2 * baseline_variance) / baseline_mean**2

    def shortfall(n: float) -> float:
        se = math.sqrt(unit / n)
        return halfwidth(se, round(2 * n), alpha, rho) + z_power * se - mde

    lo, hi = 2.0, 1e13
    if shortfall(lo) <= 0:
        return 2
    if shortfall(hi) > 0:
        return None
    return math.ceil(brentq(shortfall, lo, hi, xtol=0.5))


def power_summary(
    experiment: Experiment, control: VariantData, variants: list[VariantData], config: AnalysisConfig
) -> PowerSummary:
    metric = experiment.primary_metric
    stats = metric_stats(control, metric)
    n_now = min((metric_stats(v, metric).n for v in variants), default=0)
    empty = PowerSummary(metric, config.mde, n_now, None, None, None, None)
    if stats.error is not None or stats.mean == 0:
        error = stats.error or ErrorCode.ZERO_BASELINE
        return replace(empty, message=explain(error, metric, control.variant))
    mean, variance = stats.mean, stats.variance
    required_fixed = sample_size_per_variant(
        mean, variance, config.mde, alpha=config.alpha, power=config.power
    )
    required_seq = sequential_sample_size(
        mean,
        variance,
        config.mde,
        alpha=config.alpha,
        power=config.power,
        tuning_parameter=config.tuning_parameter,
    )
    mde_now = (
        minimum_detectable_effect(mean, variance, n_now, alpha=config.alpha, power=config.power)
        if n_now >= 1
        else None
    )
    more = None if required_seq is None else max(0, required_seq - n_now)
    return PowerSummary(metric, config.mde, n_now, mde_now, required_fixed, required_seq, more)


# --------------------------------------------------------------------------- verdict


def decide(
    experiment: Experiment,
    variants: list[VariantData],
    comparisons: list[Comparison],
    srm: SrmSummary,
    power: PowerSummary,
) -> Decision:
    """The verdict in plain words (precedence in the module docstring)."""
    metric = experiment.primary_metric
    label = METRIC_LABELS[metric]
    if sum(v.impressions for v in variants) == 0:
        return Decision("no_data", "no data yet: no variant has impressions")
    if srm.alarm:
        return Decision("srm", f"SRM: do not trust -- {srm.message}")
    primary = [c for c in comparisons if c.metric == metric]
    winners = sorted(
        (c for c in primary if c.direction == "better"),
        key=lambda c: c.lift_rel or 0.0,
        reverse=True,
    )
    losers = [c for c in primary if c.direction == "worse"]
    if winners:
        best = winners[0]
        text = f"{best.variant} wins on {label} ({_effect(best)})"
        if losers:
            text += "; " + "; ".join(f"{c.variant} loses on {label}" for c in losers)
        return Decision("wins", text)
    if losers:
        return Decision(
            "loses", "; ".join(f"{c.variant} loses on {label} ({_effect(c)})" for c in losers)
        )
    blocked = [c.message for c in primary if c.message]
    mde = f"{power.mde:.0%}"
    if blocked:
        return Decision("keep_running", f"keep running: {blocked[0]}")
    if power.more_users_per_variant is None:
        return Decision(
            "keep_running", f"keep running: {power.message or 'the sample size cannot be computed yet'}"
        )
    if power.more_users_per_variant > 0:
        return Decision(
            "keep_running",
            f"keep running: {power.more_users_per_variant:,} more users per variant "
            f"for a {mde} MDE",
        )
    return Decision(
        "no_difference",
        f"no significant difference on {label} after {power.users_per_variant:,} users per "
        f"variant: a {mde} lift would have shown; any effect is smaller -- stop the test",
    )


def _effect(c: Comparison) -> str:
    lo, hi = c.seq_ci_rel or (math.nan, math.nan)
    return f"{c.lift_rel:+.1%}, always-valid CI [{lo:+.1%}, {hi:+.1%}], adjusted p = {c.adjusted_p_value:.2g}"
