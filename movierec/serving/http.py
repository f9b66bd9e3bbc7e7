"""HTTP glue: parse a Flask request into a typed request, call the service, shape JSON.

Every error leaves as ``{"error": {"code", "message"}}`` with a 4xx/5xx status; nothing
here lets a traceback or a 500 reach the client for bad input.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import flask
from gunicorn.http.errors import ParseException
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)
from werkzeug.exceptions import ClientDisconnected, HTTPException, RequestEntityTooLarge

from movierec.observability.metrics import CONTENT_TYPE, ServingMetrics
from movierec.responses import error_response, json_response, no_store
from movierec.serving.identity import Authenticator, as_signed_in, check_signed_in
from movierec.serving.outcomes import (
    Conflict,
    FeedbackOutcome,
    FeedbackStatus,
    Forbidden,
    Health,
    HealthState,
    InvalidFeedback,
    ServingError,
    Unauthenticated,
    Unavailable,
    UnknownMovie,
)
from movierec.serving.service import FeedbackRequest, RecommendRequest, RecommendService
from movierec.serving.tokens import check_token_format
from movierec.stores.validation import validate_event_id

log = logging.getLogger(__name__)

MAX_TOP_N = 100
MAX_ID = 10**12  # user and movie ids: non-negative JSON integers up to this
_Model = TypeVar("_Model", bound=BaseModel)

# The one place where the service's outcomes become statuses. A 503's Retry-After is
# added by movierec.responses, for every 503 of every route.
ERROR_STATUS: Mapping[type[ServingError], tuple[int, str]] = {
    InvalidFeedback: (400, "invalid_argument"),
    UnknownMovie: (404, "not_found"),  # well-formed, but no such movie in the catalogue
    Unauthenticated: (401, "unauthenticated"),
    Forbidden: (403, "permission_denied"),
    Conflict: (409, "conflict"),
    Unavailable: (503, "unavailable"),
}
FEEDBACK_STATUS: Mapping[FeedbackStatus, int] = {"recorded": 201, "duplicate": 200}
# A degraded instance still serves: a load balancer must keep sending it traffic.
HEALTH_STATUS: Mapping[HealthState, int] = {"ok": 200, "degraded": 200, "unavailable": 503}
BEARER_CHALLENGE: Mapping[str, str] = {"WWW-Authenticate": 'Bearer realm="movierec"'}  # RFC 6750, with every 401
FRAMEWORK_CODES: Mapping[int, str] = {405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}


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
    return error_response(status, code, exc.message, BEARER_CHALLENGE if status == 401 else None)


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
def _key(name: str) -> AfterValidator:
    """A client id that becomes a store key is checked by the stores' own validator."""
    return AfterValidator(lambda value: validate_event_id(name, value))


