"""Copy new events from the EventLog to the Warehouse, incrementally and idempotently.

For each event collection (assignments, impressions, feedback) a watermark in the
warehouse records how far the export got. A run scans the collection from
``watermark - overlap`` in pages ordered by time (``movierec.stores.scanning.scan_pages``)
and inserts only rows whose key the warehouse lacks. So:

- a late row (written after the watermark passed its timestamp, by less than the
  overlap) is still read on the next run;
- re-reading the overlap, or re-running after a crash, duplicates nothing (dedupe on
  the event keys);
- the watermark is moved only after the page up to it is stored, so a crash between
  pages loses nothing: the next run starts from the last stored page.

The watermark never runs ahead of ``now``: one event stamped in the future (a skewed
clock) would otherwise make the export skip events written later with correct times.

Experiments are a handful of mutable documents (a stop changes status and
``stopped_at`` but not ``created_at``, the time they are scanned by), so every run
re-reads all of them and upserts them instead of following a watermark.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from movierec.errors import DataError
from movierec.events import Assignment, Experiment, Feedback, Impression
from movierec.stores.ports import EventLog, Warehouse
from movierec.stores.scanning import scan_pages, scan_window
from movierec.stores.validation import SCAN_TIME_FIELDS, validate_page_size

log = logging.getLogger(__name__)

_EVENT_CLASSES: dict[str, Any] = {
    "assignments": Assignment,
    "impressions": Impression,
    "feedback": Feedback,
}
EVENT_COLLECTIONS = tuple(_EVENT_CLASSES)  # in this order: impressions before their feedback


@dataclass(frozen=True)
class TableExport:
    table: str
    scanned: int  # rows read from the event log (the overlap is read again each run)
    inserted: int  # rows new to the warehouse
    watermark: float | None  # after the run


@dataclass(frozen=True)
class ExportReport:
    tables: dict[str, TableExport]

    @property
    def inserted(self) -> int:
        return sum(t.inserted for t in self.tables.values())


def export_events(
    events: EventLog,
    warehouse: Warehouse,
    *,
    now: float,
    overlap_seconds: float = 300.0,
    page_size: int = 1000,
) -> ExportReport:
    """Export experiments, then assignments, impressions and feedback; see the module doc."""
    validate_page_size(page_size)
    if overlap_seconds < 0:
        raise ValueError(f"overlap_seconds must be >= 0, got {overlap_seconds!r}")
    warehouse.ensure_schema()
    report = {"experiments": _export_experiments(events, warehouse)}
    for collection in EVENT_COLLECTIONS:
        report[collection] = _export_collection(
            events, warehouse, collection, now=now, overlap=overlap_seconds, page_size=page_size
        )
        log.info("exported %s", report[collection])
    return ExportReport(report)


def _normaliser(collection: str, event: type) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Rows as the fields of their event class: a missing required field is a DataError,
    a missing optional one takes its default, stray fields are dropped. (Cheaper than
    ``from_dict(row).to_dict()``, which deep-copies every row; the warehouse checks the
    values' types when it encodes them.)"""
    defaults: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(event):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
        else:
            required.append(f.name)
    names = [*required, *defaults]

    def normalise(row: dict[str, Any]) -> dict[str, Any]:
        missing = [n for n in required if n not in row]
        if missing:
            raise DataError(f"{collection}: event without {missing}: {row!r}")
        return {n: row[n] if n in row else defaults[n] for n in names}

    return normalise


def _export_experiments(events: EventLog, warehouse: Warehouse) -> TableExport:
    try:
        rows = [Experiment.from_dict(r).to_dict() for r in scan_window(events, "experiments", float("-inf"))]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"experiments: malformed experiment in the event log: {exc!r}") from exc
    written = warehouse.upsert("experiments", rows)
    return TableExport("experiments", len(rows), written, None)


def _export_collection(
    events: EventLog,
    warehouse: Warehouse,
    collection: str,
    *,
    now: float,
    overlap: float,
    page_size: int,
) -> TableExport:
    time_field = SCAN_TIME_FIELDS[collection]
    normalise = _normaliser(collection, _EVENT_CLASSES[collection])
    watermark = warehouse.get_watermark(collection)
    since = 0.0 if watermark is None else watermark - overlap
    scanned = inserted = 0
    for page in scan_pages(events, collection, since, page_size=page_size):
        scanned += len(page)
        inserted += warehouse.insert_new(collection, [normalise(r) for r in page])
        # Stored up to the page's last time; rows at that time may continue on the next
        # page, and a crash before it is stored re-reads them from this watermark.
        reached = min(float(page[-1][time_field]), now)
        if watermark is None or reached > watermark:
            warehouse.set_watermark(collection, reached)
            watermark = reached
    return TableExport(collection, scanned, inserted, watermark)
