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
test process never mix their counts.

Several processes (``movierec serve --workers N``): prometheus-client's multiprocess
mode (https://prometheus.github.io/client_python/multiprocess/). The server gives every
worker ``PROMETHEUS_MULTIPROC_DIR`` before it imports prometheus_client, so each worker
writes its values to memory-mapped files there; a scrape, whichever worker answers it,
merges the files of every worker (``MultiProcessCollector``): counters and histograms
summed, the in-flight gauge summed over live workers (``livesum``). Without it each
scrape would show the one worker that answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
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
    # The PROMETHEUS_MULTIPROC_DIR of the workers of one server; None: one process.
    multiprocess_dir: Path | None = None

    @classmethod
    def create(cls, multiprocess_dir: Path | None = None) -> ServingMetrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            multiprocess_dir=multiprocess_dir,
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
                "movierec_requests_in_flight",
                "Requests being served",
                ("function",),
                registry=registry,
                multiprocess_mode="livesum",  # a dead worker's requests are no longer in flight
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
        """The metrics in Prometheus text exposition format: this process's, or every worker's."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=str(self.multiprocess_dir))
        return generate_latest(merged)


def mark_worker_dead(multiprocess_dir: Path, pid: int) -> None:
    """Drop a dead worker's live gauge values (its counters stay in the totals)."""
    multiprocess.mark_process_dead(pid, str(multiprocess_dir))

