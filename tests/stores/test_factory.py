"""make_stores builds the adapters of each backend from Settings and an explicit env."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from movierec.errors import ConfigError
from movierec.events import Feedback
from movierec.settings import Settings
from movierec.stores.factory import Stores, make_stores
from movierec.stores.firestore import FirestoreEventLog
from movierec.stores.gcs import GCSArtifactStore
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog
from tests.conftest import GCP_TEST_PROJECT, GCS_TEST_BUCKET

EVENT = Feedback("ev-1", 5.0, "req-1", 1, 2, "click", None, 1, "exp-1", "control")


def test_local_backend_uses_the_home_folder(tmp_path: Path) -> None:
    stores = make_stores(Settings(home=tmp_path))
    assert isinstance(stores, Stores)
    assert isinstance(stores.artifacts, LocalArtifactStore)
    assert isinstance(stores.events, SQLiteEventLog)
    stores.artifacts.write_bytes("models/x.json", b"{}")
    assert stores.events.record_feedback(EVENT) is True
    assert (tmp_path / "artifacts" / "models" / "x.json").read_bytes() == b"{}"
    assert (tmp_path / "events.sqlite").is_file()


def gcp_settings(tmp_path: Path, **changes: object) -> Settings:
    values: dict[str, object] = {
        "backend": "gcp",
        "home": tmp_path,
        "gcp_project": GCP_TEST_PROJECT,
        "artifact_bucket": GCS_TEST_BUCKET,
        **changes,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.mark.emulator
def test_gcp_backend_on_the_emulators(
    tmp_path, firestore_emulator, firestore_client, storage_emulator, gcs_bucket, monkeypatch
) -> None:
    env = {**firestore_emulator.env(), **storage_emulator.env()}
    for name, value in env.items():  # the Firestore library reads the process environment too
        monkeypatch.setenv(name, value)
    stores = make_stores(gcp_settings(tmp_path), os.environ)
    assert isinstance(stores.artifacts, GCSArtifactStore)
    assert isinstance(stores.events, FirestoreEventLog)

    stores.artifacts.write_bytes("models/x.json", b"{}")
    assert gcs_bucket.client.bucket(GCS_TEST_BUCKET).blob("models/x.json").download_as_bytes() == b"{}"
    assert stores.events.record_feedback(EVENT) is True
    assert firestore_client.collection("feedback").document("ev-1").get().to_dict() == EVENT.to_dict()


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"gcp_project": None}, "GOOGLE_CLOUD_PROJECT"), ({"artifact_bucket": None}, "MOVIEREC_ARTIFACT_BUCKET")],
)
def test_gcp_backend_needs_project_and_bucket(tmp_path: Path, changes, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_stores(gcp_settings(tmp_path, **changes))


def test_gcp_backend_without_credentials_says_how_to_get_them(tmp_path: Path, monkeypatch) -> None:
    for name in ("STORAGE_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="application-default login"):
        make_stores(gcp_settings(tmp_path), os.environ)


def test_unknown_backend(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown backend 'aws'"):
        make_stores(Settings(home=tmp_path, backend="aws"))  # type: ignore[arg-type]
