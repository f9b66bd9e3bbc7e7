"""Fixtures of the warehouse tests: every test runs on DuckDB and on bqemulator.

- ``warehouse``: an empty Warehouse (schema created), parametrised ``duckdb`` (a file in
  tmp_path) and ``bigquery`` (a fresh dataset on the session's bqemulator).
- ``event_log``: an empty EventLog, parametrised ``sqlite`` and ``firestore`` (emulator).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from movierec.stores.bigquery_warehouse import BigQueryWarehouse
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from movierec.stores.firestore import FirestoreEventLog
from movierec.stores.local import SQLiteEventLog


def make_warehouse(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if kind == "duckdb":
        return DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    dataset = request.getfixturevalue("bigquery_dataset")
    return BigQueryWarehouse(dataset.client, dataset.name, timeout=10.0)


@pytest.fixture(params=["duckdb", "bigquery"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    wh = make_warehouse(request.param, request, tmp_path)
    wh.ensure_schema()
    return wh


@pytest.fixture(params=["sqlite", "firestore"])
def event_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        log = SQLiteEventLog(tmp_path / "events.sqlite")
        yield log
        log.close()
    else:
        yield FirestoreEventLog(request.getfixturevalue("firestore_client"))
