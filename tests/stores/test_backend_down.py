"""A backend that cannot serve gives BackendUnavailable (so handlers answer 503), quickly,
and the same adapter works again once the backend is back."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from movierec.errors import BackendUnavailable
from movierec.events import Feedback
from movierec.stores.deadline import within
from movierec.stores.firestore import FirestoreEventLog
from movierec.stores.gcs import GCSArtifactStore
from movierec.stores.local import SQLiteEventLog
from tests.conftest import GCP_TEST_PROJECT, GCS_TEST_BUCKET

# Far above the ~4 s retry deadline, far below the client libraries' default of 120-300 s.
NOT_HANGING_S = 30.0


def event(event_id: str = "ev-1") -> Feedback:
    return Feedback(event_id, 5.0, "req-1", 1, 2, "click", None, 1, "exp-1", "control")


def timed_unavailable(call: Callable[[], object]) -> float:
    start = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        call()
    elapsed = time.monotonic() - start
    assert "failed" in str(caught.value)
    return elapsed


def eventually(call: Callable[[], object], within_s: float = 60.0) -> object:
    """The first result of ``call`` that is not BackendUnavailable (gRPC reconnects with backoff)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return call()
        except BackendUnavailable:
            if time.monotonic() > deadline:
                raise


@pytest.mark.emulator
def test_firestore_down_then_back(firestore_emulator, firestore_client, record_property) -> None:
    log = FirestoreEventLog(firestore_client)
    assert log.record_feedback(event("before")) is True
    firestore_emulator.stop()
    try:
        write_s = timed_unavailable(lambda: log.record_feedback(event("during")))
        scan_s = timed_unavailable(lambda: log.scan("feedback", 0.0))
    finally:
        firestore_emulator.start()
    # The emulator keeps no data across a restart; the same client must work again.
    start = time.monotonic()
    assert eventually(lambda: log.record_feedback(event("after"))) is True
    back_s = time.monotonic() - start
    assert log.get_feedback("after") == event("after")
    record_property("firestore_seconds", {"write": write_s, "scan": scan_s, "back": back_s})
    print(f"firestore down: BackendUnavailable after {write_s:.1f} s (write), {scan_s:.1f} s (scan);"
          f" writes again {back_s:.1f} s after the restart")
    assert max(write_s, scan_s) < NOT_HANGING_S


@pytest.mark.emulator
def test_cloud_storage_down_then_back(storage_emulator, gcs_bucket, record_property) -> None:
    store = GCSArtifactStore(gcs_bucket.client, gcs_bucket.name)
    store.write_bytes("a.bin", b"a")
    storage_emulator.stop()
    try:
        write_s = timed_unavailable(lambda: store.write_bytes("b.bin", b"b"))
        read_s = timed_unavailable(lambda: store.read_bytes("a.bin"))
    finally:
        storage_emulator.start()
    record_property("gcs_down_seconds", {"write": write_s, "read": read_s})
    print(f"storage down: BackendUnavailable after {write_s:.1f} s (write), {read_s:.1f} s (read)")
    assert max(write_s, read_s) < NOT_HANGING_S
    storage_emulator.create_bucket(GCS_TEST_BUCKET, GCP_TEST_PROJECT)  # in-memory: gone
    store.write_bytes("c.bin", b"c")
    assert store.read_bytes("c.bin") == b"c"


@pytest.mark.emulator
def test_cloud_storage_missing_bucket_is_unavailable(gcs_bucket) -> None:
    store = GCSArtifactStore(gcs_bucket.client, "no-such-bucket")
    with pytest.raises(BackendUnavailable, match="no-such-bucket"):
        store.write_bytes("a.bin", b"a")


def test_sqlite_under_a_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("x")
    log = SQLiteEventLog(tmp_path / "not-a-folder" / "events.sqlite")
    with pytest.raises(BackendUnavailable, match="not-a-folder"):
        log.record_feedback(event())
    with pytest.raises(BackendUnavailable):
        log.ping()


def test_sqlite_path_that_is_a_folder_is_unavailable(tmp_path: Path) -> None:
    log = SQLiteEventLog(tmp_path)
    with pytest.raises(BackendUnavailable, match="unable to open"):
        log.get_feedback("ev-1")


def test_sqlite_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    path.write_bytes(b"this is not a database file, just text " * 100)
    with pytest.raises(BackendUnavailable, match="not a database"):
        SQLiteEventLog(path).record_feedback(event())


def test_sqlite_locked_past_the_busy_timeout_is_unavailable_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    log = SQLiteEventLog(path, busy_timeout_ms=100)
    log.ping()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        with pytest.raises(BackendUnavailable, match="locked"):
            log.record_feedback(event())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert log.record_feedback(event()) is True


def test_sqlite_waits_for_a_short_lock_instead_of_failing(tmp_path: Path) -> None:
    """busy_timeout: a writer queued behind a brief transaction succeeds."""
    path = tmp_path / "events.sqlite"
    log = SQLiteEventLog(path, busy_timeout_ms=10_000)
    log.ping()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        assert log.record_feedback(event()) is True
    finally:
        release.join()
        holder.close()


def test_sqlite_waits_for_a_held_lock_no_longer_than_the_request_budget(tmp_path: Path) -> None:
    """The lock wait is the request's budget left (in whole 50 ms steps), not busy_timeout."""
    path = tmp_path / "events.sqlite"
    log = SQLiteEventLog(path, busy_timeout_ms=20_000)
    log.ping()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    try:
        with within(0.3), pytest.raises(BackendUnavailable, match="locked"):
            log.record_feedback(event())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert time.monotonic() - started < 10  # 20 s had the budget been ignored
    assert log.record_feedback(event()) is True
