"""A gunicorn threaded worker that slow or idle clients cannot starve.

gunicorn's ``gthread`` worker hands every new connection to a request thread, which then
blocks reading the request line and headers: a few clients that connect and send half a
header (or nothing) hold every thread, and ``/healthz`` stops answering. This worker keeps
a connection on the main loop's poller until its whole header block has arrived
(non-blocking reads, no thread), as nginx does:

- **header deadline**: a connection whose header block is not complete ``header_timeout``
  seconds after it connected (or after its previous response, on a kept-alive
  connection) is closed; until then it costs a file descriptor, not a thread.
- **body deadline**: once the header is in, the request thread reads the body through a
  socket whose reads all end by ``body_timeout`` seconds later; a client that stops
  sending gets ``TimeoutError`` in the application (answered 408) instead of a thread
  blocked for good.
- **bounded connections**: gunicorn's ``worker_connections`` caps the connections a worker
  holds (the rest wait in the listen backlog); the request line and header limits are
  gunicorn's own ``limit_request_*`` settings.
- **JSON errors**: the errors gunicorn answers by itself (a bad request line, a header too
  large, a bad chunk) leave as ``{"error": {"code", "message"}}`` like every API error,
  not as gunicorn's HTML page.
- **balanced connections**: a worker holding more connections than another leaves a
  pending one to it for up to 2 ms (:mod:`movierec.serving.balance`), so kept-alive
  connections spread over the workers instead of piling on the first to wake.
- **drain on SIGTERM**: the worker stops accepting and closes its listening sockets at
  once (new connections are refused, not left in a backlog), closes the connections that
  have sent nothing, and lets in-flight requests finish within ``graceful_timeout``.
"""

from __future__ import annotations

import errno
import json
import os
import selectors
import socket
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from gunicorn.http import errors as gerr
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import TConn, ThreadWorker

from movierec.serving.balance import ConnectionBoard

HEADER_END = b"\r\n\r\n"
# A header block still incomplete past this many bytes goes to gunicorn's parser, whose
# limits (request line, field count and size) then answer 414 or 431.
MAX_BUFFERED_HEADER = 64 * 1024


@dataclass(frozen=True)
class ReadDeadlines:
    header_timeout: float
    body_timeout: float


