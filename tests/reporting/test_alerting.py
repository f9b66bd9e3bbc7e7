"""CTR alerting: the conditions (pure) and their dispatch to a real webhook with a cool-down."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date
from pathlib import Path

import pytest

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import DailyPoint, ExperimentData, VariantData
from movierec.analysis.readout import analyse
from movierec.errors import ConfigError
from movierec.reporting.ctr_alerts import (
    Alert,
    AlertConfig,
    check_ctr_alerts,
    dispatch_alerts,
    last_sent,
)
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from tests.fixtures.abdata import ab_data, two_arm_experiment
from tests.fixtures.webhook import closed_port_url, webhook_receiver

EXPERIMENT = two_arm_experiment()
CONFIG = AnalysisConfig()
HOUR = 3600.0


def alerts_for(data: ExperimentData, config: AlertConfig, experiment=EXPERIMENT) -> list[Alert]:
    return check_ctr_alerts(analyse(experiment, data, CONFIG), data, experiment, config)


# --------------------------------------------------------------------------- conditions


def test_a_variant_significantly_worse_on_a_guardrail_fires() -> None:
    alerts = alerts_for(ab_data(2, 5000, 5000, lift=-0.3), AlertConfig())
    assert [(a.variant, a.metric, a.condition) for a in alerts] == [("B", "ctr", "guardrail_worse")]
    assert alerts[0].key == "exp-1:B:ctr:guardrail_worse"
    assert "significantly worse than control A on list CTR" in alerts[0].message
    assert alerts[0].fields["ci_high"] < 0


def test_no_guardrail_alert_in_an_aa_test_or_when_turned_off() -> None:
    assert alerts_for(ab_data(3, 5000, 5000), AlertConfig()) == []
    harmful = ab_data(2, 5000, 5000, lift=-0.3)
    assert alerts_for(harmful, AlertConfig(guardrails=False)) == []


def test_harm_on_the_primary_alerts_whether_or_not_it_is_listed_as_a_guardrail() -> None:
    """Configs of old listed the primary among the guardrails; new ones need not."""
    harmful = ab_data(2, 5000, 5000, lift=-0.3)
    listed = dataclasses.replace(EXPERIMENT, guardrails=("ctr",))
    (old,) = alerts_for(harmful, AlertConfig(), experiment=listed)
    (new,) = alerts_for(harmful, AlertConfig(), experiment=dataclasses.replace(EXPERIMENT, guardrails=()))
    assert old.key == new.key == "exp-1:B:ctr:guardrail_worse"  # cool-downs carry over
    assert old.title.startswith("Guardrail") and new.title.startswith("Primary metric")
    assert "always-valid 95% CI" in new.message


def test_the_guardrail_uses_the_sequential_test_not_the_fixed_horizon_one() -> None:
    """A drop that a one-look test calls significant but the always-valid one does not yet."""
    for seed in range(100):
        data = ab_data(seed, 3000, 3000, lift=-0.08)
        c = analyse(EXPERIMENT, data, CONFIG).comparison("ctr", "B")
        if c.ci_rel[1] < 0 <= c.seq_ci_rel[1]:
            break
    else:
        pytest.fail("no seed gave a fixed-horizon-only drop")
    assert alerts_for(data, AlertConfig()) == []


def _day(day: int, counts: dict[str, tuple[int, int]]) -> DailyPoint:
    """Cumulative (impressions, clicks) per variant on 2026-11-<day>."""
    return DailyPoint(
        date(2026, 11, day),
        {
            name: dataclasses.replace(VariantData.empty(name), users=100, impressions=i, clicks=c)
            for name, (i, c) in counts.items()
        },
    )


def _data(*days: DailyPoint) -> ExperimentData:
    return ExperimentData("exp-1", dict(days[-1].variants), list(days))


def test_the_floor_reads_the_most_recent_day() -> None:
    # Cumulative CTR of B is 9.5%, but on the last day it fell to 1%.
    data = _data(
        _day(1, {"A": (1000, 100), "B": (1000, 180)}),
        _day(2, {"A": (2000, 200), "B": (2000, 190)}),
    )
    alerts = alerts_for(data, AlertConfig(ctr_floor=0.05))
    assert [(a.variant, a.condition) for a in alerts] == [("B", "ctr_below_floor")]
    assert "CTR 1.00% on 2026-11-02 (1,000 impressions) is below the floor 5.00%" in alerts[0].message


def test_a_quiet_last_day_falls_back_to_the_cumulative_ctr() -> None:
    data = _data(
        _day(1, {"A": (1000, 100), "B": (1000, 20)}),
        _day(2, {"A": (1010, 101), "B": (1010, 20)}),  # 10 impressions: too few to judge
    )
    alerts = alerts_for(data, AlertConfig(ctr_floor=0.05, min_impressions=200))
    assert [a.variant for a in alerts] == ["B"]
    assert "since the start" in alerts[0].message


def test_the_floor_waits_for_enough_impressions() -> None:
    data = _data(_day(1, {"A": (150, 15), "B": (150, 0)}))
    assert alerts_for(data, AlertConfig(ctr_floor=0.05, min_impressions=200)) == []
    assert [a.variant for a in alerts_for(data, AlertConfig(ctr_floor=0.05, min_impressions=100))] == ["B"]


def test_the_floor_also_watches_the_control() -> None:
    data = _data(_day(1, {"A": (1000, 10), "B": (1000, 100)}))
    assert [a.variant for a in alerts_for(data, AlertConfig(ctr_floor=0.05))] == ["A"]


@pytest.mark.parametrize("floor", [0.0, 1.0, -0.1, float("nan")])
def test_an_invalid_floor_is_a_config_error(floor: float) -> None:
    with pytest.raises(ConfigError, match="CTR floor"):
        AlertConfig(ctr_floor=floor)


# --------------------------------------------------------------------------- dispatch


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(tmp_path / "warehouse.duckdb")


def floor_and_guardrail() -> list[Alert]:
    data = ab_data(2, 5000, 5000, lift=-0.3)
    alerts = alerts_for(data, AlertConfig(ctr_floor=0.09))
    assert sorted(a.condition for a in alerts) == ["ctr_below_floor", "guardrail_worse"]
    return alerts


def test_one_post_per_condition_within_the_cooldown_and_a_new_one_after(
    warehouse: DuckDBWarehouse,
) -> None:
    alerts = floor_and_guardrail()
    t0 = 1_790_000_000.0
    with webhook_receiver() as hook:
        first = dispatch_alerts(alerts, warehouse, hook.url, now=t0, cooldown_seconds=24 * HOUR)
        assert [d.outcome for d in first] == ["sent", "sent"]
        assert len(hook.posts) == 2
        assert {p["fields"]["alert_key"] for p in hook.posts} == {a.key for a in alerts}
        assert all(p["text"].startswith("*") and p["title"] for p in hook.posts)

        for later in (t0 + 1, t0 + 12 * HOUR, t0 + 24 * HOUR - 1):
            again = dispatch_alerts(alerts, warehouse, hook.url, now=later, cooldown_seconds=24 * HOUR)
            assert [d.outcome for d in again] == ["suppressed", "suppressed"]
        assert len(hook.posts) == 2

        after = dispatch_alerts(alerts, warehouse, hook.url, now=t0 + 24 * HOUR, cooldown_seconds=24 * HOUR)
        assert [d.outcome for d in after] == ["sent", "sent"]
        assert len(hook.posts) == 4
    assert last_sent(warehouse, alerts[0]) == pytest.approx(t0 + 24 * HOUR)
    rows = warehouse.query("SELECT alert_id, condition, details FROM alerts ORDER BY ts, condition")
    assert len(rows) == 4
    assert rows[0]["details"]["alert_key"] == rows[0]["alert_id"].split("@")[0]


def test_conditions_cool_down_independently(warehouse: DuckDBWarehouse) -> None:
    floor, guardrail = sorted(floor_and_guardrail(), key=lambda a: a.condition)
    with webhook_receiver() as hook:
        dispatch_alerts([floor], warehouse, hook.url, now=1000.0, cooldown_seconds=HOUR)
        outcomes = dispatch_alerts([floor, guardrail], warehouse, hook.url, now=1001.0, cooldown_seconds=HOUR)
        assert [d.outcome for d in outcomes] == ["suppressed", "sent"]
        assert [p["fields"]["condition"] for p in hook.posts] == ["ctr_below_floor", "guardrail_worse"]


def test_a_failing_webhook_is_logged_not_raised_and_retried_next_run(
    warehouse: DuckDBWarehouse, caplog: pytest.LogCaptureFixture
) -> None:
    alerts = floor_and_guardrail()[:1]
    with webhook_receiver() as hook:
        hook.status = 500
        with caplog.at_level(logging.WARNING, logger="movierec.reporting.webhook"):
            outcome = dispatch_alerts(alerts, warehouse, hook.url, now=1000.0, cooldown_seconds=HOUR)
        assert [d.outcome for d in outcome] == ["failed"]
        assert "alert webhook answered 500" in caplog.text
        assert alerts[0].message in caplog.text  # the alert itself is in the log
        assert last_sent(warehouse, alerts[0]) is None  # not recorded: the next run retries
        hook.status = 200
        retry = dispatch_alerts(alerts, warehouse, hook.url, now=1060.0, cooldown_seconds=HOUR)
        assert [d.outcome for d in retry] == ["sent"]
        assert len(hook.posts) == 2


def test_an_unreachable_webhook_is_logged_not_raised(
    warehouse: DuckDBWarehouse, caplog: pytest.LogCaptureFixture
) -> None:
    alerts = floor_and_guardrail()
    with caplog.at_level(logging.WARNING, logger="movierec.reporting.webhook"):
        outcome = dispatch_alerts(alerts, warehouse, closed_port_url(), now=1000.0, cooldown_seconds=HOUR)
    assert [d.outcome for d in outcome] == ["failed", "failed"]
    assert "alert webhook unreachable" in caplog.text


def test_without_a_webhook_alerts_are_logged_and_still_cool_down(
    warehouse: DuckDBWarehouse, caplog: pytest.LogCaptureFixture
) -> None:
    alerts = floor_and_guardrail()
    with caplog.at_level(logging.WARNING, logger="movierec.reporting.webhook"):
        first = dispatch_alerts(alerts, warehouse, None, now=1000.0, cooldown_seconds=HOUR)
    assert [d.outcome for d in first] == ["logged", "logged"]
    assert caplog.text.count("ALERT ") == 2
    second = dispatch_alerts(alerts, warehouse, None, now=1000.0 + HOUR / 2, cooldown_seconds=HOUR)
    assert [d.outcome for d in second] == ["suppressed", "suppressed"]


def test_nothing_to_send_touches_nothing(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "never-created.duckdb")
    assert dispatch_alerts([], warehouse, None, now=0.0) == []
    assert not warehouse.path.exists()
    with pytest.raises(ConfigError, match="cooldown"):
        dispatch_alerts(floor_and_guardrail(), warehouse, None, now=0.0, cooldown_seconds=-1)
