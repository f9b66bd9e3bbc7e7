"""Hostile input against a real `movierec serve` process (gunicorn in front of the
functions): what the test client cannot show — chunked bodies, raw request lines."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import running_server

pytestmark = [pytest.mark.e2e]

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory, published):
    import shutil

    from tests.fixtures.serving import SECRET

    home = tmp_path_factory.mktemp("edge-home")
    shutil.copytree(published[0], home / "artifacts")
    env = {"MOVIEREC_BACKEND": "local", "MOVIEREC_HOME": str(home), "MOVIEREC_TOKEN_SECRET": SECRET}
    with running_server(env, home / "server.log") as url:
        yield urlsplit(url)


def exchange(server, method: str, target: str, body: bytes | None = None, *, chunk: int | None = None):
    """One request on its own connection; ``chunk``: send the body chunked, in pieces of that size."""
    conn = http.client.HTTPConnection(server.hostname, server.port, timeout=60)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.putheader("Content-Type", "application/json")
        if body is not None and chunk is None:
            conn.putheader("Content-Length", str(len(body)))
        if chunk is not None:
            conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            if body is not None and chunk is None:
                conn.send(body)
            if body is not None and chunk is not None:
                for start in range(0, len(body), chunk):
                    piece = body[start:start + chunk]
                    conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer 413 and close before the rest of the body is sent
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def padded(size: int) -> bytes:
    """A valid /recommend body of exactly ``size`` bytes (whitespace is valid JSON)."""
    core = b'{"user_id": 1, "top_n": 3'
    return core + b" " * (size - len(core) - 1) + b"}"


def error_of(status, headers, raw) -> tuple[int, str]:
    assert headers["Content-Type"] == "application/json", raw[:200]
    assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
    return status, json.loads(raw)["error"]["code"]


@pytest.mark.parametrize("chunk", [None, 8192])
def test_a_body_over_the_limit_is_413_with_or_without_a_length(server, chunk):
    assert exchange(server, "POST", "/recommend", padded(LIMIT), chunk=chunk)[0] == 200
    over = exchange(server, "POST", "/recommend", padded(LIMIT + 1), chunk=chunk)
    assert error_of(*over) == (413, "payload_too_large")
    much_more = exchange(server, "POST", "/feedback", padded(4 * LIMIT), chunk=chunk)
    assert error_of(*much_more) == (413, "payload_too_large")


@pytest.mark.parametrize(
    "method, target, body, expected",
    [
        ("GET", "/recommend?user_id=1%0A", None, (400, "invalid_argument")),
        ("GET", "/recommend?user_id=1&top_n=5%0A", None, (400, "invalid_argument")),
        ("GET", "/recommend%0A?user_id=1", None, (404, "not_found")),
        ("GET", "/%0A", None, (404, "not_found")),
        ("POST", "/recommend", b"[" * 30_000, (400, "invalid_argument")),
        ("POST", "/feedback", b'{"a":' * 6_000 + b"1" + b"}" * 6_000, (400, "invalid_argument")),
        ("POST", "/feedback", json.dumps({"request_id": "..", "token": "1." + "0" * 64, "user_id": 1,
                                          "movie_id": 1, "type": "click"}).encode(), (400, "invalid_argument")),
        ("POST", "/feedback", json.dumps({"request_id": "__x__", "token": "1." + "0" * 64, "user_id": 1,
                                          "movie_id": 1, "type": "rating", "value": True}).encode(),
         (400, "invalid_argument")),
    ],
)
def test_hostile_requests_get_their_json_4xx(server, method, target, body, expected):
    assert error_of(*exchange(server, method, target, body)) == expected
