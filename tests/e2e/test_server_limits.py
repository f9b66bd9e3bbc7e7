"""`movierec serve` against hostile clients, with real sockets to a real server process:
idle and half-open connections cost no request thread, slow senders are cut off, and the
errors gunicorn answers by itself are JSON like the rest of the API."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from pathlib import Path

import pytest
import requests

from tests.e2e.server import running_server, server_process

pytestmark = [pytest.mark.e2e]

ENV = {"MOVIEREC_HEADER_TIMEOUT_SECONDS": "2", "MOVIEREC_BODY_TIMEOUT_SECONDS": "1"}


@pytest.fixture
def server(local_env, tmp_path) -> Iterator[str]:
    with running_server({**local_env, **ENV}, tmp_path / "server.log", threads=2) as url:
        yield url


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def exchange(url: str, raw: bytes) -> tuple[int, dict[str, str], dict]:
    """Send raw bytes, read the whole answer (the server closes), parse status, headers, JSON body."""
    with connect(url) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def test_healthz_answers_within_a_second_with_50_idle_and_50_half_open_connections(server) -> None:
    with ExitStack() as stack:
        for i in range(100):
            sock = stack.enter_context(connect(server))
            if i % 2:  # half-open: a request line and part of the headers, then nothing
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        time.sleep(0.5)  # every connection is now accepted and waiting
        for _ in range(3):
            start = time.monotonic()
            response = requests.get(f"{server}/healthz", timeout=10)
            elapsed = time.monotonic() - start
            assert response.status_code == 200, response.text
            assert elapsed < 1.0, f"/healthz took {elapsed:.2f} s beside 100 slow connections"


def test_a_client_that_never_finishes_its_header_is_closed_after_the_header_timeout(server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        assert sock.recv(100) == b""  # closed by the server, nothing answered
        waited = time.monotonic() - start
    assert 1.0 < waited < 8.0, waited  # the 2 s header timeout, checked about once a second


def test_a_body_that_stops_arriving_gets_408_as_json(server) -> None:
    head = b"POST /feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    status, _, body = exchange(server, head + b'{"request_id": ')  # returns: the server closed
    assert status == 408 and body["error"]["code"] == "request_timeout"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431, "headers_too_large"),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(60)) + b"\r\n", 431, "headers_too_large"),
        (b"NOT A REQUEST\r\n\r\n", 400, "invalid_request"),
        (b"POST /feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "invalid_argument"),
    ],
    ids=["request-line-over-8KiB", "header-over-8KiB", "61-headers", "bad-request-line", "bad-chunk"],
)
def test_the_servers_own_errors_are_json(server, raw: bytes, status: int, code: str) -> None:
    got, headers, body = exchange(server, raw)
    assert (got, body["error"]["code"]) == (status, code)
    assert headers["Content-Type"] == "application/json" and body["error"]["message"]


def test_a_kept_alive_connection_serves_its_next_request_and_a_pipelined_one(server) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(server) as sock:
        for _ in range(2):  # one request after another on the same connection
            sock.sendall(request)
            assert _read_response(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(request + request)  # two at once
        assert _read_response(sock).startswith(b"HTTP/1.1 200")
        assert _read_response(sock).startswith(b"HTTP/1.1 200")


_pending: dict[int, bytes] = {}


def _read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length body; bytes past it are kept for the next call."""
    data = _pending.pop(sock.fileno(), b"")
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(rest) < length:
        rest += sock.recv(65536)
    _pending[sock.fileno()] = rest[length:]
    return head + b"\r\n\r\n" + rest[:length]


def worker_connections(master_pid: int, port: int) -> list[int]:
    """Established connections on ``port`` held by each worker of ``master_pid`` (from /proc)."""
    inodes = set()
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":  # ESTABLISHED, server side
                inodes.add(fields[9])
    children = [int(p) for p in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]
    counts = []
    for pid in children:
        held = 0
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                held += target.startswith("socket:[") and target[8:-1] in inodes
        counts.append(held)
    return counts


def test_kept_alive_connections_spread_over_the_workers(local_env, tmp_path) -> None:
    """16 connections opened at once used to pile on whichever worker woke first (2/14 in
    two of six tries, that worker's one core serving them all): each worker now holds 7-9."""
    with server_process(local_env, tmp_path / "server.log", workers=2, threads=2) as (url, proc):
        port = int(url.rsplit(":", 1)[1])

        def spread() -> list[int]:
            with ExitStack() as stack:
                sessions = [stack.enter_context(requests.Session()) for _ in range(16)]
                with ThreadPoolExecutor(16) as pool:  # all at once, as a load balancer's pool opens
                    statuses = list(pool.map(lambda s: s.get(f"{url}/healthz", timeout=10).status_code, sessions))
                assert statuses == [200] * 16
                deadline = time.monotonic() + 5
                while sum(counts := worker_connections(proc.pid, port)) < 16 and time.monotonic() < deadline:
                    time.sleep(0.05)
                return sorted(counts)

        # The first answer comes from the first worker up; the second may still be loading models.
        deadline = time.monotonic() + 60
        while 0 in spread():
            assert time.monotonic() < deadline, "the second worker never took a connection"
        for _ in range(5):
            assert spread() in ([8, 8], [7, 9])
