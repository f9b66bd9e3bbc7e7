"""How many connections each worker of one server holds, in memory its forked workers share.

gunicorn's workers all accept from one listening socket, and a kept-alive connection stays
with the worker that accepted it. Which worker wins an ``accept`` is a race of wake-ups, so
16 connections opened at once were split 2/14 or 3/13 in two of six tries
(``ss -tnp``), and the worker holding 14 served them on one core while the other idled:
throughput fell from about 740 to 520 req/s, and one wrk round in each of three
configurations of ``scripts/bench_serving.py`` ran at half speed. With this board a worker
that holds more connections than another live worker leaves a pending connection to it
for a moment (see :meth:`BoundedThreadWorker.accept
<movierec.serving.worker.BoundedThreadWorker.accept>`).

The board is a ``RawArray`` the master creates before it forks: per slot (a worker's
``age`` modulo the slots) its pid, its connection count and when it last wrote. A slot
not written for ``stale_seconds`` (an idle worker writes at least once a second) is a
dead worker's and ignored. No lock: each worker writes only its slot, and a torn read
only misjudges one accept.
"""

from __future__ import annotations

import time
from multiprocessing.sharedctypes import RawArray

FIELDS = 3  # pid, connections, written at (time.monotonic: one clock for all processes)


class ConnectionBoard:
    def __init__(self, slots: int = 64, stale_seconds: float = 2.0) -> None:
        self.slots, self.stale_seconds = slots, stale_seconds
        self._cells = RawArray("d", FIELDS * slots)

    def post(self, slot: int, pid: int, connections: int, now: float | None = None) -> None:
        base = FIELDS * (slot % self.slots)
        self._cells[base], self._cells[base + 1] = float(pid), float(connections)
        self._cells[base + 2] = time.monotonic() if now is None else now

    def fewest_elsewhere(self, pid: int, now: float | None = None) -> int | None:
        """The fewest connections a live worker other than ``pid`` holds; None if there is none."""
        now = time.monotonic() if now is None else now
        cells = self._cells
        counts = [
            cells[base + 1]
            for base in range(0, FIELDS * self.slots, FIELDS)
            if cells[base] not in (0.0, float(pid)) and now - cells[base + 2] < self.stale_seconds
        ]
        return int(min(counts)) if counts else None
