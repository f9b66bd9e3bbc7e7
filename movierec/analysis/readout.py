"""The A/B read-out of one experiment: per-variant metrics, comparisons, checks, a verdict.

The decision rule, in plain words
---------------------------------

An experiment declares, before it starts, one **primary** metric, optional
**guardrails** each with a non-inferiority margin, optional **secondary** metrics,
and a **plan** (baseline, MDE, α, power -> users per variant, which also tunes the
always-valid test). Then:

* The primary metric gets all of α. The only correction is across treatment arms
  (Bonferroni: α/k per arm for k treatments; none for an A/B test), never across
  metrics, so adding metrics to the report cannot cost the primary power.
* Each guardrail is a one-sided non-inferiority test at α on the always-valid
  interval: it passes when the lower bound is above −margin. No correction across
  guardrails is needed for shipping: "ship" requires *every* guardrail to pass, an
  intersection–union test, whose level is the largest of its parts' (Berger 1982), so
  each may use all of α. (The other direction, "a guardrail is worse than its
  margin", is a union -- any one suffices -- and errs on the side of stopping.)
* Secondary metrics are shown with Benjamini–Hochberg-adjusted p-values, labelled
  exploratory, and never change the verdict.
* **B wins** when B's primary metric is significantly better on the always-valid test,
  every guardrail of B is non-inferior, there is no sample ratio mismatch, and at most
  1% of assigned users were served more than one variant.
* **B loses** when its primary metric is significantly worse, or a guardrail is
  significantly worse than its margin.
* Otherwise keep running, with what the observed effect and the planned MDE still
  need and what the data already rule out -- or, once the planned size is reached
  with no significant primary effect, "no difference".

Every interval the report shows is at the level the decision used: 1 − α/k for the
primary, the one-sided-α interval (two-sided 2α/(1+α)) for guardrails, 1 − α for
secondary metrics.

How others do it: GrowthBook corrects goal metrics only (guardrails are not corrected)
and widens the intervals it shows to match; Eppo's preferential Bonferroni gives the
primary most of α and shares the rest among the others; Statsig splits α between the
primary and the secondary metrics; Spotify ships only if at least one success metric
improved significantly and every guardrail is significantly non-inferior, with power
planned for the guardrails too. Ours is closest to Spotify's with a single success
metric, which keeps all of α for it.

Modules
-------

``analyse`` is pure: it takes the experiment's configuration and the sufficient
statistics the warehouse returned (:mod:`movierec.analysis.data`) and calls the
statistics engine; it never reads a clock, a file or the network. Its parts:
:mod:`~movierec.analysis.roles` (which metric plays which part),
:mod:`~movierec.analysis.plan` (the plan and the settings it fixes),
:mod:`~movierec.analysis.comparison` (the tests, at each role's level),
:mod:`~movierec.analysis.decision` (checks and verdict),
:mod:`~movierec.analysis.keep_running` (what an undecided test needs) and
:mod:`~movierec.analysis.intervals` (per-variant intervals inside the metric's range).

Degenerate data never raises: it yields a report whose rows carry a message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from movierec.analysis.comparison import (
    Comparison,
    guardrail_comparisons,
    primary_comparisons,
    secondary_comparisons,
)
from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import Capping, Covariate, Exclusions, ExperimentData, VariantData
from movierec.analysis.decision import (
    Decision,
    ExposureSummary,
    SrmSummary,
    decide,
    exposure_summary,
    srm_summary,
)
from movierec.analysis.intervals import rate_ci
from movierec.analysis.metrics import value_of
from movierec.analysis.plan import PlanSummary, PowerSummary, analysis_config, power_summary
from movierec.analysis.roles import resolve_roles
from movierec.errors import ConfigError
from movierec.events import Experiment, Guardrail
from movierec.jsonsafe import json_safe


@dataclass(frozen=True)
class VariantSummary:
    """One variant's cumulative numbers; ``None`` where a value is undefined.

    Intervals are at 1 − α, inside the metric's range (:mod:`movierec.analysis.intervals`).
    """

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
    item_ctr: float | None = None
    item_ctr_ci: tuple[float, float] | None = None


@dataclass(frozen=True)
class ExperimentReport:
    experiment_id: str
    status: str
    control: str
    primary_metric: str
    guardrails: tuple[Guardrail, ...]
    secondary_metrics: tuple[str, ...]
    config: AnalysisConfig
    plan: PlanSummary
    variants: tuple[VariantSummary, ...]
    comparisons: tuple[Comparison, ...]  # primary, then guardrails, then secondary
    srm: SrmSummary
    exposure: ExposureSummary
    power: PowerSummary
    decision: Decision
    exclusions: Exclusions = field(default_factory=Exclusions)
    capping: Capping | None = None
    notes: tuple[str, ...] = field(default=())
    covariate: Covariate | None = None  # the CUPED covariate the data held (None: none)

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


def analyse(
    experiment: Experiment, data: ExperimentData, config: AnalysisConfig | None = None
) -> ExperimentReport:
    """The full A/B report of ``experiment`` from its warehouse aggregates ``data``.

    ``config`` defaults to the one the experiment's recorded plan fixes
    (:func:`movierec.analysis.plan.analysis_config`); pass one only to study another
    setting. Raises ConfigError only for a misconfigured experiment (no variants, a
    metric name the engine does not know); degenerate data gives messages instead.
    """
    if not experiment.variants:
        raise ConfigError(f"experiment {experiment.experiment_id!r} has no variants")
    roles = resolve_roles(experiment)
    planned, plan = analysis_config(experiment)
    if config is None:
        config = planned
    else:  # a study: say that the recorded plan is not what decided
        plan = PlanSummary(False, config.mde, config.alpha, config.power, None,
                           config.planned_users_per_variant, config.tuning_parameter,
                           f"analysis settings given by the caller (recorded: {plan.text})")
    variants, notes = _variants_in_order(experiment, data)
    control, treatments = variants[0], variants[1:]
    primary = primary_comparisons(roles.primary, control, treatments, config)
    guards = guardrail_comparisons(roles.guardrails, control, treatments, config)
    secondary = secondary_comparisons(roles.secondary, control, treatments, config)
    planned_total = config.planned_users_per_variant * len(variants) if config.planned_users_per_variant else None
    srm = srm_summary(experiment, variants, config.srm_threshold, data.daily, planned_total)
    exposure = exposure_summary(data.exclusions, config.multiple_exposure_threshold)
    power = power_summary(roles.primary, control, variants, config, len(variants))
    return ExperimentReport(
        experiment_id=experiment.experiment_id,
        status=experiment.status,
        control=control.variant,
        primary_metric=roles.primary,
        guardrails=roles.guardrails,
        secondary_metrics=roles.secondary,
        config=config,
        plan=plan,
        variants=tuple(_summarise(v, config.alpha) for v in variants),
        comparisons=tuple(primary + guards + secondary),
        srm=srm,
        exposure=exposure,
        power=power,
        decision=decide(variants, primary, guards, srm, exposure, power, config),
        exclusions=data.exclusions,
        capping=data.capping,
        notes=roles.notes + tuple(notes),
        covariate=data.covariate,
    )


def _variants_in_order(experiment: Experiment, data: ExperimentData) -> tuple[list[VariantData], list[str]]:
    names = [v.name for v in experiment.variants]
    notes = [
        f"data for variant {name!r}, which is not in the experiment, was ignored"
        for name in data.variants
        if name not in names
    ]
    return [data.variants.get(name) or VariantData.empty(name) for name in names], notes


def _summarise(data: VariantData, alpha: float) -> VariantSummary:
    return VariantSummary(
        variant=data.variant,
        users=data.users,
        exposed_users=data.exposed_users,
        impressions=data.impressions,
        clicks=data.clicks,
        ratings=data.ratings,
        ctr=value_of(data.ctr),
        ctr_ci=rate_ci(data.ctr, alpha, "ctr"),
        mean_rating=value_of(data.rating),
        clicks_per_user=value_of(data.clicks_per_user),
        item_ctr=value_of(data.item_ctr),
        item_ctr_ci=rate_ci(data.item_ctr, alpha, "item_ctr"),
    )
