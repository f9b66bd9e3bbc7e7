"""Which metric plays which part in the decision, and what "better" means for each.

An experiment declares one **primary** metric (it alone decides), **guardrails** with
a non-inferiority margin each (they can block or reverse a win, never make one), and
**secondary** metrics (shown, exploratory, never change the verdict). A metric has one
role: a guardrail that repeats the primary is tested as the primary, a secondary that
repeats either is dropped, and the report says so.

A config stored before roles existed (no plan) also shows every other known metric as
secondary, so its report keeps the rows it always had.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from movierec.analysis.metrics import METRIC_LABELS, METRICS
from movierec.errors import ConfigError
from movierec.events import Experiment, Guardrail

Role = Literal["primary", "guardrail", "secondary"]

# Every metric the engine reads is "more is better" today; the rule, the keep-running
# numbers and the report's colours all take the direction from here, so a cost metric
# (latency, bounce rate) only needs an entry.
HIGHER_IS_BETTER: Mapping[str, bool] = {
    "ctr": True,
    "item_ctr": True,
    "clicks_per_user": True,
    "rating": True,
}

# The range a metric's value lives in (None: unbounded above). Per-variant intervals
# are computed on a scale that respects it (:mod:`movierec.analysis.intervals`). List
# CTR is clicks per served list: a user may click several titles of one list, so it is
# non-negative but may exceed 1; item CTR (clicks per title shown) is a proportion.
BOUNDS: Mapping[str, tuple[float, float | None]] = {
    "ctr": (0.0, None),
    "item_ctr": (0.0, 1.0),
    "clicks_per_user": (0.0, None),
    "rating": (1.0, 5.0),
}


def higher_is_better(metric: str) -> bool:
    return HIGHER_IS_BETTER.get(metric, True)


# For table headings, where the full label ("list CTR (clicks per served list)") is too wide.
SHORT_LABELS: Mapping[str, str] = {"ctr": "list CTR", "item_ctr": "item CTR"}


def label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def short_label(metric: str) -> str:
    return SHORT_LABELS.get(metric, label(metric))


def margin_text(margin: float) -> str:
    """A guardrail's margin as a drop: 0.02 -> ``-2%``, 0.005 -> ``-0.5%``."""
    return "-" + f"{100 * margin:.2f}".rstrip("0").rstrip(".") + "%"


@dataclass(frozen=True)
class MetricRoles:
    primary: str
    guardrails: tuple[Guardrail, ...]
    secondary: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def role_of(self, metric: str) -> Role:
        if metric == self.primary:
            return "primary"
        if any(g.metric == metric for g in self.guardrails):
            return "guardrail"
        return "secondary"


def resolve_roles(experiment: Experiment) -> MetricRoles:
    """The roles of ``experiment``'s metrics; ConfigError for a metric the engine lacks."""
    named = (experiment.primary_metric, *(g.metric for g in experiment.guardrails),
             *experiment.secondary_metrics)
    for metric in named:
        if metric not in METRICS:
            raise ConfigError(
                f"experiment {experiment.experiment_id!r} names metric {metric!r}; "
                f"known metrics: {', '.join(METRICS)}"
            )
    for g in experiment.guardrails:
        if not (0.0 < g.margin < 1.0):  # 0 would ask for a significant gain: make it the primary
            raise ConfigError(
                f"guardrail {g.metric!r}: the margin is a relative drop in (0, 1), got {g.margin!r}"
            )
    primary = experiment.primary_metric
    notes: list[str] = []
    guardrails: list[Guardrail] = []
    for g in experiment.guardrails:
        if g.metric == primary:
            notes.append(f"guardrail {label(g.metric)} is the primary metric: tested as the primary")
        elif all(g.metric != kept.metric for kept in guardrails):
            guardrails.append(g)
    taken = {primary, *(g.metric for g in guardrails)}
    secondary = [m for m in dict.fromkeys(experiment.secondary_metrics) if m not in taken]
    if experiment.plan is None and not experiment.secondary_metrics:
        secondary = [m for m in METRICS if m not in taken]
    return MetricRoles(primary, tuple(guardrails), tuple(secondary), tuple(notes))
