"""Request metrics in Prometheus's data model, one registry per process.

Series (``function`` is the Cloud Run function name: recommend, feedback, health, ...):

- ``movierec_request_duration_seconds{function, variant}`` histogram: latency of every request;
- ``movierec_requests_total{function, variant, status_class}``: every request, by 2xx/4xx/5xx;
- ``movierec_request_errors_total{function, variant, status_class}``: the 4xx and 5xx ones;
- ``movierec_requests_in_flight{function}``: requests being served now. The variant is
  only known once the service has assigned the user, so this gauge has no variant label;
- ``movierec_impressions_total{variant}``: recommendation lists stored (the CTR denominator);
- ``movierec_feedback_total{variant, type}``: clicks and ratings stored, duplicates excluded
  (CTR per variant = ``rate(feedback_total{type="click"}) / rate(impressions_total)``).

``variant`` is ``none`` when a request failed before the user was assigned (bad input).
The registry is the process's own, not prometheus_client's global one: two apps in one
test process (or one process per worker) never mix their counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

NO_VARIANT = "none"
# Serving answers in milliseconds when warm and in seconds on a cold model load.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def status_class(status: int) -> str:
    return f"{status // 100}xx"


@dataclass(frozen=True)
class ServingMetrics:
    registry: CollectorRegistry
    latency: Histogram
    requests: Counter
    errors: Counter
    in_flight: Gauge
    impressions: Counter
    feedback: Counter

    @classmethod
    def create(cls) -> ServingMetrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            registry=registry,
            latency=Histogram(
                "movierec_request_duration_seconds",
                "Time to answer a request, in seconds",
                ("function", "variant"),
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            requests=Counter(
                "movierec_requests", "Requests answered", ("function", "variant", "status_class"), registry=registry
            ),
            errors=Counter(
                "movierec_request_errors",
                "Requests answered with a 4xx or 5xx status",
                ("function", "variant", "status_class"),
                registry=registry,
            ),
            in_flight=Gauge(
                "movierec_requests_in_flight", "Requests being served", ("function",), registry=registry
            ),
            impressions=Counter(
                "movierec_impressions", "Recommendation lists stored in the event log", ("variant",), registry=registry
            ),
            feedback=Counter(
                "movierec_feedback",
                "Feedback events stored in the event log (duplicates excluded)",
                ("variant", "type"),
                registry=registry,
            ),
        )

    def observe_request(self, function: str, variant: str | None, status: int, seconds: float) -> None:
        """Record one answered request."""
        variant = variant or NO_VARIANT
        self.latency.labels(function, variant).observe(seconds)
        self.requests.labels(function, variant, status_class(status)).inc()
        if status >= 400:
            self.errors.labels(function, variant, status_class(status)).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus text exposition format."""
        return generate_latest(self.registry)
