"""A stalled or down event log under traffic: requests answer 503 fast once the circuit
breaker opens, no request waits past the deadline, and service resumes soon after the
backend returns. (The numbers themselves are measured by scripts/bench_outage.py.)"""

from __future__ import annotations

import pytest

from tests.e2e.server import running_server
from tests.fixtures.outage_traffic import SqliteLock, run_outage

pytestmark = [pytest.mark.e2e]

DEADLINE_S = 1.0
# Generous: 2 cores shared with other work. The deadline bounds every answer; the breaker
# makes the answers after it opens much faster than the deadline.
SLACK_S = 2.0


def assert_holds(times) -> None:
    assert times.slowest_while_down_ms / 1000 < DEADLINE_S + SLACK_S, times
    assert times.opened < 3 * DEADLINE_S + SLACK_S, times
    assert times.fast_503_p50_ms < DEADLINE_S * 1000 / 4, times
    assert times.recovered < 2.0 + SLACK_S, times


def test_a_held_sqlite_write_lock(local_env, home, tmp_path) -> None:
    with running_server(local_env, tmp_path / "server.log", threads=4) as url:
        lock = SqliteLock(home / "events.sqlite")
        assert_holds(run_outage(url, lock.begin, lock.end, down_s=3.0))


@pytest.mark.emulator
def test_a_stalled_firestore_sigstop_then_sigcont(gcp_backend, tmp_path) -> None:
    emulator = gcp_backend.emulator
    with running_server(gcp_backend.env, tmp_path / "server.log", threads=4) as url:
        try:
            assert_holds(run_outage(url, emulator.pause, emulator.resume, down_s=3.0))
        finally:
            emulator.resume()


@pytest.mark.emulator
def test_a_killed_then_restarted_firestore(gcp_backend, tmp_path) -> None:
    emulator = gcp_backend.emulator
    with running_server(gcp_backend.env, tmp_path / "server.log", threads=4) as url:
        assert_holds(run_outage(url, emulator.stop, emulator.start_serving, down_s=3.0))
