"""The experiment's plan: how many users the primary metric needs, fixed before the data.

At creation (``movierec experiment create``) the plan takes the primary metric's
baseline (control mean and per-user variance), the relative MDE, α and the power, and
records the users per variant at which the always-valid test detects the MDE with that
power (:func:`sequential_sample_size`, at the primary's level α/k for k treatment
arms). The sequence's tuning parameter depends on the sample size and the sample size
on the tuning parameter, so the plan is their fixed point: n = sequential_sample_size(…,
tuning = 2n). The recorded ``total_users`` = 2n -- the control and one treatment arm,
the sample each comparison's sequence reaches -- is the tuning parameter of every
analysis of the experiment; nothing at read-out time can change it.

Guardrails given a baseline (``--guardrail-baseline``) get planned power too: the users
per variant at which their always-valid bound (two-sided level 2α/(1 + α), the one-sided
α the decision reads) clears the margin with the plan's power when the true lift is 0
(:func:`movierec.stats.power.sequential_non_inferiority_sample_size`), at the same
tuning. "B wins" needs every guardrail shown non-inferior, so the experiment is planned
to run to the largest of these sizes and the primary's, which the report states.

A config stored before plans existed, or planned without a baseline, gets the
documented defaults (MDE 5%, α 0.05, power 80%, tuning for 5,000 users) and the
report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from movierec.analysis.comparison import guardrail_alpha
from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import VariantData
from movierec.analysis.metrics import explain, metric_stats
from movierec.analysis.roles import higher_is_better, label, margin_text
from movierec.errors import ConfigError
from movierec.events import Experiment, Guardrail, GuardrailPlan, Plan
from movierec.stats.power import (
    minimum_detectable_effect,
    sample_size_per_variant,
    sequential_non_inferiority_sample_size,
    sequential_users_to_clear,
)
from movierec.stats.statistics import ErrorCode

DEFAULTS = AnalysisConfig()


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
    var_b = baseline_variance * (1.0 + mde) ** 2 if treatment_variance is None else treatment_variance
    unit = (var_b + (1.0 + mde) ** 2 * baseline_variance) / baseline_mean**2
    return sequential_users_to_clear(unit, mde, alpha=alpha, power=power, tuning_parameter=tuning_parameter)


def default_variance(metric: str, baseline: float) -> float | None:
    """A planning guess of the per-user variance when none is given (None: ask for one).

    CTRs: the Bernoulli variance b(1 − b) of one list (item) per user -- users who see
    several lists have a smaller variance per user unless their clicks are strongly
    correlated, so this usually over-plans a little. Clicks per user: Poisson (= b).
    """
    if metric in ("ctr", "item_ctr") and 0.0 < baseline < 1.0:
        return baseline * (1.0 - baseline)
    if metric == "clicks_per_user" and baseline > 0:
        return baseline
    return None


def _baseline_variance(metric: str, baseline: float, variance: float | None, option: str) -> float:
    if not (math.isfinite(baseline) and baseline > 0):
        raise ConfigError(f"the baseline of {label(metric)} must be its positive control mean, got {baseline!r}")
    chosen = default_variance(metric, baseline) if variance is None else variance
    if chosen is None:
        raise ConfigError(
            f"no default per-user variance for {label(metric)} at baseline {baseline:g}: give {option}"
        )
    if not (math.isfinite(chosen) and chosen > 0):
        raise ConfigError(f"the baseline variance of {label(metric)} must be positive, got {chosen!r}")
    return chosen


def guardrail_plan(
    guardrail: Guardrail, baseline: float, variance: float | None, *, alpha: float, power: float,
    tuning_parameter: float,
) -> GuardrailPlan:
    """Users per variant at which ``guardrail`` is shown non-inferior with ``power`` (true lift 0)."""
    chosen = _baseline_variance(guardrail.metric, baseline, variance,
                                f"a variance: --guardrail-baseline {guardrail.metric}=MEAN:VARIANCE")
    n = sequential_non_inferiority_sample_size(
        baseline, chosen, guardrail.margin, tuning_parameter=tuning_parameter,
        alpha=guardrail_alpha(alpha), power=power, higher_is_better=higher_is_better(guardrail.metric),
    )
    return GuardrailPlan(guardrail.metric, baseline, chosen, n)


def make_plan(
    metric: str,
    arms: int,
    *,
    mde: float = DEFAULTS.mde,
    alpha: float = DEFAULTS.alpha,
    power: float = DEFAULTS.power,
    baseline: float | None = None,
    baseline_variance: float | None = None,
    guardrails: tuple[Guardrail, ...] = (),
    guardrail_baselines: dict[str, tuple[float, float | None]] | None = None,
) -> Plan:
    """The plan of an experiment with ``arms`` variants (control included) on ``metric``.

    Without a baseline the plan records the levels only (the report then says the
    test is tuned for the default). ``guardrail_baselines`` maps a guardrail's metric to
    its control mean and per-user variance (None: the default for the metric); each
    gets a :class:`GuardrailPlan`. ConfigError for impossible inputs.
    """
    AnalysisConfig(alpha=alpha, power=power, mde=mde)  # the same checks as the analysis
    if arms < 2:
        raise ConfigError(f"an experiment needs at least two variants, got {arms}")
    baselines = dict(guardrail_baselines or {})
    unknown = sorted(set(baselines) - {g.metric for g in guardrails})
    if unknown:
        raise ConfigError(f"--guardrail-baseline for {', '.join(unknown)}, which is not a guardrail "
                          "of this experiment (declare it with --guardrail)")
    if baseline is None:
        if baseline_variance is not None:
            raise ConfigError("--baseline-variance needs --baseline")
        return Plan(mde=mde, alpha=alpha, power=power, guardrails=_guardrail_plans(
            guardrails, baselines, alpha=alpha, power=power, tuning_parameter=DEFAULTS.tuning_parameter))
    variance = _baseline_variance(metric, baseline, baseline_variance, "--baseline-variance")
    primary_level = alpha / (arms - 1)
    total = 2 * sample_size_per_variant(baseline, variance, mde, alpha=primary_level, power=power)
    n = None
    for _ in range(100):  # converges in a handful of steps: n grows slowly with the tuning
        n = sequential_sample_size(
            baseline, variance, mde, alpha=primary_level, power=power, tuning_parameter=total
        )
        if n is None or 2 * n == total:
            break
        total = 2 * n
    if n is None:
        raise ConfigError(f"no sample size detects a {mde:+.0%} lift of {label(metric)} at baseline {baseline:g}")
    return Plan(mde=mde, alpha=alpha, power=power, baseline=baseline, baseline_variance=variance,
                users_per_variant=n, total_users=2 * n, guardrails=_guardrail_plans(
                    guardrails, baselines, alpha=alpha, power=power, tuning_parameter=2 * n))


def _guardrail_plans(
    guardrails: tuple[Guardrail, ...], baselines: dict[str, tuple[float, float | None]], *,
    alpha: float, power: float, tuning_parameter: float,
) -> tuple[GuardrailPlan, ...]:
    return tuple(
        guardrail_plan(g, *baselines[g.metric], alpha=alpha, power=power, tuning_parameter=tuning_parameter)
        for g in guardrails if g.metric in baselines
    )


def guardrail_plan_lines(experiment: Experiment) -> list[str]:
    """One line per guardrail: the planned power, or that none was planned."""
    plan = experiment.plan
    planned = {g.metric: g for g in plan.guardrails} if plan is not None else {}
    power = plan.power if plan is not None else DEFAULTS.power
    lines = []
    for g in experiment.guardrails:
        p = planned.get(g.metric)
        if p is None:
            lines.append(f"guardrail {label(g.metric)}: no planned power (no baseline given at creation)")
        elif p.users_per_variant is None:
            lines.append(f"guardrail {label(g.metric)}: no sample size shows it within its "
                         f"{margin_text(g.margin)} margin at baseline {p.baseline:.4g}")
        else:
            lines.append(
                f"guardrail {label(g.metric)}: shown within its {margin_text(g.margin)} margin with "
                f"{power:.0%} power (true lift 0) at {p.users_per_variant:,} users per variant "
                f"(baseline {p.baseline:.4g}, per-user variance {p.baseline_variance:.4g})"
            )
    return lines


@dataclass(frozen=True)
class PlanSummary:
    """The plan the analysis used, and whether it was recorded or defaulted."""

    recorded: bool
    mde: float
    alpha: float
    power: float
    baseline: float | None
    users_per_variant: int | None
    tuning_parameter: float
    text: str
    guardrail_lines: tuple[str, ...] = ()  # each guardrail's planned power, or that it has none


def analysis_config(experiment: Experiment) -> tuple[AnalysisConfig, PlanSummary]:
    """The analysis settings the experiment's recorded plan fixes (defaults if none)."""
    config, summary = _primary_plan(experiment)
    return config, replace(summary, guardrail_lines=tuple(guardrail_plan_lines(experiment)))


