"""export_events from SQLite and the Firestore emulator into DuckDB and bqemulator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from movierec.events import Assignment, Experiment, Feedback, Impression, Variant
from movierec.pipelines.export import export_events

T0 = 1_763_000_000.0
EXPERIMENT = Experiment(
    "exp", "salt", (Variant("A", "svd", None, 0.5), Variant("B", "ease", None, 0.5)), created_at=T0
)


def record(events: Any, user: int, ts: float, n_feedback: int = 2) -> None:
    """One user's request at ``ts``: assignment, impression and ``n_feedback`` clicks."""
    variant = "AB"[user % 2]
    events.get_or_create_assignment(Assignment("exp", user, variant, user % 100, ts))
    request_id = f"req-{user}-{ts}"
    events.record_impression(Impression(
        request_id, ts, user, "exp", variant, "svd", "v1", (1, 2, 3), (0.3, 0.2, 0.1), None, 5.0
    ))
    for k in range(n_feedback):
        events.record_feedback(Feedback(
            f"ev-{request_id}-{k}", ts + 1 + k, request_id, user, 1 + k, "click", None, 1 + k,
            "exp", variant,
        ))


def keys(warehouse: Any, table: str, key: str) -> list[str]:
    rows = warehouse.query(f"SELECT CAST({key} AS STRING) AS k FROM {table} ORDER BY k")
    return [r["k"] for r in rows]


def assert_exactly_once(warehouse: Any, events: Any) -> None:
    """Every event-log row is in the warehouse once: keys equal and distinct."""
    for table, key in (("impressions", "request_id"), ("feedback", "event_id")):
        stored = keys(warehouse, table, key)
        logged = sorted(r[key] for r in events.scan(table, 0.0))
        assert stored == logged, table
    stored = warehouse.query("SELECT experiment_id, user_id FROM assignments ORDER BY user_id")
    logged = [(r["experiment_id"], r["user_id"]) for r in events.scan("assignments", 0.0)]
    assert sorted((r["experiment_id"], r["user_id"]) for r in stored) == sorted(logged)


def test_incremental_then_idempotent(event_log: Any, warehouse: Any) -> None:
    event_log.put_experiment(EXPERIMENT)
    for user in range(6):
        record(event_log, user, T0 + 1000 * user)
    first = export_events(event_log, warehouse, now=T0 + 9000, page_size=4)
    assert {t: r.inserted for t, r in first.tables.items()} == {
        "experiments": 1, "assignments": 6, "impressions": 6, "feedback": 12,
    }
    assert first.tables["feedback"].watermark == T0 + 5002  # the last click, user 5

    # A day later: only the new users' events are inserted, and reading starts at the
    # watermark less the overlap (user 5's request), not at the beginning.
    for user in range(6, 9):
        record(event_log, user, T0 + 86_400 + user)
    second = export_events(event_log, warehouse, now=T0 + 90_000, page_size=10)
    assert second.tables["impressions"].inserted == 3 and second.tables["impressions"].scanned == 4
    assert second.tables["feedback"].inserted == 6 and second.tables["assignments"].inserted == 3

    # Nothing new: a re-run inserts nothing (and re-reads only the overlap).
    third = export_events(event_log, warehouse, now=T0 + 90_000, page_size=4)
    assert {t: r.inserted for t, r in third.tables.items() if t != "experiments"} == {
        "assignments": 0, "impressions": 0, "feedback": 0,
    }
    assert_exactly_once(warehouse, event_log)


class CrashingWarehouse:
    """The real warehouse, except that the ``crash_at``-th insert_new raises, as a job
    killed mid-export would stop (the rows of earlier pages are stored)."""

    def __init__(self, inner: Any, crash_at: int) -> None:
        self._inner, self._crash_at, self.inserts = inner, crash_at, 0

    def insert_new(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        self.inserts += 1
        if self.inserts == self._crash_at:
            raise RuntimeError("killed")
        return self._inner.insert_new(table, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_crash_in_the_middle_loses_and_duplicates_nothing(event_log: Any, warehouse: Any) -> None:
    event_log.put_experiment(EXPERIMENT)
    for user in range(5):
        record(event_log, user, T0 + 10 * user, n_feedback=3)
    # pages of 4: assignments take inserts 1-2, impressions 3-4, feedback 5-8; die at 6.
    crashing = CrashingWarehouse(warehouse, crash_at=6)
    with pytest.raises(RuntimeError, match="killed"):
        export_events(event_log, crashing, now=T0 + 100, page_size=4)
    stored = keys(warehouse, "feedback", "event_id")
    assert len(stored) == 4  # the first page only
    # the watermark never passes a row that is not stored
    assert warehouse.get_watermark("feedback") <= max(
        r["ts"] for r in event_log.scan("feedback", 0.0) if r["event_id"] in stored
    )
    rerun = export_events(event_log, warehouse, now=T0 + 100, page_size=4)
    assert rerun.tables["feedback"].inserted == 11
    assert_exactly_once(warehouse, event_log)


def test_late_rows_inside_the_overlap_are_picked_up(event_log: Any, warehouse: Any) -> None:
    record(event_log, 1, T0)
    record(event_log, 2, T0 + 1000)
    export_events(event_log, warehouse, now=T0 + 2000, overlap_seconds=300)
    watermark = warehouse.get_watermark("impressions")
    assert watermark == T0 + 1000
    # Written after the export ran, stamped before its watermark (a slow writer):
    record(event_log, 3, watermark - 250)  # inside the overlap
    record(event_log, 4, watermark - 400)  # older than the overlap: the documented limit
    report = export_events(event_log, warehouse, now=T0 + 3000, overlap_seconds=300)
    assert report.tables["impressions"].inserted == 1
    stored = warehouse.query("SELECT user_id FROM impressions ORDER BY user_id")
    assert [r["user_id"] for r in stored] == [1, 2, 3]


def test_watermark_never_runs_ahead_of_now(event_log: Any, warehouse: Any) -> None:
    record(event_log, 1, T0 + 10_000)  # a skewed clock stamped it in the future
    export_events(event_log, warehouse, now=T0)
    assert warehouse.get_watermark("impressions") == T0
    record(event_log, 2, T0 + 5)  # written later with a correct time
    assert export_events(event_log, warehouse, now=T0 + 10).tables["impressions"].inserted == 1


def test_more_rows_at_one_time_than_a_page(event_log: Any, warehouse: Any) -> None:
    for user in range(7):
        event_log.get_or_create_assignment(Assignment("exp", user, "A", 1, T0))
    report = export_events(event_log, warehouse, now=T0 + 1, page_size=2)
    assert report.tables["assignments"].inserted == 7


def test_experiment_changes_reach_the_warehouse(event_log: Any, warehouse: Any) -> None:
    event_log.put_experiment(EXPERIMENT)
    export_events(event_log, warehouse, now=T0 + 1)
    event_log.put_experiment(Experiment(**{**EXPERIMENT.__dict__, "status": "stopped",
                                           "stopped_at": T0 + 500}))
    export_events(event_log, warehouse, now=T0 + 1000)
    rows = warehouse.query("SELECT status, UNIX_SECONDS(stopped_at) AS s FROM experiments")
    assert rows == [{"status": "stopped", "s": int(T0 + 500)}]
