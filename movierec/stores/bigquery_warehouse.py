"""The production Warehouse: a BigQuery dataset (or the bqemulator stand-in in tests).

Rows arrive by load job, never by streaming inserts: a batch is written as
newline-delimited JSON into a fresh staging table, and one DML statement copies into
the target only the rows whose key is absent (or MERGEs them, for upserts). Load jobs
are free and atomic, the DML makes the copy idempotent, and the staging table expires
after a day should a crash leave it behind.

Every call carries a short retry deadline: the client's defaults retry a refused
connection for up to ten minutes, which would hang a job instead of reporting that
the warehouse is down.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_RETRY

from movierec.errors import BackendUnavailable, DataError
from movierec.stores import sql as wsql
from movierec.stores.google_errors import UNAVAILABLE

_UNAVAILABLE = UNAVAILABLE


class BigQueryWarehouse:
    """The Warehouse port on ``dataset`` (``name`` or ``project.name``) through ``client``."""

    def __init__(self, client: bigquery.Client, dataset: str, *, timeout: float = 30.0) -> None:
        project, _, name = dataset.rpartition(".")
        self._client = client
        self.dataset_id = f"{project or client.project}.{name}"
        self._timeout = timeout
        self._retry: Retry = DEFAULT_RETRY.with_timeout(timeout)

    def describe(self) -> str:
        return f"BigQuery dataset {self.dataset_id}"

    def close(self) -> None:
        # The client re-creates its HTTP sessions on the next call, so closing a client
        # shared with the caller costs it nothing but a reconnect.
        self._client.close()

    def __enter__(self) -> BigQueryWarehouse:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(f"{self.describe()}: {action} failed: {exc}") from exc
        except gexc.NotFound as exc:
            raise DataError(
                f"{self.describe()}: {action} failed: {exc}; the tables are created by "
                "`movierec export` (or by Terraform in production)"
            ) from exc
        except gexc.BadRequest as exc:
            raise DataError(f"{self.describe()}: {action} failed: {exc}") from exc

    def _job_config(self, **kwargs: Any) -> bigquery.QueryJobConfig:
        return bigquery.QueryJobConfig(default_dataset=self.dataset_id, **kwargs)

    def _run(self, sql: str, config: bigquery.QueryJobConfig | None = None) -> bigquery.QueryJob:
        job = self._client.query(
            sql,
            job_config=config or self._job_config(),
            retry=self._retry,
            job_retry=None,  # a failed job is reported, not re-run behind the caller's back
            timeout=self._timeout,
        )
        job.result(retry=self._retry, timeout=self._timeout)
        return job

    # -- Warehouse --------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the dataset and the tables that are missing (Terraform creates them in
        production; this creates only what is absent, so it needs no extra rights there)."""
        with self._guard("schema creation"):
            try:
                self._client.get_dataset(self.dataset_id, retry=self._retry, timeout=self._timeout)
            except gexc.NotFound:
                self._client.create_dataset(
                    self.dataset_id, exists_ok=True, retry=self._retry, timeout=self._timeout
                )
            existing = {
                t.table_id
                for t in self._client.list_tables(self.dataset_id, retry=self._retry, timeout=self._timeout)
            }
            for tbl in wsql.TABLES.values():
                if tbl.name not in existing:
                    self._run(wsql.create_table_sql(tbl))

    def insert_new(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        tbl = wsql.table(table)
        return self._load(tbl, rows, lambda staging: wsql.insert_new_sql(tbl, tbl.name, staging))

    def upsert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert the rows, replacing stored rows of the same key; returns how many were written."""
        tbl = wsql.table(table)
        return self._load(tbl, rows, lambda staging: wsql.upsert_sql(tbl, tbl.name, staging))

    def _load(self, tbl: wsql.Table, rows: Sequence[Mapping[str, Any]], statement: Any) -> int:
        encoded = wsql.encode_rows(tbl, rows)
        if not encoded:
            return 0
        data = wsql.to_ndjson(tbl, encoded)
        staging = f"_staging_{tbl.name}_{uuid.uuid4().hex[:12]}"
        with self._guard(f"load into {tbl.name}"):
            self._run(
                wsql.create_table_sql(tbl, staging, layout=False)
                + " OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY))"
            )
            try:
                load = self._client.load_table_from_file(
                    io.BytesIO(data),
                    f"{self.dataset_id}.{staging}",
                    job_config=bigquery.LoadJobConfig(
                        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
                    ),
                    num_retries=0,
                    timeout=self._timeout,
                )
                load.result(retry=self._retry, timeout=self._timeout)
                job = self._run(statement(staging))
            finally:
                # Best effort: the table expires in a day if the backend went away meanwhile.
                with suppress(*_UNAVAILABLE, gexc.GoogleAPICallError):
                    self._client.delete_table(
                        f"{self.dataset_id}.{staging}", not_found_ok=True, retry=self._retry, timeout=self._timeout
                    )
        return int(job.num_dml_affected_rows or 0)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run ``sql`` (tables unqualified: the dataset is the default) with ``@name`` params."""
        config = self._job_config(
            query_parameters=[_parameter(k, v) for k, v in (params or {}).items()]
        )
        with self._guard("query"):
            job = self._run(sql, config)
            return [dict(row.items()) for row in job.result(retry=self._retry, timeout=self._timeout)]

    def get_watermark(self, name: str) -> float | None:
        rows = self.query(wsql.GET_WATERMARK_SQL, {"name": name})
        return rows[0]["us"] / 1e6 if rows else None

    def set_watermark(self, name: str, value: float) -> None:
        self.upsert("export_watermarks", [{"table_name": name, "watermark": value}])


_SCALAR_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "BOOL"),  # before int: bool is an int
    (int, "INT64"),
    (float, "FLOAT64"),
    (str, "STRING"),
    (datetime, "TIMESTAMP"),
    (date, "DATE"),
    (bytes, "BYTES"),
    (Decimal, "NUMERIC"),
)


def _scalar_type(name: str, value: Any) -> str:
    for py_type, bq_type in _SCALAR_TYPES:
        if isinstance(value, py_type):
            return bq_type
    raise DataError(f"query parameter {name!r}: unsupported type {type(value).__name__}")


def _parameter(name: str, value: Any) -> bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter:
    """A query parameter typed from its Python value (lists become ARRAY parameters)."""
    if isinstance(value, (list, tuple)):
        first = next((v for v in value if v is not None), "")
        return bigquery.ArrayQueryParameter(name, _scalar_type(name, first), list(value))
    if value is None:
        return bigquery.ScalarQueryParameter(name, "STRING", None)
    return bigquery.ScalarQueryParameter(name, _scalar_type(name, value), value)
