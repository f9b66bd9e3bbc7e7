"""The `movierec` command in-process: real data, real files, real MLflow store."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from movierec.cli import main
from movierec.models.artifact import live_version, load_artifact
from movierec.stores.local import LocalArtifactStore


@pytest.fixture
def env(monkeypatch, tmp_path, movielens_root):
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MOVIELENS_DIR", str(movielens_root / "ml-100k"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path / "home"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_json_has_every_metric_and_timings_and_is_reproducible(env, capsys):
    code, out, _ = run(capsys, "evaluate", "--protocol", "ms75", "--models", "popular,ease", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["model"] for r in rows] == ["popular", "ease"]
    for key in ("precision@10", "recall@10", "ndcg@10", "map@10", "hit_rate@10", "coverage", "mean_popularity",
                "fit_seconds", "predict_seconds"):
        assert all(key in r for r in rows), key
    assert rows[1]["ndcg@10"] > rows[0]["ndcg@10"]
    _, again, _ = run(capsys, "evaluate", "--protocol", "ms75", "--models", "popular,ease", "--json")
    strip = lambda rs: [{k: v for k, v in r.items() if not k.endswith("_seconds")} for r in rs]  # noqa: E731
    assert strip(json.loads(again)) == strip(rows)


def test_evaluate_table_for_rating_models(env, capsys):
    code, out, _ = run(capsys, "evaluate", "--protocol", "temporal", "--models", "svd")
    assert code == 0
    assert "rmse" in out and out.count("\n") >= 3


def test_train_publishes_live_versions_and_logs_to_mlflow(env, capsys):
    code, out, _ = run(capsys, "train", "--models", "svd,popular", "--hold-out")
    assert code == 0, out
    assert "measured on the held-out 25%" in out
    store = LocalArtifactStore(env / "artifacts")
    for name in ("svd", "popular"):
        version = live_version(store, name)
        assert version and f"{name} {version} (live)" in out
        artifact = load_artifact(store, name)
        assert artifact.files["items.json"] and "ms75_ndcg@10" in artifact.metrics
    client = MlflowClient(tracking_uri=f"sqlite:///{env / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("movierec-train").experiment_id])
    assert {r.data.tags["model"] for r in runs} == {"svd", "popular"}
    svd = next(r for r in runs if r.data.tags["model"] == "svd")
    assert svd.data.params["n_factors"] == "100" and "ms75_rmse" in svd.data.metrics
    logged = {a.path for a in client.list_artifacts(svd.info.run_id)}
    assert logged == {"arrays.npz", "items.json", "manifest.json"}
    # The copy in MLflow is byte for byte the published version.
    local = client.download_artifacts(svd.info.run_id, "arrays.npz", str(env.parent))
    manifest = load_artifact(store, "svd").manifest
    assert hashlib.sha256(Path(local).read_bytes()).hexdigest() == manifest["files"]["arrays.npz"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate", "--models", "svd,nope"], "unknown model 'nope'"),
        (["evaluate", "--models", "popular", "--min-user-ratings", "100000"], "no user/item is left with min_user_ratings=100000"),
        (["train", "--models", ""], "--models needs at least one model name"),
    ],
)
def test_bad_arguments_give_a_clear_message(env, capsys, args, message):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_unknown_dataset_is_refused_by_name(env, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "fetch", "--dataset", "ml-1b"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'ml-1b'" in capsys.readouterr().err


def test_corrupt_data_file_is_named(env, capsys, monkeypatch, tmp_path, movielens_root):
    broken = tmp_path / "ml-100k"
    shutil.copytree(movielens_root / "ml-100k", broken)
    (broken / "u.data").chmod(0o644)
    (broken / "u.data").write_text("1\t2\tnot-a-rating\n")
    monkeypatch.setenv("MOVIELENS_DIR", str(broken))
    code, _, err = run(capsys, "data", "validate")
    assert code == 2 and "u.data" in err and "Traceback" not in err


def test_data_fetch_uses_movielens_dir(env, capsys, movielens_root):
    code, out, _ = run(capsys, "data", "fetch")
    assert code == 0 and "verified files in" in out


def test_evaluate_models_alone_lists_every_option_with_its_description(env, capsys):
    from movierec.selection.registry import MODEL_NAMES

    code, out, _ = run(capsys, "evaluate", "--models")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(MODEL_NAMES)
    assert all(len(line.split(None, 1)) == 2 for line in lines)  # every name has a description


def test_train_fits_once_and_says_it_did_not_evaluate(env, capsys):
    code, out, _ = run(capsys, "train", "--models", "popular", "--no-mlflow")
    assert code == 0, out
    assert "fitted once on all of ml-100k; not evaluated" in out
    assert load_artifact(LocalArtifactStore(env / "artifacts"), "popular").metrics == {}


def test_a_modified_copy_is_refused_by_name_unless_allowed(env, capsys, tmp_path, movielens_root, monkeypatch):
    copy = tmp_path / "ml-100k"
    shutil.copytree(movielens_root / "ml-100k", copy)
    with (copy / "u.data").open("ab") as stream:
        stream.write(b"999\t999999\t5\t881250949\n")
    monkeypatch.setenv("MOVIELENS_DIR", str(copy))
    code, _, err = run(capsys, "data", "validate")
    assert code != 0 and "u.data has sha256" in err and "--allow-modified" in err
    code, out, _ = run(capsys, "data", "validate", "--allow-modified")
    assert code == 0
    assert "cleaning dropped 1 of 100001 rows" in out and "(999, 999999)" in out
