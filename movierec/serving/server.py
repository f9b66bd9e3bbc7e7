"""The HTTP server of `movierec serve`: functions-framework's app on a hardened gunicorn.

``functions-framework`` starts gunicorn with its own fixed options (``limit_request_line=0``,
the stock ``gthread`` worker, no header timeout), which is what the issue's slow clients
and 4 MB request lines went through. This module serves the very same functions-framework
app (``create_app(target, source)``: same routing, same Flask app as on Cloud Run) under
gunicorn with :class:`~movierec.serving.worker.BoundedThreadWorker` and these limits.

Metrics: every worker is its own process, so ``/metrics`` runs prometheus-client in
multiprocess mode (see :mod:`movierec.observability.metrics`). The master hands the
workers ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn's ``raw_env``, set before any worker
imports prometheus_client, which picks its mode at import), empties that folder first,
and marks each exited worker dead. The master itself never imports prometheus_client
before that: it would fix the mode the forked workers inherit.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gunicorn.app.base

from movierec.serving.balance import ConnectionBoard
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
    metrics_dir: Path | None = None  # None: a fresh temporary folder, removed at exit

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
            metrics_dir=settings.prometheus_multiproc_dir,
        )


def gunicorn_options(config: ServerConfig) -> dict[str, Any]:
    """gunicorn settings; the worker class carries the read deadlines (gunicorn has no such settings)."""
    worker = type(
        "BoundedThreadWorker",
        (BoundedThreadWorker,),
        {"deadlines": ReadDeadlines(config.header_timeout, config.body_timeout),
         "board": ConnectionBoard() if config.workers > 1 else None},  # made here, before the fork
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


def metrics_options(metrics_dir: Path, *, remove_at_exit: bool) -> dict[str, Any]:
    """gunicorn settings of prometheus-client's multiprocess mode over ``metrics_dir``."""

    def child_exit(_server: Any, worker: Any) -> None:
        # Imported here, after gunicorn has set PROMETHEUS_MULTIPROC_DIR in the master.
        from movierec.observability.metrics import mark_worker_dead

        mark_worker_dead(metrics_dir, worker.pid)

    def on_exit(_server: Any) -> None:
        if remove_at_exit:
            shutil.rmtree(metrics_dir, ignore_errors=True)

    return {
        "raw_env": [f"PROMETHEUS_MULTIPROC_DIR={metrics_dir}"],
        "child_exit": child_exit,
        "on_exit": on_exit,
    }


def fresh_metrics_dir(metrics_dir: Path | None) -> tuple[Path, bool]:
    """The folder to use, emptied of an earlier run's value files, and whether it is ours
    (a temporary one) to remove at exit. prometheus-client asks for a folder wiped between
    runs: stale files would add to the new counts."""
    if metrics_dir is None:
        return Path(tempfile.mkdtemp(prefix="movierec-metrics-")), True
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    return metrics_dir, False


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
    metrics_dir, ours = fresh_metrics_dir(config.metrics_dir)
    options = gunicorn_options(config) | metrics_options(metrics_dir, remove_at_exit=ours)
    FunctionsServer(target, source, options).run()