def _json_integer(value: Any) -> Any:
    """An integer as JSON Schema (and so the OpenAPI document) defines one: 4 or 4.0, not 4.5.

    Python's parser reads 4.0 as a float; booleans are not numbers in JSON.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Strict types throughout: "4" and true are not the integer 4, "4" and true not a rating.
JsonInt = Annotated[StrictInt, BeforeValidator(_json_integer)]


class _RecommendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: JsonInt = Field(ge=0, le=MAX_ID)
    top_n: JsonInt = Field(default=10, ge=1, le=MAX_TOP_N)
    explain: StrictBool = False  # add each item's reasons and what its score means


class _FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: Annotated[StrictStr, _key("event_id")] | None = None
    request_id: Annotated[StrictStr, _key("request_id")]
    token: Annotated[StrictStr, AfterValidator(check_token_format)]
    user_id: JsonInt = Field(ge=0, le=MAX_ID)
    movie_id: JsonInt = Field(ge=0, le=MAX_ID)
    type: Literal["click", "rating"]
    value: StrictFloat | None = None


@dataclass(frozen=True)
class _Source:
    """Where the values came from: it changes the wording of a refusal, never its verdict."""

    unknown: str  # what an unexpected name is called: "parameter" or "field"
    # GET has always named a stray parameter (the first alphabetically) before judging the
    # values; a body reports in field order. Kept so that no client sees another message.
    unknown_first: bool


_QUERY = _Source("parameter", unknown_first=True)
_BODY = _Source("field", unknown_first=False)
# A query value that spells a number in ASCII (a JSON number, leading zeros allowed) is that
# number, so that GET and POST accept the same values (4, 004 and 4.0, not 4.5). Anything
# else (" 1", "+1", "1\n", a full-width digit) stays a string, refused with the message a
# JSON body with that string gets. Long ones are never converted (out of range anyway).
_NUMBER = re.compile(r"-?[0-9]+(?P<real>(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)")
_MAX_NUMBER_CHARS = 32
_QUERY_BOOLEANS = {"true": True, "false": False}  # as JSON spells them; anything else is refused


def _query_number(raw: str) -> Any:
    number = _NUMBER.fullmatch(raw) if len(raw) <= _MAX_NUMBER_CHARS else None
    if number is None:
        return raw
    return float(raw) if number["real"] else int(raw)


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
        return f"{field} must be an integer in [0, {MAX_ID}]"
    if field == "explain":
        return "explain must be true or false"
    if first["type"] == "value_error":  # our validators' own message names the field
        return str(first["ctx"]["error"])
    return f"{field}: {first['msg']}"


def _query_values(args: Mapping[str, str], model: type[BaseModel]) -> dict[str, Any]:
    """The query string as the JSON body a POST would send.

    A required parameter left empty (``user_id=``, a blank form field) counts as missing.
    """
    required = {name for name, spec in model.model_fields.items() if spec.is_required()}
    flags = {name for name, spec in model.model_fields.items() if spec.annotation is bool}
    return {
        name: _QUERY_BOOLEANS.get(raw, raw) if name in flags else _query_number(raw)
        for name, raw in args.items()
        if not (raw == "" and name in required)
    }


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # Python's parser would accept NaN and Infinity


def _too_large(max_bytes: int) -> HttpError:
    return HttpError(413, "payload_too_large", f"request body exceeds {max_bytes} bytes")


def _body_bytes(request: flask.Request, max_bytes: int) -> bytes:
    """The body, or 413 when it is longer than ``max_bytes``, whether it has a length or is chunked.

    A chunked body has no length to check first, and werkzeug stops reading silently at
    its limit: read (and cache, for functions-framework's drain after the response) one
    byte past ours, and a body that has it is too large.
    """
    request.max_content_length = max_bytes + 1
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise _too_large(max_bytes) from None
    except (ClientDisconnected, ParseException, OSError) as exc:  # the body could not be read
        timed_out = isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)
        raise HttpError(  # the server's body read deadline (movierec.serving.worker), or a bad chunk
            *((408, "request_timeout", "the request body did not arrive in time") if timed_out
              else (400, "invalid_argument", "the request body could not be read")),
            body_unread=True,
        ) from None
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    return raw


def _json_body(request: flask.Request, max_bytes: int) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > max_bytes:
        raise _too_large(max_bytes)
    if request.mimetype != "application/json":
        raise HttpError(415, "unsupported_media_type", "send the body as application/json")
    raw = _body_bytes(request, max_bytes)
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError):
        raise _bad("request body is not valid JSON") from None
    except RecursionError:  # the request bodies are flat objects: any deep nesting is wrong
        raise _bad("request body nests too deeply") from None
    if not isinstance(body, dict):
        raise _bad("request body must be a JSON object")
    return body


def parse_recommend(request: flask.Request, max_bytes: int, signed_in: int | None = None) -> RecommendRequest:
    """GET's query string and POST's JSON body, through the same model and the same messages.

    ``signed_in``: the user of the request's ID token (MOVIEREC_AUTH=firebase), else None.
    """
    if request.method == "GET":
        values = _query_values(request.args, _RecommendBody)
        body = _validated(_RecommendBody, as_signed_in(values, signed_in), _QUERY)
    else:
        body = _validated(_RecommendBody, as_signed_in(_json_body(request, max_bytes), signed_in), _BODY)
    check_signed_in(body.user_id, signed_in)
    return RecommendRequest(body.user_id, body.top_n, body.explain)


def parse_feedback(request: flask.Request, max_bytes: int, signed_in: int | None = None) -> FeedbackRequest:
    body = _validated(_FeedbackBody, as_signed_in(_json_body(request, max_bytes), signed_in), _BODY)
    check_signed_in(body.user_id, signed_in)
    return FeedbackRequest(**body.model_dump())


def signed_in_user(auth: Authenticator | None, request: flask.Request) -> int | None:
    """The user of the request's bearer token; None when the functions trust ``user_id`` (no auth)."""
    return None if auth is None else auth.user_of(request.headers.get("Authorization"))


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


def handle_recommend(
    service: RecommendService, request: flask.Request, max_bytes: int, auth: Authenticator | None = None
) -> flask.Response:
    def recommend() -> flask.Response:
        return json_response(200, service.recommend(parse_recommend(request, max_bytes, signed_in_user(auth, request))))

    return _guard(request, ("GET", "POST"), recommend)


def handle_feedback(
    service: RecommendService, request: flask.Request, max_bytes: int, auth: Authenticator | None = None
) -> flask.Response:
    def feedback() -> flask.Response:
        return feedback_response(service.feedback(parse_feedback(request, max_bytes, signed_in_user(auth, request))))

    return _guard(request, ("POST",), feedback)


def handle_health(service: RecommendService, request: flask.Request) -> flask.Response:
    return _guard(request, ("GET",), lambda: health_response(service.health()))


def handle_metrics(metrics: ServingMetrics, request: flask.Request, token: str | None) -> flask.Response:
    """The process's metrics in Prometheus text format, to loopback or to the bearer of ``token``."""

    def exposition() -> flask.Response:
        check_scraper(request, token)
        return no_store(flask.Response(metrics.exposition(), status=200, content_type=CONTENT_TYPE))

    return _guard(request, ("GET",), exposition)


def check_scraper(request: flask.Request, token: str | None) -> None:
    """Loopback clients, or ``Authorization: Bearer <token>`` when a token is set; else 401/403."""
    if _is_loopback(request.remote_addr):
        return
    if token is None:
        raise HttpError(403, "permission_denied", "metrics are served to loopback clients only")
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        raise HttpError(401, "unauthenticated", "send Authorization: Bearer <metrics token>",
                        {"WWW-Authenticate": 'Bearer realm="metrics"'})


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:  # a unix socket or a name: not a loopback address we can vouch for
        return False


def not_found(request: flask.Request) -> flask.Response:
    return error_response(404, "not_found", f"no route {request.path!r}")


def framework_error(exc: HTTPException) -> flask.Response:
    """An error raised by Flask itself (no route matched, e.g. a path with a newline) as JSON."""
    status = exc.code or 500
    if status == 404:
        return not_found(flask.request)
    return error_response(status, FRAMEWORK_CODES.get(status, "invalid_argument" if status < 500 else "internal"),
                          exc.description or exc.name)
