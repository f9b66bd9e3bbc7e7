"""One time budget per request, shared by every backend call the request makes.

A request lists experiments, stores an assignment and writes an event: with a timeout
per call, a stalled backend makes the client wait for the sum of them. Instead the
serving layer opens ``within(seconds)`` around a request, and each adapter asks
``time_left(cap)`` for the timeout (and retry deadline) of its next call: the cap when no
budget is open (jobs, CLI), else what remains of the request's budget, and
:class:`~movierec.errors.DeadlineExceeded` once nothing remains.

The budget lives in a :class:`contextvars.ContextVar`: each request thread sees its own,
and the EventLog port keeps its signatures (no ``timeout=`` threaded through every call).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from movierec.errors import DeadlineExceeded

# Monotonic time at which the current request's budget ends; None outside a request.
_ENDS_AT: ContextVar[float | None] = ContextVar("movierec_deadline", default=None)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Every backend call inside the block shares one budget of ``seconds``.

    A block opened inside another keeps the earlier end: a nested budget never extends it.
    """
    ends_at = time.monotonic() + seconds
    outer = _ENDS_AT.get()
    token = _ENDS_AT.set(ends_at if outer is None else min(outer, ends_at))
    try:
        yield
    finally:
        _ENDS_AT.reset(token)


def time_left(cap: float) -> float:
    """Seconds the next backend call may take: at most ``cap``, at most what the budget has left."""
    ends_at = _ENDS_AT.get()
    if ends_at is None:
        return cap
    left = ends_at - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the request's deadline passed before the backend call")
    return min(cap, left)
