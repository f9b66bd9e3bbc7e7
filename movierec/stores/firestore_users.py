"""The UserDirectory on Firestore: one document ``users/{uid}`` per linked account,
``{"user_id": <the recommender's user id>, "linked_at": <unix seconds>}``.

The document id is the Firebase uid (checked by the stores' one id rule first, so a uid
Firestore would refuse is refused the same way on SQLite). Same short retries and
per-request budget as the event log (:mod:`movierec.stores.firestore`). Links do not
expire (no ``expire_at``): they are configuration, not events.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from google.cloud import firestore

from movierec.errors import BackendUnavailable
from movierec.stores.deadline import time_left
from movierec.stores.firestore import FIRESTORE_UNAVAILABLE, SHORT_RETRY, TIMEOUT
from movierec.stores.validation import validate_event_id

COLLECTION = "users"


class FirestoreUserDirectory:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def describe(self) -> str:
        return f"Firestore {COLLECTION}/ in project {self._client.project!r}"

    @property
    def _opts(self) -> dict[str, Any]:
        budget = time_left(max(TIMEOUT, SHORT_RETRY.timeout or 0.0))
        return {"retry": SHORT_RETRY.with_timeout(budget), "timeout": min(TIMEOUT, budget)}

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except FIRESTORE_UNAVAILABLE as exc:
            raise BackendUnavailable(f"{self.describe()}: {action} failed: {exc}") from exc

    def user_id_of(self, uid: str) -> int | None:
        try:
            validate_event_id("uid", uid)
        except ValueError:
            return None  # a uid no store can key was never linked
        with self._guard(f"read of {COLLECTION}/{uid}"):
            snapshot = self._client.collection(COLLECTION).document(uid).get(**self._opts)
        data = snapshot.to_dict() if snapshot.exists else None
        value = None if data is None else data.get("user_id")
        # A document without a whole user id links nothing (the uid is refused as unlinked).
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def link(self, uid: str, user_id: int) -> None:
        validate_event_id("uid", uid)
        with self._guard(f"write of {COLLECTION}/{uid}"):
            self._client.collection(COLLECTION).document(uid).set(
                {"user_id": int(user_id), "linked_at": time.time()}, **self._opts
            )

    def unlink(self, uid: str) -> bool:
        validate_event_id("uid", uid)
        document = self._client.collection(COLLECTION).document(uid)
        with self._guard(f"delete of {COLLECTION}/{uid}"):
            existed = document.get(**self._opts).exists
            document.delete(**self._opts)
        return bool(existed)
