"""Issue #4's proof: simulated users over real HTTP, exported to DuckDB, analysed.

A = SVD vs B = EASE must come out as a significant CTR win for B; an A/A test
(both variants SVD) must not find a difference. Models are trained on the ms75
training part; simulated users click by their held-out ratings (ClickModel).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from movierec.cli import main
from movierec.experiments.config import create_experiment, parse_variants
from movierec.experiments.simulate import SimulationConfig, simulate
from movierec.models.artifact import save_artifact, set_live_version
from movierec.models.base import TrainingData
from movierec.models.ease import EASE
from movierec.models.popular import MostPopular
from movierec.models.svd import SurpriseSVD
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog
from movierec.training import ITEMS_FILE, PreparedData, hold_out, items_file
from tests.e2e.server import running_server
from tests.fixtures.serving import SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SIM = SimulationConfig(users=300, days=4, sessions_per_day=1.0, seed=11)


@pytest.fixture(scope="module")
def held_out_models(tmp_path_factory, ml100k):
    """svd, ease and popular trained on the ms75 training part; the truth is the rest."""
    prepared = PreparedData(ml100k, TrainingData(ml100k.ratings, ml100k.rating_scale), None)
    train, test = hold_out(prepared, seed=42)
    root = tmp_path_factory.mktemp("held-out-artifacts")
    store = LocalArtifactStore(root)
    for trainer in (SurpriseSVD(seed=1), EASE(l2=500.0), MostPopular()):
        artifact = trainer.fit(train.training)
        titles = items_file(ml100k.movies, artifact.arrays["item_ids"].tolist())
        saved = save_artifact(store, replace(artifact, files={ITEMS_FILE: titles}))
        set_live_version(store, saved.name, saved.version)
    truth: dict[int, dict[int, float]] = {}
    for user, item, rating in test[["user_id", "item_id", "rating"]].itertuples(index=False):
        truth.setdefault(int(user), {})[int(item)] = float(rating)
    return root, truth


def run_experiment(variants: str, held_out_models, tmp_path, monkeypatch, capsys) -> dict:
    import shutil

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
