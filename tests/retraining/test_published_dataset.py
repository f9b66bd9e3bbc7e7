"""The retrain job trains on exactly the dataset version the workflow validated and
published, re-checking its sha256 itself, on the Cloud Storage and Firestore emulators.

`movierec data publish` is the workflow's step (.github/workflows/retrain.yml); the job
runs with MOVIEREC_DATASET_VERSION=validated and no MOVIELENS_DIR, as infra/main.tf sets
it, so it cannot fall back to a copy of its own (and this machine cannot reach GroupLens).
"""

from __future__ import annotations

import json

import pytest

from movierec.cli import main as cli
from movierec.data.fetch import sha256_of
from movierec.data.registry import dataset_spec
from movierec.models.artifact import live_version
from movierec.pipelines.datasets import content_version, pointer_key, version_prefix
from movierec.stores.gcs import GCSArtifactStore
from tests.conftest import GCP_TEST_PROJECT, GCS_TEST_BUCKET
from training_job.main import main as job

pytestmark = pytest.mark.emulator

SPEC = dataset_spec("ml-100k")


@pytest.fixture
def env(monkeypatch, tmp_path, firestore_emulator, storage_emulator, firestore_client, gcs_bucket) -> dict[str, str]:
    values = {
        "MOVIEREC_BACKEND": "gcp",
        "GOOGLE_CLOUD_PROJECT": GCP_TEST_PROJECT,
        "MOVIEREC_ARTIFACT_BUCKET": GCS_TEST_BUCKET,
        "MOVIEREC_HOME": str(tmp_path / "home"),
        "MOVIEREC_DATA_CACHE": str(tmp_path / "cache"),
        **firestore_emulator.env(),
        **storage_emulator.env(),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MOVIELENS_DIR", raising=False)
    monkeypatch.delenv("MOVIEREC_DATASET_VERSION", raising=False)
    return values


def publish(monkeypatch, movielens_root, capsys) -> str:
    """The workflow's step: MOVIELENS_DIR is the copy it fetched and validated."""
    monkeypatch.setenv("MOVIELENS_DIR", str(movielens_root / "ml-100k"))
    code = cli(["data", "publish"])
    out, err = capsys.readouterr()
    assert code == 0, err
    monkeypatch.delenv("MOVIELENS_DIR")
    return out


def test_the_job_trains_on_the_published_version_and_refuses_an_altered_one(
    env, monkeypatch, movielens_root, gcs_bucket, tmp_path, capsys
) -> None:
    store = GCSArtifactStore(gcs_bucket.client, gcs_bucket.name)
    official = {name: sha256_of(movielens_root / "ml-100k" / name) for name in SPEC.required}
    version = content_version(official)

    out = publish(monkeypatch, movielens_root, capsys)
    assert f"{pointer_key('ml-100k')} -> {version}" in out
    prefix = version_prefix("ml-100k", version)
    assert store.list(prefix) == sorted(prefix + f for f in [*SPEC.required, "manifest.json"])
    manifest = json.loads(store.read_bytes(prefix + "manifest.json"))
    assert {f: e["sha256"] for f, e in manifest["files"].items()} == official
    assert json.loads(store.read_bytes(pointer_key("ml-100k")))["version"] == version
    assert f"-> {version}" in publish(monkeypatch, movielens_root, capsys)  # same bytes, same version

    monkeypatch.setenv("MOVIEREC_DATASET_VERSION", "validated")
    assert job(["retrain", "--models", "popular", "--no-mlflow"]) == 0, capsys.readouterr().err
    trained = live_version(store, "popular")
    assert trained is not None
    assert (tmp_path / "cache" / "published" / "ml-100k" / version / "u.data").is_file()

    # Someone replaces a published file after validation: the job refuses, before training.
    u_data = (movielens_root / "ml-100k" / "u.data").read_bytes()
    gcs_bucket.client.bucket(gcs_bucket.name).blob(prefix + "u.data").upload_from_string(u_data + b"1\t1\t5\t0\n")
    for cached in (tmp_path / "cache" / "published" / "ml-100k" / version).iterdir():
        cached.write_bytes(b"")  # and the job's cache is gone (a fresh Cloud Run instance)
    capsys.readouterr()
    assert job(["retrain", "--models", "popular", "--no-mlflow"]) == 2
    err = capsys.readouterr().err
    assert f"{prefix}u.data has sha256" in err and f"says {official['u.data']}" in err
    assert "changed after it was validated; refusing to train on it" in err
    assert "Traceback" not in err
    assert live_version(store, "popular") == trained


def test_the_job_without_a_validated_version_says_how_to_publish_one(env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MOVIEREC_DATASET_VERSION", "validated")
    assert job(["retrain", "--models", "popular", "--no-mlflow"]) == 2
    err = capsys.readouterr().err
    assert f"no validated version of ml-100k in gs://{GCS_TEST_BUCKET}" in err
    assert "movierec data publish" in err and "Traceback" not in err


def test_an_unknown_version_is_named(env, monkeypatch, movielens_root, capsys) -> None:
    publish(monkeypatch, movielens_root, capsys)
    monkeypatch.setenv("MOVIEREC_DATASET_VERSION", "0123456789abcdef")
    assert cli(["data", "validate"]) == 2
    assert "ml-100k has no published version '0123456789abcdef'" in capsys.readouterr().err
