"""An open-loop HTTP load generator with Poisson arrivals, run as its own process.

    python scripts/openloop.py --host 127.0.0.1 --port 8080 --rate 200 --seconds 20 \\
        --paths paths.txt [--seed 1] [--max-connections 64]

Why not wrk or hey: both are closed-loop (a connection sends its next request when the
previous answer arrives), so a slow answer delays the requests behind it and they are
never timed -- coordinated omission. Here the send times are drawn up front (exponential
gaps at ``--rate``, seeded), each request goes out at its time on an idle keep-alive
connection (a new one if none is idle, up to ``--max-connections``), and its latency is
measured **from the scheduled send time** to the last byte of the answer. The client's
own lag (actual minus scheduled send) is reported, so a client that cannot keep up is
seen rather than hidden. Loopback only. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import selectors
import sys
import time

LOOPBACK = ("127.0.0.1", "localhost", "::1")


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


class Pool:
    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.open = 0
        self.waiters: asyncio.Queue[None] = asyncio.Queue()

    async def get(self, fresh: bool = False) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while True:
            if self.idle and not fresh:
                return self.idle.pop()
            if self.open < self.limit:
                self.open += 1
                try:
                    return await asyncio.open_connection(self.host, self.port)
                except OSError:
                    self.open -= 1
                    raise
            await self.waiters.get()

    def put(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        if conn is None:
            self.open -= 1
        else:
            self.idle.append(conn)
        self.waiters.put_nowait(None)


async def run(args: argparse.Namespace, paths: list[str]) -> dict:
    rng = random.Random(args.seed)
    n = int(args.rate * args.seconds)
    offsets, t = [], 0.0
    for _ in range(n):
        t += rng.expovariate(args.rate)
        offsets.append(t)
    pool = Pool(args.host, args.port, args.max_connections)
    latencies: list[float] = []
    lags: list[float] = []
    statuses: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1

    async def one(i: int, scheduled: float) -> None:
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        request = f"GET {paths[i % len(paths)]} HTTP/1.1\r\nHost: {args.host}\r\n\r\n".encode()
        conn = None
        try:
            conn = await pool.get()
            lags.append(loop.time() - scheduled)
            try:
                conn[1].write(request)
                status = await asyncio.wait_for(_read_response(conn[0]), args.timeout)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                # The server closed an idle keep-alive connection before we wrote (its
                # keep-alive timeout): nothing was answered, so send again on a new one,
                # as every HTTP client does. Latency still counts from the schedule.
                if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                    raise
                conn[1].close()
                pool.put(None)
                conn = await pool.get(fresh=True)
                conn[1].write(request)
                status = await asyncio.wait_for(_read_response(conn[0]), args.timeout)
            latencies.append(loop.time() - scheduled)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            pool.put(conn)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, IndexError) as exc:
            statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
            latencies.append(float("inf"))
            if conn is not None:
                conn[1].close()
                pool.put(None)

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.perf_counter()
    await asyncio.gather(*(one(i, start + off) for i, off in enumerate(offsets)))
    wall = time.perf_counter() - wall0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    for _, writer in pool.idle:
        writer.close()
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    lag_sorted = sorted(lags) or [0.0]
    return {
        "requests": n, "rate": args.rate, "seconds": args.seconds, "seed": args.seed,
        "achieved_rate": n / wall, "statuses": statuses,
        "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "p999_ms": pct(0.999),
        "max_ms": 1000 * ordered[-1],
        "client_lag_p50_ms": 1000 * lag_sorted[len(lag_sorted) // 2],
        "client_lag_p99_ms": 1000 * lag_sorted[min(len(lag_sorted) - 1, int(0.99 * len(lag_sorted)))],
        "client_cpu_share": cpu / wall, "connections_opened_max": pool.open,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--paths", required=True, help="file with one request path per line, used in turn")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-connections", type=int, default=64)
    p.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args()
    if args.host not in LOOPBACK:
        print(f"openloop: refusing {args.host}: loopback only", file=sys.stderr)
        return 2
    if not (0 < args.rate <= 5000 and 0 < args.seconds <= 120 and 1 <= args.max_connections <= 512):
        print("openloop: --rate must be in (0, 5000], --seconds in (0, 120] and --max-connections in [1, 512]", file=sys.stderr)
        return 2
    with open(args.paths, encoding="utf-8") as f:
        paths = [line.strip() for line in f if line.strip()]
    # select(2), not asyncio's default epoll: epoll_wait takes its timeout in whole
    # milliseconds, rounded up, so every send fired up to 1 ms late (median lag 0.7 ms,
    # counted in every latency); select's microsecond timeout gives 0.2-0.3 ms. Our at
    # most --max-connections sockets are far below select's 1,024-descriptor limit.
    loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
    try:
        print(json.dumps(loop.run_until_complete(run(args, paths))))
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
