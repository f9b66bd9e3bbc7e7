"""The embedded Warehouse: one DuckDB file, queried with the BigQuery SQL of ``sql.py``.

One connection is opened on first use and kept until :meth:`DuckDBWarehouse.close`
(opening one costs ~30 ms, most of it loading the time-zone extension). DuckDB lets
one process write a file at a time, so a second process (a report while an export
runs) gets BackendUnavailable naming the lock. The connection works in UTC, so
``DATE(ts)`` cuts days at midnight UTC as BigQuery does.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from movierec.errors import BackendUnavailable, DataError
from movierec.stores import sql as wsql

_STAGING = "_staging"


class DuckDBWarehouse:
    """The Warehouse port on a DuckDB file (created with its folder on first use).

    Safe to share between threads (calls are serialised); use it as a context manager
    or call :meth:`close` to release the file.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.RLock()

    def describe(self) -> str:
        return f"DuckDB warehouse {self.path.absolute()}"

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> DuckDBWarehouse:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                con = duckdb.connect(str(self.path))
            except (duckdb.Error, OSError) as exc:  # locked by another process, not DuckDB
                raise BackendUnavailable(f"{self.describe()}: cannot open it: {exc}") from exc
            con.execute("SET TimeZone = 'UTC'")
            self._con = con
        return self._con

    @contextmanager
    def _connect(self, action: str) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            con = self._open()
            try:
                yield con
            except duckdb.IOException as exc:
                self.close()  # the file may be gone: reopen on the next call
                raise BackendUnavailable(f"{self.describe()}: {action} failed: {exc}") from exc
            except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as exc:
                raise DataError(f"{self.describe()}: {action} failed: {exc}") from exc
            except (duckdb.ConversionException, duckdb.InvalidInputException,
                    duckdb.ConstraintException) as exc:
                raise DataError(f"{self.describe()}: {action} failed on bad data: {exc}") from exc

    def ensure_schema(self) -> None:
        with self._connect("schema creation") as con:
            for tbl in wsql.TABLES.values():
                con.execute(_duckdb_ddl(tbl))
                _add_missing_columns(con, tbl)

    def insert_new(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        tbl = wsql.table(table)
        return self._load(tbl, rows, wsql.insert_new_sql(tbl, tbl.name, _STAGING))

    def upsert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert the rows, replacing stored rows of the same key; returns how many were written."""
        tbl = wsql.table(table)
        return self._load(tbl, rows, wsql.upsert_sql(tbl, tbl.name, _STAGING))

    def _load(self, tbl: wsql.Table, rows: Sequence[Mapping[str, Any]], statement: str) -> int:
        """Stage the rows from a newline-delimited JSON file, then run ``statement``."""
        encoded = wsql.encode_rows(tbl, rows)
        if not encoded:
            return 0
        columns = "{" + ", ".join(f"{c.name!r}: {c.duckdb_type!r}" for c in tbl.columns) + "}"
        fd, name = tempfile.mkstemp(prefix=f"movierec-{tbl.name}-", suffix=".ndjson")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(wsql.to_ndjson(tbl, encoded))
            with self._connect(f"load into {tbl.name}") as con:
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {_STAGING} AS SELECT * FROM read_json(?, "
                    f"format = 'newline_delimited', columns = {columns})",
                    [name],
                )
                try:
                    # One statement, so one transaction: a failure leaves the table as it was.
                    found = con.execute(wsql.to_duckdb(statement).sql).fetchone()
                finally:
                    con.execute(f"DROP TABLE IF EXISTS {_STAGING}")
        finally:
            os.unlink(name)
        return int(found[0]) if found else 0

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run BigQuery-dialect ``sql``; ``@name`` parameters come from ``params``.

        Results follow BigQuery's Python types: TIMESTAMP -> aware UTC datetime, JSON ->
        parsed value, float literals -> float (DuckDB would give Decimal).
        """
        q = wsql.to_duckdb(sql)
        params = dict(params or {})
        missing = q.parameters - params.keys()
        if missing:
            raise DataError(f"query parameters missing: {sorted(missing)}")
        with self._connect("query") as con:
            cur = con.execute(q.sql, {k: params[k] for k in q.parameters} if q.parameters else None)
            if cur.description is None:
                return []
            names = [d[0] for d in cur.description]
            types = [str(d[1]) for d in cur.description]
            rows = cur.fetchall()
        return [
            {n: _python_value(t, v) for n, t, v in zip(names, types, row)} for row in rows
        ]

    def get_watermark(self, name: str) -> float | None:
        rows = self.query(wsql.GET_WATERMARK_SQL, {"name": name})
        return rows[0]["us"] / 1e6 if rows else None

    def set_watermark(self, name: str, value: float) -> None:
        self.upsert("export_watermarks", [{"table_name": name, "watermark": value}])


def _duckdb_ddl(tbl: wsql.Table) -> str:
    return wsql.to_duckdb(wsql.create_table_sql(tbl, layout=False)).sql


def _add_missing_columns(con: duckdb.DuckDBPyConnection, tbl: wsql.Table) -> None:
    """Columns added to a table since the file was created (a warehouse of an older
    release): CREATE TABLE IF NOT EXISTS leaves an existing table as it is, and every
    load names all the columns. New columns are nullable or repeated, so old rows read
    NULL. (On BigQuery, Terraform applies the same additive change from infra/schemas.)"""
    present = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [tbl.name]
        ).fetchall()
    }
    for column in tbl.columns:
        if column.name not in present:
            con.execute(f"ALTER TABLE {tbl.name} ADD COLUMN {column.name} {column.duckdb_type}")


def _python_value(type_name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    if isinstance(value, Decimal):
        return float(value)
    if type_name == "JSON" and isinstance(value, str):
        return json.loads(value)
    return value
