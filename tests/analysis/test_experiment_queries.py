"""The aggregation SQL against a pandas computation of the same per-user statistics
(``tests/fixtures/warehouse_ab.py``), on synthetic events (seeded), on DuckDB and on the
BigQuery emulator."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from movierec.analysis.definitions import list_experiments
from movierec.analysis.queries import load_experiment_data
from movierec.errors import DataError
from movierec.events import Assignment, Impression
from tests.fixtures.warehouse_ab import (
    DAY0,
    EXPERIMENT,
    Events,
    assert_same,
    load,
    reference,
    synthetic_events,
)


@pytest.fixture
def loaded(warehouse: Any) -> tuple[Any, Events]:
    events = synthetic_events()
    load(warehouse, events)
    warehouse.upsert("experiments", [EXPERIMENT.to_dict()])
    return warehouse, events


SETTINGS = {
    "defaults": {},  # 40 users: a 99th percentile is everyone's maximum, nothing is capped
    "uncapped": {"cap_percentile": None, "activity_threshold": None},
    # caps that bite, two heavy users out, a pre-exposure window of 5 days
    "tight": {"cap_percentile": 0.8, "activity_threshold": 4, "pre_window_days": 5},
}


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
def test_statistics_match_pandas_per_day_and_in_total(loaded: tuple[Any, Events], settings: dict[str, Any]) -> None:
    warehouse, events = loaded
    defaults = {"cap_percentile": 0.99, "activity_threshold": 5_000, "pre_window_days": 14}
    want = reference(events, **{**defaults, **settings})
    data = load_experiment_data(warehouse, "exp", **settings)
    assert [p.day for p in data.daily] == sorted(want.daily)
    for point in data.daily:
        for variant in ("A", "B"):
            assert_same(point.variants[variant], want.daily[point.day][variant])
        assert point.variants["C"].users == 0  # defined, never assigned: zeros, not missing
    last = max(want.daily)
    for variant in ("A", "B"):
        assert_same(data.variants[variant], want.daily[last][variant])
    assert list(data.variants) == ["A", "B", "C"]  # in the order of the definition
    assert data.exclusions == want.exclusions and data.exclusions.assigned_users == 40
    if want.capping is None:
        assert data.capping is None
    else:
        assert data.capping is not None
        assert_same(data.capping, want.capping)
    # the traps did bite in the data: retries exist, so distinct counting mattered
    raw_clicks = sum(1 for f in events["feedback"] if f["type"] == "click")
    assert sum(v.clicks for v in data.variants.values()) < raw_clicks - 2
    # and so did the pre-exposure lists
    assert all(data.variants[v].ctr_pre.pre.d_sum > 0 for v in "AB")
    if settings.get("cap_percentile"):
        assert data.capping is not None and data.capping.capped_users > 0
    if settings.get("activity_threshold"):
        assert data.exclusions.heavy_users > 0


def test_days_are_cut_at_midnight_utc(warehouse: Any) -> None:
    warehouse.insert_new("assignments", [Assignment("exp", 1, "A", 1, DAY0 - 1).to_dict()])
    warehouse.insert_new("impressions", [
        Impression(f"r{i}", ts, 1, "exp", "A", "m", "v", (1,), (1.0,), None, 1.0).to_dict()
        for i, ts in enumerate((DAY0 - 1, DAY0 + 1, DAY0 + 86_399))
    ])
    data = load_experiment_data(warehouse, "exp")
    assert [(p.day, p.variants["A"].impressions) for p in data.daily] == [
        (date(2025, 11, 12), 1), (date(2025, 11, 13), 3),
    ]
    assert datetime.fromtimestamp(DAY0, tz=timezone.utc).date() == date(2025, 11, 13)


def test_unknown_experiment_names_the_known_ones(loaded: tuple[Any, Any]) -> None:
    warehouse, _ = loaded
    with pytest.raises(DataError, match=r"unknown experiment 'nope'.*\['exp'\]"):
        load_experiment_data(warehouse, "nope")


def test_defined_experiment_without_data_has_empty_variants(warehouse: Any) -> None:
    warehouse.upsert("experiments", [EXPERIMENT.to_dict()])
    data = load_experiment_data(warehouse, "exp")
    assert data.daily == [] and list(data.variants) == ["A", "B", "C"]
    assert all(v.impressions == 0 and v.ctr.n == 0 for v in data.variants.values())
    assert list_experiments(warehouse) == [EXPERIMENT]
