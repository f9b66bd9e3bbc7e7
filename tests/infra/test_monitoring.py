"""Metrics in the cloud: the log-based metrics of infra/monitoring.tf read fields the code
really logs, and the Cloud Monitoring dashboard (monitoring/cloud-monitoring/movierec.json,
deployed by google_monitoring_dashboard.serving) charts only metrics that exist, with
labels they have. Broken copies are caught.

The log lines are the real ones: a request through the functions' test client, and the
daily report's ``ab_report`` records through Cloud Logging's formatter.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from movierec.observability.logging import CloudLoggingFormatter, RequestContext, configure_logging, request_context
from movierec.reporting.report import log_fields
from tests.infra import tfconfig
from tests.infra.tools import REPO, edit

PREFIX = "movierec"  # var.name_prefix's default
USER_METRIC = "logging.googleapis.com/user/"
# Built-in metrics the dashboard may chart: resource type, metric labels, resource labels
# (https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-run).
BUILTIN = {
    "run.googleapis.com/container/instance_count": ("cloud_run_revision", {"state"}),
}
RESOURCE_LABELS = {
    "cloud_run_revision": {"project_id", "service_name", "revision_name", "configuration_name", "location"},
    "cloud_run_job": {"project_id", "job_name", "location"},
}
_LOCAL = re.compile(r"\$\{local\.([a-z_]+)\}")
_METRIC_TYPE = re.compile(r'metric\.type\s*=\s*"([^"]+)"')
# (also inside a local's expression, where the quotes are escaped)
_RESOURCE_TYPE = re.compile(r'resource\.type\s*=\s*\\?"([^"\\]+)')
_METRIC_LABEL = re.compile(r"metric\.labels?\.\"?(\w+)")
_RESOURCE_LABEL = re.compile(r"resource\.labels?\.\"?(\w+)")
_PAYLOAD = re.compile(r"jsonPayload\.(\w+)")


@dataclass(frozen=True)
class LogMetric:
    type: str
    resource_type: str
    labels: frozenset[str]
    reads: str  # filter, value and label extractors: what it reads of a log entry


def _render(config: tfconfig.TfConfig, text: str) -> str:
    for _ in range(3):  # locals that name locals
        text = _LOCAL.sub(lambda m: str(config.locals.get(m.group(1), m.group(0))), text)
    return text.replace("${var.name_prefix}", PREFIX)


def log_metrics(config: tfconfig.TfConfig) -> dict[str, LogMetric]:
    metrics = {}
    for key, body in config.resources.get("google_logging_metric", {}).items():
        filter_ = _render(config, body["filter"])
        labels = frozenset(label["key"] for d in body["metric_descriptor"] for label in d.get("labels", []))
        reads = " ".join([filter_, body.get("value_extractor", ""), *body.get("label_extractors", {}).values()])
        resource = _RESOURCE_TYPE.search(filter_)
        metrics[key] = LogMetric(USER_METRIC + _render(config, body["name"]), resource.group(1) if resource else "?",
                                 labels, reads)
    return metrics


def load_dashboard(config: tfconfig.TfConfig, infra: Path) -> dict[str, Any]:
    expression = config.resource("google_monitoring_dashboard", "serving")["dashboard_json"]
    path = re.search(r'file\("\$\{path\.module\}/([^"]+)"\)', expression)
    assert path and '"$${name_prefix}", var.name_prefix' in expression, expression
    return json.loads((infra / path.group(1)).read_text(encoding="utf-8").replace("${name_prefix}", PREFIX))


def queries(node: Any) -> list[dict[str, Any]]:
    """Every {filter, aggregation} of a dashboard (time series filters and both sides of ratios)."""
    if isinstance(node, dict):
        found = [node] if isinstance(node.get("filter"), str) else []
        return found + [q for value in node.values() for q in queries(value)]
    if isinstance(node, list):
        return [q for value in node for q in queries(value)]
    return []


def dashboard_problems(config: tfconfig.TfConfig, dashboard: dict[str, Any]) -> list[str]:
    problems = []
    defined = {m.type: m for m in log_metrics(config).values()}
    charted = set()
    for query in queries(dashboard):
        text = query["filter"] + " " + " ".join(query.get("aggregation", {}).get("groupByFields", []))
        match = _METRIC_TYPE.search(text)
        metric_type = match.group(1) if match else "?"
        charted.add(metric_type)
        if metric_type in defined:
            resource, labels = defined[metric_type].resource_type, defined[metric_type].labels
        elif metric_type in BUILTIN:
            resource, labels = BUILTIN[metric_type][0], frozenset(BUILTIN[metric_type][1])
        else:
            problems.append(f"a chart reads {metric_type}, which is neither a log-based metric of infra/ nor a known built-in")
            continue
        asked = _RESOURCE_TYPE.search(text)
        if asked is None or asked.group(1) != resource:
            problems.append(f"{metric_type}: charted on resource {asked and asked.group(1)}, written on {resource}")
        for label in sorted(set(_METRIC_LABEL.findall(text)) - labels):
            problems.append(f"{metric_type}: a chart uses metric label {label!r}; the metric has {sorted(labels)}")
        for label in sorted(set(_RESOURCE_LABEL.findall(text)) - RESOURCE_LABELS.get(resource, set())):
            problems.append(f"{metric_type}: a chart uses resource label {label!r}, which {resource} lacks")
    for metric_type in sorted(set(defined) - charted):
        problems.append(f"{metric_type} is defined but no chart shows it")
    return problems


def payload_problems(metric: LogMetric, entry: dict[str, Any]) -> list[str]:
    """jsonPayload fields the metric reads that the log entry lacks."""
    return [f"{metric.type} reads jsonPayload.{name}, which the logged line lacks"
            for name in sorted(set(_PAYLOAD.findall(metric.reads)) - set(entry))]


@pytest.fixture(scope="module")
def dashboard(config: tfconfig.TfConfig, infra_dir: Path) -> dict[str, Any]:
    return load_dashboard(config, infra_dir)


def test_every_chart_reads_a_metric_that_exists_with_its_labels(config, dashboard) -> None:
    assert len(queries(dashboard)) >= 8
    assert dashboard_problems(config, dashboard) == []


def test_a_chart_of_a_missing_metric_or_label_is_caught(config, infra_dir, tmp_path) -> None:
    text = (REPO / "monitoring" / "cloud-monitoring" / "movierec.json").read_text(encoding="utf-8")
    broken = json.loads(
        text.replace("${name_prefix}/requests", "${name_prefix}/request_count", 1)
        .replace('"metric.label.variant"', '"metric.label.user_id"', 1)
        .replace("${name_prefix}", PREFIX)
    )
    problems = dashboard_problems(config, broken)
    assert f"a chart reads {USER_METRIC}{PREFIX}/request_count, which is neither a log-based metric of infra/ nor a known built-in" in problems
    assert any("metric label 'user_id'" in p for p in problems), problems


def test_a_metric_without_a_chart_is_caught(infra_copy: Path) -> None:
    edit(infra_copy / "monitoring.tf", 'resource "google_logging_metric" "errors" {',
         'resource "google_logging_metric" "cold_starts" {\n  project = var.project_id\n'
         '  name    = "${var.name_prefix}/cold_starts"\n  filter  = local.function_log_filter\n'
         '  metric_descriptor {\n    metric_kind = "DELTA"\n    value_type  = "INT64"\n  }\n}\n\n'
         'resource "google_logging_metric" "errors" {')
    copy = tfconfig.load(infra_copy)
    problems = dashboard_problems(copy, load_dashboard(copy, REPO / "infra"))
    assert problems == [f"{USER_METRIC}{PREFIX}/cold_starts is defined but no chart shows it"]


def test_request_metrics_read_fields_of_the_real_request_log_line(config, make_client, local_env, capsys) -> None:
    client = make_client(local_env)
    assert client.get("/recommend?user_id=1&top_n=5").status_code == 200
    assert client.get("/recommend?user_id=oops").status_code == 400
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    served, refused = [e for e in entries if e.get("logger") == "movierec.requests"]
    metrics = log_metrics(config)
    for key in ("requests", "errors", "latency"):
        assert metrics[key].resource_type == "cloud_run_revision"
        assert payload_problems(metrics[key], served) == []
    # What the filters select on: every request line has latency_ms, and severity ERROR
    # only for a 5xx (the errors metric), which a 400 is not.
    assert "jsonPayload.latency_ms:*" in metrics["requests"].reads
    assert refused["latency_ms"] > 0 and refused["severity"] == "INFO" and served["variant"] == "default"
    assert "severity>=ERROR" in metrics["errors"].reads


def test_other_lines_of_a_request_are_not_counted_as_requests() -> None:
    # Lines written during a request carry its context fields; latency_ms is not one of
    # them, so the request filter (jsonPayload.latency_ms:*) counts one line per request.
    stream = __import__("io").StringIO()
    configure_logging("INFO", stream=stream)
    with request_context(RequestContext(function="recommend", request_id="r1", variant="A", model_version="v1")):
        logging.getLogger("movierec.serving").error("impression not stored: down")
    entry = json.loads(stream.getvalue())
    assert entry["variant"] == "A" and entry["severity"] == "ERROR" and "latency_ms" not in entry


def test_the_ctr_metric_reads_fields_of_the_real_ab_report_line(config) -> None:
    variant = SimpleNamespace(variant="B", users=10, impressions=100, clicks=7, ctr=0.07)
    report = SimpleNamespace(experiment_id="exp-1", variants=[variant], decision=SimpleNamespace(verdict="wins"))
    [record] = log_fields(report)  # type: ignore[arg-type]
    line = logging.makeLogRecord({"name": "movierec.ab_report", "levelno": logging.INFO, "levelname": "INFO",
                                  "msg": "ab_report", **record})
    entry = json.loads(CloudLoggingFormatter().format(line))
    ctr = log_metrics(config)["ctr"]
    assert ctr.resource_type == "cloud_run_job" and f'job_name="{PREFIX}-daily"' in ctr.reads
    assert payload_problems(ctr, entry) == []
    assert f'jsonPayload.event="{entry["event"]}"' in ctr.reads


def test_a_metric_reading_a_field_nobody_logs_is_caught(config, infra_copy: Path) -> None:
    edit(infra_copy / "monitoring.tf", 'variant       = "EXTRACT(jsonPayload.variant)"\n    model_version',
         'variant       = "EXTRACT(jsonPayload.arm)"\n    model_version')
    latency = log_metrics(tfconfig.load(infra_copy))["latency"]
    logged = {"latency_ms": 1.0, "variant": "A", "model_version": "v1"}
    assert payload_problems(latency, logged) == [f"{USER_METRIC}{PREFIX}/latency reads jsonPayload.arm, which the logged line lacks"]
