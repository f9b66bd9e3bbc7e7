"""The jobs log to the MLflow store their settings name, files included, and nothing to
the job's scratch space: in the cloud that store is a SQLite file on the retrain job's
Cloud Storage mount (infra/jobs.tf), so runs outlive the job.

The "mount" here is a folder outside MOVIEREC_HOME, as /mnt/mlflow is outside the job's
/tmp/movierec; infra/main.tf's MLFLOW_TRACKING_URI has the same shape
(tests/infra/test_mlflow.py checks that side).
"""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from movierec.models.artifact import live_version
from movierec.retraining.job import MLFLOW_EXPERIMENT as RETRAIN_EXPERIMENT
from movierec.settings import Settings
from movierec.stores.local import LocalArtifactStore
from training_job.main import main


def test_train_and_retrain_jobs_log_to_the_store_on_the_mount(tmp_path: Path, movielens_root: Path, capsys) -> None:
    home, mount = tmp_path / "scratch", tmp_path / "mnt" / "mlflow"
    mount.mkdir(parents=True)
    env = {
        "MOVIEREC_BACKEND": "local",
        "MOVIEREC_HOME": str(home),
        "MOVIELENS_DIR": str(movielens_root / "ml-100k"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{mount}/mlflow.db",
    }
    assert main(["train", "--models", "popular", "--trials", "0"], env=env) == 0, capsys.readouterr().err
    assert main(["retrain", "--models", "popular"], env=env) == 0, capsys.readouterr().err
    assert live_version(LocalArtifactStore(home / "artifacts"), "popular")

    client = MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    for experiment in ("movierec-train", RETRAIN_EXPERIMENT):
        found = client.get_experiment_by_name(experiment)
        assert found is not None, f"{experiment}: no experiment in the store on the mount"
        assert found.artifact_location.startswith((mount / "mlartifacts").as_uri()), found.artifact_location
        [run] = client.search_runs([found.experiment_id])
        assert run.info.status == "FINISHED"
    train_run = client.search_runs([client.get_experiment_by_name("movierec-train").experiment_id])[0]
    files = {a.path for a in client.list_artifacts(train_run.info.run_id)}
    assert files == {"arrays.npz", "items.json", "manifest.json"}
    assert list((mount / "mlartifacts").rglob("arrays.npz")), "run files are not on the mount"
    # Nothing of MLflow's is left in the scratch space that dies with the job.
    assert not (home / "mlflow.db").exists() and not (home / "mlartifacts").exists()


def test_run_files_sit_beside_a_sqlite_store_and_a_server_keeps_its_own() -> None:
    on_mount = Settings.from_env({"MLFLOW_TRACKING_URI": "sqlite:////mnt/mlflow/mlflow.db"})
    assert on_mount.tracking_uri == "sqlite:////mnt/mlflow/mlflow.db"
    assert on_mount.mlflow_artifacts == "file:///mnt/mlflow/mlartifacts"
    server = Settings.from_env({"MLFLOW_TRACKING_URI": "https://mlflow.example.com"})
    assert server.mlflow_artifacts is None  # the server's --default-artifact-root decides
    local = Settings.from_env({"MOVIEREC_HOME": "/tmp/h"})
    assert local.tracking_uri == "sqlite:////tmp/h/mlflow.db"
    assert local.mlflow_artifacts == "file:///tmp/h/mlartifacts"
