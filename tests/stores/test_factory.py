"""make_stores builds the adapters of each backend from Settings alone, emulator hosts included."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.errors import ConfigError
from movierec.events import Feedback
from movierec.settings import Settings
from movierec.stores.factory import Stores, make_stores, make_warehouse
from movierec.stores.firestore import FirestoreEventLog
from movierec.stores.gcs import GCSArtifactStore
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog
from tests.conftest import GCP_TEST_PROJECT, GCS_TEST_BUCKET
from tests.emulators import free_port

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


EMULATOR_VARS = ("STORAGE_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "BIGQUERY_EMULATOR_HOST")


@pytest.mark.emulator
def test_gcp_backend_on_the_emulators_named_by_the_settings_alone(
    tmp_path, firestore_emulator, firestore_client, storage_emulator, gcs_bucket, monkeypatch
) -> None:
    for name in EMULATOR_VARS:  # the Firestore library would read its variable from here
        monkeypatch.delenv(name, raising=False)
    settings = gcp_settings(
        tmp_path,
        storage_emulator_host=storage_emulator.url,
        firestore_emulator_host=firestore_emulator.host_port,
    )
    stores = make_stores(settings)
    assert isinstance(stores.artifacts, GCSArtifactStore)
    assert isinstance(stores.events, FirestoreEventLog)

    stores.artifacts.write_bytes("models/x.json", b"{}")
    assert gcs_bucket.client.bucket(GCS_TEST_BUCKET).blob("models/x.json").download_as_bytes() == b"{}"
    assert stores.events.record_feedback(EVENT) is True
    stored = firestore_client.collection("feedback").document("ev-1").get().to_dict()
    assert stored.pop("expire_at") is not None  # the TTL field (tests/stores/test_firestore_retention.py)
    assert stored == EVENT.to_dict()


@pytest.mark.emulator
def test_the_settings_win_over_the_process_environment(
    tmp_path, firestore_emulator, firestore_client, storage_emulator, monkeypatch
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")  # nothing listens
    settings = gcp_settings(
        tmp_path,
        storage_emulator_host=storage_emulator.url,
        firestore_emulator_host=f"http://{firestore_emulator.host_port}",  # the URL form works too
    )
    assert make_stores(settings).events.record_feedback(EVENT) is True
    assert firestore_client.collection("feedback").document("ev-1").get().exists


def test_settings_read_the_emulator_hosts() -> None:
    env = {"STORAGE_EMULATOR_HOST": "http://127.0.0.1:1", "FIRESTORE_EMULATOR_HOST": "127.0.0.1:2",
           "BIGQUERY_EMULATOR_HOST": "http://127.0.0.1:3"}
    settings = Settings.from_env(env)
    assert (settings.storage_emulator_host, settings.firestore_emulator_host, settings.bigquery_emulator_host) == (
        "http://127.0.0.1:1", "127.0.0.1:2", "http://127.0.0.1:3"
    )
    assert Settings.from_env({}).firestore_emulator_host is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"gcp_project": None}, "GOOGLE_CLOUD_PROJECT"), ({"artifact_bucket": None}, "MOVIEREC_ARTIFACT_BUCKET")],
)
def test_gcp_backend_needs_project_and_bucket(tmp_path: Path, changes, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_stores(gcp_settings(tmp_path, **changes))


def test_gcp_backend_without_credentials_says_how_to_get_them(tmp_path: Path, monkeypatch) -> None:
    for name in EMULATOR_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="application-default login"):
        make_stores(gcp_settings(tmp_path))
    with pytest.raises(ConfigError, match="application-default login"):
        make_warehouse(gcp_settings(tmp_path))


def test_unknown_backend(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown backend 'aws'"):
        make_stores(Settings(home=tmp_path, backend="aws"))  # type: ignore[arg-type]
