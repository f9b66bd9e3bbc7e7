"""The worker's sign of life to gunicorn's arbiter: a real heartbeat file, touched at most
once per ``notify_every`` instead of on every pass of the event loop."""

from __future__ import annotations

import os

from gunicorn.config import Config
from gunicorn.workers.workertmp import WorkerTmp

from movierec.serving.worker import BoundedThreadWorker


def heartbeat(notify_every: float) -> tuple[BoundedThreadWorker, WorkerTmp]:
    worker = BoundedThreadWorker.__new__(BoundedThreadWorker)  # no sockets or app: only its heartbeat
    worker.tmp = WorkerTmp(Config())
    worker.notify_every = notify_every
    return worker, worker.tmp


def touched(tmp: WorkerTmp) -> float:
    return os.fstat(tmp.fileno()).st_mtime


def test_the_heartbeat_is_touched_once_per_interval_not_on_every_loop_pass() -> None:
    worker, tmp = heartbeat(notify_every=3600.0)
    try:
        os.utime(tmp.fileno(), (0, 0))
        worker.notify()
        first = touched(tmp)
        assert first > 0  # the first pass tells the arbiter at once
        os.utime(tmp.fileno(), (0, 0))
        for _ in range(100):
            worker.notify()
        assert touched(tmp) == 0  # within the interval: no syscall per pass
    finally:
        tmp.close()


def test_a_zero_interval_touches_it_on_every_pass() -> None:
    worker, tmp = heartbeat(notify_every=0.0)
    try:
        for _ in range(3):
            os.utime(tmp.fileno(), (0, 0))
            worker.notify()
            assert touched(tmp) > 0
    finally:
        tmp.close()
