"""HTTP glue: parse a Flask request into a typed request, call the service, shape JSON.

Every error leaves as ``{"error": {"code", "message"}}`` with a 4xx/5xx status; nothing
here lets a traceback or a 500 reach the client for bad input.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Literal

import flask
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from movierec.observability.metrics import CONTENT_TYPE, ServingMetrics
from movierec.responses import error_response, json_response
from movierec.serving.service import (
    FeedbackRequest,
    RecommendRequest,
    RecommendService,
    ServiceError,
)

log = logging.getLogger(__name__)

MAX_TOP_N = 100
_INT = re.compile(r"^[0-9]{1,12}$")
_STATUS_CODES = {400: "invalid_argument", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}


class _RecommendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: StrictInt = Field(ge=0, le=10**12)
    top_n: StrictInt = Field(default=10, ge=1, le=MAX_TOP_N)


class _FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    request_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    token: str = Field(min_length=1, max_length=256)
    user_id: StrictInt = Field(ge=0, le=10**12)
    movie_id: StrictInt = Field(ge=0, le=10**12)
    type: Literal["click", "rating"]
    value: float | None = None


def _bad(message: str) -> ServiceError:
    return ServiceError(400, "invalid_argument", message)


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "body"
    if first["type"] == "missing":
        return f"{field} is required"
    if first["type"] == "extra_forbidden":
        return f"unknown field {field!r}"
    if field == "top_n":
        return f"top_n must be an integer in [1, {MAX_TOP_N}]"
    if field in ("user_id", "movie_id"):
        return f"{field} must be a non-negative integer"
    return f"{field}: {first['msg']}"


def _json_body(request: flask.Request, max_bytes: int) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > max_bytes:
        raise ServiceError(413, "payload_too_large", f"request body exceeds {max_bytes} bytes")
    if request.mimetype != "application/json":
        raise ServiceError(415, "unsupported_media_type", "send the body as application/json")
    request.max_content_length = max_bytes  # also bounds chunked bodies that carry no length
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise ServiceError(413, "payload_too_large", f"request body exceeds {max_bytes} bytes") from None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _bad("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad("request body must be a JSON object")
    return body


def parse_recommend(request: flask.Request, max_bytes: int) -> RecommendRequest:
    if request.method == "GET":
        args = request.args
        unknown = set(args) - {"user_id", "top_n"}
        if unknown:
            raise _bad(f"unknown parameter {sorted(unknown)[0]!r}")
        raw_user = args.get("user_id")
        if raw_user is None or raw_user == "":
            raise _bad("user_id is required")
        if not _INT.match(raw_user):
            raise _bad("user_id must be a non-negative integer")
        raw_n = args.get("top_n", "10")
        if not _INT.match(raw_n) or not 1 <= int(raw_n) <= MAX_TOP_N:
            raise _bad(f"top_n must be an integer in [1, {MAX_TOP_N}]")
        return RecommendRequest(int(raw_user), int(raw_n))
    try:
        body = _RecommendBody.model_validate(_json_body(request, max_bytes))
    except ValidationError as exc:
        raise _bad(_validation_message(exc)) from None
    return RecommendRequest(body.user_id, body.top_n)


def parse_feedback(request: flask.Request, max_bytes: int) -> FeedbackRequest:
    try:
        body = _FeedbackBody.model_validate(_json_body(request, max_bytes))
    except ValidationError as exc:
        raise _bad(_validation_message(exc)) from None
    return FeedbackRequest(**body.model_dump())


def _allow(request: flask.Request, methods: tuple[str, ...]) -> None:
    if request.method not in methods:
        raise ServiceError(405, "method_not_allowed", f"use {' or '.join(methods)}", {"Allow": ", ".join(methods)})


def _guard(call) -> flask.Response:
    try:
        return call()
    except ServiceError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    except Exception:  # the client gets a JSON 500, the logs get the traceback
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error")


def handle_recommend(service: RecommendService, request: flask.Request, max_bytes: int) -> flask.Response:
    def call() -> flask.Response:
        _allow(request, ("GET", "POST"))
        return json_response(200, service.recommend(parse_recommend(request, max_bytes)))

    return _guard(call)


def handle_feedback(service: RecommendService, request: flask.Request, max_bytes: int) -> flask.Response:
    def call() -> flask.Response:
        _allow(request, ("POST",))
        status, body = service.feedback(parse_feedback(request, max_bytes))
        return json_response(status, body)

    return _guard(call)


def handle_health(service: RecommendService, request: flask.Request) -> flask.Response:
    def call() -> flask.Response:
        _allow(request, ("GET",))
        status, body = service.health()
        return json_response(status, body)

    return _guard(call)


def handle_metrics(metrics: ServingMetrics, request: flask.Request) -> flask.Response:
    """The process's metrics in Prometheus text format."""

    def call() -> flask.Response:
        _allow(request, ("GET",))
        return flask.Response(metrics.exposition(), status=200, content_type=CONTENT_TYPE)

    return _guard(call)


def not_found(request: flask.Request) -> flask.Response:
    return error_response(404, "not_found", f"no route {request.path}")
