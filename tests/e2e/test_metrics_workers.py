"""`/metrics` of `movierec serve --workers 2` counts the requests of both workers.

Each gunicorn worker is a process of its own; without prometheus-client's multiprocess
mode a scrape shows only the counts of the worker that happens to answer it.
"""

from __future__ import annotations

import os
import re
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.e2e.server import server_process

pytestmark = pytest.mark.e2e

REQUESTS = 200
SCRAPES = 12


def fresh_get(url: str) -> requests.Response:
    """One request on a connection of its own, so that either worker may accept it."""
    return requests.get(url, headers={"Connection": "close"}, timeout=10)


def sample(exposition: str, name: str, labels: dict[str, str]) -> float:
    """The value of one sample of a Prometheus text exposition (labels in any order)."""
    for line in exposition.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match.group(1))) == labels:
            return float(match.group(2))
    raise AssertionError(f"no sample {name}{labels} in:\n{exposition}")


def test_two_workers_count_every_request_on_every_scrape(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")  # from an earlier run: wiped
    env = {"MOVIEREC_HOME": str(tmp_path / "home"), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    ping = {"function": "ping", "variant": "none", "status_class": "2xx"}
    with server_process(env, tmp_path / "server.log", workers=2, threads=2) as (url, proc):
        # The readiness probe of server_process pinged already; a scrape is not counted.
        before = sample(fresh_get(f"{url}/metrics").text, "movierec_requests_total", ping)
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: fresh_get(f"{url}/ping").status_code, range(REQUESTS)))
        assert statuses == [200] * REQUESTS

        workers_that_served = sorted(metrics_dir.glob("counter_*.db"))
        assert len(workers_that_served) == 2, (
            f"expected both workers to have served (value files {workers_that_served}); "
            f"log:\n{(tmp_path / 'server.log').read_text()[-2000:]}"
        )
        for _ in range(SCRAPES):  # whichever worker answers, the totals are the same
            scrape = fresh_get(f"{url}/metrics")
            assert scrape.status_code == 200
            text = scrape.text
            assert sample(text, "movierec_requests_total", ping) == before + REQUESTS
            assert sample(text, "movierec_request_duration_seconds_count",
                          {"function": "ping", "variant": "none"}) == before + REQUESTS
            assert sample(text, "movierec_requests_in_flight", {"function": "ping"}) == 0
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    # A folder of the user's own is kept (emptied at the next start), never deleted.
    assert metrics_dir.is_dir()
