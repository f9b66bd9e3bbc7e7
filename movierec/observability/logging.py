"""Structured JSON logs in Cloud Logging's format, with secrets redacted.

One JSON object per line. Cloud Logging lifts these fields out of the payload
(https://cloud.google.com/logging/docs/structured-logging):

- ``severity``, ``message``, ``time`` (RFC 3339, UTC);
- ``logging.googleapis.com/trace`` (``projects/P/traces/T``, from the
  ``X-Cloud-Trace-Context: T/S;o=1`` header), ``logging.googleapis.com/spanId``,
  ``logging.googleapis.com/trace_sampled``;
- ``httpRequest`` when a record carries one.

Everything else is kept as ``jsonPayload``: the request fields (``request_id``,
``variant``, ``model_version``, ``latency_ms``, ``status``, ``function``) come from the
record's ``extra=`` or from the current :class:`RequestContext`.

:class:`RedactionFilter` runs before formatting, on the handler, so no logger anywhere
in the process (ours, Flask's, a library's) can write a feedback token, the token
secret or the alert webhook URL.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TextIO
from urllib.parse import urlsplit

from movierec.errors import ConfigError

TRACE_HEADER = "X-Cloud-Trace-Context"
REDACTED = "[REDACTED]"

_TRACE = "logging.googleapis.com/trace"
_SPAN = "logging.googleapis.com/spanId"
_SAMPLED = "logging.googleapis.com/trace_sampled"
# Set on a record, to the Redactor that redacted it, once RedactionFilter has: the formatter
# on the same handler doesn't redact it again (that was a fifth of a request's log cost).
_REDACTED_MARK = "_movierec_redacted"
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", _REDACTED_MARK}
_SEVERITY = {"WARN": "WARNING", "FATAL": "CRITICAL"}
_TRACE_VALUE = re.compile(r"^(?P<trace>[0-9a-fA-F]{32})(?:/(?P<span>[0-9]+))?(?:;o=(?P<o>[01]))?$")

# A feedback token is an HMAC-SHA256 hex digest (64 hex digits); request and event ids
# are 32, so they are left alone.
_HEX_TOKEN = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")
_KEY_VALUE = re.compile(
    r"(?i)(?P<key>\"?(?:token|secret|password|api[_-]?key|authorization|webhook[_-]?url)\"?\s*[:=]\s*)"
    r"(?P<quote>[\"']?)(?P<value>(?:Bearer\s+)?[^\s\"',&}]+)"
)
_SENSITIVE_KEY = re.compile(r"(?i)token|secret|password|api[_-]?key|authorization|webhook|credential")
_CACHED_TEXT_LENGTH = 128
_CLEAN_STRINGS = 4096
_ANY_PATTERN = re.compile(f"(?:{_HEX_TOKEN.pattern})|(?:{_KEY_VALUE.pattern.removeprefix('(?i)')})", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def _sensitive_key(key: str) -> bool:
    return _SENSITIVE_KEY.search(key) is not None


# --------------------------------------------------------------------------- context
@dataclass
class RequestContext:
    """What the current request's log lines and metrics are labelled with.

    Set by the request wrapper; the event log observer fills in ``variant``,
    ``model_version`` and ``request_id`` once the service has looked them up.
    """

    function: str
    trace: str | None = None
    span_id: str | None = None
    trace_sampled: bool | None = None
    request_id: str | None = None
    variant: str | None = None
    model_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def log_fields(self) -> dict[str, Any]:
        out = {"function": self.function, "request_id": self.request_id, "variant": self.variant, "model_version": self.model_version}
        return {k: v for k, v in {**out, **self.extra}.items() if v is not None}


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("movierec_request", default=None)


def current_request() -> RequestContext | None:
    return _current.get()


def annotate(**values: Any) -> None:
    """Attach fields to the current request (no-op outside a request)."""
    ctx = _current.get()
    if ctx is None:
        return
    for key, value in values.items():
        if key in ("request_id", "variant", "model_version"):
            setattr(ctx, key, value)
        else:
            ctx.extra[key] = value


@contextmanager
def request_context(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def parse_trace_header(value: str | None, project: str | None) -> tuple[str | None, str | None, bool | None]:
    """``TRACE_ID/SPAN_ID;o=OPTIONS`` -> (trace resource name, span id, sampled).

    The trace is ``projects/PROJECT/traces/TRACE_ID`` when the project is known (the form
    Cloud Logging links to Cloud Trace), else the bare id. A malformed header is ignored:
    it comes from the client and must not break logging.
    """
    match = _TRACE_VALUE.match((value or "").strip())
    if not match:
        return None, None, None
    trace_id = match["trace"].lower()
    trace = f"projects/{project}/traces/{trace_id}" if project else trace_id
    sampled = None if match["o"] is None else match["o"] == "1"
    return trace, match["span"], sampled


# --------------------------------------------------------------------------- redaction
class Redactor:
    """Replaces secrets with ``[REDACTED]`` in strings and nested values.

    Removed: the configured secret values (and, for URLs, their path, which is where a
    Slack-style webhook keeps its secret), 64-hex-digit HMAC tokens, ``token=...``-style
    key/value pairs, and any mapping value whose key names a secret.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        values: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            values.add(secret)
            parts = urlsplit(secret)
            if parts.scheme and parts.netloc and len(parts.path) > 8:
                values.add(parts.path + (f"?{parts.query}" if parts.query else ""))
        # Longest first, so a URL is replaced whole before its path is.
        self._literals = sorted(values, key=len, reverse=True)
        # Most strings of a request's line (function, variant, method, path, user agent)
        # are the same on every request; remembering the short ones that hold nothing to
        # redact skips their searches. Only clean ones: the set must never hold a secret.
        self._clean: set[str] = set()

    def text(self, value: str) -> str:
        if value in self._clean:
            return value
        redacted = self._text(value)
        if redacted == value and len(value) <= _CACHED_TEXT_LENGTH and len(self._clean) < _CLEAN_STRINGS:
            self._clean.add(value)
        return redacted

    def _text(self, value: str) -> str:
        for literal in self._literals:
            if literal in value:
                value = value.replace(literal, REDACTED)
        # Every request logs a line: one search decides whether either pattern is there.
        if not _ANY_PATTERN.search(value):
            return value
        value = _HEX_TOKEN.sub(REDACTED, value)
        return _KEY_VALUE.sub(lambda m: f"{m['key']}{m['quote']}{REDACTED}", value)

    def value(self, value: Any, key: str = "") -> Any:
        if key and _sensitive_key(key) and value is not None:
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value


