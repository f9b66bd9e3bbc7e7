"""HTTP glue: parse a Flask request into a typed request, call the service, shape JSON.

Every error leaves as ``{"error": {"code", "message"}}`` with a 4xx/5xx status; nothing
here lets a traceback or a 500 reach the client for bad input.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import flask
from gunicorn.http.errors import ParseException
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from movierec.observability.metrics import CONTENT_TYPE, ServingMetrics
from movierec.responses import error_response, json_response
from movierec.serving.outcomes import (
    FeedbackOutcome,
    FeedbackStatus,
    Forbidden,
    Health,
    HealthState,
    InvalidFeedback,
    ServingError,
    Unavailable,
    UnknownMovie,
)
from movierec.serving.service import FeedbackRequest, RecommendRequest, RecommendService

log = logging.getLogger(__name__)

MAX_TOP_N = 100
_Model = TypeVar("_Model", bound=BaseModel)

# The one place where the service's outcomes become statuses. A 503's Retry-After is
# added by movierec.responses, for every 503 of every route.
ERROR_STATUS: Mapping[type[ServingError], tuple[int, str]] = {
    InvalidFeedback: (400, "invalid_argument"),
    UnknownMovie: (400, "invalid_argument"),
    Forbidden: (403, "permission_denied"),
    Unavailable: (503, "unavailable"),
}
FEEDBACK_STATUS: Mapping[FeedbackStatus, int] = {"recorded": 201, "duplicate": 200}
# A degraded instance still serves: a load balancer must keep sending it traffic.
HEALTH_STATUS: Mapping[HealthState, int] = {"ok": 200, "degraded": 200, "unavailable": 503}


class HttpError(Exception):
    """A request refused before the service sees it: wrong method, unreadable or invalid input."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        *,
        body_unread: bool = False,
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}
        # functions-framework reads the whole body after every non-streamed response; a body
        # that cannot be read would fail there again (an HTML 500), so such a refusal streams.
        self.body_unread = body_unread


def error_for(exc: ServingError) -> flask.Response:
    status, code = ERROR_STATUS[type(exc)]
    return error_response(status, code, exc.message)


def feedback_response(outcome: FeedbackOutcome) -> flask.Response:
    return json_response(FEEDBACK_STATUS[outcome.status], {"event_id": outcome.event_id, "status": outcome.status})


def health_response(health: Health) -> flask.Response:
    body = {
        "status": health.state,
        "models": dict(health.models),
        "event_log": {"ok": health.event_log_ok, "error": health.event_log_error},
        "experiment": health.experiment_id,
    }
    return json_response(HEALTH_STATUS[health.state], body)


# ------------------------------------------------------------------------------ parsing
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


@dataclass(frozen=True)
class _Source:
    """Where the values came from: it changes the wording of a refusal, never its verdict."""

    unknown: str  # what an unexpected name is called: "parameter" or "field"
    # GET has always named a stray parameter (the first alphabetically) before judging the
    # values; a body reports in field order. Kept so that no client sees another message.
    unknown_first: bool


_QUERY = _Source("parameter", unknown_first=True)
_BODY = _Source("field", unknown_first=False)
# Only plain ASCII digits become integers: anything else ("-1", "1.5", " 1", "1\n") stays a
# string, which StrictInt refuses with the message a JSON body with that string gets.
# At most 12 digits: a longer one is out of range anyway, and is never converted.
_DIGITS = re.compile(r"[0-9]{1,12}")


def _bad(message: str) -> HttpError:
    return HttpError(400, "invalid_argument", message)


def _validated(model: type[_Model], values: Mapping[str, Any], source: _Source) -> _Model:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise _bad(_refusal(exc, source)) from None


