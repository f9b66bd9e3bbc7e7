"""The Cloud Run job entry point against the Cloud Storage and Firestore emulators."""

from __future__ import annotations

import pytest

from movierec.cli import main as cli
from movierec.models.artifact import list_versions, live_version, load_artifact
from movierec.retraining import records
from movierec.serving.models import ModelCache
from movierec.stores.firestore import FirestoreEventLog
from movierec.stores.gcs import GCSArtifactStore
from tests.conftest import GCP_TEST_PROJECT, GCS_TEST_BUCKET
from tests.retraining.conftest import write_genre_feedback
from training_job.main import main as job

pytestmark = pytest.mark.emulator


@pytest.fixture
def gcp_env(monkeypatch, tmp_path, movielens_root, firestore_emulator, storage_emulator, firestore_client, gcs_bucket):
    env = {
        "MOVIEREC_BACKEND": "gcp",
        "GOOGLE_CLOUD_PROJECT": GCP_TEST_PROJECT,
        "MOVIEREC_ARTIFACT_BUCKET": GCS_TEST_BUCKET,
        "MOVIEREC_TOKEN_SECRET": "emulator-secret",
        "MOVIEREC_HOME": str(tmp_path),
        "MOVIELENS_DIR": str(movielens_root / "ml-100k"),
        **firestore_emulator.env(),
        **storage_emulator.env(),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_retrain_job_reads_firestore_and_publishes_to_cloud_storage(gcp_env, firestore_client, gcs_bucket, base, capsys):
    store = GCSArtifactStore(gcs_bucket.client, gcs_bucket.name)
    assert job(["retrain", "--models", "svd", "--no-mlflow"]) == 0
    first = live_version(store, "svd")
    assert first is not None

    written = write_genre_feedback(FirestoreEventLog(firestore_client), base, "Horror", range(1, 11), per_user=6)
    assert job(["retrain", "--models", "svd", "--no-mlflow"]) == 0
    second = live_version(store, "svd")
    assert second not in (None, first)
    assert job(["retrain", "--models", "svd", "--no-mlflow"]) == 0  # same data: nothing to promote
    assert live_version(store, "svd") == second
    assert list_versions(store, "svd") == [first, second]

    runs = [records.read_record(store, run_id) for run_id in records.list_runs(store)]
    assert [r.status for r in runs] == ["completed"] * 3
    assert [r.signals.events for r in runs] == [0, written, 0]
    assert [r.source.name for r in runs] == ["event_log"] * 3
    assert [r.models["svd"].decision for r in runs] == ["promoted", "promoted", "unchanged"]
    assert load_artifact(store, "svd").version == second  # checksums verified through the emulator
    assert ModelCache(store, refresh_seconds=0, clock=lambda: 0.0).get("svd").version == second

    assert cli(["model", "rollback", "svd"]) == 0
    assert live_version(store, "svd") == first
    assert cli(["model", "promote", "svd", "nope"]) == 2
    assert "has no version 'nope'" in capsys.readouterr().err
