"""The Warehouse contract, run against DuckDB and the BigQuery emulator alike."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timezone
from typing import Any

import pytest

from movierec.errors import DataError
from movierec.events import Assignment, Experiment, Feedback, Guardrail, Impression, Plan, Variant
from movierec.stores.ports import Warehouse
from movierec.stores.sql import TABLES

T0 = 1_763_000_000.25  # 2025-11-13, with a fraction of a second


def feedback(i: int, **changes: Any) -> dict[str, Any]:
    row = Feedback(
        event_id=f"ev-{i}", ts=T0 + i, request_id=f"req-{i // 2}", user_id=i % 3, movie_id=100 + i,
        type="rating" if i % 2 else "click", value=4.5 if i % 2 else None, position=1 + i % 10,
        experiment_id="exp" if i % 4 else None, variant="A", extra={"client": "web", "n": i},
    ).to_dict()
    return {**row, **changes}


def impression(i: int) -> dict[str, Any]:
    return Impression(
        request_id=f"req-{i}", ts=T0 + i, user_id=7, experiment_id="exp", variant="B",
        model_name="ease", model_version="v1", movie_ids=(3, 1, 2), scores=(0.9, 0.5, 0.25),
        fallback=None if i else "popular", latency_ms=12.5,
    ).to_dict()


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def test_is_a_warehouse_and_names_itself(warehouse: Warehouse) -> None:
    assert isinstance(warehouse, Warehouse)
    assert warehouse.describe()


def test_close_is_idempotent_and_the_next_call_opens_again(warehouse: Warehouse) -> None:
    assert warehouse.insert_new("feedback", [feedback(1)]) == 1
    warehouse.close()
    warehouse.close()
    assert warehouse.query("SELECT COUNT(*) AS n FROM feedback") == [{"n": 1}]
    assert warehouse.insert_new("feedback", [feedback(2)]) == 1


def test_ensure_schema_creates_every_table_and_is_idempotent(warehouse: Warehouse) -> None:
    warehouse.ensure_schema()  # the fixture already ran it once
    for name in TABLES:
        assert warehouse.query(f"SELECT COUNT(*) AS n FROM {name}") == [{"n": 0}]


def test_insert_new_inserts_only_absent_keys(warehouse: Warehouse) -> None:
    assert warehouse.insert_new("feedback", [feedback(i) for i in range(5)]) == 5
    assert warehouse.insert_new("feedback", [feedback(i) for i in range(5)]) == 0
    # a re-read row with other values does not replace the stored one
    assert warehouse.insert_new("feedback", [feedback(3, value=1.0), feedback(5), feedback(6)]) == 2
    rows = warehouse.query("SELECT event_id, value FROM feedback ORDER BY event_id")
    assert [r["event_id"] for r in rows] == [f"ev-{i}" for i in range(7)]
    assert next(r["value"] for r in rows if r["event_id"] == "ev-3") == 4.5


def test_duplicate_keys_in_one_batch_land_once(warehouse: Warehouse) -> None:
    assert warehouse.insert_new("feedback", [feedback(1), feedback(1), feedback(2)]) == 2
    assert warehouse.query("SELECT COUNT(*) AS n FROM feedback") == [{"n": 2}]


def test_empty_batch_inserts_nothing(warehouse: Warehouse) -> None:
    assert warehouse.insert_new("feedback", []) == 0


def test_composite_key_of_assignments(warehouse: Warehouse) -> None:
    def a(exp: str, user: int, variant: str) -> dict[str, Any]:
        return Assignment(exp, user, variant, bucket=user * 10, ts=T0 + user).to_dict()

    assert warehouse.insert_new("assignments", [a("e1", 1, "A"), a("e1", 2, "B"), a("e2", 1, "B")]) == 3
    assert warehouse.insert_new("assignments", [a("e1", 1, "B"), a("e2", 2, "A")]) == 1
    rows = warehouse.query(
        "SELECT experiment_id, user_id, variant FROM assignments ORDER BY experiment_id, user_id"
    )
    assert [(r["experiment_id"], r["user_id"], r["variant"]) for r in rows] == [
        ("e1", 1, "A"), ("e1", 2, "B"), ("e2", 1, "B"), ("e2", 2, "A"),
    ]


def test_values_round_trip_with_bigquery_types(warehouse: Warehouse) -> None:
    warehouse.insert_new("impressions", [impression(0), impression(1)])
    warehouse.insert_new("feedback", [feedback(0), feedback(1)])
    imp = warehouse.query("SELECT * FROM impressions ORDER BY request_id")
    assert imp[0] == {**impression(0), "ts": utc(T0), "movie_ids": [3, 1, 2], "scores": [0.9, 0.5, 0.25]}
    assert imp[1]["fallback"] is None
    fb = warehouse.query("SELECT * FROM feedback ORDER BY event_id")
    assert fb[0] == {**feedback(0), "ts": utc(T0)}
    assert fb[1]["extra"] == {"client": "web", "n": 1} and fb[1]["value"] == 4.5
    assert fb[0]["ts"].tzinfo is not None and fb[0]["ts"].utcoffset().total_seconds() == 0


def test_upsert_replaces_rows_of_the_same_key(warehouse: Any) -> None:
    exp = Experiment("exp", "salt", (Variant("A", "svd", None, 0.5), Variant("B", "ease", "v2", 0.5)),
                     created_at=T0, started_at=T0 + 1)
    assert warehouse.upsert("experiments", [exp.to_dict()]) == 1
    stopped = Experiment(**{**exp.__dict__, "status": "stopped", "stopped_at": T0 + 99})
    assert warehouse.upsert("experiments", [stopped.to_dict()]) == 1
    rows = warehouse.query("SELECT * FROM experiments")
    assert len(rows) == 1
    assert rows[0]["status"] == "stopped" and rows[0]["stopped_at"] == utc(T0 + 99)
    assert rows[0]["variants"] == [
        {"name": "A", "model": "svd", "version": None, "weight": 0.5},
        {"name": "B", "model": "ease", "version": "v2", "weight": 0.5},
    ]


def test_an_experiment_plan_round_trips(warehouse: Any) -> None:
    planned = Experiment(
        "exp", "salt", (Variant("A", "svd", None, 0.5), Variant("B", "ease", None, 0.5)),
        guardrails=(Guardrail("rating", 0.01), Guardrail("clicks_per_user", 0.02)),
        secondary_metrics=("clicks_per_user",),
        plan=Plan(mde=0.1, alpha=0.05, power=0.8, baseline=0.25, baseline_variance=0.1875,
                  users_per_variant=10_912, total_users=21_824),
        created_at=T0, started_at=T0,
    )
    unplanned = Experiment("old", "salt", planned.variants, created_at=T0, started_at=T0)
    assert warehouse.upsert("experiments", [planned.to_dict(), unplanned.to_dict()]) == 2
    rows = warehouse.query(
        "SELECT experiment_id, guardrails, guardrail_margins, secondary_metrics, plan"
        " FROM experiments ORDER BY experiment_id"
    )
    assert rows[0] == {
        "experiment_id": "exp",
        "guardrails": ["rating", "clicks_per_user"],
        "guardrail_margins": [0.01, 0.02],
        "secondary_metrics": ["clicks_per_user"],
        "plan": {"mde": 0.1, "alpha": 0.05, "power": 0.8, "baseline": 0.25,
                 "baseline_variance": 0.1875, "users_per_variant": 10_912, "total_users": 21_824},
    }
    assert rows[1]["plan"] is None and rows[1]["guardrail_margins"] == []
    # The report's reader gives back the experiments as stored (times to the microsecond).
    from movierec.analysis.definitions import list_experiments

    found = list_experiments(warehouse)
    assert [dataclasses.replace(e, created_at=T0, started_at=T0) for e in found] == [planned, unplanned]
    assert all(e.created_at == pytest.approx(T0, abs=1e-6) for e in found)


def test_watermarks_are_per_name_and_keep_microseconds(warehouse: Warehouse) -> None:
    assert warehouse.get_watermark("feedback") is None
    warehouse.set_watermark("feedback", T0 + 0.123456)
    warehouse.set_watermark("impressions", T0)
    assert warehouse.get_watermark("feedback") == pytest.approx(T0 + 0.123456, abs=1e-6)
    warehouse.set_watermark("feedback", T0 + 60)
    assert warehouse.get_watermark("feedback") == T0 + 60
    assert warehouse.get_watermark("impressions") == T0
    assert warehouse.query("SELECT COUNT(*) AS n FROM export_watermarks") == [{"n": 2}]


def test_query_parameters_of_every_kind(warehouse: Warehouse) -> None:
    warehouse.insert_new("feedback", [feedback(i) for i in range(8)])
    rows = warehouse.query(
        "SELECT event_id FROM feedback WHERE user_id = @user AND ts >= @since"
        " AND event_id IN UNNEST(@ids) AND position > @pos_floor AND variant = @variant"
        " ORDER BY event_id",
        {"user": 1, "since": utc(T0 + 1), "ids": ["ev-1", "ev-4", "ev-7"], "pos_floor": 0.5,
         "variant": "A"},
    )
    assert [r["event_id"] for r in rows] == ["ev-1", "ev-4", "ev-7"]


def test_float_literals_and_integer_division_follow_bigquery(warehouse: Warehouse) -> None:
    [row] = warehouse.query("SELECT 0.5 AS half, 1 / 4 AS quarter, SAFE_DIVIDE(1, 0) AS nothing")
    assert row == {"half": 0.5, "quarter": 0.25, "nothing": None}
    assert isinstance(row["half"], float)


@pytest.mark.parametrize(
    ("table", "rows", "message"),
    [
        ("nope", [{"a": 1}], "unknown warehouse table 'nope'"),
        ("feedback", [{**feedback(0), "colour": "red"}], "unknown columns ['colour']"),
        ("feedback", [{k: v for k, v in feedback(0).items() if k != "ts"}], "missing columns ['ts']"),
        ("feedback", [feedback(0, request_id=None)], "required column 'request_id' is null"),
        ("feedback", [feedback(0, value=math.nan)], "cannot encode as JSON"),
        ("feedback", [feedback(0, ts="yesterday")], "expected epoch seconds or an aware datetime"),
        ("feedback", [feedback(0, ts=datetime(2025, 1, 1))], "naive datetime"),
    ],
)
def test_bad_rows_are_refused_with_the_reason(
    warehouse: Warehouse, table: str, rows: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(DataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        warehouse.insert_new(table, rows)
    assert warehouse.query("SELECT COUNT(*) AS n FROM feedback") == [{"n": 0}]


def test_bad_queries_are_data_errors(warehouse: Warehouse) -> None:
    with pytest.raises(DataError):
        warehouse.query("SELECT no_such_column FROM feedback")
    with pytest.raises(DataError):
        warehouse.query("SELECT * FROM no_such_table")
    with pytest.raises(DataError):
        warehouse.query("SELECT * FROM feedback WHERE user_id = @missing")
