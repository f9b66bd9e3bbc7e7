"""Experiment configs stored before guardrail margins, secondary metrics and plans existed
stay loadable: from a dict, from an older SQLite event log, from an older DuckDB warehouse."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb

from movierec.events import DEFAULT_GUARDRAIL_MARGINS, Experiment, Guardrail, Plan, Variant
from movierec.pipelines.export import export_events
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from movierec.stores.local import SQLiteEventLog

OLD_ROW = {
    "experiment_id": "old",
    "salt": "s",
    "variants": [{"name": "A", "model": "svd", "version": None, "weight": 0.5},
                 {"name": "B", "model": "ease", "version": None, "weight": 0.5}],
    "status": "running",
    "coverage": 1.0,
    "primary_metric": "ctr",
    "guardrails": ["ctr", "rating"],
    "created_at": 10.0,
    "started_at": 10.0,
    "stopped_at": None,
}
PLANNED = Experiment(
    "new", "s2", (Variant("A", "svd", None, 0.5), Variant("B", "ease", None, 0.5)),
    guardrails=(Guardrail("rating", 0.15),), secondary_metrics=("clicks_per_user",),
    plan=Plan(mde=1.0, alpha=0.05, power=0.8, baseline=0.25, baseline_variance=0.1875,
              users_per_variant=361, total_users=722),
    created_at=20.0, started_at=20.0,
)


def test_an_old_dict_gets_the_documented_defaults() -> None:
    old = Experiment.from_dict(OLD_ROW)
    assert old.guardrails == (
        Guardrail("ctr", DEFAULT_GUARDRAIL_MARGINS["ctr"]),
        Guardrail("rating", DEFAULT_GUARDRAIL_MARGINS["rating"]),
    )
    assert DEFAULT_GUARDRAIL_MARGINS["ctr"] == 0.02 and DEFAULT_GUARDRAIL_MARGINS["rating"] == 0.01
    assert old.secondary_metrics == () and old.plan is None
    assert Experiment.from_dict(old.to_dict()) == old


def test_metric_names_alone_mean_default_margins() -> None:
    e = Experiment("e", "s", (), guardrails=("rating",))  # type: ignore[arg-type]
    assert e.guardrails == (Guardrail("rating", 0.01),)


def test_the_stored_form_keeps_the_old_columns_and_adds_the_new() -> None:
    d = PLANNED.to_dict()
    assert d["guardrails"] == ["rating"] and d["guardrail_margins"] == [0.15]
    assert d["secondary_metrics"] == ["clicks_per_user"]
    assert d["plan"]["total_users"] == 722
    assert Experiment.from_dict(json.loads(json.dumps(d))) == PLANNED


def test_an_older_sqlite_event_log_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    old_columns = list(OLD_ROW)
    with sqlite3.connect(path) as conn:  # the layout of the previous release
        conn.execute(
            "CREATE TABLE experiments (experiment_id TEXT NOT NULL, salt TEXT, variants TEXT,"
            " status TEXT, coverage REAL, primary_metric TEXT, guardrails TEXT, created_at REAL,"
            " started_at REAL, stopped_at REAL, PRIMARY KEY (experiment_id))"
        )
        values = [json.dumps(OLD_ROW[c]) if c in ("variants", "guardrails") else OLD_ROW[c]
                  for c in old_columns]
        conn.execute(f"INSERT INTO experiments VALUES ({', '.join('?' * len(values))})", values)
    conn.close()
    log = SQLiteEventLog(path)
    try:
        assert log.get_experiment("old") == Experiment.from_dict(OLD_ROW)
        log.put_experiment(PLANNED)
        assert log.get_experiment("new") == PLANNED
    finally:
        log.close()


def test_an_older_duckdb_warehouse_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE experiments (experiment_id TEXT NOT NULL, salt TEXT NOT NULL,"
        " variants STRUCT(name TEXT, model TEXT, version TEXT, weight DOUBLE)[],"
        " status TEXT NOT NULL, coverage DOUBLE NOT NULL, primary_metric TEXT NOT NULL,"
        " guardrails TEXT[], created_at TIMESTAMPTZ NOT NULL, started_at TIMESTAMPTZ NOT NULL,"
        " stopped_at TIMESTAMPTZ)"
    )
    con.close()
    log = SQLiteEventLog(tmp_path / "events.sqlite")
    try:
        log.put_experiment(PLANNED)
        with DuckDBWarehouse(path) as warehouse:
            export_events(log, warehouse, now=100.0)
            rows = warehouse.query("SELECT guardrail_margins, secondary_metrics, plan FROM experiments")
    finally:
        log.close()
    assert rows == [{
        "guardrail_margins": [0.15],
        "secondary_metrics": ["clicks_per_user"],
        "plan": {"mde": 1.0, "alpha": 0.05, "power": 0.8, "baseline": 0.25,
                 "baseline_variance": 0.1875, "users_per_variant": 361, "total_users": 722},
    }]
