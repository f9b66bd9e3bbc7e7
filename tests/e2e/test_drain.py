"""SIGTERM drains `movierec serve`: in-flight requests finish, new connections are refused,
the process exits within Cloud Run's 10 s grace period, and no acknowledged event is lost."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections import Counter

import pytest
import requests

from movierec.stores.local import SQLiteEventLog
from tests.e2e.server import server_process

pytestmark = [pytest.mark.e2e]

CLOUD_RUN_GRACE_S = 10.0


def test_sigterm_under_load_loses_no_acknowledged_event(local_env, home, tmp_path) -> None:
    env = {**local_env, "MOVIEREC_REQUEST_DEADLINE_SECONDS": "8"}
    acknowledged: set[str] = set()
    statuses: Counter = Counter()
    finished_after_sigterm: list[str] = []
    sigterm_at: list[float] = []
    stop = threading.Event()
    with server_process(env, tmp_path / "server.log", threads=4) as (url, proc):
        rec = requests.get(f"{url}/recommend", params={"user_id": 5}, timeout=30).json()

        def client(n: int) -> None:
            session = requests.Session()
            for i in range(10_000):
                if stop.is_set():
                    return
                event_id = f"c{n}-{i}"
                body = {"event_id": event_id, "request_id": rec["request_id"], "token": rec["token"],
                        "user_id": 5, "movie_id": rec["items"][0]["movie_id"], "type": "click"}
                try:
                    response = session.post(f"{url}/feedback", json=body, timeout=30)
                except requests.ConnectionError:
                    statuses["refused"] += 1
                    return
                statuses[response.status_code] += 1
                if response.status_code in (200, 201):
                    acknowledged.add(event_id)
                    if sigterm_at and time.monotonic() > sigterm_at[0]:
                        finished_after_sigterm.append(event_id)

        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in clients:
            thread.start()
        time.sleep(1.5)  # load is running
        # Hold the write lock: the requests now in flight wait inside the server.
        holder = sqlite3.connect(home / "events.sqlite", isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        time.sleep(0.5)
        sigterm_at.append(time.monotonic())
        proc.send_signal(signal.SIGTERM)  # the server's own PID (gunicorn's master)
        time.sleep(0.5)
        with pytest.raises(requests.ConnectionError):  # draining: a new connection is refused
            requests.get(f"{url}/healthz", timeout=5)
        holder.execute("ROLLBACK")  # the in-flight requests can now finish
        holder.close()
        proc.wait(timeout=30)
        exited_after = time.monotonic() - sigterm_at[0]
        stop.set()
        for thread in clients:
            thread.join(30)
    assert proc.returncode == 0, proc.returncode
    assert exited_after < CLOUD_RUN_GRACE_S, exited_after
    assert finished_after_sigterm, f"no request was in flight across the SIGTERM: {statuses}"
    assert statuses[500] == 0 and statuses[503] == 0, statuses
    # The stored key is scoped to the request; the client's event_id is kept in extra.
    stored = {row["extra"]["client_event_id"] for row in SQLiteEventLog(home / "events.sqlite").scan("feedback", 0.0)}
    assert acknowledged <= stored, f"acknowledged but not stored: {sorted(acknowledged - stored)[:5]}"
    assert len(acknowledged) > 50, statuses
