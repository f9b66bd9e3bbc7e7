"""An unreachable warehouse gives BackendUnavailable (and `movierec export` says so)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from movierec.cli import main as cli
from movierec.errors import BackendUnavailable
from movierec.events import Impression
from movierec.settings import Settings
from movierec.stores.bigquery_warehouse import BigQueryWarehouse
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from movierec.stores.factory import make_warehouse
from movierec.stores.local import SQLiteEventLog
from tests.emulators import free_port

ROW = Impression("r1", 1.0, 1, "exp", "A", "m", "v", (1,), (1.0,), None, 1.0).to_dict()


def calls(warehouse: Any) -> list[Any]:
    return [
        warehouse.ensure_schema,
        lambda: warehouse.insert_new("impressions", [ROW]),
        lambda: warehouse.query("SELECT 1 AS x"),
        lambda: warehouse.get_watermark("impressions"),
    ]


def test_bigquery_on_a_closed_port() -> None:
    client = bigquery.Client(
        project="p", credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=f"http://127.0.0.1:{free_port()}"),
    )
    warehouse = BigQueryWarehouse(client, "movierec", timeout=1.0)
    for call in calls(warehouse):
        with pytest.raises(BackendUnavailable, match=r"BigQuery dataset p\.movierec"):
            call()


def test_make_warehouse_uses_the_emulator_host_of_the_settings(
    bigquery_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BIGQUERY_EMULATOR_HOST", raising=False)  # the settings alone say where
    settings = Settings(
        backend="gcp", gcp_project="movierec-test", bigquery_dataset="factory_ds",
        bigquery_emulator_host=bigquery_emulator.host_port,  # without a scheme, as users often write it
    )
    with closing(make_warehouse(settings)) as warehouse:
        warehouse.ensure_schema()
        assert warehouse.query("SELECT COUNT(*) AS n FROM impressions") == [{"n": 0}]
    assert isinstance(make_warehouse(Settings(home=Path("x"))), DuckDBWarehouse)


def test_closing_the_duckdb_warehouse_lets_another_process_write(tmp_path: Path) -> None:
    warehouse = make_warehouse(Settings(home=tmp_path))
    warehouse.ensure_schema()
    writer = [
        sys.executable, "-c",
        "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('CREATE TABLE t (x INT)')",
        str(tmp_path / "warehouse.duckdb"),
    ]
    held = subprocess.run(writer, capture_output=True, text=True, check=False)
    assert held.returncode != 0 and "lock" in held.stderr
    warehouse.close()
    assert subprocess.run(writer, capture_output=True, check=False).returncode == 0


@pytest.fixture
def locked_duckdb(tmp_path: Path) -> Iterator[Path]:
    """A DuckDB file held open for writing by another process (stopped by its PID)."""
    path = tmp_path / "home" / "warehouse.duckdb"
    path.parent.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(120)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield path
    finally:
        holder.kill()
        holder.wait()


def test_duckdb_locked_by_another_process(locked_duckdb: Path) -> None:
    for call in calls(DuckDBWarehouse(locked_duckdb)):
        with pytest.raises(BackendUnavailable, match="lock"):
            call()


def test_duckdb_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackendUnavailable, match="cannot open"):
        DuckDBWarehouse(path).ensure_schema()


def test_cli_export_prints_counts_then_reports_an_unreachable_warehouse(
    locked_duckdb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "other-home"
    monkeypatch.setenv("MOVIEREC_BACKEND", "local")
    monkeypatch.setenv("MOVIEREC_HOME", str(home))
    log = SQLiteEventLog(home / "events.sqlite")
    log.record_impression(Impression(**{**ROW, "movie_ids": (1,), "scores": (1.0,)}))
    log.close()
    assert cli(["export"]) == 0
    out = capsys.readouterr().out
    assert "impressions" in out and "exported 1 new rows" in out
    assert cli(["export"]) == 0
    assert "exported 0 new rows" in capsys.readouterr().out

    monkeypatch.setenv("MOVIEREC_HOME", str(locked_duckdb.parent))
    assert cli(["export"]) == 3
    err = capsys.readouterr().err
    assert "backend is unreachable, nothing was lost" in err and "Traceback" not in err
