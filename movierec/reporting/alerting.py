"""Alerting, one way for every alert: skip it within its cool-down, send it, record it.

The CTR and guardrail alerts of an experiment (:mod:`movierec.reporting.ctr_alerts`)
and the drift alert of the drift job (:mod:`movierec.reporting.drift`) decide *what*
holds; :class:`Alerter` alone decides whether to send it and remembers that it did,
in the warehouse table ``alerts``, so the same alert is not repeated within the
cool-down whichever job raised it.

An alert is identified by (source, experiment_id, variant, metric, condition). The
``alerts`` table has columns for the last four only: every condition belongs to one
source (:data:`SOURCES`, checked when an alert is made), so the condition already
tells the sources apart, and the table needs no new column -- rows written before drift
alerts went through here stay valid. A part that does not apply (a drift alert is about
no experiment) is None, stored as NULL, and NULL matches NULL in the cool-down lookup.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from movierec.errors import ConfigError
from movierec.reporting.webhook import send_alert
from movierec.stores.ports import Warehouse

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN_SECONDS = 24 * 3600.0

# The conditions each source may raise; see the module docstring for why they must not overlap.
SOURCES: Mapping[str, frozenset[str]] = {
    "ab": frozenset({"ctr_below_floor", "guardrail_worse"}),
    "drift": frozenset({"recommendation_drift"}),
}

# The ``alerts`` table is declared with the others in movierec.stores.sql (and
# infra/schemas/alerts.json); ``Warehouse.ensure_schema`` creates it. BigQuery dialect.
# COALESCE because parts that do not apply are NULL, and NULL = NULL is not true.
LAST_SENT_SQL = """
SELECT UNIX_MICROS(MAX(ts)) AS last_us
FROM alerts
WHERE COALESCE(experiment_id, '') = @experiment_id AND COALESCE(variant, '') = @variant
  AND COALESCE(metric, '') = @metric AND condition = @condition
"""


@dataclass(frozen=True)
class Alert:
    source: str  # a key of SOURCES
    condition: str  # one of SOURCES[source]
    title: str
    message: str
    experiment_id: str | None = None
    variant: str | None = None
    metric: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.condition not in SOURCES.get(self.source, ()):
            known = {s: sorted(c) for s, c in SOURCES.items()}
            raise ValueError(f"unknown alert {self.source!r}/{self.condition!r}; known: {known}")

    @property
    def key(self) -> str:
        """What the cool-down is keyed on (the source follows from the condition)."""
        return ":".join(p or "" for p in (self.experiment_id, self.variant, self.metric, self.condition))


Outcome = Literal["sent", "logged", "failed", "suppressed"]


@dataclass(frozen=True)
class Dispatched:
    alert: Alert
    outcome: Outcome  # sent: webhook accepted; logged: no webhook set; failed: webhook
    # error (logged, retried next run); suppressed: within the cool-down


def last_sent(warehouse: Warehouse, alert: Alert) -> float | None:
    """When ``alert``'s key was last sent (epoch seconds), or None."""
    params = {
        "experiment_id": alert.experiment_id or "",
        "variant": alert.variant or "",
        "metric": alert.metric or "",
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
        "details": {"alert_key": alert.key, "source": alert.source, **alert.fields},
    }


class Alerter:
    """Sends alerts through ``webhook_url``, at most once per key within ``cooldown_seconds``.

    Every alert not in its cool-down is logged (by :func:`movierec.reporting.webhook.send_alert`)
    and posted to ``webhook_url`` when one is set. It is recorded in ``alerts`` when
    delivered -- accepted by the webhook, or logged when no webhook is configured.
    A webhook that fails (error status, unreachable) is logged, not raised, and the
    alert is not recorded, so the next run tries again.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        webhook_url: str | None,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
    ) -> None:
        if not (math.isfinite(cooldown_seconds) and cooldown_seconds >= 0):
            raise ConfigError(f"cooldown_seconds must be non-negative, got {cooldown_seconds!r}")
        self.warehouse = warehouse
        self.webhook_url = webhook_url
        self.cooldown_seconds = cooldown_seconds

    def dispatch(self, alerts: Sequence[Alert], now: float) -> list[Dispatched]:
        """Send each of ``alerts`` unless its key was sent less than the cool-down before ``now``."""
        if not alerts:  # a quiet run needs no warehouse at all
            return []
        self.warehouse.ensure_schema()
        return [self._dispatch_one(alert, now) for alert in alerts]

    def _dispatch_one(self, alert: Alert, now: float) -> Dispatched:
        previous = last_sent(self.warehouse, alert)
        if previous is not None and now - previous < self.cooldown_seconds:
            log.info("alert %s suppressed: sent %.0f s ago", alert.key, now - previous)
            return Dispatched(alert, "suppressed")
        fields = {
            "event": f"{alert.source}_alert",
            "source": alert.source,
            "alert_key": alert.key,
            "experiment_id": alert.experiment_id,
            "variant": alert.variant,
            "metric": alert.metric,
            "condition": alert.condition,
            **alert.fields,
        }
        delivered = send_alert(self.webhook_url, alert.title, alert.message, fields)
        if self.webhook_url and not delivered:
            return Dispatched(alert, "failed")
        self.warehouse.insert_new("alerts", [alert_row(alert, now)])
        return Dispatched(alert, "sent" if delivered else "logged")
