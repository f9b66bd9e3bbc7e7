"""One contract for every EventLog: SQLite and Firestore (emulator), same assertions."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest

from movierec.events import Assignment, Experiment, Feedback, Guardrail, Impression, Plan, Variant
from movierec.stores.firestore import FirestoreEventLog
from movierec.stores.local import SQLiteEventLog
from movierec.stores.ports import EventLog

T = TypeVar("T")
THREADS = 8


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventLog]:
    if request.param == "sqlite":
        sqlite = SQLiteEventLog(tmp_path / "events.sqlite")
        yield sqlite
        sqlite.close()
    else:
        yield FirestoreEventLog(request.getfixturevalue("firestore_client"))


def experiment(experiment_id: str = "exp-1", created_at: float = 100.0) -> Experiment:
    return Experiment(
        experiment_id=experiment_id,
        salt="s4lt",
        variants=(Variant("control", "svd", None, 0.5), Variant("treatment", "ease", "v7", 0.5)),
        coverage=0.8,
        guardrails=("ctr", "latency_p95"),
        created_at=created_at,
        started_at=created_at + 1.5,
    )


def impression(request_id: str = "req-1", ts: float = 1000.25) -> Impression:
    return Impression(
        request_id=request_id,
        ts=ts,
        user_id=42,
        experiment_id="exp-1",
        variant="treatment",
        model_name="ease",
        model_version="v7",
        movie_ids=(50, 181, 7),
        scores=(0.9, 0.5, 0.125),
        fallback=None,
        latency_ms=12.5,
    )


def feedback(event_id: str = "ev-1", ts: float = 1001.5, **changes: object) -> Feedback:
    base = Feedback(
        event_id=event_id,
        ts=ts,
        request_id="req-1",
        user_id=42,
        movie_id=181,
        type="rating",
        value=4.5,
        position=2,
        experiment_id="exp-1",
        variant="treatment",
        extra={"client": "web", "dwell_ms": 1200},
    )
    return replace(base, **changes)


def race(n: int, call: Callable[[int], T]) -> list[T]:
    """Run ``call(i)`` for i < n in n threads released together by a barrier."""
    barrier = threading.Barrier(n)

    def go(i: int) -> T:
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def test_is_an_event_log(log: EventLog) -> None:
    assert isinstance(log, EventLog)
    log.ping()


def test_experiments_round_trip_and_update(log: EventLog) -> None:
    assert log.get_experiment("exp-1") is None
    assert log.list_experiments() == []
    log.put_experiment(experiment("exp-2"))
    log.put_experiment(experiment("exp-1"))
    assert log.get_experiment("exp-1") == experiment("exp-1")
    stopped = replace(experiment("exp-1"), status="stopped", stopped_at=500.0)
    log.put_experiment(stopped)
    assert log.get_experiment("exp-1") == stopped
    assert log.list_experiments() == [stopped, experiment("exp-2")]


def test_an_experiment_with_a_plan_round_trips(log: EventLog) -> None:
    planned = replace(
        experiment("exp-plan"),
        guardrails=(Guardrail("rating", 0.01), Guardrail("clicks_per_user", 0.05)),
        secondary_metrics=("clicks_per_user",),
        plan=Plan(mde=0.1, alpha=0.05, power=0.8, baseline=0.25, baseline_variance=0.1875,
                  users_per_variant=10_912, total_users=21_824),
    )
    log.put_experiment(planned)
    assert log.get_experiment("exp-plan") == planned
    assert log.list_experiments() == [planned]


def test_assignment_first_write_wins(log: EventLog) -> None:
    first = Assignment("exp-1", 42, "control", 17, 1000.0)
    assert log.get_assignment("exp-1", 42) is None
    assert log.get_or_create_assignment(first) == first
    later = Assignment("exp-1", 42, "treatment", 99, 2000.0)
    assert log.get_or_create_assignment(later) == first
    assert log.get_assignment("exp-1", 42) == first
    assert log.get_assignment("exp-1", 43) is None
    assert log.get_assignment("exp-2", 42) is None


def test_assignment_first_write_wins_under_concurrency(log: EventLog) -> None:
    for user_id in (1, 2, 3):
        candidates = [
            Assignment("exp-1", user_id, f"variant-{i}", i, 1000.0 + i) for i in range(THREADS)
        ]
        results = race(THREADS, lambda i, c=candidates: log.get_or_create_assignment(c[i]))
        winner = results[0]
        assert winner in candidates
        assert results == [winner] * THREADS
        assert log.get_assignment("exp-1", user_id) == winner


def test_impression_round_trip_created_once(log: EventLog) -> None:
    assert log.get_impression("req-1") is None
    log.record_impression(impression())
    assert log.get_impression("req-1") == impression()
    log.record_impression(replace(impression(), variant="control", movie_ids=(1,), scores=(0.1,)))
    assert log.get_impression("req-1") == impression()


def test_feedback_round_trip_and_idempotent(log: EventLog) -> None:
    assert log.get_feedback("ev-1") is None
    assert log.record_feedback(feedback()) is True
    assert log.get_feedback("ev-1") == feedback()
    assert log.record_feedback(feedback(value=1.0)) is False
    assert log.get_feedback("ev-1") == feedback()
    click = feedback("ev-2", type="click", value=None, extra={})
    assert log.record_feedback(click) is True
    assert log.get_feedback("ev-2") == click


def test_duplicate_feedback_is_stored_once_under_concurrency(log: EventLog) -> None:
    stored = race(THREADS, lambda i: log.record_feedback(feedback("ev-race", value=float(i))))
    assert sorted(stored) == [False] * (THREADS - 1) + [True]
    winner = log.get_feedback("ev-race")
    assert winner is not None and winner.value == float(stored.index(True))


def test_recent_feedback_is_the_users_latest_newest_first_bounded(log: EventLog) -> None:
    # user 42: five events, two at one instant (ties by event id, descending); user 7: one.
    for event_id, ts in (("a", 10.0), ("b", 30.0), ("c", 20.0), ("d", 30.0), ("e", 5.0)):
        log.record_feedback(feedback(event_id, ts=ts))
    log.record_feedback(feedback("other", ts=40.0, user_id=7))
    assert [f.event_id for f in log.recent_feedback(42, 3)] == ["d", "b", "c"]
    assert [f.event_id for f in log.recent_feedback(42, 100)] == ["d", "b", "c", "a", "e"]
    assert log.recent_feedback(7, 10) == [feedback("other", ts=40.0, user_id=7)]
    assert log.recent_feedback(8, 10) == [] and log.recent_feedback(42, 0) == []
    with pytest.raises(ValueError):
        log.recent_feedback(42, -1)


def test_scan_orders_by_time_and_honours_since_and_limit(log: EventLog) -> None:
    times = [1005.0, 1001.0, 1003.0, 1002.0, 1004.0]
    for i, ts in enumerate(times):
        log.record_feedback(feedback(f"ev-{i}", ts=ts))
    rows = list(log.scan("feedback", since=0.0))
    assert [r["ts"] for r in rows] == sorted(times)
    assert rows[0] == feedback("ev-1", ts=1001.0).to_dict()
    assert [r["ts"] for r in log.scan("feedback", since=1003.0)] == [1003.0, 1004.0, 1005.0]
    assert [r["event_id"] for r in log.scan("feedback", since=1002.0, limit=2)] == ["ev-3", "ev-2"]
    assert list(log.scan("feedback", since=1005.5)) == []
    assert list(log.scan("feedback", since=0.0, limit=0)) == []


def test_scan_breaks_time_ties_by_key(log: EventLog) -> None:
    for event_id in ("ev-c", "ev-a", "ev-b"):
        log.record_feedback(feedback(event_id, ts=7.0))
    assert [r["event_id"] for r in log.scan("feedback", since=7.0)] == ["ev-a", "ev-b", "ev-c"]


def test_scan_every_collection_returns_event_dicts(log: EventLog) -> None:
    log.put_experiment(experiment("exp-1", created_at=10.0))
    assignment = Assignment("exp-1", 42, "control", 17, 20.0)
    log.get_or_create_assignment(assignment)
    log.record_impression(impression(ts=30.0))
    log.record_feedback(feedback(ts=40.0))
    assert list(log.scan("experiments", 0.0)) == [experiment("exp-1", created_at=10.0).to_dict()]
    assert list(log.scan("assignments", 0.0)) == [assignment.to_dict()]
    assert list(log.scan("impressions", 0.0)) == [impression(ts=30.0).to_dict()]
    assert list(log.scan("feedback", 0.0)) == [feedback(ts=40.0).to_dict()]
    assert list(log.scan("feedback", 40.5)) == []


@pytest.mark.parametrize("limit", [-1, 1.5, True])
def test_scan_rejects_bad_arguments(log: EventLog, limit: object) -> None:
    with pytest.raises(ValueError, match="unknown event collection 'clicks'"):
        log.scan("clicks", 0.0)
    with pytest.raises(ValueError, match="limit"):
        log.scan("feedback", 0.0, limit=limit)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad_id", ["", "a/b", "..", "__reserved__"])
def test_ids_that_cannot_be_document_ids_are_refused(log: EventLog, bad_id: str) -> None:
    with pytest.raises(ValueError, match="event_id"):
        log.record_feedback(feedback(bad_id))
    with pytest.raises(ValueError, match="request_id"):
        log.record_impression(impression(bad_id))
    with pytest.raises(ValueError, match="experiment_id"):
        log.put_experiment(experiment(bad_id))
    assert list(log.scan("feedback", 0.0)) == []
