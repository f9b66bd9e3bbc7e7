"""Serving benchmark for issue #3 (numbers go in the README; not a test).

    .venv/bin/python scripts/bench_serving.py [--rate 200] [--seconds 15]

On the local stack (folder artifacts, SQLite event log) with ml-100k models and an
A/B experiment (A=svd, B=ease), against `movierec serve` on 127.0.0.1:

- cold start: process start -> first 200 from /recommend;
- latency: open loop at --rate requests/s to /recommend for --seconds, p50/p95/p99
  measured by the client from send to last byte (and the schedule lag, so a saturated
  server can't hide queueing);
- throughput ratio: closed loop, 8 concurrent clients for --seconds/2 each against
  /recommend and against /ping (a trivial function on the same server), same run.

Traffic goes to loopback only and is bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.server import running_server  # noqa: E402


def setup_home(home: Path, env: dict[str, str]) -> None:
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "movierec.cli", *args], env=env, check=True, capture_output=True
    )
    run("train", "--no-mlflow")
    run("experiment", "create", "--id", "bench", "--variants", "A=svd,B=ease")


def open_loop(url: str, rate: float, seconds: float, users: np.ndarray) -> dict:
    n = int(rate * seconds)
    start = time.perf_counter() + 0.2
    jobs: queue.Queue = queue.Queue()
    for i in range(n):
        jobs.put((start + i / rate, int(users[i % len(users)])))
    latencies, lags, statuses = [], [], []
    lock = threading.Lock()

    def worker() -> None:
        session = requests.Session()
        while True:
            try:
                due, user = jobs.get_nowait()
            except queue.Empty:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            response = session.get(f"{url}/recommend", params={"user_id": user, "top_n": 10}, timeout=10)
            done = time.perf_counter()
            with lock:
                latencies.append((done - sent) * 1000)
                lags.append(max(0.0, sent - due) * 1000)
                statuses.append(response.status_code)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    lat = np.array(latencies)
    return {
        "requests": n,
        "achieved_rps": n / elapsed,
        "ok": statuses.count(200),
        "p50_ms": float(np.percentile(lat, 50)),
        "p95_ms": float(np.percentile(lat, 95)),
        "p99_ms": float(np.percentile(lat, 99)),
        "max_schedule_lag_ms": float(max(lags)),
    }


def closed_loop(url: str, path: str, seconds: float, clients: int = 8) -> float:
    stop = time.perf_counter() + seconds
    counts = [0] * clients

    def worker(k: int) -> None:
        session = requests.Session()
        user = 1 + k
        while time.perf_counter() < stop:
            response = session.get(f"{url}{path}", params={"user_id": user, "top_n": 10}, timeout=10)
            response.raise_for_status()
            counts[k] += 1
            user = user % 943 + 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--threads", type=int, default=None, help="server threads (default: movierec serve's)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    movielens = os.environ.get("MOVIELENS_DIR") or str(REPO.parent / "shared" / "data" / "ml-100k")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "MOVIEREC_HOME": str(home), "MOVIELENS_DIR": movielens,
               "MOVIEREC_TOKEN_SECRET": "bench-secret", "MOVIEREC_BACKEND": "local"}
        setup_home(home, env)
        users = np.random.default_rng(0).integers(1, 1100, size=5000)  # ~14% unknown: the fallback path too
        started = time.perf_counter()
        with running_server(env, home / "server.log", threads=args.threads) as url:
            while requests.get(f"{url}/recommend", params={"user_id": 1}, timeout=30).status_code != 200:
                time.sleep(0.01)
            cold = time.perf_counter() - started
            latency = open_loop(url, args.rate, args.seconds, users)
            rec_rps = closed_loop(url, "/recommend", args.seconds / 2)
            ping_rps = closed_loop(url, "/ping", args.seconds / 2)
    result = {
        "cpus": os.cpu_count(),
        "cold_start_s": cold,
        "open_loop": latency,
        "recommend_rps": rec_rps,
        "ping_rps": ping_rps,
        "throughput_ratio": rec_rps / ping_rps,
    }
    print("| measure | value | target |\n|---|---|---|")
    print(f"| cold start (process start -> first 200) | {cold:.2f} s | <= 2 s |")
    print(f"| /recommend p50 at {args.rate:.0f} req/s | {latency['p50_ms']:.1f} ms | |")
    print(f"| /recommend p95 | {latency['p95_ms']:.1f} ms | |")
    print(f"| /recommend p99 | {latency['p99_ms']:.1f} ms | <= 15 ms |")
    print(f"| requests ok / sent | {latency['ok']} / {latency['requests']} (achieved {latency['achieved_rps']:.0f} req/s) | |")
    print(f"| closed-loop /recommend vs /ping | {rec_rps:.0f} vs {ping_rps:.0f} req/s = {rec_rps / ping_rps:.2f} | >= 0.6 |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    ok = cold <= 2 and latency["p99_ms"] <= 15 and rec_rps / ping_rps >= 0.6 and latency["ok"] == latency["requests"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
