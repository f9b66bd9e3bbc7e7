"""End-to-end fixtures: the functions served by a real process against each backend."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from movierec.models.artifact import ITEMS_FILE, items_file, save_artifact, set_live_version
from movierec.models.base import TrainingData
from movierec.models.ease import EASE
from movierec.models.popular import MostPopular
from movierec.models.svd import SurpriseSVD
from movierec.pipelines.train import PreparedData, hold_out
from movierec.stores.firestore import FirestoreEventLog
from movierec.stores.gcs import GCSArtifactStore
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog
from tests.conftest import GCP_TEST_PROJECT
from tests.fixtures.serving import SECRET


@dataclass
class Backend:
    name: str
    env: dict[str, str]
    events: Any  # EventLog
    artifacts: Any  # ArtifactStore
    versions: dict[str, str]
    emulator: Any = None  # the Firestore emulator, for outage tests


@pytest.fixture(params=["local", "gcp"])
def backend(request, tmp_path, published) -> Backend:
    return make_backend(request.param, request, tmp_path, published)


@pytest.fixture
def gcp_backend(request, tmp_path, published) -> Backend:
    return make_backend("gcp", request, tmp_path, published)


def make_backend(kind: str, request, tmp_path: Path, published) -> Backend:
    """A backend with the session's published models and an empty event log."""
    common = {"MOVIEREC_TOKEN_SECRET": SECRET, "MOVIEREC_DEFAULT_MODEL": "svd", "MOVIEREC_HOME": str(tmp_path)}
    if kind == "local":
        shutil.copytree(published[0], tmp_path / "artifacts")
        env = {**common, "MOVIEREC_BACKEND": "local"}
        return Backend(
            "local", env, SQLiteEventLog(tmp_path / "events.sqlite"), LocalArtifactStore(tmp_path / "artifacts"), published[1]
        )
    firestore_emulator = request.getfixturevalue("firestore_emulator")
    firestore_client = request.getfixturevalue("firestore_client")
    bucket = request.getfixturevalue("gcs_bucket")
    storage_emulator = request.getfixturevalue("storage_emulator")
    artifacts = GCSArtifactStore(bucket.client, bucket.name)
    source = LocalArtifactStore(Path(published[0]))
    for key in source.list(""):
        artifacts.write_bytes(key, source.read_bytes(key))
    env = {
        **common,
        **firestore_emulator.env(),
        **storage_emulator.env(),
        "MOVIEREC_BACKEND": "gcp",
        "GOOGLE_CLOUD_PROJECT": GCP_TEST_PROJECT,
        "MOVIEREC_ARTIFACT_BUCKET": bucket.name,
    }
    return Backend("gcp", env, FirestoreEventLog(firestore_client), artifacts, published[1], firestore_emulator)


@pytest.fixture(scope="session")
def held_out_models(tmp_path_factory, ml100k):
    """svd, ease and popular trained on the ms75 training part; the truth is the rest;
    and the training ratings (the simulated users' history)."""
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
    return root, truth, train.training.ratings
