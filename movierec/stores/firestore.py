"""EventLog on Firestore in native mode (or on the Firestore emulator in tests).

Documents: ``experiments/{experiment_id}``, ``assignments/{experiment_id}:{user_id}``,
``impressions/{request_id}``, ``feedback/{event_id}``, each holding the ``to_dict()``
of its event. Create-once semantics come from ``DocumentReference.create``, which
fails with AlreadyExists when the document is there: no transaction needed.

Every call carries a short retry deadline and timeout. The client's defaults retry
UNAVAILABLE for up to 300 s, so a stopped backend would hang a request for minutes
instead of answering 503 within seconds. Inside a request both are cut to what is left
of the request's budget (:mod:`movierec.stores.deadline`): the listing, the assignment
and the write of one request share it instead of waiting 4 s each.

Retention: every event document (assignment, impression, feedback) is written with
``expire_at``, a timestamp ``retention_days`` after the event's ``ts``. The database's
TTL policy on that field (infra/firestore.tf) deletes documents past it, typically
within 24 hours of expiry (https://cloud.google.com/firestore/docs/ttl); the export has
copied them to BigQuery long before. ``expire_at`` is a storage detail: reads and scans
return the event's own fields, as the SQLite log does. Experiments never expire.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry, if_exception_type
from google.cloud import firestore
from google.cloud.firestore_v1.field_path import FieldPath

from movierec.errors import BackendUnavailable, DataError
from movierec.events import Assignment, Experiment, Feedback, Impression
from movierec.stores.deadline import time_left
from movierec.stores.google_errors import UNAVAILABLE
from movierec.stores.validation import scan_time_field, validate_event_id, validate_limit

# Retry what Firestore documents as retryable, for a few seconds only.
SHORT_RETRY: Retry = Retry(
    predicate=if_exception_type(
        gexc.ServiceUnavailable,
        gexc.DeadlineExceeded,
        gexc.InternalServerError,
        gexc.ResourceExhausted,
        gexc.Aborted,
    ),
    initial=0.1,
    maximum=1.0,
    multiplier=2.0,
    timeout=4.0,
)
TIMEOUT = 4.0  # seconds for one attempt
RETENTION_DAYS = 90  # the default of Settings.event_retention_days
EXPIRE_FIELD = "expire_at"  # the field of the TTL policy in infra/firestore.tf

# AlreadyExists is handled where it means "duplicate"; InvalidArgument is our bug.
# Shared with the user directory (stores/firestore_users.py).
FIRESTORE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    *UNAVAILABLE,
    gexc.Aborted,  # contention past the retry deadline
    gexc.FailedPrecondition,  # e.g. a missing index or a database in Datastore mode
    grpc.RpcError,  # raw gRPC errors that escaped the wrappers (streams)
)


class FirestoreEventLog:
    """The EventLog on one Firestore database, through a client created once per process."""

    def __init__(
        self,
        client: firestore.Client,
        retry: Retry = SHORT_RETRY,
        timeout: float = TIMEOUT,
        retention_days: int = RETENTION_DAYS,
    ) -> None:
        if retention_days < 1:
            raise ValueError(f"retention_days must be at least 1, got {retention_days}")
        self._client = client
        self._retry, self._timeout = retry, timeout
        self._retention = timedelta(days=retention_days)

    def _expiring(self, data: dict[str, Any]) -> dict[str, Any]:
        """The event's fields plus ``expire_at`` (a timestamp, as TTL policies require)."""
        expire_at = datetime.fromtimestamp(float(data["ts"]), timezone.utc) + self._retention
        return {**data, EXPIRE_FIELD: expire_at}

    @property
    def _opts(self) -> dict[str, Any]:
        """The retry deadline and per-attempt timeout of the next call, within the request's budget."""
        budget = time_left(max(self._timeout, self._retry.timeout or 0.0))
        return {"retry": self._retry.with_timeout(budget), "timeout": min(self._timeout, budget)}

    def describe(self) -> str:
        return f"Firestore in project {self._client.project!r}"

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except FIRESTORE_UNAVAILABLE as exc:
            raise BackendUnavailable(f"{self.describe()}: {action} failed: {exc}") from exc

    def _doc(self, collection: str, doc_id: str) -> firestore.DocumentReference:
        return self._client.collection(collection).document(doc_id)

    def _read(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        with self._guard(f"read of {collection}/{doc_id}"):
            snapshot = self._doc(collection, doc_id).get(**self._opts)
        data = snapshot.to_dict() if snapshot.exists else None
        return None if data is None else _event_fields(data)

    def _create(self, collection: str, doc_id: str, data: dict[str, Any]) -> bool:
        """True when the document was created now, False when it already existed."""
        with self._guard(f"write of {collection}/{doc_id}"):
            try:
                self._doc(collection, doc_id).create(data, **self._opts)
            except gexc.AlreadyExists:
                return False
        return True

    def ping(self) -> None:
        with self._guard("ping"):
            self._client.collection("experiments").limit(1).get(**self._opts)

    # experiments
    def put_experiment(self, experiment: Experiment) -> None:
        doc_id = validate_event_id("experiment_id", experiment.experiment_id)
        with self._guard(f"write of experiments/{doc_id}"):
            self._doc("experiments", doc_id).set(experiment.to_dict(), **self._opts)

    def get_experiment(self, experiment_id: str) -> Experiment | None:
        data = self._read("experiments", validate_event_id("experiment_id", experiment_id))
        return None if data is None else Experiment.from_dict(data)

    def list_experiments(self) -> list[Experiment]:
        with self._guard("listing of experiments"):
            snapshots = list(self._client.collection("experiments").stream(**self._opts))
        experiments = [Experiment.from_dict(_streamed(s)) for s in snapshots]
        return sorted(experiments, key=lambda e: e.experiment_id)

    # assignments
    def get_or_create_assignment(self, assignment: Assignment) -> Assignment:
        """create() the document; on AlreadyExists another writer won, so read theirs."""
        validate_event_id("experiment_id", assignment.experiment_id)
        if self._create("assignments", assignment.key, self._expiring(assignment.to_dict())):
            return assignment
        stored = self._read("assignments", assignment.key)
        if stored is None:  # only if someone deleted it in between
            raise BackendUnavailable(f"{self.describe()}: assignment {assignment.key} vanished")
        return Assignment.from_dict(stored)

    def get_assignment(self, experiment_id: str, user_id: int) -> Assignment | None:
        validate_event_id("experiment_id", experiment_id)
        data = self._read("assignments", f"{experiment_id}:{user_id}")
        return None if data is None else Assignment.from_dict(data)

    # impressions
    def record_impression(self, impression: Impression) -> None:
        """Store once per request_id; a repeated request_id (a retried write) is ignored."""
        doc_id = validate_event_id("request_id", impression.request_id)
        self._create("impressions", doc_id, self._expiring(impression.to_dict()))

    def get_impression(self, request_id: str) -> Impression | None:
        data = self._read("impressions", validate_event_id("request_id", request_id))
        return None if data is None else Impression.from_dict(data)

    # feedback
    def record_feedback(self, feedback: Feedback) -> bool:
        doc_id = validate_event_id("event_id", feedback.event_id)
        return self._create("feedback", doc_id, self._expiring(feedback.to_dict()))

    def get_feedback(self, event_id: str) -> Feedback | None:
        data = self._read("feedback", validate_event_id("event_id", event_id))
        return None if data is None else Feedback.from_dict(data)

    def recent_feedback(self, user_id: int, limit: int) -> list[Feedback]:
        """The user's latest ``limit`` feedback events, newest first, ties by document id
        descending (as SQLite). An equality filter and an order on another field: served by
        the composite index ``feedback_by_user`` (infra/firestore.tf), which the emulator
        does not require but Firestore does (FailedPrecondition, i.e. unavailable, without it)."""
        if validate_limit(limit) == 0:
            return []
        query = (
            self._client.collection("feedback")
            .where(filter=firestore.FieldFilter("user_id", "==", user_id))
            .order_by("ts", direction=firestore.Query.DESCENDING)
            .order_by(FieldPath.document_id(), direction=firestore.Query.DESCENDING)
            .limit(limit)
        )
        with self._guard("read of a user's recent feedback"):
            return [Feedback.from_dict(_streamed(s)) for s in query.stream(**self._opts)]

    # export
    def scan(self, collection: str, since: float, limit: int | None = None) -> list[dict[str, Any]]:
        """Documents with time >= ``since``, oldest first, ties by document id (as SQLite)."""
        field = scan_time_field(collection)
        validate_limit(limit)
        if limit == 0:
            return []
        query = (
            self._client.collection(collection)
            .where(filter=firestore.FieldFilter(field, ">=", since))
            .order_by(field)
            .order_by(FieldPath.document_id())
        )
        if limit is not None:
            query = query.limit(limit)
        with self._guard(f"scan of {collection}"):
            return [_streamed(snapshot) for snapshot in query.stream(**self._opts)]


def _streamed(snapshot: firestore.DocumentSnapshot) -> dict[str, Any]:
    """The data of a snapshot a query streamed (``to_dict()`` is None only for a missing one)."""
    data = snapshot.to_dict()
    if data is None:
        raise DataError(f"document {snapshot.reference.path} was streamed without data")
    return _event_fields(data)


def _event_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A stored document without the storage-only ``expire_at``."""
    if EXPIRE_FIELD not in data:
        return data
    return {key: value for key, value in data.items() if key != EXPIRE_FIELD}
