"""What the experiment query cannot be fooled by: duplicated rows, users served several
variants, feedback on movies a list did not show, heavy users; and the pre-exposure sums
against numpy. On DuckDB and the BigQuery emulator unless a test says otherwise."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import Exclusions, ExperimentData
from movierec.analysis.queries import load_experiment_data
from movierec.analysis.readout import analyse
from movierec.errors import ConfigError
from movierec.events import Assignment
from movierec.stats.adjusted import PrePostMeanStats, PrePostRatioStats
from movierec.stats.statistics import RatioStats, SampleMeanStats
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from tests.fixtures.abdata import simulate_users, two_arm_experiment, variant_data
from tests.fixtures.warehouse_ab import (
    DAY,
    DAY0,
    EXPERIMENT,
    assert_same,
    events_from_users,
    feedback,
    impression,
    load,
    synthetic_events,
)


def assert_same_data(got: ExperimentData, want: ExperimentData) -> None:
    assert [p.day for p in got.daily] == [p.day for p in want.daily]
    for g, w in zip(got.daily, want.daily):
        for name in w.variants:
            assert_same(g.variants[name], w.variants[name])
    for name in want.variants:
        assert_same(got.variants[name], want.variants[name])


@pytest.fixture
def loaded(warehouse: Any) -> Any:
    load(warehouse, synthetic_events())
    warehouse.upsert("experiments", [EXPERIMENT.to_dict()])
    return warehouse


def test_every_row_written_twice_changes_nothing(loaded: Any) -> None:
    """BigQuery has no unique key: two overlapping exports can both insert a row the
    other has not committed yet (insert_new checks absence, it does not lock)."""
    before = load_experiment_data(loaded, "exp", cap_percentile=0.8, activity_threshold=4)
    for table in ("assignments", "impressions", "feedback"):
        n = loaded.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
        loaded.query(f"INSERT INTO {table} SELECT * FROM {table}")
        assert loaded.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == 2 * n
    after = load_experiment_data(loaded, "exp", cap_percentile=0.8, activity_threshold=4)
    assert_same_data(after, before)
    assert after.exclusions == before.exclusions and after.capping == before.capping
    assert before.exclusions.heavy_users > 0 and before.capping and before.capping.capped_users > 0


def test_users_served_more_than_one_variant_are_left_out_and_counted(loaded: Any) -> None:
    before = load_experiment_data(loaded, "exp")
    t = DAY0 + 3 * DAY  # a day of their own: it must not add a daily point either
    # user 100 was assigned A but one of their lists came from B
    loaded.insert_new("assignments", [Assignment("exp", 100, "A", 1, t).to_dict()])
    # user 101 has two assignment rows that disagree (a second export wrote another row)
    loaded.insert_new("assignments", [Assignment("exp", 101, "A", 1, t).to_dict(),
                                      Assignment("copy", 101, "B", 2, t + 5).to_dict()])
    loaded.query("UPDATE assignments SET experiment_id = 'exp' WHERE experiment_id = 'copy'")
    loaded.insert_new("impressions", [
        impression("m1", t + 10, 100, "A", (1, 2)), impression("m2", t + 20, 100, "B", (1, 2)),
        impression("m3", t + 10, 101, "A", (1, 2)),
    ])
    loaded.insert_new("feedback", [feedback("mf1", t + 30, "m2", 100, 1, "click", variant="B"),
                                   feedback("mf2", t + 30, "m3", 101, 1, "click")])
    after = load_experiment_data(loaded, "exp")
    assert after.exclusions == Exclusions(
        multiple_variants=2, heavy_users=0, activity_threshold=5_000, assigned_users=42
    )
    assert before.exclusions.assigned_users == 40 and before.exclusions.multiple_variants == 0
    assert_same_data(after, before)  # in no metric, no user count, no day


def test_when_everyone_is_left_out_the_counts_still_arrive(warehouse: Any) -> None:
    warehouse.insert_new("assignments", [Assignment("exp", 1, "A", 1, DAY0).to_dict()])
    warehouse.insert_new("impressions", [impression("r1", DAY0 + 1, 1, "A", (1,)),
                                         impression("r2", DAY0 + 2, 1, "B", (1,))])
    warehouse.upsert("experiments", [EXPERIMENT.to_dict()])
    data = load_experiment_data(warehouse, "exp")
    assert data.daily == [] and all(v.users == 0 for v in data.variants.values())
    assert data.exclusions.multiple_variants == 1 and data.exclusions.assigned_users == 1


def test_only_feedback_on_a_movie_the_list_showed_counts(warehouse: Any) -> None:
    warehouse.insert_new("assignments", [Assignment("exp", 1, "A", 1, DAY0).to_dict()])
    warehouse.insert_new("impressions", [impression("r1", DAY0 + 1, 1, "A", (10, 20, 30))])
    warehouse.insert_new("feedback", [
        feedback("f1", DAY0 + 2, "r1", 1, 20, "click"),
        feedback("f2", DAY0 + 2, "r1", 1, 99, "click"),  # 99 was not in the list
        feedback("f3", DAY0 + 3, "r1", 1, 99, "rating", 5.0),
        feedback("f4", DAY0 + 3, "r1", 1, 30, "rating", 2.0),
    ])
    a = load_experiment_data(warehouse, "exp").variants["A"]
    assert (a.impressions, a.shown_items, a.clicks, a.ratings) == (1, 3, 1, 1)
    assert a.ctr.mean == 1.0 and a.item_ctr.mean == pytest.approx(1 / 3) and a.rating.mean == 2.0


def test_pre_exposure_sums_match_numpy(warehouse: Any) -> None:
    """Three users of A with known lists and clicks before and after their first
    exposure; a list older than the window and a click made after the exposure (on a
    list before it) must not count as pre-exposure activity."""
    post_lists, post_clicks = np.array([2, 1, 3]), np.array([1, 0, 2])
    pre_clicked = [[[]], [[1, 2], [1]], []]  # per user, per list before exposure: movies clicked
    rows: dict[str, list[dict[str, Any]]] = {"assignments": [], "impressions": [], "feedback": []}
    for u in range(3):
        start = DAY0 + u * 3600.0
        rows["assignments"].append(Assignment("exp", u, "A", u, start).to_dict())
        for k in range(post_lists[u]):
            request, ts = f"post{u}-{k}", start + 60 * (k + 1)
            rows["impressions"].append(impression(request, ts, u, "A", (1, 2)))
            if k < post_clicks[u]:
                rows["feedback"].append(feedback(f"pc{u}-{k}", ts + 5, request, u, 1, "click"))
        for k, movies in enumerate(pre_clicked[u]):  # 1, 2, ... days before, in no experiment
            request, ts = f"pre{u}-{k}", start - (k + 1) * DAY
            rows["impressions"].append(impression(request, ts, u, "default", (1, 2), None))
            rows["feedback"] += [feedback(f"qc{u}-{k}-{movie}", ts + 5, request, u, movie, "click", None, None)
                                 for movie in movies]
        # outside the window; and a list just before the exposure, clicked just after it
        rows["impressions"].append(impression(f"old{u}", start - 15 * DAY, u, "default", (1,), None))
        rows["feedback"].append(feedback(f"oc{u}", start - 15 * DAY + 5, f"old{u}", u, 1, "click", None, None))
        rows["impressions"].append(impression(f"late{u}", start - 30, u, "default", (1,), None))
        rows["feedback"].append(feedback(f"lc{u}", start + 30, f"late{u}", u, 1, "click", None, None))
    pre_lists = np.array([len(lists) + 1 for lists in pre_clicked])  # + the late list
    pre_clicks = np.array([sum(len(movies) for movies in lists) for lists in pre_clicked])
    load(warehouse, rows)
    a = load_experiment_data(warehouse, "exp", cap_percentile=None).variants["A"]

    m, d, pm, pd_ = (x.astype(float) for x in (post_clicks, post_lists, pre_clicks, pre_lists))
    assert pm.tolist() == [0, 3, 0] and pd_.tolist() == [2, 3, 1]
    post = RatioStats.from_arrays(m, d)
    assert_same(a.ctr_pre, PrePostRatioStats(post, RatioStats.from_arrays(pm, pd_),
                                             m @ pm, d @ pd_, m @ pd_, d @ pm))
    assert_same(a.clicks_per_user_pre, PrePostMeanStats(SampleMeanStats.from_arrays(m),
                                                        SampleMeanStats.from_arrays(pm), m @ pm))
    # a zero-day window leaves only the post values
    a = load_experiment_data(warehouse, "exp", cap_percentile=None, pre_window_days=0).variants["A"]
    assert a.ctr_pre.pre == RatioStats(3, 0.0, 0.0, 0.0, 0.0, 0.0) and a.ctr_pre.post == post


@pytest.mark.parametrize("kwargs", [{"cap_percentile": 0.0}, {"cap_percentile": 1.5},
                                    {"activity_threshold": 0}, {"pre_window_days": -1}])
def test_settings_out_of_range_are_refused(kwargs: dict[str, Any], tmp_path: Path) -> None:
    with DuckDBWarehouse(tmp_path / "w.duckdb") as warehouse, pytest.raises(ConfigError):
        load_experiment_data(warehouse, "exp", **kwargs)


# ------------------------------------------------------------------ a heavy user (DuckDB)


def test_a_heavy_user_changes_neither_the_statistics_much_nor_the_verdict(tmp_path: Path) -> None:
    """One user with 20,000 lists and no clicks joins the treatment of an experiment
    with a true +20% lift: excluded by the default threshold, and with capping alone
    the CTR barely moves; either way B still wins. Unprotected, B would not."""
    rng = np.random.default_rng(0)
    arms = {"A": simulate_users(rng, 5000), "B": simulate_users(rng, 5000, lift=0.2)}
    experiment, config = two_arm_experiment("exp"), AnalysisConfig()
    with DuckDBWarehouse(tmp_path / "w.duckdb") as warehouse:
        warehouse.ensure_schema()
        load(warehouse, events_from_users(arms))
        clean = load_experiment_data(warehouse, "exp")
        raw = load_experiment_data(warehouse, "exp", cap_percentile=None)
        heavy = 999_999
        warehouse.insert_new("assignments", [Assignment("exp", heavy, "B", 1, DAY0).to_dict()])
        warehouse.insert_new("impressions", [
            impression(f"bot-{k}", DAY0 + 1 + k, heavy, "B", tuple(range(1, 11))) for k in range(20_000)
        ])
        default = load_experiment_data(warehouse, "exp")
        capped = load_experiment_data(warehouse, "exp", activity_threshold=None)
        unprotected = load_experiment_data(warehouse, "exp", cap_percentile=None, activity_threshold=None)

    # the events carry the simulated users: the query gives abdata's statistics
    for name, users in arms.items():
        got = raw.variants[name]
        assert got.ctr_pre.pre.d_sum == 0  # abdata has no pre-exposure activity
        empty_pre = {"ctr_pre": PrePostRatioStats.empty(), "clicks_per_user_pre": PrePostMeanStats.empty()}
        assert_same(replace(got, **empty_pre), variant_data(name, users))
    assert default.exclusions.heavy_users == 1 and default.exclusions.assigned_users == 10_001
    assert_same_data(default, clean)
    assert capped.exclusions.heavy_users == 0 and capped.capping is not None
    assert capped.capping.caps["impressions"] < 100  # the 99th percentile, not 20,000
    b, b_capped = clean.variants["B"].ctr, capped.variants["B"].ctr
    assert b_capped.mean == pytest.approx(b.mean, rel=0.01)
    assert unprotected.variants["B"].ctr.mean < 0.6 * b.mean

    verdicts = {name: analyse(experiment, data, config).decision.verdict
                for name, data in [("clean", clean), ("default", default), ("capped", capped),
                                   ("unprotected", unprotected)]}
    assert verdicts["clean"] == verdicts["default"] == verdicts["capped"] == "wins"
    assert verdicts["unprotected"] != "wins"
