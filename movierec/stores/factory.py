"""Build the stores (and the warehouse) a process uses, once, from its Settings.

``make_stores`` is called by the entry points (functions, jobs, CLI). It is the one
place that creates Google Cloud clients, and the one library function that looks
at environment variables, and only at the ``env`` mapping its caller passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from movierec.errors import ConfigError
from movierec.settings import Settings
from movierec.stores.ports import ArtifactStore, EventLog, Warehouse

STORAGE_EMULATOR_HOST = "STORAGE_EMULATOR_HOST"
FIRESTORE_EMULATOR_HOST = "FIRESTORE_EMULATOR_HOST"
BIGQUERY_EMULATOR_HOST = "BIGQUERY_EMULATOR_HOST"
_NO_ENV: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Stores:
    artifacts: ArtifactStore
    events: EventLog


def make_stores(settings: Settings, env: Mapping[str, str] = _NO_ENV) -> Stores:
    """The stores of ``settings.backend``.

    ``local``: a folder (``settings.artifact_dir``) and a SQLite file (``settings.sqlite_path``).

    ``gcp``: the bucket ``settings.artifact_bucket`` and Firestore database
    ``settings.firestore_database`` of ``settings.gcp_project``. Pass the process
    environment as ``env`` (``make_stores(settings, os.environ)``): when it names
    ``STORAGE_EMULATOR_HOST`` / ``FIRESTORE_EMULATOR_HOST`` the clients talk to those
    emulators with anonymous credentials. The Firestore library reads its variable
    from the process environment itself, so ``env`` must agree with it.
    """
    if settings.backend == "local":
        from movierec.stores.local import LocalArtifactStore, SQLiteEventLog

        return Stores(
            artifacts=LocalArtifactStore(settings.artifact_dir),
            events=SQLiteEventLog(settings.sqlite_path),
        )
    if settings.backend == "gcp":
        return _make_gcp_stores(settings, env)
    raise ConfigError(f"unknown backend {settings.backend!r}; expected 'local' or 'gcp'")


def _make_gcp_stores(settings: Settings, env: Mapping[str, str]) -> Stores:
    # Imported here so that the local backend never pays for the Google clients.
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import firestore, storage

    from movierec.stores.firestore import FirestoreEventLog
    from movierec.stores.gcs import GCSArtifactStore

    if not settings.gcp_project:
        raise ConfigError("the gcp backend needs a project: set GOOGLE_CLOUD_PROJECT")
    if not settings.artifact_bucket:
        raise ConfigError("the gcp backend needs a bucket: set MOVIEREC_ARTIFACT_BUCKET")

    storage_host = env.get(STORAGE_EMULATOR_HOST)
    firestore_host = env.get(FIRESTORE_EMULATOR_HOST)
    try:
        if storage_host:
            gcs_client = storage.Client(
                project=settings.gcp_project,
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": _http_url(storage_host)},
            )
        else:
            gcs_client = storage.Client(project=settings.gcp_project)
        fs_client = firestore.Client(
            project=settings.gcp_project,
            database=settings.firestore_database,
            credentials=AnonymousCredentials() if firestore_host else None,
        )
    except DefaultCredentialsError as exc:
        raise _no_credentials(exc, STORAGE_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST) from exc
    return Stores(
        artifacts=GCSArtifactStore(gcs_client, settings.artifact_bucket),
        events=FirestoreEventLog(fs_client),
    )


def make_warehouse(settings: Settings, env: Mapping[str, str] = _NO_ENV) -> Warehouse:
    """The warehouse of ``settings.backend``.

    ``local``: the DuckDB file ``settings.duckdb_path``.

    ``gcp``: the BigQuery dataset ``settings.bigquery_dataset`` of ``settings.gcp_project``.
    When ``env`` names ``BIGQUERY_EMULATOR_HOST`` (the emulator's REST port) the client
    talks to that emulator with anonymous credentials.
    """
    if settings.backend == "local":
        from movierec.stores.duckdb_warehouse import DuckDBWarehouse

        return DuckDBWarehouse(settings.duckdb_path)
    if settings.backend == "gcp":
        return _make_bigquery(settings, env)
    raise ConfigError(f"unknown backend {settings.backend!r}; expected 'local' or 'gcp'")


def _make_bigquery(settings: Settings, env: Mapping[str, str]) -> Warehouse:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import bigquery

    from movierec.stores.bigquery_warehouse import BigQueryWarehouse

    if not settings.gcp_project:
        raise ConfigError("the gcp backend needs a project: set GOOGLE_CLOUD_PROJECT")
    host = env.get(BIGQUERY_EMULATOR_HOST)
    try:
        if host:
            client = bigquery.Client(
                project=settings.gcp_project,
                credentials=AnonymousCredentials(),
                client_options=ClientOptions(api_endpoint=_http_url(host)),
            )
        else:
            client = bigquery.Client(project=settings.gcp_project)
    except DefaultCredentialsError as exc:
        raise _no_credentials(exc, BIGQUERY_EMULATOR_HOST) from exc
    return BigQueryWarehouse(client, settings.bigquery_dataset)


def _no_credentials(exc: Exception, *emulator_vars: str) -> ConfigError:
    return ConfigError(
        "no Google Cloud credentials found: on Cloud Run attach a service account; "
        "on a workstation run `gcloud auth application-default login`, "
        f"or set {'/'.join(emulator_vars)} for the emulators ({exc})"
    )


def _http_url(host: str) -> str:
    """Emulator hosts are written with or without a scheme (``127.0.0.1:9023``)."""
    return host if "://" in host else f"http://{host}"
