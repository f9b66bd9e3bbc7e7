"""Where the job reads logged feedback from: the Warehouse first, the EventLog as fallback.

A run reads the half-open window ``[since, until)`` of feedback time ``ts``; the next
run starts where this one ended, so every event is read by exactly one completed run.

The warehouse is filled by the export job and may lag behind the event log: a
warehouse read ends at ``min(until, export watermark)`` and the job records that
effective end, so the events not exported yet are read by the next run instead of
being skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from movierec.errors import BackendUnavailable, ConfigError
from movierec.retraining.signals import FEEDBACK_COLUMNS, empty_feedback
from movierec.stores.ports import EventLog, Warehouse
from movierec.stores.scanning import scan_window

log = logging.getLogger(__name__)

# BigQuery dialect; the DuckDB adapter transpiles it with sqlglot.
# The warehouse keeps ts as TIMESTAMP; the window and the rows travel as epoch seconds.
FEEDBACK_SQL = (
    "SELECT event_id, UNIX_MICROS(ts) / 1000000 AS ts, user_id, movie_id, type, value FROM feedback"
    " WHERE ts >= TIMESTAMP_MICROS(@since_us) AND ts < TIMESTAMP_MICROS(@until_us)"
    " ORDER BY ts, event_id"
)
FEEDBACK_WATERMARK = "feedback"  # name of the export job's watermark for the feedback table
_PAGE = 10_000


@dataclass(frozen=True)
class FeedbackBatch:
    """The feedback of ``[since, until)`` and the source it came from."""

    rows: pd.DataFrame  # columns FEEDBACK_COLUMNS
    since: float
    until: float  # may be below the requested end when the warehouse lags
    source: str  # "warehouse" | "event_log"
    note: str = ""


class FeedbackSource(Protocol):
    name: str

    def read(self, since: float, until: float) -> FeedbackBatch: ...


class WarehouseFeedback:
    name = "warehouse"

    def __init__(self, warehouse: Warehouse, watermark: str = FEEDBACK_WATERMARK) -> None:
        self.warehouse = warehouse
        self.watermark = watermark

    def read(self, since: float, until: float) -> FeedbackBatch:
        _check_window(since, until)
        exported = self.warehouse.get_watermark(self.watermark)
        if exported is None:  # nothing exported yet: the event log is the only source
            raise BackendUnavailable("the warehouse holds no exported feedback yet")
        end = max(since, min(until, exported))
        rows = self.warehouse.query(FEEDBACK_SQL, {"since_us": _micros(since), "until_us": _micros(end)})
        note = "" if end == until else f"warehouse exported up to {exported}; window ends there"
        return FeedbackBatch(_frame(rows), since, end, self.name, note)


class EventLogFeedback:
    """Pages through ``EventLog.scan`` (:func:`movierec.stores.scanning.scan_window`)."""

    name = "event_log"

    def __init__(self, events: EventLog, page: int = _PAGE) -> None:
        self.events = events
        self.page = page

    def read(self, since: float, until: float) -> FeedbackBatch:
        _check_window(since, until)
        # scan order is (ts, event_id), the order the warehouse query returns
        rows = list(scan_window(self.events, "feedback", since, until, page_size=self.page))
        return FeedbackBatch(_frame(rows), since, until, self.name)


class FallbackFeedback:
    """The warehouse when it answers, else the event log (the fallback is logged and recorded)."""

    def __init__(self, primary: FeedbackSource, fallback: FeedbackSource) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}|{fallback.name}"

    def read(self, since: float, until: float) -> FeedbackBatch:
        try:
            return self.primary.read(since, until)
        except BackendUnavailable as exc:
            log.warning("feedback from %s failed (%s); reading %s", self.primary.name, exc, self.fallback.name)
            batch = self.fallback.read(since, until)
            note = f"{self.primary.name} unavailable ({exc}); read {self.fallback.name}"
            return FeedbackBatch(batch.rows, batch.since, batch.until, batch.source, note)


def feedback_source(warehouse: Warehouse | None, events: EventLog) -> FeedbackSource:
    events_source = EventLogFeedback(events)
    if warehouse is None:
        return events_source
    return FallbackFeedback(WarehouseFeedback(warehouse), events_source)


def _frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return empty_feedback()
    return pd.DataFrame.from_records([{c: r.get(c) for c in FEEDBACK_COLUMNS} for r in rows])


def _check_window(since: float, until: float) -> None:
    if until < since:
        raise ConfigError(f"the feedback window ends ({until}) before it starts ({since})")


def _micros(seconds: float) -> int:
    return round(seconds * 1_000_000)
