"""The connection board the workers of one server share: live workers' counts, never one's own."""

from __future__ import annotations

import os

from movierec.serving.balance import ConnectionBoard


def test_the_fewest_connections_elsewhere_count_live_workers_only() -> None:
    board = ConnectionBoard(slots=8, stale_seconds=2.0)
    assert board.fewest_elsewhere(pid=100, now=10.0) is None  # alone
    board.post(slot=1, pid=100, connections=0, now=10.0)
    assert board.fewest_elsewhere(pid=100, now=10.0) is None  # its own slot is not another worker
    board.post(slot=2, pid=200, connections=5, now=10.0)
    board.post(slot=3, pid=300, connections=3, now=9.0)
    assert board.fewest_elsewhere(pid=100, now=10.5) == 3
    assert board.fewest_elsewhere(pid=100, now=11.5) == 5  # pid 300 went quiet for 2 s: dead
    board.post(slot=11, pid=400, connections=1, now=11.5)  # slot 11 of 8 is slot 3 again: a new worker
    assert board.fewest_elsewhere(pid=100, now=11.5) == 1


def test_forked_workers_see_each_others_posts() -> None:
    board = ConnectionBoard(slots=4)
    child = os.fork()
    if child == 0:  # the worker: post, and leave at once
        board.post(slot=1, pid=os.getpid(), connections=7)
        os._exit(0)
    os.waitpid(child, 0)
    assert board.fewest_elsewhere(pid=os.getpid()) == 7
