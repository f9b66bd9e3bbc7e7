"""CTR alerting: decide which alert conditions hold (pure), then send them once per cool-down.

Two conditions, per variant (control included for the floor):

* ``ctr_below_floor`` -- the variant's CTR is below ``AlertConfig.ctr_floor``. The
  CTR of the most recent day is used, so a model that breaks today alerts today
  instead of being averaged away by the weeks before; when that day has fewer than
  ``min_impressions`` impressions, the cumulative CTR is used instead, and with
  fewer than that in total the check waits (a handful of impressions says nothing).
* ``guardrail_worse`` -- the variant is significantly worse than control on a
  guardrail metric of the experiment: the upper end of the always-valid confidence
  sequence of the relative lift is below 0. Because the sequence holds at every
  look, this may fire on the first day the harm is visible without the daily
  check inflating false alarms. It is not adjusted for multiplicity: missing real
  harm costs more than an occasional extra alert, and the cool-down bounds the noise.

``dispatch_alerts`` is the I/O side: the warehouse table ``alerts`` remembers what
was sent, so the same alert key is not sent again within the cool-down.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from movierec.analysis.data import ExperimentData
from movierec.analysis.metrics import METRIC_LABELS
from movierec.analysis.readout import ExperimentReport
from movierec.errors import ConfigError
from movierec.events import Experiment
from movierec.reporting.webhook import send_alert
from movierec.stores.ports import Warehouse

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN_SECONDS = 24 * 3600.0

# The ``alerts`` table is declared with the others in movierec.stores.sql (and
# infra/schemas/alerts.json); ``Warehouse.ensure_schema`` creates it. BigQuery dialect.
LAST_SENT_SQL = """
SELECT UNIX_MICROS(MAX(ts)) AS last_us
FROM alerts
WHERE experiment_id = @experiment_id AND variant = @variant
  AND metric = @metric AND condition = @condition
"""


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


Condition = Literal["ctr_below_floor", "guardrail_worse"]


@dataclass(frozen=True)
class Alert:
    experiment_id: str
    variant: str
    metric: str
    condition: Condition
    title: str
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What the cool-down is keyed on: the same condition, metric and variant."""
        return f"{self.experiment_id}:{self.variant}:{self.metric}:{self.condition}"


Outcome = Literal["sent", "logged", "failed", "suppressed"]


@dataclass(frozen=True)
class Dispatched:
    alert: Alert
    outcome: Outcome  # sent: webhook accepted; logged: no webhook set; failed: webhook
    # error (logged, retried next run); suppressed: within the cool-down


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


def _guardrail_alerts(report: ExperimentReport, guardrails: Sequence[str]) -> list[Alert]:
    alerts = []
    for c in report.comparisons:
        if c.metric not in guardrails or c.seq_ci_rel is None or c.lift_rel is None:
            continue
        lo, hi = c.seq_ci_rel
        if hi >= 0:
            continue
        label = METRIC_LABELS.get(c.metric, c.metric)
        alerts.append(
            Alert(
                experiment_id=report.experiment_id,
                variant=c.variant,
                metric=c.metric,
                condition="guardrail_worse",
                title=f"Guardrail {label} breached: {report.experiment_id} / {c.variant}",
                message=(
                    f"variant {c.variant} of experiment {report.experiment_id} is significantly "
                    f"worse than control {c.control} on {label}: {c.lift_rel:+.1%} "
                    f"(always-valid {1 - report.config.alpha:.0%} CI [{lo:+.1%}, {hi:+.1%}], "
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
        alerts += _guardrail_alerts(report, experiment.guardrails)
    return alerts


# --------------------------------------------------------------------------- dispatch


def last_sent(warehouse: Warehouse, alert: Alert) -> float | None:
    """When ``alert``'s condition was last sent (epoch seconds), or None."""
    params = {
        "experiment_id": alert.experiment_id,
        "variant": alert.variant,
        "metric": alert.metric,
        "condition": alert.condition,
    }
    rows = warehouse.query(LAST_SENT_SQL, params)
    value = rows[0]["last_us"] if rows else None
    return None if value is None else value / 1e6


def alert_row(alert: Alert, now: float) -> dict[str, Any]:
    """The ``alerts`` table row recording that ``alert`` was sent at ``now``."""
    return {
        "alert_id": f"{alert.key}@{now:.6f}",  # one row per sending
        "ts": now,
        "experiment_id": alert.experiment_id,
        "variant": alert.variant,
        "metric": alert.metric,
        "condition": alert.condition,
        "message": alert.message,
        "details": {"alert_key": alert.key, **alert.fields},
    }


def dispatch_alerts(
    alerts: Sequence[Alert],
    warehouse: Warehouse,
    webhook_url: str | None,
    now: float,
    cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
) -> list[Dispatched]:
    """Send each alert unless its key was sent less than ``cooldown_seconds`` before ``now``.

    Every alert not in its cool-down is logged (by :func:`movierec.reporting.webhook.send_alert`)
    and posted to ``webhook_url`` when one is set. It is recorded in ``alerts`` when
    delivered -- accepted by the webhook, or logged when no webhook is configured.
    A webhook that fails (error status, unreachable) is logged, not raised, and the
    alert is not recorded, so the next run tries again.
    """
    if not (math.isfinite(cooldown_seconds) and cooldown_seconds >= 0):
        raise ConfigError(f"cooldown_seconds must be non-negative, got {cooldown_seconds!r}")
    if not alerts:
        return []
    warehouse.ensure_schema()
    results = []
    for alert in alerts:
        previous = last_sent(warehouse, alert)
        if previous is not None and now - previous < cooldown_seconds:
            log.info("alert %s suppressed: sent %.0f s ago", alert.key, now - previous)
            results.append(Dispatched(alert, "suppressed"))
            continue
        fields = {
            "event": "ab_alert",
            "alert_key": alert.key,
            "experiment_id": alert.experiment_id,
            "variant": alert.variant,
            "metric": alert.metric,
            "condition": alert.condition,
            **alert.fields,
        }
        delivered = send_alert(webhook_url, alert.title, alert.message, fields)
        if webhook_url and not delivered:
            results.append(Dispatched(alert, "failed"))
            continue
        warehouse.insert_new("alerts", [alert_row(alert, now)])
        results.append(Dispatched(alert, "sent" if delivered else "logged"))
    return results