class RedactionFilter(logging.Filter):
    """Redacts a record in place: message (with its args), exception text and extras."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        record.exc_info = None  # the (redacted) text is what gets written
        if record.stack_info:
            record.stack_info = self.redactor.text(record.stack_info)
        for key in [k for k in record.__dict__ if k not in _RECORD_ATTRS]:
            record.__dict__[key] = self.redactor.value(record.__dict__[key], key)
        record.__dict__[_REDACTED_MARK] = self.redactor
        return True


# --------------------------------------------------------------------------- formatting
class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per record, with Cloud Logging's special fields.

    The record is redacted here unless :class:`RedactionFilter` already did it (the
    handler configure_logging installs has both); the request context's fields never
    went through the filter, so they are always redacted here.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or Redactor()
        self._filter = RedactionFilter(self.redactor)

    def format(self, record: logging.LogRecord) -> str:
        if record.__dict__.get(_REDACTED_MARK) is not self.redactor:  # not by this redactor
            self._filter.filter(record)
        message = record.getMessage()
        if record.exc_text:  # the filter made it from exc_info; Error Reporting reads traces from the message
            message = f"{message}\n{record.exc_text}"
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelname, record.levelname),
            "message": message,
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "logger": record.name,
        }
        ctx = _current.get()
        if ctx is not None:
            entry.update(self.redactor.value(ctx.log_fields()))
            if ctx.trace:
                entry[_TRACE] = ctx.trace
            if ctx.span_id:
                entry[_SPAN] = ctx.span_id
            if ctx.trace_sampled is not None:
                entry[_SAMPLED] = ctx.trace_sampled
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS:
                entry[key] = value
        return json.dumps(entry, default=str, ensure_ascii=False)


# --------------------------------------------------------------------------- set-up
class _Handler(logging.StreamHandler):
    """Marks the handler configure_logging installed, so a second call replaces it."""


def configure_logging(
    level: str | int = "INFO",
    *,
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record of the process to ``stream`` (stderr) as redacted JSON lines.

    Called once by each entry point (functions, jobs, CLI) with the secrets it holds
    (token secret, webhook URL). Calling it again replaces the handler it installed
    and leaves other handlers (pytest's, for example) alone.
    """
    resolved = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(resolved, int):
        raise ConfigError(f"log level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL; got {level!r}")
    redactor = Redactor(secrets)
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactionFilter(redactor))
    handler.setFormatter(CloudLoggingFormatter(redactor))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(resolved)
    return handler
