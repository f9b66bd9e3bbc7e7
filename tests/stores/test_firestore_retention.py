"""Every event document Firestore stores carries ``expire_at`` (the TTL field of
infra/firestore.tf), ``retention_days`` after the event; reads and scans hide it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from movierec.events import Assignment, Experiment, Feedback, Impression, Variant
from movierec.settings import Settings
from movierec.stores import factory
from movierec.stores.firestore import FirestoreEventLog
from tests.infra import tfconfig
from tests.infra.tools import REPO

pytestmark = pytest.mark.emulator

TS = 1_700_000_000.5


def events() -> tuple[Assignment, Impression, Feedback]:
    assignment = Assignment("exp-1", 7, "control", 123, TS)
    impression = Impression(
        "req-1", TS, 7, "exp-1", "control", "svd", "v1", (1, 2), (0.5, 0.25), None, 3.0
    )
    feedback = Feedback("ev-1", TS + 5, "req-1", 7, 2, "click", None, 2, "exp-1", "control")
    return assignment, impression, feedback


def stored(client: Any, collection: str, doc_id: str) -> dict[str, Any]:
    snapshot = client.collection(collection).document(doc_id).get()
    assert snapshot.exists, f"{collection}/{doc_id} was not written"
    data: dict[str, Any] = snapshot.to_dict()
    return data


def test_every_event_document_is_written_with_expire_at(firestore_client: Any) -> None:
    log = FirestoreEventLog(firestore_client, retention_days=30)
    assignment, impression, feedback = events()
    log.get_or_create_assignment(assignment)
    log.record_impression(impression)
    log.record_feedback(feedback)
    log.put_experiment(
        Experiment("exp-1", "salt", (Variant("control", "svd", None, 1.0),), 1.0, (), TS)
    )
    expected = {
        ("assignments", "exp-1:7"): TS,
        ("impressions", "req-1"): TS,
        ("feedback", "ev-1"): TS + 5,
    }
    for (collection, doc_id), ts in expected.items():
        expire_at = stored(firestore_client, collection, doc_id)["expire_at"]
        # Firestore gives back a timezone-aware timestamp (microsecond precision).
        assert isinstance(expire_at, datetime) and expire_at.tzinfo is not None
        assert expire_at == datetime.fromtimestamp(ts, timezone.utc) + timedelta(days=30)
    # Experiments are configuration, not events: they never expire.
    assert "expire_at" not in stored(firestore_client, "experiments", "exp-1")


def test_reads_and_scans_return_the_event_without_the_storage_field(
    firestore_client: Any,
) -> None:
    log = FirestoreEventLog(firestore_client)
    assignment, impression, feedback = events()
    log.get_or_create_assignment(assignment)
    log.record_impression(impression)
    log.record_feedback(feedback)
    assert log.get_impression("req-1") == impression
    assert log.get_feedback("ev-1") == feedback
    assert log.get_assignment("exp-1", 7) == assignment
    assert [row["request_id"] for row in log.scan("impressions", 0.0)] == ["req-1"]
    for collection in ("impressions", "feedback", "assignments"):
        assert all("expire_at" not in row for row in log.scan(collection, 0.0)), collection
    default = stored(firestore_client, "impressions", "req-1")["expire_at"]
    assert default == datetime.fromtimestamp(TS, timezone.utc) + timedelta(days=90)


def test_the_retention_comes_from_settings(firestore_client: Any, firestore_emulator: Any) -> None:
    settings = Settings.from_env(
        {
            **firestore_emulator.env(),
            "MOVIEREC_BACKEND": "gcp",
            "GOOGLE_CLOUD_PROJECT": firestore_client.project,
            "MOVIEREC_ARTIFACT_BUCKET": "unused",
            # Only the event log is used; the storage client is created but never called.
            "STORAGE_EMULATOR_HOST": "127.0.0.1:9",
            "MOVIEREC_TOKEN_SECRET": "s" * 32,
            "MOVIEREC_EVENT_RETENTION_DAYS": "7",
        }
    )
    log = factory.make_stores(settings).events
    log.record_impression(events()[1])
    expire_at = stored(firestore_client, "impressions", "req-1")["expire_at"]
    assert expire_at == datetime.fromtimestamp(TS, timezone.utc) + timedelta(days=7)


def test_a_retention_below_one_day_is_refused() -> None:
    with pytest.raises(Exception, match="MOVIEREC_EVENT_RETENTION_DAYS must be at least 1"):
        Settings.from_env({"MOVIEREC_EVENT_RETENTION_DAYS": "0"})


def test_the_ttl_policy_covers_every_collection_that_gets_expire_at() -> None:
    ttl = tfconfig.load(REPO / "infra").resource("google_firestore_field", "ttl")
    assert ttl["field"] == "expire_at"
    for collection in ("assignments", "impressions", "feedback"):
        assert f'"{collection}"' in str(ttl["for_each"]), collection
