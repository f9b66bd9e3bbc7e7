"""Feedback sources: the event log (paged scans) and warehouse SQL on a real DuckDB."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from movierec.errors import BackendUnavailable, ConfigError
from movierec.retraining.sources import (
    FEEDBACK_WATERMARK,
    EventLogFeedback,
    WarehouseFeedback,
    feedback_source,
)
from tests.retraining.conftest import feedback


class DuckDBWarehouse:
    """Just enough of the Warehouse port to run its SQL on DuckDB (transpiled as DESIGN.md says)
    until the project's adapter lands in movierec.stores."""

    def __init__(self, available: bool = True) -> None:
        self.db = duckdb.connect()
        self.db.execute(
            "CREATE TABLE feedback (event_id VARCHAR PRIMARY KEY, ts DOUBLE, request_id VARCHAR, user_id BIGINT,"
            " movie_id BIGINT, type VARCHAR, value DOUBLE, position BIGINT, experiment_id VARCHAR, variant VARCHAR)"
        )
        self.watermarks: dict[str, float] = {}
        self.available = available

    def insert(self, rows) -> None:
        self.db.executemany(
            "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[r.event_id, r.ts, r.request_id, r.user_id, r.movie_id, r.type, r.value, r.position, r.experiment_id, r.variant] for r in rows],
        )

    def query(self, sql, params=None):
        if not self.available:
            raise BackendUnavailable("warehouse down")
        duck = sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]
        cursor = self.db.execute(duck, dict(params or {}))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def get_watermark(self, name):
        return self.watermarks.get(name)


ROWS = [feedback(1, 10 + i, "click", 100.0 + i // 4) for i in range(20)]  # 4 events per instant


def ids(rows, start: float, end: float) -> list[str]:
    """Event ids in ``[start, end)`` in the order every source returns them: (ts, event_id)."""
    return [r.event_id for r in sorted(rows, key=lambda r: (r.ts, r.event_id)) if start <= r.ts < end]


def test_event_log_pages_through_equal_timestamps_without_loss_or_duplicates(events):
    for row in ROWS:
        events.record_feedback(row)
    batch = EventLogFeedback(events, page=3).read(101.0, 104.0)
    assert batch.rows["event_id"].tolist() == ids(ROWS, 101.0, 104.0)
    assert (batch.since, batch.until, batch.source) == (101.0, 104.0, "event_log")


def test_warehouse_sql_reads_the_window_and_stops_at_the_export_watermark():
    warehouse = DuckDBWarehouse()
    warehouse.insert(ROWS)
    batch = WarehouseFeedback(warehouse).read(101.0, 104.0)
    assert batch.rows["event_id"].tolist() == ids(ROWS, 101.0, 104.0)

    warehouse.watermarks[FEEDBACK_WATERMARK] = 102.0  # exported up to there
    lagging = WarehouseFeedback(warehouse).read(101.0, 104.0)
    assert lagging.rows["event_id"].tolist() == ids(ROWS, 101.0, 102.0)
    assert lagging.until == 102.0 and "exported up to" in lagging.note


def test_the_event_log_is_the_fallback_when_the_warehouse_is_down(events):
    for row in ROWS:
        events.record_feedback(row)
    batch = feedback_source(DuckDBWarehouse(available=False), events).read(0.0, 1000.0)
    assert (len(batch.rows), batch.source) == (20, "event_log")
    assert "warehouse unavailable" in batch.note


def test_a_window_that_ends_before_it_starts_is_refused(events):
    with pytest.raises(ConfigError, match="ends"):
        EventLogFeedback(events).read(10.0, 5.0)