def _primary_plan(experiment: Experiment) -> tuple[AnalysisConfig, PlanSummary]:
    plan = experiment.plan
    metric = label(experiment.primary_metric)
    if plan is None:
        return DEFAULTS, PlanSummary(
            False, DEFAULTS.mde, DEFAULTS.alpha, DEFAULTS.power, None, None, DEFAULTS.tuning_parameter,
            f"no recorded plan (experiment created before plans): the documented defaults apply -- "
            f"MDE {DEFAULTS.mde:+.0%}, alpha {DEFAULTS.alpha:g}, power {DEFAULTS.power:.0%}, "
            f"always-valid test tuned for {DEFAULTS.tuning_parameter:,.0f} users",
        )
    config = replace(DEFAULTS, alpha=plan.alpha, power=plan.power, mde=plan.mde)
    if plan.total_users is None or plan.users_per_variant is None:
        return config, PlanSummary(
            False, plan.mde, plan.alpha, plan.power, None, None, config.tuning_parameter,
            f"plan without a baseline: MDE {plan.mde:+.0%} on {metric}, alpha {plan.alpha:g}, "
            f"power {plan.power:.0%}; the always-valid test is tuned for the default "
            f"{config.tuning_parameter:,.0f} users",
        )
    config = replace(config, tuning_parameter=float(plan.total_users),
                     planned_users_per_variant=plan.users_per_variant)
    run_to = plan.users_to_run or plan.users_per_variant
    longer = (f"; the guardrails need {run_to:,} users per variant, so the experiment is planned to run to that"
              if run_to > plan.users_per_variant else "")
    return config, PlanSummary(
        True, plan.mde, plan.alpha, plan.power, plan.baseline, plan.users_per_variant,
        float(plan.total_users),
        f"plan: MDE {plan.mde:+.0%} on {metric} at baseline {plan.baseline:.4g}, alpha {plan.alpha:g}, "
        f"power {plan.power:.0%} -> {plan.users_per_variant:,} users per variant "
        f"(the always-valid test is tuned for {plan.total_users:,}){longer}",
    )


