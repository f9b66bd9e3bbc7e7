"""Feedback sources: the event log (paged scans) and the warehouse (DuckDB and bqemulator,
filled by the real export)."""

from __future__ import annotations

import pytest

from movierec.errors import ConfigError
from movierec.pipelines.export import export_events
from movierec.retraining.sources import (
    FEEDBACK_WATERMARK,
    EventLogFeedback,
    WarehouseFeedback,
    feedback_source,
)
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from tests.retraining.conftest import feedback

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


def test_warehouse_sql_reads_the_window_and_stops_at_the_export_watermark(events, warehouse):
    for row in ROWS:
        events.record_feedback(row)
    export_events(events, warehouse, now=1_000.0)
    batch = WarehouseFeedback(warehouse).read(101.0, 104.0)
    assert batch.rows["event_id"].tolist() == ids(ROWS, 101.0, 104.0)

    warehouse.set_watermark(FEEDBACK_WATERMARK, 102.0)  # as if exported only up to there
    lagging = WarehouseFeedback(warehouse).read(101.0, 104.0)
    assert lagging.rows["event_id"].tolist() == ids(ROWS, 101.0, 102.0)
    assert lagging.until == 102.0 and "exported up to" in lagging.note


def test_the_event_log_is_the_fallback_before_any_export(events, warehouse):
    for row in ROWS:
        events.record_feedback(row)
    batch = feedback_source(warehouse, events).read(0.0, 1000.0)
    assert (len(batch.rows), batch.source) == (20, "event_log")
    assert "no exported feedback yet" in batch.note


def test_the_event_log_is_the_fallback_when_the_warehouse_is_down(events, tmp_path):
    for row in ROWS:
        events.record_feedback(row)
    broken = tmp_path / "not-a-database.duckdb"
    broken.write_bytes(b"this is not a DuckDB file" * 100)
    batch = feedback_source(DuckDBWarehouse(broken), events).read(0.0, 1000.0)
    assert (len(batch.rows), batch.source) == (20, "event_log")
    assert "unavailable" in batch.note


def test_a_window_that_ends_before_it_starts_is_refused(events):
    with pytest.raises(ConfigError, match="ends"):
        EventLogFeedback(events).read(10.0, 5.0)
