"""Prometheus metrics of the serving functions, read back with the official parser."""

from __future__ import annotations

from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from movierec.observability.metrics import ServingMetrics
from tests.e2e.server import running_server


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(parsed, name: str, **labels: str) -> float:
    return sum(v for (n, lab), v in parsed.items() if n == name and set(labels.items()) <= set(lab))


def click_body(rec: dict, rank: int = 1) -> dict:
    return {
        "request_id": rec["request_id"],
        "token": rec["token"],
        "user_id": rec["user_id"],
        "movie_id": rec["items"][rank - 1]["movie_id"],
        "type": "click",
    }


def test_metrics_count_exactly_the_requests_made_through_the_test_client(client):
    recs = [client.get(f"/recommend?user_id={u}&top_n=5").get_json() for u in (1, 2, 3, 4, 5)]
    assert client.post("/recommend", json={"user_id": 6, "top_n": 3}).status_code == 200
    assert client.get("/recommend?user_id=abc").status_code == 400
    assert client.post("/feedback", json=click_body(recs[0])).status_code == 201
    assert client.post("/feedback", json=click_body(recs[1], 2)).status_code == 201
    assert client.post("/feedback", json=click_body(recs[0])).status_code == 200  # duplicate: not a new click
    assert client.post("/feedback", json={**click_body(recs[2]), "token": "9999999999." + "0" * 64}).status_code == 403
    assert client.get("/nowhere").status_code == 404

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    parsed = samples(response.get_data(as_text=True))

    assert total(parsed, "movierec_requests_total", function="recommend") == 7
    assert total(parsed, "movierec_requests_total", function="recommend", variant="default", status_class="2xx") == 6
    assert total(parsed, "movierec_requests_total", function="recommend", variant="none", status_class="4xx") == 1
    assert total(parsed, "movierec_requests_total", function="feedback") == 4
    assert total(parsed, "movierec_requests_total", function="feedback", status_class="2xx") == 3
    assert total(parsed, "movierec_requests_total", function="not_found") == 1
    assert total(parsed, "movierec_request_errors_total") == 3  # the 400, the 403 and the 404
    assert total(parsed, "movierec_request_errors_total", function="feedback", variant="default", status_class="4xx") == 1
    assert total(parsed, "movierec_request_duration_seconds_count") == 12  # every request but the scrape
    assert total(parsed, "movierec_request_duration_seconds_count", function="recommend", variant="default") == 6
    assert total(parsed, "movierec_impressions_total", variant="default") == 6
    assert total(parsed, "movierec_feedback_total", variant="default", type="click") == 2
    assert total(parsed, "movierec_requests_in_flight") == 0
    # a second scrape is not counted as a request
    again = samples(client.get("/metrics").get_data(as_text=True))
    assert total(again, "movierec_requests_total") == 12


def test_metrics_are_labelled_by_variant_in_an_experiment(client, events):
    from tests.serving.test_handlers import start_experiment

    start_experiment(events)
    variants = [client.get(f"/recommend?user_id={u}&top_n=3").get_json()["variant"] for u in range(1, 21)]
    parsed = samples(client.get("/metrics").get_data(as_text=True))
    for name in ("A", "B"):
        assert total(parsed, "movierec_requests_total", function="recommend", variant=name) == variants.count(name)
        assert total(parsed, "movierec_impressions_total", variant=name) == variants.count(name)
    assert variants.count("A") + variants.count("B") == 20


def test_each_app_has_its_own_registry():
    a, b = ServingMetrics.create(), ServingMetrics.create()
    a.observe_request("recommend", "A", 200, 0.01)
    assert total(samples(a.exposition().decode()), "movierec_requests_total") == 1
    assert total(samples(b.exposition().decode()), "movierec_requests_total") == 0


def test_metrics_endpoint_of_a_real_server_counts_the_requests(local_env, tmp_path: Path):
    with running_server(local_env, tmp_path / "server.log") as url:
        session = requests.Session()
        before = samples(session.get(f"{url}/metrics", timeout=10).text)  # the readiness probe hit /ping
        recs = [session.get(f"{url}/recommend", params={"user_id": u, "top_n": 4}, timeout=30).json() for u in range(1, 9)]
        assert session.get(f"{url}/recommend", params={"top_n": 4}, timeout=10).status_code == 400
        for rec in recs[:3]:
            assert session.post(f"{url}/feedback", json=click_body(rec), timeout=10).status_code == 201
        text = session.get(f"{url}/metrics", timeout=10).text
    parsed = samples(text)
    assert total(before, "movierec_requests_total", function="recommend") == 0
    assert total(parsed, "movierec_requests_total", function="recommend") == 9
    assert total(parsed, "movierec_requests_total", function="recommend", status_class="2xx") == 8
    assert total(parsed, "movierec_request_errors_total", function="recommend", status_class="4xx") == 1
    assert total(parsed, "movierec_requests_total", function="feedback", status_class="2xx") == 3
    assert total(parsed, "movierec_impressions_total") == 8
    assert total(parsed, "movierec_feedback_total", type="click") == 3
    assert total(parsed, "movierec_request_duration_seconds_count", function="recommend") == 9


def test_grafana_dashboard_queries_only_series_the_service_exports():
    import json
    import re

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "monitoring" / "grafana" / "movierec.json").read_text())
    exported = {f.name for f in text_string_to_metric_families(_exercised_exposition())}
    titles = " ".join(p["title"] for p in dashboard["panels"])
    for needed in ("p50", "p95", "p99", "Error rate", "Requests per variant", "CTR per variant"):
        assert needed in titles
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for series in re.findall(r"movierec_[a-z_]+", target["expr"]):
                base = re.sub(r"_(bucket|count|sum|total)$", "", series)
                assert base in exported, f"{series} in panel {panel['title']!r} is not exported"


def _exercised_exposition() -> str:
    m = ServingMetrics.create()
    m.observe_request("recommend", "A", 500, 0.2)
    m.in_flight.labels("recommend").inc()
    m.impressions.labels("A").inc()
    m.feedback.labels("A", "click").inc()
    return m.exposition().decode()
