"""Issue #4's proof: simulated users over real HTTP, exported to DuckDB, analysed.

A = SVD vs B = EASE must come out as a significant CTR win for B; an A/A test
(both variants SVD) must not find a difference. Models are trained on the ms75
training part; simulated users click by their held-out ratings (ClickModel).
"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from movierec.cli import main
from movierec.experiments.config import create_experiment, parse_variants
from movierec.simulation.traffic import SimulationConfig, simulate
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog
from tests.e2e.server import running_server
from tests.fixtures.serving import SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SIM = SimulationConfig(users=300, days=4, sessions_per_day=1.0, seed=11)


def simulate_experiment(variants: str, held_out_models, tmp_path, monkeypatch) -> None:
    """Serve ``variants`` on the local stack, drive the simulated users, export to DuckDB."""
    root, truth = held_out_models
    shutil.copytree(root, tmp_path / "artifacts")
    env = {"MOVIEREC_HOME": str(tmp_path), "MOVIEREC_TOKEN_SECRET": SECRET, "MOVIEREC_BACKEND": "local"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    create_experiment(
        SQLiteEventLog(tmp_path / "events.sqlite"),
        LocalArtifactStore(tmp_path / "artifacts"),
        "sim",
        parse_variants(variants, "50,50"),
        now=time.time(),
        salt="simulation",
    )
    with running_server(env, tmp_path / "server.log") as url:
        summary = simulate(url, truth, SIM)
    assert summary.sessions > 0 and not summary.errors, summary.lines()
    assert main(["export"]) == 0


def run_experiment(variants: str, held_out_models, tmp_path, monkeypatch, capsys) -> dict:
    simulate_experiment(variants, held_out_models, tmp_path, monkeypatch)
    capsys.readouterr()
    code = main(["report", "--experiment", "sim", "--json", "--expected-users", str(SIM.users)])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def ctr_comparison(report: dict) -> dict:
    return next(c for c in report["comparisons"] if c["metric"] == "ctr" and c["variant"] == "B")


def test_ease_beats_svd_significantly(held_out_models, tmp_path, monkeypatch, capsys):
    report = run_experiment("A=svd,B=ease", held_out_models, tmp_path, monkeypatch, capsys)
    assert report["decision"]["verdict"] == "wins", report["decision"]
    assert ctr_comparison(report)["lift_rel"] > 0
    assert report["srm"]["alarm"] is False


def test_an_aa_test_finds_no_difference(held_out_models, tmp_path, monkeypatch, capsys):
    report = run_experiment("A=svd,B=svd", held_out_models, tmp_path, monkeypatch, capsys)
    assert report["decision"]["verdict"] not in ("wins", "loses"), report["decision"]
    assert report["srm"]["alarm"] is False


def test_a_ctr_drop_sends_exactly_one_webhook_call(held_out_models, tmp_path, monkeypatch, capsys):
    """B (SVD) clicks far less than the control A (EASE): the CTR guardrail alert fires once,
    and the next daily report within the cool-down does not repeat it."""
    from tests.fixtures.webhook import webhook_receiver

    simulate_experiment("A=ease,B=svd", held_out_models, tmp_path, monkeypatch)
    with webhook_receiver() as receiver:
        monkeypatch.setenv("MOVIEREC_ALERT_WEBHOOK_URL", receiver.url)
        assert main(["report", "--experiment", "sim", "--expected-users", str(SIM.users)]) == 0
        assert main(["report", "--experiment", "sim", "--expected-users", str(SIM.users)]) == 0
    assert len(receiver.posts) == 1, receiver.posts
    alert = receiver.posts[0]
    assert "B" in alert["text"] and "ctr" in json.dumps(alert).lower()
