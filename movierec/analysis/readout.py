"""The A/B read-out of one experiment: per-variant metrics, comparisons, SRM, power, a verdict.

``analyse`` is pure: it takes the experiment's configuration and the sufficient
statistics the warehouse returned (:mod:`movierec.analysis.data`) and calls the
statistics engine; it never reads a clock, a file or the network. Its parts, each
with the rule it implements:

* :mod:`movierec.analysis.metrics` -- the metrics and each variant's numbers;
* :mod:`movierec.analysis.comparison` -- the three tests of each treatment against
  the control, why the sequential one decides, and the multiple-testing adjustment;
* :mod:`movierec.analysis.decision` -- the SRM check, the power planning and the
  verdict's order of precedence.

Degenerate data never raises: it yields a report whose rows carry a message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from movierec.analysis.comparison import Comparison, adjust, compare
from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import ExperimentData, VariantData
from movierec.analysis.decision import (
    Decision,
    PowerSummary,
    SrmSummary,
    decide,
    power_summary,
    srm_summary,
)
from movierec.analysis.metrics import METRICS, check_metrics, mean_ci, value_of
from movierec.errors import ConfigError
from movierec.events import Experiment
from movierec.jsonsafe import json_safe


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


def analyse(experiment: Experiment, data: ExperimentData, config: AnalysisConfig) -> ExperimentReport:
    """The full A/B report of ``experiment`` from its warehouse aggregates ``data``.

    Raises ConfigError only for a misconfigured experiment (no variants, a metric
    name the engine does not know); degenerate data gives messages in the report.
    """
    if not experiment.variants:
        raise ConfigError(f"experiment {experiment.experiment_id!r} has no variants")
    check_metrics(experiment)
    variants, notes = _variants_in_order(experiment, data)
    control, treatments = variants[0], variants[1:]
    comparisons = adjust(
        [compare(metric, control, t, config) for t in treatments for metric in METRICS], config
    )
    srm = srm_summary(experiment, variants, config.srm_threshold)
    power = power_summary(experiment, control, variants, config)
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
        ctr_ci=mean_ci(data.ctr, alpha),
        mean_rating=value_of(data.rating),
        clicks_per_user=value_of(data.clicks_per_user),
    )