def _refusal(exc: ValidationError, source: _Source) -> str:
    errors = exc.errors()
    if source.unknown_first:
        extra = "extra_forbidden"  # sorted() is stable: the values keep their field order
        errors = sorted(errors, key=lambda e: (e["type"] != extra, e["loc"] if e["type"] == extra else ()))
    first = errors[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "body"
    if first["type"] == "missing":
        return f"{field} is required"
    if first["type"] == "extra_forbidden":
        return f"unknown {source.unknown} {field!r}"
    if field == "top_n":
        return f"top_n must be an integer in [1, {MAX_TOP_N}]"
    if field in ("user_id", "movie_id"):
        return f"{field} must be a non-negative integer"
    return f"{field}: {first['msg']}"


def _query_values(args: Mapping[str, str], model: type[BaseModel]) -> dict[str, Any]:
    """The query string as the JSON body a POST would send.

    A required parameter left empty (``user_id=``, a blank form field) counts as missing.
    """
    required = {name for name, spec in model.model_fields.items() if spec.is_required()}
    return {
        name: int(raw) if _DIGITS.fullmatch(raw) else raw
        for name, raw in args.items()
        if not (raw == "" and name in required)
    }


def _json_body(request: flask.Request, max_bytes: int) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > max_bytes:
        raise HttpError(413, "payload_too_large", f"request body exceeds {max_bytes} bytes")
    if request.mimetype != "application/json":
        raise HttpError(415, "unsupported_media_type", "send the body as application/json")
    request.max_content_length = max_bytes  # also bounds chunked bodies that carry no length
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise HttpError(413, "payload_too_large", f"request body exceeds {max_bytes} bytes") from None
    except (ClientDisconnected, ParseException, OSError) as exc:  # the body could not be read
        timed_out = isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)
        raise HttpError(  # the server's body read deadline (movierec.serving.worker), or a bad chunk
            *((408, "request_timeout", "the request body did not arrive in time") if timed_out
              else (400, "invalid_argument", "the request body could not be read")),
            body_unread=True,
        ) from None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _bad("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad("request body must be a JSON object")
    return body


def parse_recommend(request: flask.Request, max_bytes: int) -> RecommendRequest:
    """GET's query string and POST's JSON body, through the same model and the same messages."""
    if request.method == "GET":
        body = _validated(_RecommendBody, _query_values(request.args, _RecommendBody), _QUERY)
    else:
        body = _validated(_RecommendBody, _json_body(request, max_bytes), _BODY)
    return RecommendRequest(body.user_id, body.top_n)


def parse_feedback(request: flask.Request, max_bytes: int) -> FeedbackRequest:
    body = _validated(_FeedbackBody, _json_body(request, max_bytes), _BODY)
    return FeedbackRequest(**body.model_dump())


# ------------------------------------------------------------------------------ handlers
def _guard(request: flask.Request, methods: tuple[str, ...], call: Callable[[], flask.Response]) -> flask.Response:
    """``call()``, or the JSON error it ended in; never a traceback, never an HTML page."""
    try:
        if request.method not in methods:
            raise HttpError(405, "method_not_allowed", f"use {' or '.join(methods)}", {"Allow": ", ".join(methods)})
        return call()
    except HttpError as exc:
        response = error_response(exc.status, exc.code, exc.message, exc.headers)
        if exc.body_unread:
            return flask.Response(iter([response.get_data()]), response.status_code, response.headers)
        return response
    except ServingError as exc:
        return error_for(exc)
    except Exception:  # the client gets a JSON 500, the logs get the traceback
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error")


def handle_recommend(service: RecommendService, request: flask.Request, max_bytes: int) -> flask.Response:
    return _guard(
        request, ("GET", "POST"), lambda: json_response(200, service.recommend(parse_recommend(request, max_bytes)))
    )


def handle_feedback(service: RecommendService, request: flask.Request, max_bytes: int) -> flask.Response:
    return _guard(request, ("POST",), lambda: feedback_response(service.feedback(parse_feedback(request, max_bytes))))


def handle_health(service: RecommendService, request: flask.Request) -> flask.Response:
    return _guard(request, ("GET",), lambda: health_response(service.health()))


def handle_metrics(metrics: ServingMetrics, request: flask.Request) -> flask.Response:
    """The process's metrics in Prometheus text format."""
    return _guard(
        request, ("GET",), lambda: flask.Response(metrics.exposition(), status=200, content_type=CONTENT_TYPE)
    )


def not_found(request: flask.Request) -> flask.Response:
    return error_response(404, "not_found", f"no route {request.path}")
