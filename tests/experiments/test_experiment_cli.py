"""`movierec experiment create` records the metric roles and the plan; `movierec export`
carries them to the warehouse, where the report reads them."""

from __future__ import annotations

import dataclasses
import json

import pytest

from movierec.analysis.definitions import list_experiments
from movierec.analysis.plan import make_plan
from movierec.cli import main
from movierec.events import Guardrail
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from movierec.stores.local import SQLiteEventLog


@pytest.fixture
def env(home, monkeypatch):
    monkeypatch.setenv("MOVIEREC_HOME", str(home))
    monkeypatch.setenv("MOVIEREC_BACKEND", "local")
    return home


def test_create_records_roles_and_plan_and_export_carries_them(env, capsys) -> None:
    code = main([
        "experiment", "create", "--id", "exp-plan", "--variants", "A=svd,B=ease",
        "--primary", "ctr", "--guardrail", "rating:1.5%", "--guardrail", "clicks_per_user",
        "--secondary", "rating,clicks_per_user", "--mde", "0.2", "--baseline", "0.25",
        "--alpha", "0.1", "--power", "0.9",
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    stored = SQLiteEventLog(env / "events.sqlite").get_experiment("exp-plan")
    assert stored.primary_metric == "ctr"
    assert stored.guardrails == (Guardrail("rating", 0.015), Guardrail("clicks_per_user", 0.02))
    assert stored.secondary_metrics == ("rating", "clicks_per_user")
    assert stored.plan == make_plan("ctr", 2, mde=0.2, alpha=0.1, power=0.9, baseline=0.25)
    assert f"-> {stored.plan.users_per_variant:,} users per variant" in out

    assert main(["experiment", "show", "exp-plan", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["plan"]["total_users"] == stored.plan.total_users
    assert shown["guardrail_margins"] == [0.015, 0.02]

    assert main(["export"]) == 0
    with DuckDBWarehouse(env / "warehouse.duckdb") as warehouse:
        (found,) = list_experiments(warehouse)
    # TIMESTAMP keeps microseconds; everything else comes back as stored.
    assert found.created_at == pytest.approx(stored.created_at, abs=1e-6)
    assert dataclasses.replace(found, created_at=stored.created_at, started_at=stored.started_at) == stored


def test_create_without_a_baseline_says_the_plan_has_no_size(env, capsys) -> None:
    assert main(["experiment", "create", "--id", "exp-nb"]) == 0
    out = capsys.readouterr().out
    assert "no --baseline" in out
    stored = SQLiteEventLog(env / "events.sqlite").get_experiment("exp-nb")
    assert stored.plan is not None and stored.plan.users_per_variant is None
    assert stored.guardrails == () and stored.secondary_metrics == ()


@pytest.mark.parametrize(("argv", "message"), [
    (["--primary", "dwell_time"], "names metric 'dwell_time'"),
    (["--guardrail", "rating:x"], "the margin must be a number"),
    (["--guardrail", "rating:1.5"], "the margin is a relative drop in (0, 1)"),
    (["--guardrail", "rating:0"], "the margin is a relative drop in (0, 1)"),
    (["--primary", "rating", "--baseline", "3.5"], "give --baseline-variance"),
])
def test_bad_plans_are_clear_errors_and_store_nothing(env, capsys, argv, message) -> None:
    code = main(["experiment", "create", "--id", "bad", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert SQLiteEventLog(env / "events.sqlite").get_experiment("bad") is None
