"""CTR alerting: decide which alert conditions hold (pure), then send them once per cool-down.

Two conditions, per variant (control included for the floor):

* ``ctr_below_floor`` -- the variant's CTR is below ``AlertConfig.ctr_floor``. The
  CTR of the most recent day is used, so a model that breaks today alerts today
  instead of being averaged away by the weeks before; when that day has fewer than
  ``min_impressions`` impressions, the cumulative CTR is used instead, and with
  fewer than that in total the check waits (a handful of impressions says nothing).
* ``guardrail_worse`` -- the variant is significantly worse than control on the
  primary metric or a guardrail of the experiment: the always-valid interval the
  decision uses lies entirely on the harmful side of 0. (Harm, not the margin: an
  alert should come before the drop is large enough to decide "loses".) Because the
  sequence holds at every look, this may fire on the first day the harm is visible
  without the daily check inflating false alarms. It is not adjusted for
  multiplicity: missing real harm costs more than an occasional extra alert, and the
  cool-down bounds the noise. The condition keeps its name from when the primary was
  listed among the guardrails, so alert keys and cool-downs carry over.

``dispatch_alerts`` is the I/O side, through the one :class:`~movierec.reporting.alerting.Alerter`
of every alert: the warehouse table ``alerts`` remembers what was sent, so the same
alert key is not sent again within the cool-down.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from movierec.analysis.data import ExperimentData
from movierec.analysis.decision import level
from movierec.analysis.metrics import METRIC_LABELS
from movierec.analysis.readout import ExperimentReport
from movierec.errors import ConfigError
from movierec.events import Experiment
from movierec.reporting.alerting import (
    DEFAULT_COOLDOWN_SECONDS,
    Alert,
    Alerter,
    Dispatched,
    last_sent,
)
from movierec.stores.ports import Warehouse


@dataclass(frozen=True)
class AlertConfig:
    ctr_floor: float | None = None  # absolute CTR, e.g. 0.02; None disables the check
    min_impressions: int = 200
    guardrails: bool = True

    def __post_init__(self) -> None:
        if self.ctr_floor is not None and not (
            math.isfinite(self.ctr_floor) and 0.0 < self.ctr_floor < 1.0
        ):
            raise ConfigError(f"the CTR floor must be in (0, 1), got {self.ctr_floor!r}")
        if self.min_impressions < 1:
            raise ConfigError(f"min_impressions must be at least 1, got {self.min_impressions!r}")


# --------------------------------------------------------------------------- conditions


def recent_ctr(data: ExperimentData, variant: str, min_impressions: int) -> tuple[float, int, str] | None:
    """(CTR, impressions, window) of the last day, else cumulative; None if too few impressions."""
    daily = sorted(data.daily, key=lambda p: p.day)
    if daily and variant in daily[-1].variants:
        last = daily[-1].variants[variant]
        before = daily[-2].variants.get(variant) if len(daily) > 1 else None
        impressions = last.impressions - (before.impressions if before else 0)
        clicks = last.clicks - (before.clicks if before else 0)
        if impressions >= min_impressions:
            return clicks / impressions, impressions, f"on {daily[-1].day.isoformat()}"
    total = data.variants.get(variant)
    if total is not None and total.impressions >= min_impressions:
        return total.clicks / total.impressions, total.impressions, "since the start"
    return None


def _floor_alerts(
    report: ExperimentReport, data: ExperimentData, floor: float, min_impressions: int
) -> list[Alert]:
    alerts = []
    for v in report.variants:
        found = recent_ctr(data, v.variant, min_impressions)
        if found is None or found[0] >= floor:
            continue
        ctr, impressions, window = found
        alerts.append(
            Alert(
                source="ab",
                experiment_id=report.experiment_id,
                variant=v.variant,
                metric="ctr",
                condition="ctr_below_floor",
                title=f"CTR below floor: {report.experiment_id} / {v.variant}",
                message=(
                    f"variant {v.variant} of experiment {report.experiment_id}: CTR {ctr:.2%} "
                    f"{window} ({impressions:,} impressions) is below the floor {floor:.2%}"
                ),
                fields={"ctr": ctr, "floor": floor, "impressions": impressions},
            )
        )
    return alerts


def _guardrail_alerts(report: ExperimentReport, declared: Sequence[str]) -> list[Alert]:
    alerts = []
    for c in report.comparisons:
        if c.role not in ("primary", "guardrail") or c.seq_ci_rel is None or c.lift_rel is None:
            continue
        if c.direction != "worse":
            continue
        lo, hi = c.seq_ci_rel
        metric = METRIC_LABELS.get(c.metric, c.metric)
        title = "Guardrail" if c.metric in declared else "Primary metric"
        alerts.append(
            Alert(
                source="ab",
                experiment_id=report.experiment_id,
                variant=c.variant,
                metric=c.metric,
                condition="guardrail_worse",
                title=f"{title} {metric} breached: {report.experiment_id} / {c.variant}",
                message=(
                    f"variant {c.variant} of experiment {report.experiment_id} is significantly "
                    f"worse than control {c.control} on {metric}: {c.lift_rel:+.1%} "
                    f"(always-valid {level(c.alpha)} CI [{lo:+.1%}, {hi:+.1%}], "
                    f"p = {c.seq_p_value:.2g})"
                ),
                fields={"metric": c.metric, "lift": c.lift_rel, "ci_low": lo, "ci_high": hi},
            )
        )
    return alerts


def check_ctr_alerts(
    report: ExperimentReport, data: ExperimentData, experiment: Experiment, config: AlertConfig
) -> list[Alert]:
    """The alert conditions that hold now (pure; see the module docstring)."""
    alerts: list[Alert] = []
    if config.ctr_floor is not None:
        alerts += _floor_alerts(report, data, config.ctr_floor, config.min_impressions)
    if config.guardrails:
        alerts += _guardrail_alerts(report, [g.metric for g in experiment.guardrails])
    return alerts


# --------------------------------------------------------------------------- dispatch


def dispatch_alerts(
    alerts: Sequence[Alert],
    warehouse: Warehouse,
    webhook_url: str | None,
    now: float,
    cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
) -> list[Dispatched]:
    """Send the alerts of :func:`check_ctr_alerts` through an :class:`Alerter` (its doc says how)."""
    return Alerter(warehouse, webhook_url, cooldown_seconds).dispatch(alerts, now)


__all__ = [
    "Alert",
    "AlertConfig",
    "Dispatched",
    "check_ctr_alerts",
    "dispatch_alerts",
    "last_sent",
    "recent_ctr",
]
