"""The JSON shapes every HTTP route answers with: bodies, errors, a 503's Retry-After, and
the headers every API answer carries.

Shared by the API (:mod:`movierec.serving.http`) and the demo page
(:mod:`movierec.web.pages`), which otherwise know nothing of each other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import flask

# How long a client should wait before retrying a 503: the event log's circuit breaker
# probes a failed backend every MOVIEREC_BREAKER_RESET_SECONDS (0.5 s by default), so a
# recovered backend is used again within about a second.
RETRY_AFTER_SECONDS = 1
# Answers are per user and carry tokens: no cache (a proxy's included) may keep them, and
# no browser may read them as anything but what their Content-Type says.
API_HEADERS: Mapping[str, str] = MappingProxyType(
    {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
)


def no_store(response: flask.Response) -> flask.Response:
    """``response`` with :data:`API_HEADERS`."""
    response.headers.update(API_HEADERS)
    return response


def json_response(status: int, body: Mapping[str, Any]) -> flask.Response:
    return no_store(flask.Response(json.dumps(body), status=status, mimetype="application/json"))


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> flask.Response:
    """``{"error": {"code", "message"}}`` with ``status``; a 503 always says when to retry."""
    response = json_response(status, {"error": {"code": code, "message": message}})
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
