"""The one Alerter on both warehouses (DuckDB, bqemulator): keys with absent parts, sources apart."""

from __future__ import annotations

from typing import Any

import pytest

from movierec.reporting.alerting import Alert, Alerter, last_sent
from tests.fixtures.webhook import webhook_receiver

HOUR = 3600.0
DRIFT = Alert(source="drift", condition="recommendation_drift", title="Recommendation drift", message="drifted")
GUARDRAIL = Alert(
    source="ab", condition="guardrail_worse", title="Guardrail", message="worse",
    experiment_id="exp-1", variant="B", metric="ctr",
)


def test_an_alert_about_no_experiment_cools_down_on_its_own_key(warehouse: Any) -> None:
    """NULL parts match in the cool-down lookup, and an A/B alert does not silence drift."""
    alerter = Alerter(warehouse, None, cooldown_seconds=HOUR)
    assert [d.outcome for d in alerter.dispatch([GUARDRAIL], now=1000.0)] == ["logged"]
    assert last_sent(warehouse, DRIFT) is None
    assert [d.outcome for d in alerter.dispatch([DRIFT, GUARDRAIL], now=1001.0)] == ["logged", "suppressed"]
    assert last_sent(warehouse, DRIFT) == pytest.approx(1001.0)
    assert [d.outcome for d in alerter.dispatch([DRIFT], now=1001.0 + HOUR - 1)] == ["suppressed"]
    assert [d.outcome for d in alerter.dispatch([DRIFT], now=1001.0 + HOUR)] == ["logged"]
    rows = warehouse.query("SELECT experiment_id, condition FROM alerts ORDER BY ts")
    assert [(r["experiment_id"], r["condition"]) for r in rows] == [
        ("exp-1", "guardrail_worse"), (None, "recommendation_drift"), (None, "recommendation_drift"),
    ]


def test_the_webhook_hears_the_source_and_key(warehouse: Any) -> None:
    with webhook_receiver() as hook:
        Alerter(warehouse, hook.url).dispatch([DRIFT], now=1000.0)
    [post] = hook.posts
    assert post["fields"]["event"] == "drift_alert" and post["fields"]["source"] == "drift"
    assert post["fields"]["alert_key"] == DRIFT.key == ":::recommendation_drift"
    assert post["fields"]["experiment_id"] is None


def test_a_condition_belongs_to_one_source() -> None:
    with pytest.raises(ValueError, match="unknown alert 'drift'/'guardrail_worse'"):
        Alert(source="drift", condition="guardrail_worse", title="t", message="m")
    with pytest.raises(ValueError, match="unknown alert"):
        Alert(source="pager", condition="recommendation_drift", title="t", message="m")
