"""Build the Warehouse a process uses from its Settings (beside ``factory.make_stores``).

Like ``make_stores`` it is called by the entry points only, and looks at no
environment but the ``env`` mapping its caller passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from movierec.errors import ConfigError
from movierec.settings import Settings
from movierec.stores.ports import Warehouse

BIGQUERY_EMULATOR_HOST = "BIGQUERY_EMULATOR_HOST"
_NO_ENV: Mapping[str, str] = MappingProxyType({})


def make_warehouse(settings: Settings, env: Mapping[str, str] = _NO_ENV) -> Warehouse:
    """The warehouse of ``settings.backend``.

    ``local``: the DuckDB file ``settings.duckdb_path``.

    ``gcp``: the BigQuery dataset ``settings.bigquery_dataset`` of
    ``settings.gcp_project``. When ``env`` names ``BIGQUERY_EMULATOR_HOST``
    (``127.0.0.1:9050`` or ``http://127.0.0.1:9050``, the emulator's REST port) the
    client talks to that emulator with anonymous credentials.
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
                client_options=ClientOptions(api_endpoint=host if "://" in host else f"http://{host}"),
            )
        else:
            client = bigquery.Client(project=settings.gcp_project)
    except DefaultCredentialsError as exc:
        raise ConfigError(
            "no Google Cloud credentials found for BigQuery: on Cloud Run attach a service "
            "account; on a workstation run `gcloud auth application-default login`, or set "
            f"{BIGQUERY_EMULATOR_HOST} for the emulator ({exc})"
        ) from exc
    return BigQueryWarehouse(client, settings.bigquery_dataset)
