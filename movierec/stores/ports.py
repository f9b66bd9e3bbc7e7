"""The storage ports (docs/ARCHITECTURE.md, "Ports and adapters"); adapters live beside it.

Every adapter raises ``movierec.errors.BackendUnavailable`` when its backend cannot
be reached, so callers (the HTTP handlers) can answer 503 instead of 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from movierec.events import Assignment, Experiment, Feedback, Impression


class ArtifactNotFound(KeyError):
    """No object at that key."""


@runtime_checkable
class ArtifactStore(Protocol):
    """A flat key -> bytes store (a folder locally, a Cloud Storage bucket in production).

    Keys use '/' separators, e.g. ``models/ease/20261126T101500Z-1a2b3c/arrays.npz``.
    """

    def read_bytes(self, key: str) -> bytes: ...

    def write_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write atomically: a reader sees the old object or the whole new one, never a part."""

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> list[str]:
        """All keys starting with ``prefix``, sorted."""

    def delete(self, key: str) -> None: ...

    def describe(self) -> str:
        """Where the store is, for messages (a path or gs:// URL)."""


@runtime_checkable
class EventLog(Protocol):
    """Experiments, assignments, impressions and feedback (SQLite locally, Firestore in production)."""

    # experiments
    def put_experiment(self, experiment: Experiment) -> None: ...

    def get_experiment(self, experiment_id: str) -> Experiment | None: ...

    def list_experiments(self) -> list[Experiment]: ...

    # assignments: the first write wins, later calls return what is stored
    def get_or_create_assignment(self, assignment: Assignment) -> Assignment: ...

    def get_assignment(self, experiment_id: str, user_id: int) -> Assignment | None: ...

    # impressions: created once per request_id
    def record_impression(self, impression: Impression) -> None: ...

    def get_impression(self, request_id: str) -> Impression | None: ...

    # feedback: idempotent on event_id; True when stored now, False for a duplicate
    def record_feedback(self, feedback: Feedback) -> bool: ...

    def get_feedback(self, event_id: str) -> Feedback | None: ...

    # the user's latest ``limit`` feedback events, newest first (serving's fold-in of new users)
    def recent_feedback(self, user_id: int, limit: int) -> list[Feedback]: ...

    # rows of a collection with time >= since, ordered by time, then key; a window of
    # them, page by page, is movierec.stores.scanning.scan_window
    def scan(self, collection: str, since: float, limit: int | None = None) -> Iterable[dict[str, Any]]: ...

    def ping(self) -> None:
        """Raise BackendUnavailable when the backend cannot serve requests."""


@runtime_checkable
class Warehouse(Protocol):
    """Analysis tables (DuckDB locally, BigQuery in production).

    Tables mirror the EventLog collections (same field names as movierec.events):
    ``assignments`` (key experiment_id + user_id), ``impressions`` (key request_id),
    ``feedback`` (key event_id); plus ``export_watermarks`` and ``alerts``.
    SQL is written once in BigQuery's dialect with ``@name`` parameters; the DuckDB
    adapter transpiles it with sqlglot.
    """

    def ensure_schema(self) -> None:
        """Create missing tables; idempotent."""

    def insert_new(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert the rows whose key is not in ``table`` yet; returns how many were inserted."""

    def upsert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert the rows, replacing stored rows with the same key (experiments change state)."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...

    def get_watermark(self, name: str) -> float | None: ...

    def set_watermark(self, name: str, value: float) -> None: ...

    def describe(self) -> str: ...

    def close(self) -> None:
        """Release connections and file locks; idempotent. A later call opens them again."""


@runtime_checkable
class UserDirectory(Protocol):
    """Which recommender user a signed-in account is: Firebase uid -> user id.

    Firestore ``users/{uid}`` documents (``{"user_id": int, "linked_at": float}``) in
    production, table ``users`` of the SQLite event-log file locally. Written by an
    administrator (``movierec users link``), read by serving when ``MOVIEREC_AUTH=firebase``.
    """

    def user_id_of(self, uid: str) -> int | None:
        """The linked user id; None when ``uid`` is linked to nobody (or could not be)."""

    def link(self, uid: str, user_id: int) -> None:
        """Link ``uid`` to ``user_id``, replacing an earlier link; ValueError for a uid no store can key."""

    def unlink(self, uid: str) -> bool:
        """True when a link was removed."""
