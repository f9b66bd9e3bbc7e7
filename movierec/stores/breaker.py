"""A circuit breaker for a backend, and the EventLog behind one.

States, with ``n`` = ``failures`` and ``r`` = ``reset_seconds``::

    closed ──(n backend failures in a row)──▶ open ──(r seconds)──▶ half-open
      ▲                                         ▲                       │
      └────────────(the probe succeeds)─────────┴──(the probe fails)────┘

- **closed**: calls go through; a success resets the count of failures in a row.
- **open**: calls fail at once with :class:`~movierec.errors.CircuitOpen` (a
  ``BackendUnavailable``, so the request answers 503 + ``Retry-After`` in microseconds
  instead of waiting for a stalled backend's timeout).
- **half-open**: exactly one call, the probe, goes through; the others fail at once
  as in *open* while it runs. Its success closes the breaker, its failure opens it for
  another ``r`` seconds. So a backend that is back is used again at most ``r`` seconds
  plus one call's latency later, and a backend that is still down costs one call per
  ``r`` seconds.

A failure is a :class:`~movierec.errors.BackendUnavailable` raised by the call. A call
that never reached the backend (the request's deadline had already passed, an id the
adapter refused, any other exception) gives no verdict: it neither counts as a failure
nor closes the breaker.

Why not pybreaker: its half-open state lets every concurrent call through (a stalled
backend would then hold every request thread again), and it reads the wall clock; this
one has a single probe and an injected monotonic clock, so its tests need no sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar

from movierec.errors import BackendUnavailable, CircuitOpen, DeadlineExceeded
from movierec.events import Assignment, Experiment, Feedback, Impression
from movierec.stores.ports import EventLog

State = Literal["closed", "open", "half-open"]
T = TypeVar("T")


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failures: int = 3,
        reset_seconds: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1 or reset_seconds <= 0:
            raise ValueError("a breaker needs failures >= 1 and reset_seconds > 0")
        self.name, self.failures, self.reset_seconds, self.clock = name, failures, reset_seconds, clock
        self._lock = threading.Lock()
        self._failed_in_a_row = 0
        self._opened_at: float | None = None  # None: closed
        self._probing = False

    @property
    def state(self) -> State:
        with self._lock:
            return self._state(self.clock())

    def _state(self, now: float) -> State:
        if self._opened_at is None:
            return "closed"
        return "half-open" if now - self._opened_at >= self.reset_seconds else "open"

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` if the breaker lets it through, else :class:`CircuitOpen` at once."""
        probe = self._admit()
        try:
            result = fn(*args)
        except (DeadlineExceeded, CircuitOpen):
            self._no_verdict(probe)
            raise
        except BackendUnavailable:
            self._failed(probe)
            raise
        except BaseException:
            self._no_verdict(probe)
            raise
        self._succeeded()
        return result

    def _admit(self) -> bool:
        """True when this call is the half-open probe; CircuitOpen when no call may pass."""
        with self._lock:
            now = self.clock()
            state = self._state(now)
            if state == "closed":
                return False
            if state == "half-open" and not self._probing:
                self._probing = True
                return True
            assert self._opened_at is not None
            wait = max(self.reset_seconds - (now - self._opened_at), 0.0)
            raise CircuitOpen(f"{self.name} is unavailable (circuit open; next probe in {wait:.1f} s)", wait)

    def _succeeded(self) -> None:
        with self._lock:
            self._failed_in_a_row, self._opened_at, self._probing = 0, None, False

    def _failed(self, probe: bool) -> None:
        with self._lock:
            if probe or self._opened_at is not None:
                self._opened_at, self._probing = self.clock(), False  # the probe failed: open again
                return
            self._failed_in_a_row += 1
            if self._failed_in_a_row >= self.failures:
                self._opened_at = self.clock()

    def _no_verdict(self, probe: bool) -> None:
        if probe:
            with self._lock:
                self._probing = False  # the next call probes instead


class BreakerEventLog:
    """An EventLog whose every call passes through one breaker (one backend, one breaker)."""

    def __init__(self, log: EventLog, breaker: CircuitBreaker) -> None:
        self.log, self.breaker = log, breaker

    def put_experiment(self, experiment: Experiment) -> None:
        self.breaker.call(self.log.put_experiment, experiment)

    def get_experiment(self, experiment_id: str) -> Experiment | None:
        return self.breaker.call(self.log.get_experiment, experiment_id)

    def list_experiments(self) -> list[Experiment]:
        return self.breaker.call(self.log.list_experiments)

    def get_or_create_assignment(self, assignment: Assignment) -> Assignment:
        return self.breaker.call(self.log.get_or_create_assignment, assignment)

    def get_assignment(self, experiment_id: str, user_id: int) -> Assignment | None:
        return self.breaker.call(self.log.get_assignment, experiment_id, user_id)

    def record_impression(self, impression: Impression) -> None:
        self.breaker.call(self.log.record_impression, impression)

    def get_impression(self, request_id: str) -> Impression | None:
        return self.breaker.call(self.log.get_impression, request_id)

    def record_feedback(self, feedback: Feedback) -> bool:
        return self.breaker.call(self.log.record_feedback, feedback)

    def get_feedback(self, event_id: str) -> Feedback | None:
        return self.breaker.call(self.log.get_feedback, event_id)

    def recent_feedback(self, user_id: int, limit: int) -> list[Feedback]:
        # An optional read (a new user's fold-in): it fails at once while the circuit is
        # open, but its own failures never open it, so a missing Firestore index or a slow
        # query cannot turn the impression writes of every user into 503s.
        if self.breaker.state != "closed":
            raise CircuitOpen(f"{self.breaker.name} is unavailable (circuit not closed)", self.breaker.reset_seconds)
        return self.log.recent_feedback(user_id, limit)

    def scan(self, collection: str, since: float, limit: int | None = None) -> Iterable[dict[str, Any]]:
        return self.breaker.call(lambda: list(self.log.scan(collection, since, limit)))

    def ping(self) -> None:
        self.breaker.call(self.log.ping)
