"""What an operator watches: structured logs, request metrics, recommendation drift.

- :mod:`movierec.observability.logging`: JSON lines in Cloud Logging's format, secrets redacted;
- :mod:`movierec.observability.metrics`: the Prometheus registry of a serving process;
- :mod:`movierec.observability.instrument`: the per-request wrapper and the metered event log;
- :mod:`movierec.reporting.drift`: the daily recommendation drift report (Evidently), per variant.
"""
