"""scan_pages / scan_window on every EventLog: SQLite and Firestore (emulator), same assertions."""

from __future__ import annotations

from typing import Any

import pytest

from movierec.events import Assignment
from movierec.stores.ports import EventLog
from movierec.stores.scanning import scan_pages, scan_window
from tests.stores.test_event_log import feedback


class CountingScans:
    """The real event log, counting the ``scan`` calls made through it."""

    def __init__(self, inner: EventLog) -> None:
        self._inner, self.scans = inner, 0

    def scan(self, collection: str, since: float, limit: int | None = None) -> Any:
        self.scans += 1
        return self._inner.scan(collection, since, limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def record(log: EventLog, *stamps: tuple[str, float]) -> None:
    for event_id, ts in stamps:
        log.record_feedback(feedback(event_id, ts=ts))


def ids(rows: Any) -> list[str]:
    return [r["event_id"] for r in rows]


def test_the_window_includes_since_and_excludes_until(event_log: EventLog) -> None:
    record(event_log, *((f"ev-{t}", float(t)) for t in range(1, 11)))
    assert ids(scan_window(event_log, "feedback", 3.0, 7.0)) == ["ev-3", "ev-4", "ev-5", "ev-6"]
    assert ids(scan_window(event_log, "feedback", 3.5, 4.5)) == ["ev-4"]
    assert ids(scan_window(event_log, "feedback", 9.0)) == ["ev-9", "ev-10"]  # no end
    assert ids(scan_window(event_log, "feedback", 1.0, 11.0, page_size=1)) == [f"ev-{t}" for t in range(1, 11)]


def test_many_pages_return_every_row_once_in_scan_order(event_log: EventLog) -> None:
    # ties at 2.0 and 3.0 straddle page boundaries
    stamps = [("ev-a", 1.0), ("ev-d", 2.0), ("ev-b", 2.0), ("ev-c", 2.0), ("ev-f", 3.0), ("ev-e", 3.0), ("ev-g", 4.0)]
    record(event_log, *stamps)
    expected = [e for e, _ in sorted(stamps, key=lambda s: (s[1], s[0]))]
    for page_size in (1, 2, 3, 100):
        pages = list(scan_pages(event_log, "feedback", 0.0, 10.0, page_size=page_size))
        assert [row for page in pages for row in page] == list(event_log.scan("feedback", 0.0)), page_size
        assert ids(scan_window(event_log, "feedback", 0.0, page_size=page_size)) == expected
        assert all(pages), "no empty page"
        assert len(pages) > 1 or page_size == 100


def test_more_rows_at_one_instant_than_a_page(event_log: EventLog) -> None:
    record(event_log, ("ev-0", 1.0), *((f"ev-{i}", 5.0) for i in range(1, 8)), ("ev-8", 6.0))
    rows = list(scan_window(event_log, "feedback", 0.0, 10.0, page_size=2))
    assert ids(rows) == [f"ev-{i}" for i in range(9)]


def test_assignments_are_told_apart_by_experiment_and_user(event_log: EventLog) -> None:
    for experiment_id in ("exp-a", "exp-b"):
        for user in (1, 2, 3):
            event_log.get_or_create_assignment(Assignment(experiment_id, user, "A", 1, 7.0))
    rows = list(scan_window(event_log, "assignments", 7.0, 8.0, page_size=2))
    assert sorted((r["experiment_id"], r["user_id"]) for r in rows) == [
        (e, u) for e in ("exp-a", "exp-b") for u in (1, 2, 3)
    ]


def test_an_empty_window_returns_nothing(event_log: EventLog) -> None:
    assert list(scan_window(event_log, "feedback", 0.0, 10.0)) == []  # empty collection
    record(event_log, ("ev-1", 1.0), ("ev-5", 5.0))
    assert list(scan_pages(event_log, "feedback", 2.0, 5.0)) == []  # a gap between rows
    assert list(scan_window(event_log, "feedback", 5.0, 5.0)) == []  # since == until
    assert list(scan_window(event_log, "feedback", 5.5)) == []  # after the last row


def test_reading_stops_at_the_end_of_the_window(event_log: EventLog) -> None:
    record(event_log, *((f"ev-{t:03d}", float(t)) for t in range(40)))
    counting = CountingScans(event_log)
    assert ids(scan_window(counting, "feedback", 0.0, 3.0, page_size=2)) == ["ev-000", "ev-001", "ev-002"]
    # pages [0, 1], [1, 2], [2, 3]: the third reaches 3.0 and reading stops, 36 rows short
    assert counting.scans == 3
    counting.scans = 0
    assert list(scan_window(counting, "feedback", 7.0, 7.0)) == [] and counting.scans == 0


def test_a_row_written_between_pages_at_the_cursor_instant_is_not_lost(event_log: EventLog) -> None:
    """Repeats are dropped by key, not by position: an insert that sorts first is kept."""
    record(event_log, ("ev-1", 1.0), ("ev-3", 2.0), ("ev-4", 3.0))
    pages = scan_pages(event_log, "feedback", 0.0, 10.0, page_size=2)
    assert ids(next(pages)) == ["ev-1", "ev-3"]
    record(event_log, ("ev-2", 2.0))  # a late writer, at the cursor's time, before ev-3
    assert [ids(p) for p in pages] == [["ev-2"], ["ev-4"]]


def test_bad_arguments_are_refused_at_the_call(event_log: EventLog) -> None:
    with pytest.raises(ValueError, match="ends"):
        scan_window(event_log, "feedback", 5.0, 4.0)
    for page_size in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="page_size"):
            scan_pages(event_log, "feedback", 0.0, page_size=page_size)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown event collection"):
        scan_window(event_log, "clicks", 0.0)
