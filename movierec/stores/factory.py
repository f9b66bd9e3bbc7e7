"""Build the stores and the warehouse a process uses, once, from its Settings.

``make_stores`` and ``make_warehouse`` are called by the entry points (functions, jobs,
CLI). This module is the one place that creates Google Cloud clients, and it reads
nothing but the Settings it is given: the emulator hosts are Settings fields too.

Emulators: a host in Settings always wins over the process environment. Storage and
BigQuery get it as their ``api_endpoint``. The Firestore library has no endpoint
option that speaks plain gRPC (``client_options`` opens a TLS channel, which the
emulator refuses) and reads ``FIRESTORE_EMULATOR_HOST`` from the process environment
in ``Client.__init__``; so the client is built and then given the host from Settings
in ``_emulator_host``, the attribute the library keeps that reading in (see
``_firestore_client``; tests/stores/test_factory.py runs it on the real emulator with
the variable absent from the process environment). Without a host in Settings the
libraries keep their own defaults; Settings read by ``from_env`` name the same hosts
as the environment the libraries would read, so the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from movierec.errors import ConfigError
from movierec.settings import Settings
from movierec.stores.ports import ArtifactStore, EventLog, UserDirectory, Warehouse

STORAGE_EMULATOR_HOST = "STORAGE_EMULATOR_HOST"
FIRESTORE_EMULATOR_HOST = "FIRESTORE_EMULATOR_HOST"
BIGQUERY_EMULATOR_HOST = "BIGQUERY_EMULATOR_HOST"


@dataclass(frozen=True)
class Stores:
    artifacts: ArtifactStore
    events: EventLog


def make_stores(settings: Settings) -> Stores:
    """The stores of ``settings.backend``.

    ``local``: a folder (``settings.artifact_dir``) and a SQLite file (``settings.sqlite_path``).

    ``gcp``: the bucket ``settings.artifact_bucket`` and Firestore database
    ``settings.firestore_database`` of ``settings.gcp_project``; on the emulators
    (anonymous credentials) when ``settings.storage_emulator_host`` /
    ``settings.firestore_emulator_host`` name them.
    """
    if settings.backend == "local":
        from movierec.stores.local import LocalArtifactStore, SQLiteEventLog

        return Stores(
            artifacts=LocalArtifactStore(settings.artifact_dir),
            events=SQLiteEventLog(settings.sqlite_path),
        )
    if settings.backend == "gcp":
        return _make_gcp_stores(settings)
    raise ConfigError(f"unknown backend {settings.backend!r}; expected 'local' or 'gcp'")


def make_user_directory(settings: Settings) -> UserDirectory:
    """Firebase uid -> recommender user id: ``users/{uid}`` documents in the Firestore
    database of ``gcp``, table ``users`` of the SQLite event-log file of ``local``."""
    if settings.backend == "local":
        from movierec.stores.local_users import SQLiteUserDirectory

        return SQLiteUserDirectory(settings.sqlite_path)
    if settings.backend == "gcp":
        from movierec.stores.firestore_users import FirestoreUserDirectory

        _require_project(settings)
        return FirestoreUserDirectory(_firestore_client(settings))
    raise ConfigError(f"unknown backend {settings.backend!r}; expected 'local' or 'gcp'")


def make_warehouse(settings: Settings) -> Warehouse:
    """The warehouse of ``settings.backend``; the caller closes it (``contextlib.closing``).

    ``local``: the DuckDB file ``settings.duckdb_path``.

    ``gcp``: the BigQuery dataset ``settings.bigquery_dataset`` of ``settings.gcp_project``;
    on the emulator (its REST port, anonymous credentials) when
    ``settings.bigquery_emulator_host`` names it.
    """
    if settings.backend == "local":
        from movierec.stores.duckdb_warehouse import DuckDBWarehouse

        return DuckDBWarehouse(settings.duckdb_path)
    if settings.backend == "gcp":
        from movierec.stores.bigquery_warehouse import BigQueryWarehouse

        _require_project(settings)
        return BigQueryWarehouse(_bigquery_client(settings), settings.bigquery_dataset)
    raise ConfigError(f"unknown backend {settings.backend!r}; expected 'local' or 'gcp'")


def _make_gcp_stores(settings: Settings) -> Stores:
    # Imported here so that the local backend never pays for the Google clients.
    from movierec.stores.firestore import FirestoreEventLog
    from movierec.stores.gcs import GCSArtifactStore

    _require_project(settings)
    if not settings.artifact_bucket:
        raise ConfigError("the gcp backend needs a bucket: set MOVIEREC_ARTIFACT_BUCKET")
    return Stores(
        artifacts=GCSArtifactStore(_storage_client(settings), settings.artifact_bucket),
        events=FirestoreEventLog(
            _firestore_client(settings), retention_days=settings.event_retention_days
        ),
    )


def _require_project(settings: Settings) -> None:
    if not settings.gcp_project:
        raise ConfigError("the gcp backend needs a project: set GOOGLE_CLOUD_PROJECT")


def _storage_client(settings: Settings) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import storage

    host = settings.storage_emulator_host
    try:
        if host:
            return storage.Client(
                project=settings.gcp_project,
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": _http_url(host)},
            )
        return storage.Client(project=settings.gcp_project)
    except DefaultCredentialsError as exc:
        raise _no_credentials(exc, STORAGE_EMULATOR_HOST) from exc


def _firestore_client(settings: Settings) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import firestore

    host = settings.firestore_emulator_host
    try:
        client = firestore.Client(
            project=settings.gcp_project,
            database=settings.firestore_database,
            credentials=AnonymousCredentials() if host else None,
        )
    except DefaultCredentialsError as exc:
        raise _no_credentials(exc, FIRESTORE_EMULATOR_HOST) from exc
    if host:
        # Read lazily, when the first call opens the channel: an insecure one to this
        # host, with the emulator's "Bearer owner" metadata. See the module docstring.
        client._emulator_host = _grpc_target(host)
    return client


def _bigquery_client(settings: Settings) -> Any:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import bigquery

    host = settings.bigquery_emulator_host
    try:
        if host:
            return bigquery.Client(
                project=settings.gcp_project,
                credentials=AnonymousCredentials(),
                client_options=ClientOptions(api_endpoint=_http_url(host)),
            )
        return bigquery.Client(project=settings.gcp_project)
    except DefaultCredentialsError as exc:
        raise _no_credentials(exc, BIGQUERY_EMULATOR_HOST) from exc


def _no_credentials(exc: Exception, emulator_var: str) -> ConfigError:
    return ConfigError(
        "no Google Cloud credentials found: on Cloud Run attach a service account; "
        "on a workstation run `gcloud auth application-default login`, "
        f"or set {emulator_var} for the emulator ({exc})"
    )


def _http_url(host: str) -> str:
    """Emulator hosts are written with or without a scheme (``127.0.0.1:9023``)."""
    return host if "://" in host else f"http://{host}"


def _grpc_target(host: str) -> str:
    """gRPC wants ``host:port``; accept the URL form the HTTP emulators use too."""
    return host.split("://", 1)[-1].rstrip("/")


def make_private_warehouse() -> Warehouse:
    """An in-memory DuckDB warehouse owned by this process (the demo page's live panel).

    Not the backend's warehouse on purpose: the CLI's DuckDB file can be open in one
    process only, and a serving process holding it would lock ``movierec export`` out.
    """
    from movierec.stores.duckdb_warehouse import DuckDBWarehouse

    return DuckDBWarehouse(":memory:")
