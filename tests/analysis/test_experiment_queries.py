"""The aggregation SQL against a pandas computation of the same per-user statistics,
on synthetic events (seeded), on DuckDB and on the BigQuery emulator."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest

from movierec.analysis.data import VariantData
from movierec.analysis.queries import list_experiments, load_experiment_data
from movierec.errors import DataError
from movierec.events import Assignment, Experiment, Feedback, Impression, Variant
from movierec.stats.statistics import RatioStats, SampleMeanStats

DAY0 = 1_762_992_000.0  # 2025-11-13 00:00 UTC
EXPERIMENT = Experiment(
    "exp", "salt",
    (Variant("A", "svd", None, 0.45), Variant("B", "ease", None, 0.45), Variant("C", "pop", None, 0.1)),
    created_at=DAY0,
)


def synthetic_events(seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """Users of variants A and B (none of C) over three days, with the traps the SQL
    must avoid: retried clicks with new event ids, a click on another user's list, a
    request outside the experiment, repeated ratings, an assigned user never served,
    events seconds either side of midnight UTC."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[dict[str, Any]]] = {"assignments": [], "impressions": [], "feedback": []}
    n_events = 0
    for user in range(40):
        variant = "AB"[user % 2]
        start = DAY0 + rng.integers(0, 3) * 86_400 + rng.uniform(0, 86_399)
        out["assignments"].append(Assignment("exp", user, variant, user, start).to_dict())
        if user == 39:
            continue  # assigned, never served
        for r in range(int(rng.integers(1, 6))):
            ts = start + r * rng.uniform(0, 30_000)
            request = f"req-{user}-{r}"
            out["impressions"].append(Impression(
                request, ts, user, "exp", variant, "m", "v", (1, 2, 3), (0.3, 0.2, 0.1), None, 1.0
            ).to_dict())
            for movie in (1, 2, 3):
                for _retry in range(int(rng.choice([0, 0, 1, 2]))):  # 2 = retried with a new id
                    n_events += 1
                    out["feedback"].append(Feedback(
                        f"ev-{n_events}", ts + rng.uniform(1, 4000), request, user, movie, "click",
                        None, movie, "exp", variant).to_dict())
                if rng.random() < 0.3:
                    for _again in range(int(rng.integers(1, 3))):
                        n_events += 1
                        out["feedback"].append(Feedback(
                            f"ev-{n_events}", ts + rng.uniform(5000, 9000), request, user, movie,
                            "rating", float(rng.integers(1, 6)), movie, "exp", variant).to_dict())
    # traps: another user clicking user 0's list; a list of another experiment
    out["feedback"].append(Feedback("ev-x1", DAY0 + 10, "req-0-0", 1, 1, "click", None, 1, "exp", "B").to_dict())
    out["impressions"].append(Impression(
        "other", DAY0 + 5, 2, "other-exp", "A", "m", "v", (1,), (0.1,), None, 1.0).to_dict())
    out["feedback"].append(Feedback("ev-x2", DAY0 + 6, "other", 2, 1, "click", None, 1, "other-exp", "A").to_dict())
    return out


def _day(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts, unit="s", utc=True).dt.date


def expected(events: dict[str, list[dict[str, Any]]]) -> dict[date, dict[str, VariantData]]:
    """The same statistics, computed in pandas from the definitions in data.py."""
    a = pd.DataFrame(events["assignments"]).assign(day=lambda d: _day(d.ts))
    imp = pd.DataFrame(events["impressions"])
    imp = imp[imp.experiment_id == "exp"].merge(a[["user_id"]], on="user_id")
    imp = imp.assign(day=_day(imp.ts))
    fb = pd.DataFrame(events["feedback"])
    fb = fb[fb.experiment_id == "exp"].merge(imp[["request_id", "user_id"]], on=["request_id", "user_id"])
    clicks = (fb[fb.type == "click"].groupby(["user_id", "request_id", "movie_id"]).ts.min()
              .reset_index().assign(day=lambda d: _day(d.ts)))
    ratings = (fb[fb.type == "rating"].sort_values(["ts", "event_id"])
               .drop_duplicates(["request_id", "movie_id"]).assign(day=lambda d: _day(d.ts)))
    activity_days = pd.concat([imp.day, clicks.day, ratings.day])
    first_activity = pd.concat([imp[["user_id", "day"]], clicks[["user_id", "day"]],
                                ratings[["user_id", "day"]]]).groupby("user_id").day.min()
    a["start"] = [min(d, first_activity.get(u, d)) for u, d in zip(a.user_id, a.day)]
    result: dict[date, dict[str, VariantData]] = {}
    for day in sorted(set(activity_days) | set(a.day)):
        users = a[a.start <= day].set_index("user_id")
        n_imp = imp[imp.day <= day].groupby("user_id").size().reindex(users.index, fill_value=0)
        n_clk = clicks[clicks.day <= day].groupby("user_id").size().reindex(users.index, fill_value=0)
        r = ratings[ratings.day <= day].groupby("user_id").value
        n_rat = r.size().reindex(users.index, fill_value=0)
        s_rat = r.sum().reindex(users.index, fill_value=0.0)
        n_clk = n_clk.where(n_imp > 0, 0)
        result[day] = {}
        for variant, members in users.groupby("variant").groups.items():
            i, c, nr, sr = (s.loc[members].to_numpy() for s in (n_imp, n_clk, n_rat, s_rat))
            exposed, rated = i > 0, nr > 0
            result[day][variant] = VariantData(
                variant=variant, users=len(members), exposed_users=int(exposed.sum()),
                impressions=int(i.sum()), clicks=int(c.sum()), ratings=int(nr.sum()),
                ctr=RatioStats.from_arrays(c[exposed], i[exposed]),
                clicks_per_user=SampleMeanStats.from_arrays(c[exposed]),
                rating=RatioStats.from_arrays(sr[rated], nr[rated]),
            )
    return result


def assert_same(got: VariantData, want: VariantData) -> None:
    assert _flatten(asdict(got)) == pytest.approx(_flatten(asdict(want))), got.variant


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            flat.update(_flatten(v, f"{prefix}{k}."))
        else:
            flat[f"{prefix}{k}"] = v
    return flat


@pytest.fixture
def loaded(warehouse: Any) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    events = synthetic_events()
    for table, rows in events.items():
        warehouse.insert_new(table, rows)
    warehouse.upsert("experiments", [EXPERIMENT.to_dict()])
    return warehouse, events


def test_statistics_match_pandas_per_day_and_in_total(loaded: tuple[Any, Any]) -> None:
    warehouse, events = loaded
    want = expected(events)
    data = load_experiment_data(warehouse, "exp")
    assert [p.day for p in data.daily] == sorted(want)
    for point in data.daily:
        for variant in ("A", "B"):
            assert_same(point.variants[variant], want[point.day][variant])
        assert point.variants["C"].users == 0  # defined, never assigned: zeros, not missing
    last = max(want)
    for variant in ("A", "B"):
        assert_same(data.variants[variant], want[last][variant])
    assert list(data.variants) == ["A", "B", "C"]  # in the order of the definition
    # the traps did bite in the data: retries exist, so distinct counting mattered
    raw_clicks = sum(1 for f in events["feedback"] if f["type"] == "click")
    assert sum(v.clicks for v in data.variants.values()) < raw_clicks - 2


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
