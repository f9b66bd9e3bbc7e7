"""The HTTP server of `movierec serve`: functions-framework's app on a hardened gunicorn.

``functions-framework`` starts gunicorn with its own fixed options (``limit_request_line=0``,
the stock ``gthread`` worker, no header timeout), which is what the issue's slow clients
and 4 MB request lines went through. This module serves the very same functions-framework
app (``create_app(target, source)``: same routing, same Flask app as on Cloud Run) under
gunicorn with :class:`~movierec.serving.worker.BoundedThreadWorker` and these limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gunicorn.app.base

from movierec.serving.worker import BoundedThreadWorker, ReadDeadlines
from movierec.settings import Settings

# gunicorn's request limits: an 8 KiB request line (a longer one is 414), at most 50 header
# fields of at most 8 KiB each (more is 431). The API's URLs and headers are far smaller.
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELDS = 50
LIMIT_REQUEST_FIELD_SIZE = 8190


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    workers: int
    threads: int
    header_timeout: float
    body_timeout: float
    keepalive: float
    worker_connections: int
    graceful_timeout: float

    @classmethod
    def of(cls, settings: Settings, host: str, port: int, workers: int, threads: int) -> ServerConfig:
        return cls(
            host=host,
            port=port,
            workers=workers,
            threads=threads,
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            keepalive=settings.keepalive_seconds,
            worker_connections=settings.worker_connections,
            graceful_timeout=settings.graceful_timeout_seconds,
        )


def gunicorn_options(config: ServerConfig) -> dict[str, Any]:
    """gunicorn settings; the worker class carries the read deadlines (gunicorn has no such settings)."""
    worker = type(
        "BoundedThreadWorker",
        (BoundedThreadWorker,),
        {"deadlines": ReadDeadlines(config.header_timeout, config.body_timeout)},
    )
    return {
        "bind": f"{config.host}:{config.port}",
        "workers": config.workers,
        "threads": config.threads,
        "worker_class": worker,
        "worker_connections": config.worker_connections,
        "keepalive": _whole_seconds(config.keepalive),
        # SIGTERM: in-flight requests get this long; Cloud Run sends SIGKILL 10 s after SIGTERM.
        "graceful_timeout": _whole_seconds(config.graceful_timeout),
        "timeout": 30,  # a worker silent this long is restarted (Cloud Run's request timeout)
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
        "loglevel": "warning",
    }


def _whole_seconds(seconds: float) -> int:
    """gunicorn takes these as whole seconds."""
    return max(1, math.ceil(seconds))


class FunctionsServer(gunicorn.app.base.BaseApplication):
    """gunicorn serving the functions-framework app of ``target`` in ``source``."""

    def __init__(self, target: str, source: str, options: dict[str, Any]) -> None:
        self.target, self.source, self.options = target, source, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from functions_framework import create_app

        return create_app(target=self.target, source=self.source)


def run(config: ServerConfig, target: str, source: str) -> None:
    """Serve until SIGTERM/SIGINT; this process stays the master (stop it by its PID)."""
    FunctionsServer(target, source, gunicorn_options(config)).run()
