"""Request instrumentation: one log line and the metrics of every request.

:func:`observe` wraps a handler call: it opens the request's log context (function,
Cloud Trace ids), counts the request in flight, and when the handler returns records
latency, status and variant and writes exactly one structured line.

:class:`MeteredEventLog` wraps the event log the service writes to. The event log is
where a request's variant and model version become known (the impression the service
stores, or the one a feedback event refers to), and where an impression or a click is
durably counted, so that is where the CTR counters and the request's labels are set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import flask

from movierec.events import Assignment, Experiment, Feedback, Impression
from movierec.observability.logging import (
    TRACE_HEADER,
    RequestContext,
    annotate,
    parse_trace_header,
    request_context,
)
from movierec.observability.metrics import ServingMetrics
from movierec.stores.ports import EventLog

log = logging.getLogger("movierec.requests")


def observe(
    metrics: ServingMetrics,
    function: str,
    request: flask.Request,
    handle: Callable[[], flask.Response],
    *,
    project: str | None = None,
) -> flask.Response:
    """Call ``handle()`` for ``request``, recording its metrics and one log line."""
    trace, span, sampled = parse_trace_header(request.headers.get(TRACE_HEADER), project)
    ctx = RequestContext(function=function, trace=trace, span_id=span, trace_sampled=sampled)
    gauge = metrics.in_flight.labels(function)
    status = 500  # what the client gets if the handler raises
    start = time.perf_counter()
    gauge.inc()
    with request_context(ctx):
        try:
            response = handle()
            status = response.status_code
            return response
        finally:
            seconds = time.perf_counter() - start
            gauge.dec()
            metrics.observe_request(function, ctx.variant, status, seconds)
            latency_ms = round(seconds * 1000, 3)
            log.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "%s %s %d %.1fms",
                request.method,
                request.path,
                status,
                latency_ms,
                extra={
                    "status": status,
                    "latency_ms": latency_ms,
                    # Cloud Logging's request format: shown as a request entry in the console.
                    "httpRequest": {
                        "requestMethod": request.method,
                        "requestUrl": request.path,
                        "status": status,
                        "latency": f"{seconds:.6f}s",
                        "userAgent": request.user_agent.string or None,
                    },
                },
            )


class MeteredEventLog:
    """An :class:`EventLog` that counts impressions and feedback and labels the request."""

    def __init__(self, inner: EventLog, metrics: ServingMetrics) -> None:
        self.inner, self.metrics = inner, metrics

    def record_impression(self, impression: Impression) -> None:
        annotate(request_id=impression.request_id, variant=impression.variant, model_version=impression.model_version)
        self.inner.record_impression(impression)
        self.metrics.impressions.labels(impression.variant).inc()

    def get_impression(self, request_id: str) -> Impression | None:
        impression = self.inner.get_impression(request_id)
        if impression is not None:
            annotate(request_id=request_id, variant=impression.variant, model_version=impression.model_version)
        return impression

    def record_feedback(self, feedback: Feedback) -> bool:
        created = self.inner.record_feedback(feedback)
        annotate(event_id=feedback.event_id, feedback_type=feedback.type, duplicate=not created)
        if created:
            self.metrics.feedback.labels(feedback.variant, feedback.type).inc()
        return created

    # The rest is passed through unchanged.
    def put_experiment(self, experiment: Experiment) -> None:
        self.inner.put_experiment(experiment)

    def get_experiment(self, experiment_id: str) -> Experiment | None:
        return self.inner.get_experiment(experiment_id)

    def list_experiments(self) -> list[Experiment]:
        return self.inner.list_experiments()

    def get_or_create_assignment(self, assignment: Assignment) -> Assignment:
        return self.inner.get_or_create_assignment(assignment)

    def get_assignment(self, experiment_id: str, user_id: int) -> Assignment | None:
        return self.inner.get_assignment(experiment_id, user_id)

    def get_feedback(self, event_id: str) -> Feedback | None:
        return self.inner.get_feedback(event_id)

    def recent_feedback(self, user_id: int, limit: int) -> list[Feedback]:
        return self.inner.recent_feedback(user_id, limit)

    def scan(self, collection: str, since: float, limit: int | None = None) -> Iterable[dict[str, Any]]:
        return self.inner.scan(collection, since, limit)

    def ping(self) -> None:
        self.inner.ping()
