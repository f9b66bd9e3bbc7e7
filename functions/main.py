"""Cloud Run functions entry points: thin HTTP wrappers over movierec.serving.

Deployed as two functions, ``recommend`` and ``feedback``, from this source. ``api``
routes every path in one process for `movierec serve` and the local demo.
Settings are read and clients created once per instance, on first use
(lazy globals: a cold start that serves health checks does not pay for them twice).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

# One BLAS thread per process, set before numpy loads: request threads already share the
# CPUs, and idle BLAS threads spinning for work would steal them (Cloud Run: 1 vCPU).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import flask
import functions_framework
from werkzeug.exceptions import HTTPException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # deploy-from-source: repo root holds movierec

from movierec.serving import http
from movierec.serving.app import ServingApp, build_app
from movierec.settings import Settings

_app: ServingApp | None = None
_lock = threading.Lock()

# Errors Flask raises before a function runs (no route matches a path with a newline)
# leave as JSON like every other answer. Not a decorator: outside create_app,
# functions_framework.errorhandler is a stand-in that returns itself.
functions_framework.errorhandler(HTTPException)(http.framework_error)


def app() -> ServingApp:
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                _app = build_app(Settings.from_env())
    return _app


@functions_framework.http
def recommend(request: flask.Request) -> flask.Response:
    serving = app()
    if request.path.rstrip("/").endswith("/healthz") or request.args.get("health") == "1":
        return serving.observed("health", request, lambda: http.handle_health(serving.service, request))
    max_bytes = serving.settings.max_body_bytes
    return serving.observed("recommend", request, lambda: http.handle_recommend(serving.service, request, max_bytes, serving.auth))


@functions_framework.http
def feedback(request: flask.Request) -> flask.Response:
    serving = app()
    max_bytes = serving.settings.max_body_bytes
    return serving.observed("feedback", request, lambda: http.handle_feedback(serving.service, request, max_bytes, serving.auth))


@functions_framework.http
def api(request: flask.Request) -> flask.Response:
    return app().route(request)
