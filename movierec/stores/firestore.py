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
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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

# AlreadyExists is handled where it means "duplicate"; InvalidArgument is our bug.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    *UNAVAILABLE,
    gexc.Aborted,  # contention past the retry deadline
    gexc.FailedPrecondition,  # e.g. a missing index or a database in Datastore mode
    grpc.RpcError,  # raw gRPC errors that escaped the wrappers (streams)
)


class FirestoreEventLog:
    """The EventLog on one Firestore database, through a client created once per process."""

    def __init__(
        self, client: firestore.Client, retry: Retry = SHORT_RETRY, timeout: float = TIMEOUT
    ) -> None:
        self._client = client
        self._retry, self._timeout = retry, timeout

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
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(f"{self.describe()}: {action} failed: {exc}") from exc

    def _doc(self, collection: str, doc_id: str) -> firestore.DocumentReference:
        return self._client.collection(collection).document(doc_id)

    def _read(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        with self._guard(f"read of {collection}/{doc_id}"):
            snapshot = self._doc(collection, doc_id).get(**self._opts)
        return snapshot.to_dict() if snapshot.exists else None

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
        if self._create("assignments", assignment.key, assignment.to_dict()):
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
        self._create("impressions", doc_id, impression.to_dict())

    def get_impression(self, request_id: str) -> Impression | None:
        data = self._read("impressions", validate_event_id("request_id", request_id))
        return None if data is None else Impression.from_dict(data)

    # feedback
    def record_feedback(self, feedback: Feedback) -> bool:
        doc_id = validate_event_id("event_id", feedback.event_id)
        return self._create("feedback", doc_id, feedback.to_dict())

    def get_feedback(self, event_id: str) -> Feedback | None:
        data = self._read("feedback", validate_event_id("event_id", event_id))
        return None if data is None else Feedback.from_dict(data)

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
    return data
