"""The A/B read-out of one experiment: per-variant metrics, comparisons, SRM, power, a verdict.

``analyse`` is pure: it takes the experiment's configuration and the sufficient
statistics the warehouse returned (:mod:`movierec.analysis.data`) and calls the
statistics engine; it never reads a clock, a file or the network.

Metrics (all per user, the randomisation unit):

* ``ctr`` -- clicks / impressions, a ratio metric with delta-method variance;
* ``rating`` -- mean rating given (sum of ratings / number of ratings, ratio metric);
* ``clicks_per_user`` -- clicks per exposed user (mean metric).

Each non-control variant (the first variant is the control) is compared to the
control on every metric with three tests, all on the relative lift δ = μ_b/μ_a − 1:

* fixed-horizon Welch (or z) test -- p-value and CI, shown for reference;
* the always-valid Gaussian-mixture confidence sequence -- **drives the decision**;
* the Bayesian posterior under a flat prior -- chance to beat control and
  expected loss of shipping the variant.

Why the sequential test decides: the report runs every day and people read it every
day. Stopping at the first day a fixed-horizon p-value dips under α inflates the
false positive rate several-fold (see ``scripts/bench_calibration.py``); the
confidence sequence holds at every look, so "B wins" may be acted on the day it
appears. The sequential p-values of all metric × variant comparisons are adjusted
together (Holm by default, Benjamini–Hochberg optionally): always-valid p-values
are valid p-values at any stopping time, so the adjustment keeps its guarantee.

The verdict, in order of precedence:

1. ``no_data`` -- no user has an impression yet;
2. ``srm`` -- the user split departs from the weights (chi-square p < 0.001): the
   comparison is biased by whatever broke the split, so no metric is trusted;
3. ``wins`` / ``loses`` -- a significant positive / negative lift on the primary
   metric (adjusted sequential p < α);
4. ``keep_running`` -- not significant yet (or not analysable yet: a variant without
   impressions or without variance), with the users per variant still needed for
   the sequential test to detect the configured relative MDE with the configured
   power;
5. ``no_difference`` -- not significant although the sample already reached that
   size: the lift, if any, is smaller than the MDE.

Degenerate data never raises: it yields a report whose rows carry a message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from scipy.optimize import brentq
from scipy.stats import norm

from movierec.analysis.data import ExperimentData, VariantData
from movierec.errors import ConfigError
from movierec.events import Experiment
from movierec.jsonsafe import json_safe
from movierec.stats.bayesian import bayesian_test
from movierec.stats.effect import check_alpha
from movierec.stats.frequentist import TestKind, two_sample_test
from movierec.stats.multiple import Method, adjust_p_values
from movierec.stats.power import minimum_detectable_effect, sample_size_per_variant
from movierec.stats.sequential import (
    DEFAULT_TUNING_PARAMETER,
    halfwidth,
    mixing_rho,
    sequential_test,
)
from movierec.stats.srm import DEFAULT_SRM_THRESHOLD, srm_check
from movierec.stats.statistics import (
    ErrorCode,
    RatioStats,
    Stats,
)

METRICS: tuple[str, ...] = ("ctr", "rating", "clicks_per_user")
METRIC_LABELS: Mapping[str, str] = {
    "ctr": "CTR",
    "rating": "mean rating",
    "clicks_per_user": "clicks per user",
}
Verdict = Literal["no_data", "srm", "wins", "loses", "keep_running", "no_difference"]


@dataclass(frozen=True)
class AnalysisConfig:
    """How to analyse; defaults are the conventional ones.

    ``tuning_parameter`` is the total number of users (all arms) at which the
    confidence sequence is tightest; it must be fixed before the data are seen
    (any value keeps validity, a good guess of the final size keeps power).
    """

    alpha: float = 0.05
    power: float = 0.8
    mde: float = 0.05  # relative lift on the primary metric
    correction: Method = "holm"
    test: TestKind = "welch"
    srm_threshold: float = DEFAULT_SRM_THRESHOLD
    tuning_parameter: float = DEFAULT_TUNING_PARAMETER

    def __post_init__(self) -> None:
        check_alpha(self.alpha)
        if not 0.0 < self.power < 1.0:
            raise ConfigError(f"power must be in (0, 1), got {self.power!r}")
        if not (math.isfinite(self.mde) and self.mde > 0):
            raise ConfigError(f"mde must be a positive relative lift such as 0.05, got {self.mde!r}")
        if self.correction not in ("holm", "bh"):
            raise ConfigError(f"correction must be 'holm' or 'bh', got {self.correction!r}")
        if self.test not in ("welch", "z"):
            raise ConfigError(f"test must be 'welch' or 'z', got {self.test!r}")
        if not 0.0 < self.srm_threshold < 1.0:
            raise ConfigError(f"srm_threshold must be in (0, 1), got {self.srm_threshold!r}")
        if not self.tuning_parameter > 0:
            raise ConfigError(f"tuning_parameter must be positive, got {self.tuning_parameter!r}")


@dataclass(frozen=True)
class VariantSummary:
    """One variant's cumulative numbers; ``None`` where a value is undefined."""

    variant: str
    users: int
    exposed_users: int
    impressions: int
    clicks: int
    ratings: int
    ctr: float | None
    ctr_ci: tuple[float, float] | None
    mean_rating: float | None
    clicks_per_user: float | None


