"""The circuit breaker's state machine on a hand-driven clock, and the deadline budget."""

from __future__ import annotations

import threading
import time

import pytest

from movierec.errors import BackendUnavailable, CircuitOpen, DeadlineExceeded
from movierec.stores.breaker import BreakerEventLog, CircuitBreaker
from movierec.stores.deadline import time_left, within
from movierec.stores.local import SQLiteEventLog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def down() -> None:
    raise BackendUnavailable("down")


def trip(breaker: CircuitBreaker) -> None:
    for _ in range(breaker.failures):
        with pytest.raises(BackendUnavailable):
            breaker.call(down)


def test_opens_after_n_failures_in_a_row_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker("log", failures=3, reset_seconds=1.0, clock=Clock())
    for _ in range(2):
        with pytest.raises(BackendUnavailable):
            breaker.call(down)
    assert breaker.call(lambda: "ok") == "ok"  # two, then a success: still closed
    for _ in range(2):
        with pytest.raises(BackendUnavailable):
            breaker.call(down)
    assert breaker.state == "closed"
    with pytest.raises(BackendUnavailable):
        breaker.call(down)
    assert breaker.state == "open"


def test_open_fails_at_once_without_calling_and_says_when_it_probes() -> None:
    clock = Clock()
    breaker = CircuitBreaker("the event log", failures=1, reset_seconds=1.0, clock=clock)
    trip(breaker)
    clock.now += 0.25
    calls = []
    with pytest.raises(CircuitOpen, match="the event log") as refused:
        breaker.call(calls.append, 1)
    assert calls == [] and refused.value.retry_after == pytest.approx(0.75)


def test_half_open_lets_one_probe_through_and_its_success_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker("log", failures=1, reset_seconds=1.0, clock=clock)
    trip(breaker)
    clock.now += 1.0
    assert breaker.state == "half-open"
    probing, release = threading.Event(), threading.Event()

    def slow_probe() -> str:
        probing.set()
        release.wait(5)
        return "back"

    probe = threading.Thread(target=lambda: breaker.call(slow_probe))
    probe.start()
    probing.wait(5)
    with pytest.raises(CircuitOpen):  # a second call while the probe runs: refused at once
        breaker.call(lambda: "second")
    release.set()
    probe.join(5)
    assert breaker.state == "closed"
    assert breaker.call(lambda: "ok") == "ok"


def test_a_failed_probe_opens_again_for_a_full_reset_period() -> None:
    clock = Clock()
    breaker = CircuitBreaker("log", failures=3, reset_seconds=1.0, clock=clock)
    trip(breaker)
    clock.now += 1.0
    with pytest.raises(BackendUnavailable):
        breaker.call(down)  # the probe: one failure re-opens, not three
    assert breaker.state == "open"
    clock.now += 0.99
    assert breaker.state == "open"
    clock.now += 0.01
    assert breaker.state == "half-open"


@pytest.mark.parametrize("no_verdict", [DeadlineExceeded("spent"), ValueError("bad id")])
def test_a_call_that_never_reached_the_backend_gives_no_verdict(no_verdict: Exception) -> None:
    clock = Clock()
    breaker = CircuitBreaker("log", failures=1, reset_seconds=1.0, clock=clock)

    def refused() -> None:
        raise no_verdict

    with pytest.raises(type(no_verdict)):
        breaker.call(refused)
    assert breaker.state == "closed"
    trip(breaker)
    clock.now += 1.0
    with pytest.raises(type(no_verdict)):
        breaker.call(refused)  # the probe did not reach the backend: the next call probes
    assert breaker.state == "half-open"
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.state == "closed"


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker("log", failures=0)
    with pytest.raises(ValueError):
        CircuitBreaker("log", reset_seconds=0)


def test_the_budget_caps_each_call_and_runs_out() -> None:
    assert time_left(4.0) == 4.0  # no request: the adapter's own cap
    with within(0.2):
        assert time_left(4.0) <= 0.2
        assert time_left(0.05) == 0.05
        with within(10.0):  # a nested budget never extends the outer one
            assert time_left(4.0) <= 0.2
        time.sleep(0.25)
        with pytest.raises(DeadlineExceeded):
            time_left(4.0)
    assert time_left(4.0) == 4.0


def test_an_event_log_behind_a_breaker_is_an_event_log(tmp_path) -> None:
    from movierec.stores.ports import EventLog

    log = BreakerEventLog(SQLiteEventLog(tmp_path / "events.sqlite"), CircuitBreaker("log"))
    assert isinstance(log, EventLog)
    log.ping()
    assert log.list_experiments() == []


def test_a_failing_fold_in_read_never_opens_the_breaker_of_the_writes(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "events.sqlite"
    inner = SQLiteEventLog(path)
    inner.ping()
    with sqlite3.connect(path) as con:  # the read's table gone: every read fails, writes of other tables work
        con.execute("ALTER TABLE feedback RENAME TO feedback_elsewhere")
    breaker = CircuitBreaker("log", failures=3)
    log = BreakerEventLog(inner, breaker)
    for _ in range(2 * breaker.failures):
        with pytest.raises(BackendUnavailable):
            log.recent_feedback(7, 10)
    assert breaker.state == "closed"
    assert log.list_experiments() == []  # other calls still pass
    trip(breaker)
    with pytest.raises(CircuitOpen):  # while open, the optional read fails at once too
        log.recent_feedback(7, 10)
