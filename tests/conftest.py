"""Project-wide fixtures: the local stand-ins of Google Cloud, started once per session.

Session fixtures (started on first use, stopped by PID at the end of the session):

- ``firestore_emulator``: a ``tests.emulators.FirestoreEmulator``; ``.env()`` gives
  ``{"FIRESTORE_EMULATOR_HOST": "127.0.0.1:PORT"}``, ``.stop()``/``.start()`` take it
  down and bring it back on the same port, ``.reset(project)`` deletes all documents.
- ``storage_emulator``: a ``tests.emulators.StorageEmulator``; ``.env()`` gives
  ``{"STORAGE_EMULATOR_HOST": "http://127.0.0.1:PORT"}``, ``.create_bucket(name)``,
  ``.reset()`` deletes every bucket.

- ``auth_emulator``: a ``tests.emulators.AuthEmulator`` (firebase-tools, project
  ``demo-movierec-test``); ``.env()`` gives ``{"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:PORT"}``,
  ``.sign_up(email)`` / ``.sign_in(email)`` return real ID tokens, ``.reset()`` deletes accounts.

- ``bigquery_emulator``: a ``tests.emulators.BigQueryEmulator`` (bqemulator from
  ``.venv-bq``, REST and gRPC on two free ports); ``.env()`` gives
  ``{"BIGQUERY_EMULATOR_HOST": "http://127.0.0.1:PORT"}``, ``.client(project)``.

Per-test fixtures, each with the emulator running and its data emptied first:
``firestore_client`` (a ``firestore.Client``) and ``gcs_bucket`` (a ``GCSBucket``:
client + bucket name); ``bigquery_dataset`` (a ``BigQueryDataset``: client + the name
of a dataset no other test uses, not created yet). A test that stops an emulator must start it again in a
``finally``; the per-test fixtures restart a stopped emulator anyway.

A missing emulator program FAILS the test that needs it, with install instructions.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests import emulators
from tests.emulators import (
    AuthEmulator,
    BigQueryEmulator,
    EmulatorNotInstalled,
    FirestoreEmulator,
    StorageEmulator,
)

# Shared fixtures live in plugin modules so that session fixtures exist once per session.
pytest_plugins = ["tests.fixtures.movielens", "tests.fixtures.serving", "tests.fixtures.backends"]

GCP_TEST_PROJECT = "movierec-test"
GCS_TEST_BUCKET = "movierec-test-artifacts"


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Entry points (functions, jobs) install JSON logging on the root logger; give the next
    test the logger it had, so no handler outlives the stream pytest captured for it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _session_emulator(make, tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Any]:
    """Start one emulator for the whole session (failing with install help when missing)."""
    try:
        emulator = make(log_dir=tmp_path_factory.mktemp(name))
    except EmulatorNotInstalled as exc:
        pytest.fail(str(exc), pytrace=False)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirestoreEmulator]:
    yield from _session_emulator(emulators.firestore_emulator, tmp_path_factory, "firestore")


@pytest.fixture(scope="session")
def storage_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StorageEmulator]:
    yield from _session_emulator(emulators.storage_emulator, tmp_path_factory, "storage")


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigQueryEmulator]:
    yield from _session_emulator(emulators.bigquery_emulator, tmp_path_factory, "bigquery")


@pytest.fixture
def firestore_client(firestore_emulator: FirestoreEmulator) -> Iterator[Any]:
    """A ``google.cloud.firestore.Client`` on the emulator, project ``GCP_TEST_PROJECT``, empty."""
    firestore_emulator.start()  # no-op unless an earlier test left it stopped
    firestore_emulator.reset(GCP_TEST_PROJECT)
    client = firestore_emulator.client(GCP_TEST_PROJECT)
    yield client
    client.close()


@dataclass(frozen=True)
class GCSBucket:
    client: Any  # google.cloud.storage.Client
    name: str


@pytest.fixture
def gcs_bucket(storage_emulator: StorageEmulator) -> GCSBucket:
    """An empty bucket ``GCS_TEST_BUCKET`` on the storage emulator and a client for it."""
    storage_emulator.start()
    storage_emulator.reset()
    storage_emulator.create_bucket(GCS_TEST_BUCKET, GCP_TEST_PROJECT)
    return GCSBucket(storage_emulator.client(GCP_TEST_PROJECT), GCS_TEST_BUCKET)


@dataclass(frozen=True)
class BigQueryDataset:
    client: Any  # google.cloud.bigquery.Client
    name: str


@pytest.fixture
def bigquery_dataset(bigquery_emulator: BigQueryEmulator) -> BigQueryDataset:
    """A bigquery.Client on the emulator (project ``GCP_TEST_PROJECT``) and a fresh dataset
    name: each test gets its own dataset, so none needs the emulator emptied."""
    bigquery_emulator.start()
    return BigQueryDataset(bigquery_emulator.client(GCP_TEST_PROJECT), f"ds_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def auth_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthEmulator]:
    """The Firebase Auth emulator (firebase-tools), project ``emulators.AUTH_TEST_PROJECT``.
    A cold start takes 10-40 s on these machines (firebase-tools loads its whole CLI)."""
    try:
        emulator = emulators.auth_emulator(log_dir=tmp_path_factory.mktemp("auth"))
    except EmulatorNotInstalled as exc:
        pytest.fail(str(exc), pytrace=False)
    emulator.start(timeout=240.0)
    yield emulator
    emulator.stop()