@dataclass(frozen=True)
class PowerSummary:
    """Planning numbers for the primary metric at the current control mean and variance."""

    metric: str
    mde: float
    users_per_variant: int  # the smallest arm so far, users with data on the metric
    mde_now: float | None  # relative lift detectable now (fixed horizon)
    required_fixed: int | None  # users per variant, fixed-horizon z test
    required_sequential: int | None  # users per variant, the confidence sequence
    planned: int | None  # the recorded plan's users per variant
    message: str | None = None

    @property
    def target(self) -> int | None:
        """The sample size the test is run to: the plan's, else the observed-variance one."""
        return self.planned if self.planned is not None else self.required_sequential


def power_summary(
    metric: str, control: VariantData, variants: list[VariantData], config: AnalysisConfig, arms: int
) -> PowerSummary:
    stats = metric_stats(control, metric)
    n_now = min((metric_stats(v, metric).n for v in variants), default=0)
    empty = PowerSummary(metric, config.mde, n_now, None, None, None, config.planned_users_per_variant)
    if stats.error is not None or stats.mean == 0:
        error = stats.error or ErrorCode.ZERO_BASELINE
        return replace(empty, message=explain(error, metric, control.variant))
    mean, variance = stats.mean, stats.variance
    alpha = config.alpha / max(arms - 1, 1)  # the primary's level
    required_fixed = sample_size_per_variant(mean, variance, config.mde, alpha=alpha, power=config.power)
    required_seq = sequential_sample_size(
        mean, variance, config.mde, alpha=alpha, power=config.power, tuning_parameter=config.tuning_parameter
    )
    mde_now = (
        minimum_detectable_effect(mean, variance, n_now, alpha=alpha, power=config.power)
        if n_now >= 1
        else None
    )
    return replace(empty, mde_now=mde_now, required_fixed=required_fixed, required_sequential=required_seq)
