"""Issue #4's proof: simulated users over real HTTP, exported to DuckDB, analysed.

The experiment is created exactly as ``scripts/demo.sh`` creates it (the flags are read
from the script: primary list CTR, a mean-rating guardrail, a recorded plan), and the
report decides with that recorded plan. A = SVD vs B = EASE must come out as "B wins"
with its reasons; an A/A test (both variants SVD) must not find a difference. Models
are trained on the ms75 training part; simulated users click by their held-out
ratings (ClickModel). As `movierec simulate` does, the simulated users' training ratings
are loaded into the warehouse as their rating history, the CUPED covariate.
"""

from __future__ import annotations

import json
import shlex
import shutil

import numpy as np
import pytest

from movierec.analysis.metrics import METRIC_LABELS
from movierec.cli import main
from movierec.simulation.history import record_history
from movierec.simulation.traffic import SimulationConfig, simulate, simulated_users
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from tests.e2e.server import running_server
from tests.fixtures.serving import REPO, SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SIM = SimulationConfig(users=300, days=4, sessions_per_day=1.0, seed=11)
DEMO = REPO / "scripts" / "demo.sh"


def demo_flags() -> list[str]:
    """The flags of `experiment create` in scripts/demo.sh, without its id and variants."""
    line = next(x for x in DEMO.read_text().splitlines() if x.startswith("$MR experiment create"))
    args = shlex.split(line)[3:]
    for name in ("--id", "--variants"):
        i = args.index(name)
        del args[i:i + 2]
    return args


def simulate_experiment(variants: str, held_out_models, tmp_path, monkeypatch) -> None:
    """Serve ``variants`` on the local stack, drive the simulated users, export to DuckDB."""
    root, truth, history = held_out_models
    shutil.copytree(root, tmp_path / "artifacts")
    env = {"MOVIEREC_HOME": str(tmp_path), "MOVIEREC_TOKEN_SECRET": SECRET, "MOVIEREC_BACKEND": "local"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["experiment", "create", *demo_flags(), "--id", "sim", "--variants", variants,
                 "--salt", "simulation"]) == 0
    with running_server(env, tmp_path / "server.log") as url:
        summary = simulate(url, truth, SIM)
    assert summary.sessions > 0 and not summary.errors, summary.lines()
    with DuckDBWarehouse(tmp_path / "warehouse.duckdb") as warehouse:
        users = simulated_users(np.array(sorted(truth)), SIM)
        assert record_history(warehouse, history, users) == int(history["user_id"].isin(users).sum())
    assert main(["export"]) == 0


def run_experiment(variants: str, held_out_models, tmp_path, monkeypatch, capsys) -> dict:
    simulate_experiment(variants, held_out_models, tmp_path, monkeypatch)
    capsys.readouterr()
    code = main(["report", "--experiment", "sim", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def ctr_comparison(report: dict) -> dict:
    return next(c for c in report["comparisons"] if c["metric"] == "ctr" and c["variant"] == "B")


def test_ease_beats_svd_significantly(held_out_models, tmp_path, monkeypatch, capsys):
    report = run_experiment("A=svd,B=ease", held_out_models, tmp_path, monkeypatch, capsys)
    decision = report["decision"]
    assert decision["verdict"] == "wins", decision
    assert decision["text"].startswith(f"B wins on {METRIC_LABELS['ctr']}")
    assert ctr_comparison(report)["lift_rel"] > 0
    assert report["srm"]["alarm"] is False
    # The reasons: the primary significantly better, the guardrail non-inferior, the checks.
    reasons = decision["reasons"]
    assert any(r.startswith(f"primary {METRIC_LABELS['ctr']}, B vs A") and r.endswith("significantly better")
               for r in reasons), reasons
    assert any(r.startswith(f"guardrail {METRIC_LABELS['rating']}, B vs A") and "non-inferior" in r
               for r in reasons), reasons
    assert any(r.startswith("split: ok") for r in reasons)
    # CUPED on the users' rating history removed variance from the primary's lift.
    assert report["covariate"] == "rating_history"
    assert 0 < ctr_comparison(report)["variance_ratio"] < 0.95, ctr_comparison(report)
    # Decided with the recorded plan, not a default.
    assert report["plan"]["recorded"] and report["config"]["tuning_parameter"] == report["plan"]["tuning_parameter"]


def test_an_aa_test_finds_no_difference(held_out_models, tmp_path, monkeypatch, capsys):
    report = run_experiment("A=svd,B=svd", held_out_models, tmp_path, monkeypatch, capsys)
    assert report["decision"]["verdict"] not in ("wins", "loses"), report["decision"]
    assert report["srm"]["alarm"] is False
    assert report["covariate"] == "rating_history"  # the A/A verdict holds with CUPED on


def test_a_ctr_drop_sends_exactly_one_webhook_call(held_out_models, tmp_path, monkeypatch, capsys):
    """B (SVD) clicks far less than the control A (EASE): the CTR guardrail alert fires once,
    and the next daily report within the cool-down does not repeat it."""
    from tests.fixtures.webhook import webhook_receiver

    simulate_experiment("A=ease,B=svd", held_out_models, tmp_path, monkeypatch)
    with webhook_receiver() as receiver:
        monkeypatch.setenv("MOVIEREC_ALERT_WEBHOOK_URL", receiver.url)
        assert main(["report", "--experiment", "sim"]) == 0
        assert main(["report", "--experiment", "sim"]) == 0
    assert len(receiver.posts) == 1, receiver.posts
    alert = receiver.posts[0]
    assert "B" in alert["text"] and "ctr" in json.dumps(alert).lower()


def test_simulated_users_drive_an_interleaved_experiment_and_the_report_prefers_ease(
        held_out_models, tmp_path, monkeypatch, capsys):
    """`movierec simulate`'s traffic against an interleaved experiment: the server merges
    both rankers, the clicks carry the credit, and `movierec report` reads the preference."""
    root, truth, _ = held_out_models
    shutil.copytree(root, tmp_path / "artifacts")
    env = {"MOVIEREC_HOME": str(tmp_path), "MOVIEREC_TOKEN_SECRET": SECRET, "MOVIEREC_BACKEND": "local"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["experiment", "create", "--id", "il-sim", "--variants", "A=svd,B=ease",
                 "--design", "interleaved", "--salt", "simulation"]) == 0
    with running_server(env, tmp_path / "server.log") as url:
        summary = simulate(url, truth, SimulationConfig(users=300, days=3, sessions_per_day=1.0, seed=5))
    assert summary.sessions > 0 and not summary.errors, summary.lines()
    assert set(summary.impressions) == {"interleaved"}
    assert main(["export"]) == 0
    capsys.readouterr()
    assert main(["report", "--experiment", "il-sim"]) == 0
    out = capsys.readouterr().out
    # EASE's lists are clicked far more (the A/B test above): users prefer B.
    assert "B preferred by users" in out, out
    assert main(["report", "--experiment", "il-sim", "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["verdict"] == "wins", view