@dataclass(frozen=True)
class Comparison:
    """One metric of one variant against control; lifts are relative unless named ``_abs``."""

    metric: str
    variant: str
    control: str
    control_value: float | None
    variant_value: float | None
    lift_abs: float | None = None
    lift_rel: float | None = None
    ci_rel: tuple[float, float] | None = None  # fixed-horizon (Welch/z)
    ci_abs: tuple[float, float] | None = None
    p_value: float | None = None  # fixed-horizon
    seq_ci_rel: tuple[float, float] | None = None  # always-valid
    seq_ci_abs: tuple[float, float] | None = None
    seq_p_value: float | None = None
    adjusted_p_value: float | None = None  # sequential, Holm/BH across metrics x variants
    chance_to_beat_control: float | None = None
    expected_loss: float | None = None  # of shipping the variant, in relative lift
    significant: bool = False  # adjusted sequential p < alpha
    message: str | None = None  # why the numbers are missing

    @property
    def direction(self) -> Literal["better", "worse", "flat"]:
        if not self.significant or self.lift_rel is None:
            return "flat"
        return "better" if self.lift_rel > 0 else "worse"


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


@dataclass(frozen=True)
class ExperimentReport:
    experiment_id: str
    status: str
    control: str
    primary_metric: str
    guardrails: tuple[str, ...]
    config: AnalysisConfig
    variants: tuple[VariantSummary, ...]
    comparisons: tuple[Comparison, ...]
    srm: SrmSummary
    power: PowerSummary
    decision: Decision
    notes: tuple[str, ...] = field(default=())

    def comparison(self, metric: str, variant: str) -> Comparison:
        for c in self.comparisons:
            if c.metric == metric and c.variant == variant:
                return c
        raise KeyError(f"no comparison of {metric} for variant {variant!r}")

    def variant(self, name: str) -> VariantSummary:
        for v in self.variants:
            if v.variant == name:
                return v
        raise KeyError(f"no variant {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: tuples become lists, NaN/inf never appear (None instead)."""
        return json_safe(asdict(self))


# --------------------------------------------------------------------------- helpers


def metric_stats(data: VariantData, metric: str) -> Stats:
    if metric == "ctr":
        return data.ctr
    if metric == "rating":
        return data.rating
    if metric == "clicks_per_user":
        return data.clicks_per_user
    raise ConfigError(f"unknown metric {metric!r}; known metrics: {', '.join(METRICS)}")


def _check_metrics(experiment: Experiment) -> None:
    for metric in (experiment.primary_metric, *experiment.guardrails):
        if metric not in METRICS:
            raise ConfigError(
                f"experiment {experiment.experiment_id!r} names metric {metric!r}; "
                f"known metrics: {', '.join(METRICS)}"
            )


def value_of(stats: Stats) -> float | None:
    """The metric's point estimate, None when it is undefined (no users / no denominator)."""
    if stats.n == 0 or (isinstance(stats, RatioStats) and stats.d_sum == 0):
        return None
    return stats.mean


def mean_ci(stats: Stats, alpha: float) -> tuple[float, float] | None:
    """Normal CI of a per-variant mean or ratio: μ̂ ± z_{1−α/2} sqrt(s²/n) (None if degenerate)."""
    if stats.error is not None:
        return None
    half = float(norm.ppf(1.0 - alpha / 2.0)) * math.sqrt(stats.variance / stats.n)
    return (stats.mean - half, stats.mean + half)


def explain(error: ErrorCode, metric: str, variant: str) -> str:
    """A plain-words reason why ``metric`` of ``variant`` cannot be analysed."""
    label = METRIC_LABELS.get(metric, metric)
    if error is ErrorCode.NO_UNITS:
        what = "ratings" if metric == "rating" else "impressions"
        return f"{variant} has no {what} yet"
    if error is ErrorCode.TOO_FEW_UNITS:
        return f"{variant} has fewer than 2 users with {label} data"
    if error is ErrorCode.ZERO_DENOMINATOR:
        what = {"ctr": "impressions", "rating": "ratings"}.get(metric, "data")
        return f"{variant} has no {what} yet"
    if error is ErrorCode.ZERO_VARIANCE:
        return f"{label} of {variant} has no variance yet (every user has the same value)"
    if error is ErrorCode.ZERO_BASELINE:
        return f"{label} of the control {variant} is 0, so a relative lift is undefined"
    return f"{label} of {variant} cannot be analysed ({error.value})"


def _summarise(data: VariantData, alpha: float) -> VariantSummary:
    return VariantSummary(
        variant=data.variant,
        users=data.users,
        exposed_users=data.exposed_users,
        impressions=data.impressions,
        clicks=data.clicks,
        ratings=data.ratings,
        ctr=value_of(data.ctr),
        ctr_ci=mean_ci(data.ctr, alpha),
        mean_rating=value_of(data.rating),
        clicks_per_user=value_of(data.clicks_per_user),
    )


# --------------------------------------------------------------------------- comparisons


def compare(
    metric: str, control: VariantData, treatment: VariantData, config: AnalysisConfig
) -> Comparison:
    """All three tests of ``treatment`` against ``control`` on one metric (unadjusted)."""
    a, b = metric_stats(control, metric), metric_stats(treatment, metric)
    base = Comparison(
        metric=metric,
        variant=treatment.variant,
        control=control.variant,
        control_value=value_of(a),
        variant_value=value_of(b),
    )
    if a.error is not None:
        return _with(base, message=explain(a.error, metric, control.variant))
    if b.error is not None:
        return _with(base, message=explain(b.error, metric, treatment.variant))
    if a.mean == 0:
        return _with(base, message=explain(ErrorCode.ZERO_BASELINE, metric, control.variant))
    fixed = two_sample_test(a, b, alpha=config.alpha, test=config.test)
    seq = sequential_test(a, b, tuning_parameter=config.tuning_parameter, alpha=config.alpha)
    bayes = bayesian_test(a, b, alpha=config.alpha)
    return _with(
        base,
        lift_abs=fixed.lift_abs,
        lift_rel=fixed.lift_rel,
        ci_rel=fixed.ci_rel,
        ci_abs=fixed.ci_abs,
        p_value=fixed.p_value,
        seq_ci_rel=seq.ci_rel,
        seq_ci_abs=seq.ci_abs,
        seq_p_value=seq.p_value,
        chance_to_beat_control=bayes.chance_to_win,
        expected_loss=bayes.risk_treatment,
    )


def _with(c: Comparison, **changes: Any) -> Comparison:
    return Comparison(**{**asdict(c), **changes})


def _adjust(comparisons: list[Comparison], config: AnalysisConfig) -> list[Comparison]:
    """Adjust the sequential p-values of the analysable comparisons together."""
    tested = [i for i, c in enumerate(comparisons) if c.seq_p_value is not None]
    adjusted = adjust_p_values(
        [comparisons[i].seq_p_value for i in tested],  # type: ignore[misc]
        config.correction,
        alpha=config.alpha,
    )
    out = list(comparisons)
    for i, p, reject in zip(tested, adjusted.p_values, adjusted.reject):
        out[i] = _with(out[i], adjusted_p_value=p, significant=reject)
    return out


# --------------------------------------------------------------------------- SRM and power


def _srm(experiment: Experiment, variants: list[VariantData], threshold: float) -> SrmSummary:
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


def _power(
    experiment: Experiment, control: VariantData, variants: list[VariantData], config: AnalysisConfig
) -> PowerSummary:
    metric = experiment.primary_metric
    stats = metric_stats(control, metric)
    n_now = min((metric_stats(v, metric).n for v in variants), default=0)
    empty = PowerSummary(metric, config.mde, n_now, None, None, None, None)
    if stats.error is not None or stats.mean == 0:
        error = stats.error or ErrorCode.ZERO_BASELINE
        return _replace_power(empty, message=explain(error, metric, control.variant))
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


def _replace_power(p: PowerSummary, **changes: Any) -> PowerSummary:
    return PowerSummary(**{**asdict(p), **changes})


# --------------------------------------------------------------------------- decision


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


# --------------------------------------------------------------------------- entry point


def _variants_in_order(experiment: Experiment, data: ExperimentData) -> tuple[list[VariantData], list[str]]:
    names = [v.name for v in experiment.variants]
    notes = [
        f"data for variant {name!r}, which is not in the experiment, was ignored"
        for name in data.variants
        if name not in names
    ]
    return [data.variants.get(name) or VariantData.empty(name) for name in names], notes


def analyse(experiment: Experiment, data: ExperimentData, config: AnalysisConfig) -> ExperimentReport:
    """The full A/B report of ``experiment`` from its warehouse aggregates ``data``.

    Raises ConfigError only for a misconfigured experiment (no variants, a metric
    name the engine does not know); degenerate data gives messages in the report.
    """
    if not experiment.variants:
        raise ConfigError(f"experiment {experiment.experiment_id!r} has no variants")
    _check_metrics(experiment)
    variants, notes = _variants_in_order(experiment, data)
    control, treatments = variants[0], variants[1:]
    comparisons = _adjust(
        [compare(metric, control, t, config) for t in treatments for metric in METRICS], config
    )
    srm = _srm(experiment, variants, config.srm_threshold)
    power = _power(experiment, control, variants, config)
    return ExperimentReport(
        experiment_id=experiment.experiment_id,
        status=experiment.status,
        control=control.variant,
        primary_metric=experiment.primary_metric,
        guardrails=tuple(experiment.guardrails),
        config=config,
        variants=tuple(_summarise(v, config.alpha) for v in variants),
        comparisons=tuple(comparisons),
        srm=srm,
        power=power,
        decision=decide(experiment, variants, comparisons, srm, power),
        notes=tuple(notes),
    )
