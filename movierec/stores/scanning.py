"""Reading a time window of an event collection: the one way to page over ``EventLog.scan``.

``EventLog.scan(collection, since, limit)`` returns the rows whose time
(:data:`~movierec.stores.validation.SCAN_TIME_FIELDS`) is ``>= since``, oldest first,
ties broken by key. Its only cursor is a time, so the next page has to start at the
last time of the previous one and reads the rows at that instant again; and a page
that is all one instant would come back unchanged forever. :func:`scan_pages` deals
with both -- it drops the rows it already returned (by key) and reads a wider page
when the cursor cannot move -- and stops at the window's end without reading past it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

from movierec.stores.ports import EventLog
from movierec.stores.validation import SCAN_KEY_FIELDS, scan_time_field, validate_page_size

DEFAULT_PAGE_SIZE = 1000

Row = dict[str, Any]


def scan_pages(
    events: EventLog,
    collection: str,
    since: float,
    until: float | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[list[Row]]:
    """The rows of ``collection`` with ``since <= time < until`` (no end for None), in
    non-empty pages of at most ``page_size`` rows (more when one instant holds more),
    ordered as ``EventLog.scan`` orders them, each row once.

    Pages are read lazily: a caller that stores a page before asking for the next one
    (the export) has stored every row older than the page's last time when it asks.
    The arguments are checked at the call, not at the first page.
    """
    time_field = scan_time_field(collection)
    validate_page_size(page_size)
    if until is not None and until < since:
        raise ValueError(f"the window ends ({until}) before it starts ({since})")
    return _pages(events, collection, time_field, _key_function(collection), since, until, page_size)


def scan_window(
    events: EventLog,
    collection: str,
    since: float,
    until: float | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[Row]:
    """The rows of :func:`scan_pages`, one by one."""
    pages = scan_pages(events, collection, since, until, page_size)
    return (row for page in pages for row in page)


def _pages(
    events: EventLog,
    collection: str,
    time_field: str,
    key_of: Callable[[Row], Hashable],
    since: float,
    until: float | None,
    page_size: int,
) -> Iterator[list[Row]]:
    if until == since:
        return
    cursor, limit = since, page_size
    seen_at_cursor: set[Hashable] = set()  # keys already returned whose time is `cursor`
    while True:
        rows = list(events.scan(collection, cursor, limit))
        page, ended = [], False
        for row in rows:
            if until is not None and row[time_field] >= until:
                ended = True
                break
            if row[time_field] != cursor or key_of(row) not in seen_at_cursor:
                page.append(row)
        if page:
            yield page
        if ended or len(rows) < limit:
            return
        last = rows[-1][time_field]
        if last == cursor:  # the whole page is one instant: only a wider page gets past it
            limit *= 2
        else:
            cursor, limit, seen_at_cursor = last, page_size, set()
        seen_at_cursor.update(key_of(r) for r in page if r[time_field] == last)


def _key_function(collection: str) -> Callable[[Row], Hashable]:
    fields = SCAN_KEY_FIELDS[collection]
    return lambda row: tuple(row[f] for f in fields)
