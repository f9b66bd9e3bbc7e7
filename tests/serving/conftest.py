"""Serving fixtures: real artifacts trained once per session, real SQLite, real test clients."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from functions_framework import create_app
from openapi_core import OpenAPI

from movierec.data import MovieLens
from movierec.models.artifact import save_artifact, set_live_version
from movierec.models.base import TrainingData
from movierec.models.ease import EASE
from movierec.models.popular import MostPopular
from movierec.models.svd import SurpriseSVD
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog
from movierec.training import ITEMS_FILE, items_file
from tests.data.conftest import ml100k, movielens_root  # noqa: F401  (shared fixtures)

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS_SOURCE = REPO / "functions" / "main.py"
SECRET = "test-secret"


def publish_models(store, ml: MovieLens) -> dict[str, str]:
    """svd, ease (fixed l2: these tests are about serving, not selection) and popular, live."""
    data = TrainingData(ml.ratings, ml.rating_scale)
    versions = {}
    for trainer in (SurpriseSVD(seed=1), EASE(l2=500.0), MostPopular()):
        artifact = trainer.fit(data)
        titles = items_file(ml.movies, artifact.arrays["item_ids"].tolist())
        saved = save_artifact(store, replace(artifact, files={ITEMS_FILE: titles}))
        set_live_version(store, saved.name, saved.version)
        versions[saved.name] = saved.version
    return versions


@pytest.fixture(scope="session")
def published(tmp_path_factory, ml100k) -> tuple[Path, dict[str, str]]:  # noqa: F811
    root = tmp_path_factory.mktemp("artifacts")
    return root, publish_models(LocalArtifactStore(root), ml100k)


@pytest.fixture
def home(tmp_path, published) -> Path:
    """A fresh MOVIEREC_HOME per test: its own SQLite event log, a copy of the artifacts."""
    shutil.copytree(published[0], tmp_path / "artifacts")
    return tmp_path


@pytest.fixture
def local_env(home) -> dict[str, str]:
    return {
        "MOVIEREC_BACKEND": "local",
        "MOVIEREC_HOME": str(home),
        "MOVIEREC_TOKEN_SECRET": SECRET,
        "MOVIEREC_DEFAULT_MODEL": "svd",
        "MOVIEREC_ARTIFACT_REFRESH_SECONDS": "0",
    }


@pytest.fixture
def make_client(monkeypatch) -> Callable[[dict[str, str]], object]:
    def make(env: dict[str, str]):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return create_app(target="api", source=str(FUNCTIONS_SOURCE)).test_client()

    return make


@pytest.fixture
def client(make_client, local_env):
    return make_client(local_env)


@pytest.fixture
def events(home) -> SQLiteEventLog:
    return SQLiteEventLog(home / "events.sqlite")


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(yaml.safe_load((REPO / "functions" / "openapi.yaml").read_text()))
