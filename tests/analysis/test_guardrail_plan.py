"""Guardrails get planned power at creation: the users per variant at which their
always-valid non-inferiority bound clears the margin with the plan's power. Checked by
simulating the very test the decision reads, and carried through the CLI, the event log,
the export and the report."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from movierec.analysis.comparison import guardrail_alpha
from movierec.analysis.definitions import list_experiments
from movierec.analysis.plan import analysis_config, make_plan
from movierec.cli import main
from movierec.errors import ConfigError
from movierec.events import Experiment, Guardrail, GuardrailPlan, Variant
from movierec.stats.noninferiority import non_inferiority
from movierec.stats.power import sequential_non_inferiority_sample_size
from movierec.stats.sequential import sequential_test
from movierec.stats.statistics import SampleMeanStats
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from movierec.stores.local import SQLiteEventLog

RATING = Guardrail("rating", 0.05)


def test_a_guardrail_with_a_baseline_gets_the_sequential_non_inferiority_size() -> None:
    plan = make_plan("ctr", 2, mde=0.2, baseline=0.25, guardrails=(RATING, Guardrail("item_ctr", 0.1)),
                     guardrail_baselines={"rating": (3.6, 1.1), "item_ctr": (0.05, None)})
    rating, item_ctr = plan.guardrails
    assert rating == GuardrailPlan("rating", 3.6, 1.1, sequential_non_inferiority_sample_size(
        3.6, 1.1, 0.05, tuning_parameter=plan.total_users, alpha=guardrail_alpha(0.05), power=0.8))
    assert item_ctr.baseline_variance == pytest.approx(0.05 * 0.95)  # the CTR default b(1 - b)
    assert plan.users_to_run == max(plan.users_per_variant, rating.users_per_variant, item_ctr.users_per_variant)


def test_at_the_planned_size_the_guardrail_passes_with_the_planned_power() -> None:
    """Simulate the decision's own check: the always-valid bound at level 2α/(1+α)
    against the margin, at the planned n, with no true change in the guardrail."""
    mean, sd, margin = 3.6, 1.05, 0.02
    plan = make_plan("ctr", 2, mde=0.2, baseline=0.25, guardrails=(Guardrail("rating", margin),),
                     guardrail_baselines={"rating": (mean, sd**2)})
    (g,) = plan.guardrails
    n = g.users_per_variant
    rng = np.random.default_rng(11)
    runs, passed = 400, 0
    for _ in range(runs):
        a, b = rng.normal(mean, sd, n), rng.normal(mean, sd, n)
        result = sequential_test(
            SampleMeanStats(n, a.sum(), (a * a).sum()), SampleMeanStats(n, b.sum(), (b * b).sum()),
            tuning_parameter=plan.total_users, alpha=guardrail_alpha(plan.alpha))
        passed += non_inferiority(result, margin).non_inferior
    power = passed / runs
    assert abs(power - plan.power) < 3 * np.sqrt(plan.power * (1 - plan.power) / runs), power
    # and at half the size it would be clearly underpowered
    assert sequential_non_inferiority_sample_size(
        mean, sd**2, 2 * margin, tuning_parameter=plan.total_users, alpha=guardrail_alpha(0.05)) < n


def test_guardrail_baselines_are_checked() -> None:
    with pytest.raises(ConfigError, match="not a guardrail"):
        make_plan("ctr", 2, baseline=0.25, guardrail_baselines={"rating": (3.6, 1.0)})
    with pytest.raises(ConfigError, match="--guardrail-baseline rating=MEAN:VARIANCE"):
        make_plan("ctr", 2, baseline=0.25, guardrails=(RATING,), guardrail_baselines={"rating": (3.6, None)})
    with pytest.raises(ConfigError, match="positive"):
        make_plan("ctr", 2, guardrails=(RATING,), guardrail_baselines={"rating": (-1.0, 1.0)})


def test_the_report_states_each_guardrails_planned_power() -> None:
    plan = make_plan("ctr", 2, mde=0.5, baseline=0.25, guardrails=(RATING, Guardrail("clicks_per_user", 0.02)),
                     guardrail_baselines={"rating": (3.6, 1.1)})
    experiment = Experiment("e", "s", (Variant("A", "svd", None, 0.5), Variant("B", "ease", None, 0.5)),
                            guardrails=(RATING, Guardrail("clicks_per_user", 0.02)), plan=plan)
    _, summary = analysis_config(experiment)
    rating, clicks = summary.guardrail_lines
    assert f"{plan.guardrails[0].users_per_variant:,} users per variant" in rating
    assert "80% power" in rating and "-5%" in rating
    assert "no planned power" in clicks
    assert plan.users_to_run > plan.users_per_variant  # the -5% rating margin needs more users
    assert f"the guardrails need {plan.users_to_run:,} users per variant" in summary.text


@pytest.fixture
def env(home, monkeypatch):
    monkeypatch.setenv("MOVIEREC_HOME", str(home))
    monkeypatch.setenv("MOVIEREC_BACKEND", "local")
    return home


def test_create_plans_guardrails_and_export_carries_the_plans(env, capsys) -> None:
    code = main([
        "experiment", "create", "--id", "exp-g", "--variants", "A=svd,B=ease", "--primary", "ctr",
        "--guardrail", "rating:5%", "--guardrail-baseline", "rating=3.6:1.1", "--baseline", "0.25",
        "--mde", "0.2",
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    stored = SQLiteEventLog(env / "events.sqlite").get_experiment("exp-g")
    (g,) = stored.plan.guardrails
    assert g.metric == "rating" and g.users_per_variant and g.baseline_variance == 1.1
    assert f"guardrail rating: baseline 3.6 (per-user variance 1.1) -> non-inferior with 80% power at " \
           f"{g.users_per_variant:,} users per variant" in out
    assert main(["export"]) == 0
    with DuckDBWarehouse(env / "warehouse.duckdb") as warehouse:
        (found,) = list_experiments(warehouse)
    assert dataclasses.replace(found, created_at=stored.created_at, started_at=stored.started_at) == stored


def test_a_bad_guardrail_baseline_is_a_cli_error_naming_it(env, capsys) -> None:
    code = main(["experiment", "create", "--id", "exp-bad", "--guardrail", "rating",
                 "--guardrail-baseline", "rating=three"])
    assert code == 2
    assert "rating=three" in capsys.readouterr().err