class DeadlineSocket:
    """A socket whose ``recv`` calls all end by one deadline (``TimeoutError`` after it)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.ends_at = float("inf")

    def recv(self, size: int) -> bytes:
        left = self.ends_at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the client did not send the request in time")
        self.sock.settimeout(left)
        try:
            return self.sock.recv(size)
        finally:
            self.sock.settimeout(None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


# gunicorn's client errors -> (status, reason, code); anything else it catches is a 500.
_CLIENT_ERRORS: tuple[tuple[type[BaseException], int, str, str], ...] = (
    (gerr.LimitRequestLine, 414, "URI Too Long", "uri_too_long"),
    (gerr.LimitRequestHeaders, 431, "Request Header Fields Too Large", "headers_too_large"),
    (gerr.UnsupportedTransferCoding, 501, "Not Implemented", "not_implemented"),
    (gerr.ExpectationFailed, 417, "Expectation Failed", "expectation_failed"),
    (gerr.ForbiddenProxyRequest, 403, "Forbidden", "permission_denied"),
    (gerr.ParseException, 400, "Bad Request", "invalid_request"),
)


# Raised by gunicorn's parser but not the client's fault: a response header the application
# built, a setting that cannot work.
_SERVER_FAULTS = (gerr.InvalidResponseHeader, gerr.InvalidResponseHeaderName, gerr.ConfigurationProblem)


def error_bytes(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 response carrying the API's JSON error shape; the connection closes."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n"
    )
    return head.encode("latin-1") + body


class BoundedThreadWorker(ThreadWorker):
    """gthread with header pre-reading on the poller, read deadlines, JSON errors, fast drain."""

    deadlines = ReadDeadlines(header_timeout=5.0, body_timeout=10.0)  # set by the server
    # gunicorn's loop tells the arbiter it is alive on every pass (an ``os.utime`` syscall,
    # several per request: 4.6% of a worker's samples in py-spy); the arbiter only needs a
    # sign within its ``timeout`` (30 s).
    notify_every = 1.0
    _notified_at = float("-inf")

    def notify(self) -> None:
        now = time.monotonic()
        if now - self._notified_at >= self.notify_every:
            self._notified_at = now
            super().notify()

    # Connections per worker, shared by the server's workers (set by the server); a worker
    # holding more than another leaves it a pending connection for up to this long.
    board: ConnectionBoard | None = None
    yield_accept_seconds = 0.002
    _yielding_since = float("-inf")

    def accept(self, listener: Any) -> None:
        if self._leave_to_another_worker():
            return  # the listener stays readable: the next pass decides again
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._post_connections()
        self._await_header(TConn(self.cfg, client, address, listener.getsockname()))

    def _leave_to_another_worker(self) -> bool:
        """Whether a live worker holds fewer connections, and this one has not yet waited
        ``yield_accept_seconds`` for it to take the pending one (it was woken by the same
        event; a busy one may be slow to get there, so the wait is bounded)."""
        if self.board is None:
            return False
        now = time.monotonic()
        fewest = self.board.fewest_elsewhere(os.getpid(), now)
        if fewest is None or self.nr_conns <= fewest:
            return False
        if now - self._yielding_since > 50 * self.yield_accept_seconds:  # a new pending connection
            self._yielding_since = now
        if now - self._yielding_since < self.yield_accept_seconds:
            return True
        self._yielding_since = float("-inf")
        return False

    def _post_connections(self) -> None:
        if self.board is not None:  # a draining worker accepts nothing: never one to leave a connection to
            self.board.post(self.age, os.getpid(), self.nr_conns if self.alive else 1 << 30)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        self._post_connections()  # every pass: closes and drops happen all over gunicorn's loop
        super().wait_for_and_dispatch_events(timeout)

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection's next request starts: its header is read on the poller too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_header(conn)
        self._read_header(conn, client)

    def _await_header(self, conn: TConn) -> None:
        conn.header = bytearray()
        conn.timeout = time.monotonic() + self.deadlines.header_timeout  # murder_pending closes it then
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_header, conn))

    def _read_header(self, conn: TConn, _client: Any) -> None:
        try:
            chunk = conn.sock.recv(8192)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away before its request was complete
            self._forget_pending(conn)
            self.nr_conns -= 1
            conn.close()
            return
        conn.header += chunk
        if HEADER_END not in conn.header and len(conn.header) <= MAX_BUFFERED_HEADER:
            return
        self._forget_pending(conn)
        conn.data_ready = True
        conn.init()  # blocking socket, HTTP/1 parser
        if not isinstance(conn.parser.unreader.sock, DeadlineSocket):
            conn.parser.unreader.sock = DeadlineSocket(conn.sock)
        conn.parser.unreader.unread(bytes(conn.header))
        conn.parser.unreader.sock.ends_at = time.monotonic() + self.deadlines.body_timeout
        self.enqueue_req(conn)

    def _forget_pending(self, conn: TConn) -> None:
        self.poller.unregister(conn.sock)
        self.pending_conns.remove(conn)

    def _keepalive_after(self, conn: TConn, keepalive: bool) -> bool:
        """A request whose body missed its deadline closes its connection (the rest never came)."""
        reader = conn.parser.unreader.sock
        if isinstance(reader, DeadlineSocket) and reader.ends_at <= time.monotonic():
            return False
        return bool(super()._keepalive_after(conn, keepalive))

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:  # draining: refuse new connections, drop silent ones
            for listener in self.sockets:
                listener.close()
            for conn in [c for c in self.pending_conns if not c.header]:
                self._forget_pending(conn)
                self.nr_conns -= 1
                conn.close()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        answer = client_error(exc)
        if answer is None:
            self.log.exception("error handling request")
            answer = (500, "Internal Server Error", "internal", "internal error")
        else:
            self.log.warning("invalid request from %s: %s", (addr or ("",))[0], exc)
        try:
            write_nonblock(client, error_bytes(*answer))
        except OSError:
            self.log.debug("could not send the error response")


def client_error(exc: BaseException) -> tuple[int, str, str, str] | None:
    """(status, reason, code, message) of an error that is the client's; None for ours."""
    if isinstance(exc, _SERVER_FAULTS):
        return None
    for kind, status, reason, code in _CLIENT_ERRORS:
        if isinstance(exc, kind):
            return status, reason, code, (str(exc) or reason)[:200]
    return None
